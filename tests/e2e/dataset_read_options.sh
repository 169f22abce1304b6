# A dataset is read back the way it was added: `hops dataset add -d ';'` makes
# later data commands on NAME[:VERSION] use ';' too, unless told otherwise.
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
printf 'a;b\n1;2\n3;4\n' >semi.csv
expect_code 0 "$HOPS" dataset add semi.csv --name semi -d ';'
expect_code 0 "$HOPS" data stats semi --json
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [c["name"] for c in d["columns"]] == ["a", "b"], d["columns"]' "$T/out"
expect_code 0 "$HOPS" data schema semi:1 --json
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [c["name"] for c in d["columns"]] == ["a", "b"]' "$T/out"
expect_code 0 "$HOPS" data transform semi -o out.csv --select b
assert_eq "$(cat out.csv | tr '\n' ' ')" "b 2 4 "
ok "stats, schema and transform read a ';' dataset with ';'"

expect_code 0 "$HOPS" data stats semi --delimiter , --json
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [c["name"] for c in d["columns"]] == ["a;b"]' "$T/out"
ok "an explicit --delimiter wins"
