# `hops data transform` takes a project dataset NAME[:VERSION] wherever it
# takes a file, and reads the stored version (not the file it came from).
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
printf 'age,country\n31,SE\n25,NO\n40,SE\n' >people.csv
"$HOPS" dataset add people.csv --name people >/dev/null
printf 'age,country\n99,XX\n' >people.csv # the original changes; version 1 does not
"$HOPS" dataset add people.csv --name people >/dev/null

expect_code 0 "$HOPS" data transform people:1 -o v1.csv --filter "country = 'SE'"
printf 'age,country\n31,SE\n40,SE\n' >want.csv
cmp v1.csv want.csv || { cat v1.csv >&2; fail "people:1"; }
expect_code 0 "$HOPS" data transform people -o latest.jsonl
assert_eq "$(cat latest.jsonl)" '{"age":99,"country":"XX"}'
ok "NAME:VERSION and NAME (the latest version) as input"

expect_code 4 "$HOPS" data transform nosuch:1 -o x.csv
assert_contains "$T/err" "nosuch"
[ ! -e x.csv ] || fail "x.csv written for a missing dataset"
ok "a dataset that does not exist exits 4"
