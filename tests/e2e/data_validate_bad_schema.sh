# `hops data validate` with a bad schema: not JSON, an unknown type, a bad
# regex, an unknown key, a missing file. Each exits 2 (4 for a missing file)
# with a message naming the schema file, line and column, and writes nothing.
. "$(dirname "$0")/lib.sh"

printf 'id,age\n1,30\n2,40\n' >data.csv

# Not JSON: a trailing comma on line 3.
printf '{"columns": [\n  {"name": "id", "type": "int"},\n]}\n' >notjson.json
expect_code 2 "$HOPS" data validate data.csv --schema notjson.json --quarantine q.csv
assert_contains "$T/err" "notjson.json:3:1: not valid JSON"
[ ! -e q.csv ] || fail "a quarantine file was written for a bad schema"
ok "a schema that is not JSON: exit 2, file:line:column"

printf '' >empty.json
expect_code 2 "$HOPS" data validate data.csv --schema empty.json
assert_contains "$T/err" "empty.json:"
assert_contains "$T/err" "not valid JSON"
printf 'id,age\n' >csv-as-schema.json
expect_code 2 "$HOPS" data validate data.csv --schema csv-as-schema.json
assert_contains "$T/err" "csv-as-schema.json:1:"
printf '{"columns": []}\000junk' >nul.json
expect_code 2 "$HOPS" data validate data.csv --schema nul.json
assert_contains "$T/err" "nul.json:1: a NUL byte"
ok "empty, CSV and binary schema files: exit 2 naming the file"

printf '{"columns": [\n  {"name": "id", "type": "int"},\n  {"name": "age", "type": "integer"}\n]}\n' >type.json
expect_code 2 "$HOPS" data validate data.csv --schema type.json
assert_contains "$T/err" "type.json:3:27: column 'age': unknown type 'integer' (types: int, float, bool, string, category, timestamp)"
ok "an unknown type: exit 2 at the type's line:column"

printf '{"columns": [\n  {"name": "id", "type": "int"},\n  {"name": "age", "type": "string", "regex": "[0-9"}\n]}\n' >regex.json
expect_code 2 "$HOPS" data validate data.csv --schema regex.json
assert_contains "$T/err" "regex.json:3:46: column 'age': bad regex (POSIX extended)"
ok "a bad regex: exit 2 at the regex's line:column"

printf '{"columns": [{"name": "id", "type": "int", "nulable": false}]}\n' >key.json
expect_code 2 "$HOPS" data validate data.csv --schema key.json
assert_contains "$T/err" "key.json:1:44: column 1: unknown key 'nulable'"
printf '{"columns": [{"name": "id", "type": "int", "min": 9, "max": 1}]}\n' >minmax.json
expect_code 2 "$HOPS" data validate data.csv --schema minmax.json
assert_contains "$T/err" "minmax.json:1:61: column 'id': min 9 is above max 1"
ok "unknown keys and min > max: exit 2 with line:column"

expect_code 4 "$HOPS" data validate data.csv --schema nosuch.json
assert_contains "$T/err" "cannot read the schema 'nosuch.json'"
expect_code 2 "$HOPS" data validate data.csv --schema
ok "a missing schema file exits 4; --schema without a value exits 2"

# A good schema still works after all that, and the data file is checked only after the schema.
printf '{"columns": [{"name": "id", "type": "int"}, {"name": "age", "type": "int", "max": 35}]}\n' >ok.json
expect_code 1 "$HOPS" data validate data.csv --schema ok.json
assert_contains "$T/out" "line 3, column age: '40' is above max 35"
expect_code 2 "$HOPS" data validate missing.csv --schema type.json
assert_contains "$T/err" "type.json:3:27"
ok "the schema is checked before the data"
