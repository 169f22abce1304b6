# `hops data validate`: a file passes the schema inferred from it; a second
# file with one planted error per rule fails with exit 1 and the exact line
# numbers; the quarantine file holds exactly the bad records, byte for byte
# (quoted fields with embedded newlines, CRLF); any thread count gives the
# same report and the same quarantine file.
. "$(dirname "$0")/lib.sh"

"$PY" - <<'PY'
import json
rows = []
def good_row(i):
    return [str(i), str(20 + i % 50), "%.2f" % (i / 10.0), ["SE", "NO", "DK"][i % 3],
            ["true", "false"][i % 2], "2021-%02d-%02d" % (1 + i % 12, 1 + i % 28),
            "user%d@example.se" % i, '"said ""hi""\r\non two lines"' if i % 7 == 0 else "plain"]
header = "id,age,score,country,member,joined,email,comment"

# The good file: LF line ends.
with open("good.csv", "w", newline="") as f:
    f.write(header + "\n")
    for i in range(1, 201):
        f.write(",".join(good_row(i)).replace("\r\n", "\n") + "\n")

# The bad file: CRLF, with planted errors. Track physical lines.
plant = {  # record index -> (column, bad value, rule)
    10: ("age", "-5", "min"),
    20: ("age", "121", "max"),
    30: ("age", "abc", "type"),
    35: ("score", "", "not_null"),
    40: ("country", "FI", "values"),
    49: ("member", "maybe", "type"),
    50: ("joined", "2019-12-31", "min"),
    60: ("joined", "2021-02-30", "type"),
    70: ("email", "not-an-email", "regex"),
    77: ("email", "", "not_null"),   # also on a record with an embedded newline
    80: ("id", "3", "unique"),
    90: ("score", "1e3", "max"),
}
cols = header.split(",")
line = 2
expect = {}
bad_bytes = [header.encode() + b"\r\n"]
records = []
for i in range(1, 121):
    r = good_row(i)
    rule = None
    if i in plant:
        c, v, rule = plant[i]
        r[cols.index(c)] = v
    raw = ",".join(r)
    if i == 100:            # a ragged record
        raw = ",".join(r[:5])
        rule, c = "ragged", None
    if rule:
        expect.setdefault((rule, c), []).append(line)
        bad_bytes.append(raw.encode() + b"\r\n")
    records.append(raw)
    line += 1 + raw.count("\r\n")
with open("bad.csv", "wb") as f:
    f.write((header + "\r\n" + "\r\n".join(records) + "\r\n").encode())
with open("expected_quarantine.csv", "wb") as f:
    f.write(b"".join(bad_bytes))
json.dump({"%s/%s" % k: v for k, v in expect.items()}, open("expected.json", "w"), indent=1)
PY

"$HOPS" data schema good.csv -o schema.json >/dev/null
expect_code 0 "$HOPS" data validate good.csv --schema schema.json
assert_contains "$T/out" "good.csv: 200 rows pass all"
expect_code 0 "$HOPS" data validate good.csv --schema schema.json --json
assert_eq "$(jget '["passed"]' <"$T/out")" true
assert_eq "$(jget '["violations"]' <"$T/out")" 0
ok "a file passes the schema inferred from it (exit 0)"

# Tighten the inferred schema by hand, as a person would.
"$PY" - <<'PY'
import json
s = json.load(open("schema.json"))
for c in s["columns"]:
    if c["name"] == "id": c["unique"] = True
    if c["name"] == "age": c.update(min=0, max=120)
    if c["name"] == "score": c["max"] = 100
    if c["name"] == "joined": c.update(min="2020-01-01", max="2022-12-31")
    if c["name"] == "email": c["regex"] = "[a-z0-9]+@example\\.se"; c["nullable"] = False
    if c["name"] == "comment":  # inferred as a category of two values; the bad file's
        assert c["type"] == "category", c  # embedded newlines are CRLF: another value
        c["type"] = "string"; del c["values"]
s["rows"] = {"min": 1, "max": 10000}
json.dump(s, open("strict.json", "w"), indent=2)
PY
expect_code 0 "$HOPS" data validate good.csv --schema strict.json

expect_code 1 "$HOPS" data validate bad.csv --schema strict.json --quarantine quarantine.csv --max-examples 100 --json
cp "$T/out" report.json
"$PY" - report.json <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
want = json.load(open("expected.json"))
got = {}
for r in rep["rules"]:
    if r["count"]:
        got["%s/%s" % (r["rule"], r["column"])] = [e["line"] for e in r["examples"]]
        assert r["count"] == len(r["examples"]), r
want = {k.replace("/None", "/None"): v for k, v in want.items()}
assert got == want, (got, want)
assert rep["passed"] is False
assert rep["rows"] == 120
assert rep["failed_rows"] == 13, rep["failed_rows"]
assert rep["quarantine"] == {"path": "quarantine.csv", "rows": 13}
ex = {(r["rule"], r["column"]): r["examples"][0] for r in rep["rules"] if r["examples"]}
assert ex[("min", "age")]["value"] == "-5"
assert ex[("min", "age")]["message"] == "'-5' is below min 0"
assert ex[("unique", "id")]["message"] == "'3' repeats the value of line 4", ex[("unique", "id")]
assert ex[("not_null", "score")]["value"] is None
assert ex[("ragged", None)]["message"] == "expected 8 fields, found 5"
PY
cmp quarantine.csv expected_quarantine.csv || fail "the quarantine file is not exactly the bad records"
ok "planted errors: exit 1, every rule caught at its exact line"
ok "the quarantine file holds exactly the bad records, byte for byte (CRLF, embedded newlines)"

expect_code 1 "$HOPS" data validate bad.csv --schema strict.json
cp "$T/out" readable.txt
assert_contains readable.txt "bad.csv: 13 of 120 rows fail"
assert_contains readable.txt "line 12, column age: '-5' is below min 0"
assert_contains readable.txt "column country: 'FI' is not one of the allowed values (DK, NO, SE)"
assert_contains readable.txt "does not match the regex"
assert_contains readable.txt "RULE  *COLUMN  *CHECK  *VIOLATIONS"
assert_contains readable.txt "min  *age  *min 0  *1"
ok "the readable report: a table of failing rules, then line-numbered examples"

for t in 1 4; do
    HOPS_CHUNK_SIZE=300 "$HOPS" data validate bad.csv --schema strict.json --threads $t --json \
        --quarantine q$t.csv >r$t.json || true
    HOPS_CHUNK_SIZE=300 "$HOPS" data validate bad.csv --schema strict.json --threads $t >t$t.txt || true
done
sed 's/q4.csv/q1.csv/' r4.json | cmp - r1.json || fail "--threads 1 and 4 give different reports"
cmp t1.txt t4.txt || fail "--threads 1 and 4 give different readable reports"
cmp q1.csv q4.csv || fail "--threads 1 and 4 give different quarantine files"
cmp q1.csv expected_quarantine.csv || fail "small chunks change the quarantine file"
ok "--threads 1 vs 4 (300-byte chunks): identical reports and quarantine files"

"$HOPS" data validate bad.csv --schema strict.json --json -n 0 >r0.json || true
assert_eq "$("$PY" -c 'import json; print(sum(len(r["examples"]) for r in json.load(open("r0.json"))["rules"]))')" 0
assert_eq "$(jget '["violations"]' <r0.json)" 13
ok "--max-examples caps examples, never counts"

# A project dataset NAME[:VERSION] is validated like a path.
"$HOPS" init >/dev/null
"$HOPS" dataset add good.csv --name people >/dev/null
expect_code 0 "$HOPS" data validate people:1 --schema strict.json
assert_contains "$T/out" "people:1: 200 rows pass all"
printf '{"columns": [{"name": "id", "type": "int", "max": 150}], "rows": {"max": 1000}}' >ids.json
expect_code 1 "$HOPS" data validate people --schema ids.json --json
assert_eq "$(jget '["failed_rows"]' <"$T/out")" 50
assert_eq "$(jget '["rules"][0]["count"]' <"$T/out")" 7
"$HOPS" data schema people --json >ds.json
assert_eq "$(jget '["inferred_from"]["rows"]' <ds.json)" 200
ok "datasets: NAME and NAME:VERSION are checked and inferred like paths"

# Whole-file rules: a missing and an unknown column, too many rows.
printf 'id,age,extra\n1,2,x\n2,3,y\n' >cols.csv
printf '{"columns": [{"name": "id", "type": "int"}, {"name": "age", "type": "int"}, {"name": "email", "type": "string"}], "rows": {"max": 1}}' >small.json
expect_code 1 "$HOPS" data validate cols.csv --schema small.json
assert_contains "$T/out" "column 'email' is in the schema but not in the file"
assert_contains "$T/out" "column 'extra' is in the file but not in the schema"
assert_contains "$T/out" "2 rows, above max 1"
ok "missing and unknown columns and row-count bounds are violations"

# JSON Lines: quarantined lines are the raw lines.
printf '{"id": 1, "age": 5, "email": "a"}\n{"id": "x", "age": 5, "email": "b"}\n{"age": 7, "email": "c"}\n' >p.jsonl
printf '{"columns": [{"name": "id", "type": "int", "nullable": false}, {"name": "age", "type": "int"}, {"name": "email", "type": "string"}]}' >j.json
expect_code 1 "$HOPS" data validate p.jsonl --schema j.json -q bad.jsonl
assert_contains "$T/out" "line 2, column id: 'x' is not an int"
assert_contains "$T/out" "line 3, column id: null, but the column is not nullable"
printf '{"id": "x", "age": 5, "email": "b"}\n{"age": 7, "email": "c"}\n' | cmp - bad.jsonl \
    || fail "JSONL quarantine differs"
ok "JSON Lines: violations by line, raw lines quarantined"

# Usage.
expect_code 2 "$HOPS" data validate bad.csv
assert_contains "$T/err" "--schema is required"
expect_code 2 "$HOPS" data validate --schema strict.json
expect_code 2 "$HOPS" data validate bad.csv --schema strict.json --max-examples lots
expect_code 2 "$HOPS" data validate bad.csv --schema strict.json --bogus
expect_code 2 "$HOPS" data validate bad.csv --schema strict.json --quarantine bad.csv
assert_contains "$T/err" "is the file being checked"
"$HOPS" data validate --help >help.txt
assert_contains help.txt "usage: hops data validate FILE --schema SCHEMA"
assert_contains help.txt "POSIX extended"
ok "usage errors exit 2; --help"
