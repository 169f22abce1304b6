# `hops data stats` as a user meets it: the table, --label, --json, a
# dataset by name, --help, and every bad input with its exit code and a
# message that names the file (and line) or lists what would have worked.
. "$(dirname "$0")/lib.sh"

"$PY" - <<'PY'
import random
r = random.Random(3)
with open("d.csv", "w") as f:
    f.write("age,income,country,churn\n")
    for i in range(3000):
        age = "" if i % 50 == 0 else str(r.randint(18, 90))
        f.write("%s,%.2f,%s,%d\n" % (age, r.lognormvariate(10, 1), r.choice(["SE", "NO", "SE", "DK"]),
                                    r.random() < 0.2))
PY

expect_code 0 "$HOPS" data stats d.csv --label churn
for want in COLUMN TYPE COUNT NULLS MIN MAX MEAN STD P50 DISTINCT TOP age income country \
            "Label churn: 2 classes" "imbalance ratio" "3000 rows, 4 columns"; do
    assert_contains "$T/out" "$want"
done
grep -E '^age +int +2940 +60 +18 +90 ' "$T/out" >/dev/null || { cat "$T/out"; fail "age row"; }
grep -E '^country +category .* SE \(' "$T/out" >/dev/null || { cat "$T/out"; fail "country row"; }
ok "a table per column and the label's class balance"

expect_code 0 "$HOPS" data stats d.csv --json --top 3 --bins 4 --no-correlation
"$PY" - "$T/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["rows"] == 3000 and "correlation" not in d and "label" not in d
c = d["columns"][2]
assert len(c["top"]) == 3 and c["top"][0]["value"] == "SE", c["top"]
assert len(d["columns"][1]["numeric"]["histogram"]["counts"]) == 4
PY
ok "--json, --top, --bins, --no-correlation"

# Correlations only on request: the default document has none.
expect_code 0 "$HOPS" data stats d.csv --json
cp "$T/out" default.json
expect_code 0 "$HOPS" data stats d.csv --json --correlation
"$PY" - default.json "$T/out" <<'PY'
import json, sys
plain, corr = (json.load(open(p)) for p in sys.argv[1:])
assert "correlation" not in plain
assert len(corr["correlation"]["columns"]) >= 2, corr.get("correlation")
del corr["correlation"]
assert plain == corr
PY
ok "--correlation adds the matrix and nothing else"

printf 'a;b\n1;x\n2;y\n' >semi.csv
expect_code 0 "$HOPS" data stats semi.csv --delimiter ';' --json
assert_eq "$(jget '["columns"][1]["name"]' <"$T/out")" b
printf '1,2\n3,4\n' >nohead.csv
expect_code 0 "$HOPS" data stats nohead.csv --no-header --json
assert_eq "$(jget '["rows"]' <"$T/out")" 2
assert_eq "$(jget '["columns"][0]["name"]' <"$T/out")" c1
ok "read options: --delimiter, --no-header"

mkdir proj && cd proj && "$HOPS" init >/dev/null
"$HOPS" dataset add ../d.csv --name customers >/dev/null
expect_code 0 "$HOPS" data stats customers --label churn --json
assert_eq "$(jget '["rows"]' <"$T/out")" 3000
expect_code 0 "$HOPS" data stats customers:1 --json
expect_code 4 "$HOPS" data stats customers:9
expect_code 4 "$HOPS" data stats nosuch
assert_contains "$T/err" "nosuch"
cd ..
ok "a project dataset by NAME and NAME:VERSION"

expect_code 0 "$HOPS" data stats --help
assert_contains "$T/out" "usage: hops data stats FILE"
assert_contains "$T/out" "--label COL"
expect_code 2 "$HOPS" data stats
expect_code 2 "$HOPS" data stats d.csv --bogus
assert_contains "$T/err" "--bogus"
expect_code 2 "$HOPS" data stats d.csv --top 0
expect_code 2 "$HOPS" data stats d.csv --label
expect_code 2 "$HOPS" data stats d.csv other.csv
ok "--help, and usage errors exit 2"

expect_code 4 "$HOPS" data stats missing.csv
assert_contains "$T/err" "missing.csv"
expect_code 2 "$HOPS" data stats d.csv --label nope
assert_contains "$T/err" "no column 'nope'"
assert_contains "$T/err" "age, income, country, churn"
printf 'a,b\n1,2\n3\n4,5\n' >ragged.csv
expect_code 2 "$HOPS" data stats ragged.csv
assert_contains "$T/err" "ragged.csv:3"
: >empty.csv
expect_code 2 "$HOPS" data stats empty.csv
assert_contains "$T/err" "empty"
printf 'a,b\n1,"open\n' >quote.csv
expect_code 2 "$HOPS" data stats quote.csv
assert_contains "$T/err" "quote.csv:2"
head -c 4096 /dev/urandom >garbage.csv
expect_code 2 "$HOPS" data stats garbage.csv
assert_contains "$T/err" "garbage.csv:"
printf 'a,b\n' >header.csv
expect_code 0 "$HOPS" data stats header.csv --json
assert_eq "$(jget '["rows"]' <"$T/out")" 0
mkdir adir
expect_code 2 "$HOPS" data stats adir
ok "bad input: missing file 4; bad label, ragged row, empty, open quote, garbage, a directory 2"
