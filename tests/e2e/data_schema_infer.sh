# `hops data schema`: infers each type, nullability, ranges and value sets;
# writes the schema atomically; the same schema for any thread count; bad
# input exits with a message naming file:line:column.
. "$(dirname "$0")/lib.sh"

"$PY" - <<'PY'
import random
random.seed(7)
with open("people.csv", "w", newline="") as f:
    f.write("id,age,score,country,member,joined,note\n")
    for i in range(1, 3001):
        age = "" if i % 50 == 0 else str(18 + i % 60)
        score = "%d" % (i % 7) if i % 3 == 0 else "%.2f" % (i / 100.0 - 5)
        country = ["SE", "NO", "DK", "FI"][i % 4]
        member = ["true", "false", "TRUE"][i % 3]
        joined = "2020-%02d-%02dT10:00:00Z" % (1 + i % 12, 1 + i % 28)
        note = '"line one\nline two, %d"' % i if i % 10 == 0 else "n%d" % i
        f.write("%d,%s,%s,%s,%s,%s,%s\n" % (i, age, score, country, member, joined, note))
PY

"$HOPS" data schema people.csv -o schema.json >out.txt
assert_contains out.txt "Schema written to schema.json"
assert_contains out.txt "3000 rows, 7 columns"
"$PY" - schema.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
cols = {c["name"]: c for c in s["columns"]}
assert [c["name"] for c in s["columns"]] == ["id", "age", "score", "country", "member", "joined", "note"]
def check(name, **want):
    for k, v in want.items():
        assert cols[name].get(k) == v, (name, k, cols[name].get(k), v)
check("id", type="int", nullable=False, min=1, max=3000)
check("age", type="int", nullable=True, min=18, max=77)
check("score", type="float", nullable=False, min=-4.99, max=24.99)   # ints and floats mixed
check("country", type="category", nullable=False, values=["DK", "FI", "NO", "SE"])
check("member", type="bool", nullable=False, values=[False, True])
check("joined", type="timestamp", nullable=False, min="2020-01-01T10:00:00Z", max="2020-12-28T10:00:00Z")
check("note", type="string", nullable=False)
assert "values" not in cols["note"] and "min" not in cols["note"]
assert s["rows"] == {"min": 1}
assert s["inferred_from"] == {"file": "people.csv", "format": "csv", "rows": 3000}
PY
# One column per line, for people to edit.
assert_eq "$(grep -c '"name":' schema.json)" 7
ok "types, nullability, ranges, value sets and row count are inferred"

"$HOPS" data schema people.csv --json >stdout.json
cmp stdout.json schema.json || fail "--json prints the same document -o writes"
"$HOPS" data schema people.csv >table.txt
assert_contains table.txt "country  *category  *no"
assert_contains table.txt "DK, FI, NO, SE"
ok "--json prints the schema; the default is a table"

for t in 1 2 4; do
    HOPS_CHUNK_SIZE=4096 "$HOPS" data schema people.csv --threads $t --json >s$t.json
    cmp s$t.json schema.json || fail "--threads $t (4 KiB chunks) gives another schema"
done
ok "--threads 1, 2, 4 and any chunk size: byte-identical schemas"

gzip -c people.csv >people.csv.gz
"$HOPS" data schema people.csv.gz --json | sed 's/people.csv.gz/people.csv/' >gz.json
cmp gz.json schema.json || fail "the .gz file gives another schema"
printf '{"a": 1, "b": "x", "c": true}\n{"a": 2.5, "b": null, "c": false}\n{"a": 3, "c": true}\n' >d.jsonl
"$HOPS" data schema d.jsonl --json >j.json
assert_eq "$(jget '["columns"][0]["type"]' <j.json)" float
assert_eq "$(jget '["columns"][1]["nullable"]' <j.json)" true
assert_eq "$(jget '["columns"][2]["type"]' <j.json)" bool
printf '1;x\n2;y\n' >nohdr.csv
"$HOPS" data schema nohdr.csv --no-header --delimiter ';' --json >n.json
assert_eq "$(jget '["columns"][0]["name"]' <n.json)" c1
assert_eq "$(jget '["columns"][0]["type"]' <n.json)" int
ok "gzip, JSON Lines and --no-header/--delimiter are read"

# -o is atomic: a failed inference leaves the old file untouched, and no temp files.
printf 'a,b\n1,2\n3\n' >ragged.csv
cp schema.json before.json
expect_code 2 "$HOPS" data schema ragged.csv -o schema.json
assert_contains "$T/err" "ragged.csv:3: expected 2 fields, found 1"
cmp before.json schema.json || fail "a failed inference changed the -o file"
expect_code 1 "$HOPS" data schema people.csv -o no/such/dir/schema.json
assert_contains "$T/err" "no/such/dir/schema.json"
[ -z "$(ls | grep '\.tmp')" ] || fail "temp files left behind: $(ls)"
ok "-o is written whole or not at all"

# Bad input: each fails with the file's name (and line:column where there is one).
printf 'a,b\n1,"open\n2,3\n' >unterminated.csv
expect_code 2 "$HOPS" data schema unterminated.csv
assert_contains "$T/err" "unterminated.csv:2:3: unterminated quoted field"
: >empty.csv
expect_code 2 "$HOPS" data schema empty.csv
assert_contains "$T/err" "empty.csv: the file is empty"
printf 'a,b\n' >header.csv
"$HOPS" data schema header.csv --json >h.json
assert_eq "$(jget '["inferred_from"]["rows"]' <h.json)" 0
assert_eq "$(jget '["columns"][0]["nullable"]' <h.json)" true
printf 'a,b\n1,\377\376\n' >latin.csv
expect_code 2 "$HOPS" data schema latin.csv
assert_contains "$T/err" "latin.csv:2:3: invalid UTF-8"
head -c 3000 /dev/urandom >garbage.bin
printf '\000' >>garbage.bin
set +e
"$HOPS" data schema garbage.bin >/dev/null 2>"$T/err"
code=$?
set -e
[ "$code" = 2 ] || fail "binary garbage exited $code"
assert_contains "$T/err" "garbage.bin:"
expect_code 4 "$HOPS" data schema no-such-file.csv
assert_contains "$T/err" "no-such-file.csv"
expect_code 4 "$HOPS" data schema /nonexistent/x.csv
assert_contains "$T/err" "/nonexistent/x.csv: no such file"
ok "ragged, unterminated, empty, header-only, invalid UTF-8, binary and missing files"

expect_code 2 "$HOPS" data schema
assert_contains "$T/err" "which file?"
expect_code 2 "$HOPS" data schema people.csv --frobnicate
assert_contains "$T/err" "unknown option '--frobnicate'"
expect_code 2 "$HOPS" data schema people.csv other.csv
expect_code 2 "$HOPS" data schema people.csv -o
"$HOPS" data schema --help >help.txt
assert_contains help.txt "usage: hops data schema FILE"
ok "usage errors exit 2; --help"
