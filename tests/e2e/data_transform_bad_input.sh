# Bad input to `hops data transform`: a bad --filter exits 2 and shows the
# column with a caret; unknown columns list the columns; a value that does not
# convert names FILE:LINE:COLUMN and exits 1; bad flags exit 2; a missing input
# exits 4; malformed data is reported; no case leaves an output or temp file,
# and an existing output is left as it was.
. "$(dirname "$0")/lib.sh"

printf 'age,country,score\n31,SE,0.5\n25,NO,\nabc,DK,3\n' >in.csv
echo "previous" >out.csv
unchanged() {
    [ "$(cat out.csv)" = previous ] || fail "out.csv was changed by: $*"
    ls | grep -q '\.tmp-' && fail "a temporary file was left by: $*"
    return 0
}

expect_code 0 "$HOPS" data transform --help
assert_contains "$T/out" "usage: hops data transform IN -o OUT"
assert_contains "$T/out" "fixed order"
assert_contains "$T/out" "1. --filter"
assert_contains "$T/out" "7. --split"
ok "--help documents the fixed order of the operations"

expect_code 2 "$HOPS" data transform in.csv -o out.csv --filter 'age > 30 and country == '
assert_contains "$T/err" "hops data transform: --filter: column 25: expected a value after '=='"
assert_eq "$(sed -n 2p "$T/err")" "  age > 30 and country == "
assert_eq "$(sed -n 3p "$T/err")" "                          ^"
unchanged "a bad filter"
expect_code 2 "$HOPS" data transform in.csv -o out.csv --filter "age > 30 and (country = 'SE'"
assert_contains "$T/err" "column 29: expected ')' to close the '(' at column 14"
expect_code 2 "$HOPS" data transform in.csv -o out.csv --filter "country == SE"
assert_contains "$T/err" "column 12: expected a value after '==' (quote text: 'SE')"
expect_code 2 "$HOPS" data transform in.csv -o out.csv --filter "score > 1 or agee < 3"
assert_contains "$T/err" "column 14: unknown column 'agee'; the columns are: age, country, score"
expect_code 2 "$HOPS" data transform ./missing.csv -o out.csv --filter "age >"
assert_contains "$T/err" "column 6: expected a value after '>'"
unchanged "bad filters"
ok "a bad --filter exits 2 with its column and a caret line (checked before the data is read)"

expect_code 1 "$HOPS" data transform in.csv -o out.csv --cast age:int
assert_contains "$T/err" "in.csv:4:1: column 'age': cannot cast 'abc' to int"
expect_code 1 "$HOPS" data transform in.csv -o out.csv --standardize age
assert_contains "$T/err" "in.csv:4:1: column 'age': --standardize needs numbers, not 'abc'"
unchanged "a value that does not convert"
expect_code 0 "$HOPS" data transform in.csv -o conv.csv --cast age:int --cast-errors null
assert_contains "$T/out" "--cast age: 1 values did not convert and became null"
printf 'age,country,score\n31,SE,0.5\n25,NO,\n,DK,3\n' >want.csv
cmp conv.csv want.csv || fail "--cast-errors null"
ok "a value that does not convert: FILE:LINE:COLUMN, exit 1; or null with --cast-errors null"

expect_code 2 "$HOPS" data transform in.csv -o out.csv --select age,nope
assert_contains "$T/err" "--select: unknown column 'nope'; the columns are: age, country, score"
expect_code 2 "$HOPS" data transform in.csv -o out.csv --drop nope
assert_contains "$T/err" "--drop: unknown column 'nope'"
expect_code 2 "$HOPS" data transform in.csv -o out.csv --one-hot nope
assert_contains "$T/err" "--one-hot: unknown column 'nope'"
expect_code 2 "$HOPS" data transform in.csv -o out.csv --fill-null nope=1
assert_contains "$T/err" "--fill-null: unknown column 'nope'"
expect_code 2 "$HOPS" data transform in.csv -o out.csv --cast age:decimal
assert_contains "$T/err" "unknown type 'decimal'"
expect_code 2 "$HOPS" data transform in.csv -o out.csv --cast age
assert_contains "$T/err" "expected COL:TYPE"
expect_code 2 "$HOPS" data transform in.csv -o out.csv --fill-null age
assert_contains "$T/err" "expected COL=VALUE"
expect_code 2 "$HOPS" data transform in.csv -o out.csv --select ''
expect_code 2 "$HOPS" data transform in.csv -o out.csv --select 'age,,score'
assert_contains "$T/err" "an empty item"
expect_code 2 "$HOPS" data transform in.csv -o out.csv --ddof 2
expect_code 2 "$HOPS" data transform in.csv -o out.csv --cast-errors ignore
expect_code 2 "$HOPS" data transform in.csv -o out.csv --frobnicate
assert_contains "$T/err" "unknown option '--frobnicate'"
expect_code 2 "$HOPS" data transform in.csv
assert_contains "$T/err" "no -o OUT given"
expect_code 2 "$HOPS" data transform -o out.csv
assert_contains "$T/err" "no input given"
expect_code 2 "$HOPS" data transform in.csv other.csv -o out.csv
expect_code 2 "$HOPS" data transform in.csv -o
assert_contains "$T/err" "needs a value"
expect_code 2 "$HOPS" data transform in.csv -o out.csv.gz
assert_contains "$T/err" "writing gzip is not supported"
expect_code 2 "$HOPS" data transform in.csv -o dir/
assert_contains "$T/err" "names a directory"
expect_code 2 "$HOPS" data transform in.csv -o out.csv --filter 'age > 1' --filter 'age < 3'
assert_contains "$T/err" "--filter is given twice"
unchanged "bad flags"
ok "bad flags and unknown columns exit 2 with the list of columns"

expect_code 4 "$HOPS" data transform ./missing.csv -o out.csv
assert_contains "$T/err" "missing.csv"
printf 'a,b\n1,2\n3\n' >ragged.csv
expect_code 2 "$HOPS" data transform ragged.csv -o out.csv
assert_contains "$T/err" "ragged.csv:3: expected 2 fields, found 1"
printf 'a,b\n1,"2\n' >unterminated.csv
set +e
"$HOPS" data transform unterminated.csv -o out.csv >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "unterminated quote: exit $rc"
assert_contains "$T/err" "unterminated.csv:2"
: >empty.csv
set +e
"$HOPS" data transform empty.csv -o out.csv >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "empty file: exit $rc"
assert_contains "$T/err" "empty"
head -c 3000 /dev/urandom >garbage.csv
set +e
"$HOPS" data transform garbage.csv -o out.csv >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -lt 128 ] || fail "binary garbage crashed: exit $rc"
unchanged "bad data"
ok "missing input (exit 4), ragged rows, an unterminated quote, an empty file, garbage: reported, nothing written"

# Output the reader refuses to create (a directory that is not there).
expect_code 1 "$HOPS" data transform in.csv -o no/such/dir/out.csv
assert_contains "$T/err" "no/such/dir/out.csv"
ok "an output that cannot be created is named (exit 1)"

# --name needs a project: refused before anything is written.
NP=$(mktemp -d)
(cd "$NP" && "$HOPS" data transform "$HOPS_SOURCE_DIR/examples/data/customers.csv" -o out.csv --name x) >/dev/null 2>&1 && fail "--name outside a project succeeded"
[ ! -e "$NP/out.csv" ] || fail "--name outside a project still wrote the output"
rm -rf "$NP"
ok "--name outside a project fails before writing"
