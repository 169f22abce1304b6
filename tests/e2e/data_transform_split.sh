# `hops data transform --split`: each row goes to one split by a hash of
# (seed, its line number), so the files are the same for --threads 1 and 4,
# for any chunk size and on every run; the fractions come out about right on
# 10k rows; the splits together are exactly the (filtered) input, in order.
. "$(dirname "$0")/lib.sh"

"$PY" - <<'PY'
import random
random.seed(1)
with open("data.csv", "w") as f:
    f.write("id,x,label\n")
    for i in range(10000):
        x = "" if i % 17 == 0 else "%.4f" % random.random()
        f.write('%d,%s,"%s"\n' % (i, x, random.choice(["a", "b", "c,d"])))
PY

"$HOPS" data transform data.csv -o one.csv --split train=0.8,test=0.2 --seed 7 --threads 1 --json >one.json
"$HOPS" data transform data.csv -o four.csv --split train=0.8,test=0.2 --seed 7 --threads 4 >/dev/null
HOPS_CHUNK_SIZE=4096 "$HOPS" data transform data.csv -o small.csv --split train=0.8,test=0.2 --seed 7 --threads 4 >/dev/null
for s in train test; do
    cmp one.$s.csv four.$s.csv || fail "$s differs between --threads 1 and 4"
    cmp one.$s.csv small.$s.csv || fail "$s differs with 4 KiB chunks"
done
ok "the same split files for --threads 1, --threads 4 and 4 KiB chunks"

"$HOPS" data transform data.csv -o again.csv --split train=0.8,test=0.2 --seed 7 >/dev/null
for s in train test; do cmp one.$s.csv again.$s.csv || fail "$s differs between runs"; done
"$HOPS" data transform data.csv -o other.csv --split train=0.8,test=0.2 --seed 8 >/dev/null
cmp -s one.train.csv other.train.csv && fail "another seed gave the same split"
ok "the same files on a second run; another seed gives another split"

"$PY" - one.json <<'PY' || fail "split fractions or contents"
import csv, json, sys
s = json.load(open(sys.argv[1]))
rows = {o["split"]: o["rows"] for o in s["outputs"]}
assert s["rows_in"] == 10000 and rows["train"] + rows["test"] == 10000, s
# Binomial(10000, 0.8): sd 40; 5 sd either way.
assert abs(rows["train"] - 8000) < 200, rows
assert [o["path"] for o in s["outputs"]] == ["one.train.csv", "one.test.csv"], s["outputs"]
src = list(csv.reader(open("data.csv", newline="")))
train = list(csv.reader(open("one.train.csv", newline="")))
test = list(csv.reader(open("one.test.csv", newline="")))
assert train[0] == test[0] == src[0]
assert len(train) - 1 == rows["train"] and len(test) - 1 == rows["test"]
# Together they are the input, each in input order.
assert sorted(train[1:] + test[1:], key=lambda r: int(r[0])) == src[1:]
for part in (train, test):
    ids = [int(r[0]) for r in part[1:]]
    assert ids == sorted(ids)
PY
ok "train/test = $(jget '["outputs"][0]["rows"]' <one.json)/$(jget '["outputs"][1]["rows"]' <one.json) of 10000 (0.8/0.2), rows in input order"

# Three splits into a directory; a row keeps its split when the filter changes
# (the hash is of the line number, not of the row's place among the kept rows).
"$HOPS" data transform data.csv -o parts/ --split train=0.6,val=0.2,test=0.2 --seed 3 --json >three.json
[ -f parts/train.csv ] && [ -f parts/val.csv ] && [ -f parts/test.csv ] || fail "no parts/NAME.csv"
"$HOPS" data transform data.csv -o fparts/ --split train=0.6,val=0.2,test=0.2 --seed 3 --filter 'x > 0.5' >/dev/null
"$PY" - three.json <<'PY' || fail "three splits"
import csv, json, sys
s = json.load(open(sys.argv[1]))
rows = {o["split"]: o["rows"] for o in s["outputs"]}
assert abs(rows["train"] - 6000) < 250 and abs(rows["val"] - 2000) < 200 and abs(rows["test"] - 2000) < 200, rows
for name in ("train", "val", "test"):
    full = {r[0] for r in list(csv.reader(open("parts/%s.csv" % name)))[1:]}
    kept = [r for r in list(csv.reader(open("fparts/%s.csv" % name)))[1:]]
    assert kept and all(r[0] in full and float(r[1]) > 0.5 for r in kept), name
PY
ok "three splits into a directory, about 0.6/0.2/0.2; a filter does not move rows between splits"

# JSON Lines splits keep the extension.
"$HOPS" data transform data.csv -o out.jsonl --split a=0.5,b=0.5 >/dev/null
[ -f out.a.jsonl ] && [ -f out.b.jsonl ] || fail "out.a.jsonl / out.b.jsonl"
ok "out.jsonl splits into out.a.jsonl and out.b.jsonl"

# Bad split specs.
for bad in "train=0.8,test=0.1" "train=0.8" "train=1.2,test=-0.2" "train=0.5,train=0.5" "a/b=0.5,c=0.5" "train" "train=x,test=0.5" "=0.5,b=0.5"; do
    expect_code 2 "$HOPS" data transform data.csv -o bad.csv --split "$bad"
    assert_contains "$T/err" "--split"
done
expect_code 2 "$HOPS" data transform data.csv -o bad.csv --split a=0.5,b=0.5 --seed -1
assert_contains "$T/err" "--seed"
expect_code 2 "$HOPS" data transform data.csv -o bad.csv --seed 3
assert_contains "$T/err" "--seed is for --split"
ls bad* 2>/dev/null && fail "a bad split left files"
ok "bad --split specs exit 2 and write nothing"
