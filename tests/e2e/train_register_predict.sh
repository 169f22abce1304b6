# The model story end to end: `hops train` is a recorded run (per-epoch
# curves in SQLite and TensorBoard, final test metrics, the model as an
# artifact) that registers versions 1, 2, ... of a model; `hops model`
# lists, shows, exports and picks the best; `hops predict` gives classes and
# probabilities; the same seed and threads give the same model; a damaged or
# truncated model file is refused; concurrent trainings get distinct versions.
. "$(dirname "$0")/lib.sh"

"$PY" - <<'PYEOF'
from sklearn.datasets import load_iris
d = load_iris()
with open("iris.csv", "w") as f:
    f.write("sepal_length,sepal_width,petal_length,petal_width,species\n")
    for row, t in zip(d.data, d.target):
        f.write(",".join(repr(float(v)) for v in row) + "," + d.target_names[t] + "\n")
with open("unlabeled.csv", "w") as f:
    f.write("petal_width,petal_length,sepal_width,sepal_length,extra\n")
    for row in d.data[::30]:
        f.write("%r,%r,%r,%r,x\n" % (row[3], row[2], row[1], row[0]))
PYEOF
"$HOPS" init >/dev/null

# A dataset as input, and a run that records everything.
expect_code 0 "$HOPS" dataset add iris.csv --name iris
expect_code 0 "$HOPS" train --data iris:1 --label species --model softmax --name flowers --seed 3 --json
run=$(jget '["run_id"]' <"$T/out")
assert_eq "$(jget '["version"]' <"$T/out")" 1
acc=$(jget '["test_metrics"]["accuracy"]' <"$T/out")
"$PY" -c "import sys; sys.exit(0 if float('$acc') > 0.85 else 1)" || fail "softmax accuracy $acc"
expect_code 0 "$HOPS" runs show "$run" --json
assert_eq "$(jget '["state"]' <"$T/out")" FINISHED
assert_eq "$(jget '["experiment"]' <"$T/out")" flowers
[ "$(jget '["metrics"]["accuracy"]' <"$T/out")" = "$acc" ] || fail "final accuracy not recorded"
run_dir=$(jget '["run_dir"]' <"$T/out")
expect_code 0 "$HOPS" runs metrics "$run" --key loss --json
n=$(jget '["metrics"]["loss"].__len__()' <"$T/out")
[ "$n" -gt 3 ] || fail "only $n loss points"
ls "$run_dir"/tb/events.out.tfevents.* >/dev/null || fail "no TensorBoard file"
# The curve in TensorBoard: one loss scalar per epoch, steps 1, 2, ...
"$PY" "$HOPS_SOURCE_DIR/tests/e2e/tb_decode.py" "$run_dir"/tb/events.out.tfevents.* >tb.json
"$PY" -c "
import json
s = [x for x in json.load(open('tb.json'))['scalars'] if x['tag'] == 'loss']
assert [x['step'] for x in s] == list(range(1, $n + 1)), s
assert s[-1]['value'] < s[0]['value'], 'the loss did not go down'
"
cmp "$run_dir/artifacts/model.hops" .hops/models/flowers/1/model.hops || fail "artifact != registered file"
ok "train is a run: $n loss points, final metrics, tfevents, artifact"

# More versions: mlp and gbdt on the same name.
expect_code 0 "$HOPS" train --data iris.csv --label species --model mlp --hidden 16,8 --epochs 50 \
    --name flowers --quiet
assert_contains "$T/out" "Registered model flowers:2"
expect_code 0 "$HOPS" train --data iris.csv --label species --model gbdt --epochs 20 \
    --param max_depth=3 --name flowers --quiet
assert_contains "$T/out" "Registered model flowers:3"
expect_code 0 "$HOPS" model list --json
assert_eq "$(jget '[0]["latest"]' <"$T/out")" 3
assert_eq "$(jget '[0]["type"]' <"$T/out")" gbdt
expect_code 0 "$HOPS" model list
assert_contains "$T/out" "flowers"
expect_code 0 "$HOPS" model show flowers:2
assert_contains "$T/out" "petal_length         numeric, standardized"
assert_contains "$T/out" "4x16 relu, 16x8 relu, 8x3 softmax"
expect_code 0 "$HOPS" model versions flowers --json
assert_eq "$(jget '.__len__()' <"$T/out")" 3
expect_code 0 "$HOPS" model best flowers --metric log_loss --direction min --json
best=$(jget '["version"]' <"$T/out")
expect_code 0 "$HOPS" model versions flowers --json
"$PY" -c "
import json,sys
v=json.load(open('$T/out'))
assert min(v, key=lambda x: (x['metrics']['log_loss'], -x['version']))['version'] == $best
"
expect_code 0 "$HOPS" model export flowers:1 -o exported
cmp exported/model.hops .hops/models/flowers/1/model.hops
"$PY" -c "import json; h=json.load(open('exported/model.json')); assert h['type']=='softmax' and h['training']['run']=='$run', h"
ok "versions 1..3, list, show, best, export"

# Prediction: raw rows, columns in another order, an extra column.
expect_code 0 "$HOPS" predict --model flowers:1 --data unlabeled.csv -o pred.csv
head -1 pred.csv | grep -qx "prediction,p_setosa,p_versicolor,p_virginica" || fail "header: $(head -1 pred.csv)"
assert_eq "$(($(wc -l <pred.csv) - 1))" 5
{ echo "before"; "$HOPS" predict --model flowers:1 --data unlabeled.csv; echo "after"; } >pred_log.txt
[ "$(head -1 pred_log.txt)" = before ] && [ "$(tail -1 pred_log.txt)" = after ] ||
    fail "predictions on a redirected stdout wrote over the lines around them"
sed -n 2p pred_log.txt | grep -qx "prediction,p_setosa,p_versicolor,p_virginica" || fail "no header after 'before'"
expect_code 0 "$HOPS" predict --model flowers --data unlabeled.csv --json
"$PY" -c "
import json
d=json.load(open('$T/out'))
assert d['rows']==5 and d['metrics'] is None and d['model']=='flowers'
for p in d['predictions']:
    assert abs(sum(p['probabilities'].values())-1) < 1e-5, p
    assert p['prediction'] == max(p['probabilities'], key=p['probabilities'].get)
"
expect_code 0 "$HOPS" predict --model flowers:1 --data iris.csv
assert_contains "$T/err" "metrics on iris.csv"
assert_eq "$(($(wc -l <"$T/out") - 1))" 150
ok "predict: CSV, JSON with probabilities, metrics when the label is there"

# Same seed and thread count: the same model (the files differ only in the
# training run id, which the header records); another seed: another model.
for i in 1 2; do
    expect_code 0 "$HOPS" train --data iris.csv --label species --model mlp --epochs 30 --seed 11 \
        --threads 2 --name det --quiet
done
expect_code 0 "$HOPS" train --data iris.csv --label species --model mlp --epochs 30 --seed 12 \
    --threads 2 --name det --quiet
"$PY" - .hops/models/det/1/model.hops .hops/models/det/2/model.hops .hops/models/det/3/model.hops <<'PYEOF'
import json, struct, sys
def parts(path):
    b = open(path, "rb").read()
    assert b[:8] == b"HOPSMDL\0"
    hl = struct.unpack("<I", b[12:16])[0]
    h = json.loads(b[16:16 + hl])
    start = (16 + hl + 7) // 8 * 8
    run = h["training"].pop("run")
    return h, b[start:-32], run
h1, p1, r1 = parts(sys.argv[1]); h2, p2, r2 = parts(sys.argv[2]); h3, p3, r3 = parts(sys.argv[3])
assert r1 != r2
assert h1 == h2 and p1 == p2, "same seed, different model"
assert p1 != p3, "another seed, the same weights"
PYEOF
# Byte for byte: put run 1's id into file 2 (ids are all 14 characters),
# recompute its checksum, and the two files are the same.
"$PY" - .hops/models/det/1/model.hops .hops/models/det/2/model.hops det2.hops <<'PYEOF'
import hashlib, json, struct, sys
a, b = open(sys.argv[1], "rb").read(), bytearray(open(sys.argv[2], "rb").read())
run = lambda x: json.loads(x[16:16 + struct.unpack("<I", x[12:16])[0]])["training"]["run"]
ra, rb = run(a).encode(), run(bytes(b)).encode()
assert len(ra) == len(rb) == 14 and b.count(rb) == 1
b = b.replace(rb, ra)
b[-32:] = hashlib.sha256(bytes(b[:-32])).digest()
open(sys.argv[3], "wb").write(b)
PYEOF
cmp .hops/models/det/1/model.hops det2.hops || fail "same seed and threads, different bytes"
ok "same seed and threads: identical weights and header; another seed differs"

# Concurrent trainings of one name get distinct versions.
for i in 1 2 3 4; do
    "$HOPS" train --data iris.csv --label species --model softmax --name conc --quiet \
        --features petal_width,petal_length >"$T/conc$i.out" 2>&1 &
done
wait
cat "$T"/conc*.out >"$T/conc.all"
expect_code 0 "$HOPS" model versions conc --json
assert_eq "$("$PY" -c "import json; print(sorted(v['version'] for v in json.load(open('$T/out'))))")" "[1, 2, 3, 4]"
for v in 1 2 3 4; do
    assert_contains "$T/conc.all" "Registered model conc:$v"
    [ -f .hops/models/conc/$v/model.hops ] || fail "no file for conc:$v"
done
ok "4 concurrent trainings: versions 1-4, each with its file"

# A damaged or truncated registered file is refused (exit 5), as is a
# model file that is not one.
f=.hops/models/flowers/3/model.hops
chmod u+w "$f"
"$PY" -c "
b=bytearray(open('$f','rb').read()); b[len(b)//2]^=1; open('$f','wb').write(b)"
expect_code 5 "$HOPS" predict --model flowers:3 --data iris.csv
assert_contains "$T/err" "damaged or was changed since it was registered"
expect_code 5 "$HOPS" model export flowers:3 -o out3
expect_code 5 "$HOPS" model show flowers:3
assert_contains "$T/out" "file check   FAILED"
f=.hops/models/flowers/2/model.hops
chmod u+w "$f"
head -c 300 "$f" >"$T/trunc" && cat "$T/trunc" >"$f"
expect_code 5 "$HOPS" predict --model flowers:2 --data iris.csv
assert_contains "$T/err" "flowers:2"
ok "damaged and truncated model files are refused"
