# Bad input to `hops data report`: each case exits non-zero with a message
# that names the problem (file:line:column where there is one), never crashes,
# and never leaves a partial or damaged report behind.
. "$(dirname "$0")/lib.sh"

printf 'a,b\n1,2\n3,4\n' >good.csv
expect_code 0 "$HOPS" data report good.csv -o report.html
cp report.html original.html
unchanged() { cmp -s report.html original.html || fail "report.html was changed by: $*"; }

expect_code 0 "$HOPS" data report --help
assert_contains "$T/out" "usage: hops data report FILE"
expect_code 2 "$HOPS" data report
assert_contains "$T/err" "needs -o"
expect_code 2 "$HOPS" data report good.csv
assert_contains "$T/err" "needs -o"
expect_code 2 "$HOPS" data report -o report.html
assert_contains "$T/err" "needs a FILE"
expect_code 2 "$HOPS" data report good.csv -o
assert_contains "$T/err" "needs a value"
expect_code 2 "$HOPS" data report good.csv other.csv -o report.html
assert_contains "$T/err" "one FILE only"
expect_code 2 "$HOPS" data report good.csv --frobnicate -o report.html
assert_contains "$T/err" "unknown option '--frobnicate'"
expect_code 2 "$HOPS" data report good.csv --threads many -o report.html
assert_contains "$T/err" "--threads"
expect_code 2 "$HOPS" data report --stats s.json good.csv -o report.html
assert_contains "$T/err" "--stats renders a saved document"
unchanged "bad flags"
ok "bad flags exit 2 with a clear message"

set +e
"$HOPS" data report ./missing.csv -o report.html >out 2>err
rc=$?
set -e
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "a missing file: exit $rc"
assert_contains err "missing.csv"
unchanged "a missing file"
ok "a missing file is named (exit $rc)"

printf '{"rows": 1,\n "columns": [1, }\n' >bad.json
expect_code 2 "$HOPS" data report --stats bad.json -o report.html
assert_contains "$T/err" "bad.json:2:"
expect_code 4 "$HOPS" data report --stats no-such.json -o report.html
assert_contains "$T/err" "no-such.json"
printf '[1, 2, 3]\n' >array.json
expect_code 2 "$HOPS" data report --stats array.json -o report.html
assert_contains "$T/err" "not a statistics document"
printf '{"columns": [{"type": "int"}]}\n' >noname.json
expect_code 2 "$HOPS" data report --stats noname.json -o report.html
assert_contains "$T/err" 'column 1 has no "name"'
unchanged "bad stats documents"
ok "bad stats documents: file:line:column for bad JSON, the shape otherwise"

expect_code 1 "$HOPS" data report good.csv -o no/such/dir/report.html
assert_contains "$T/err" "no/such/dir/report.html"
mkdir adir
expect_code 1 "$HOPS" data report good.csv -o adir
[ -d adir ] || fail "the directory was replaced"
ok "an output that cannot be written is named"

printf 'a,b\n1,2\n3,4,5\n6,7\n' >ragged.csv
set +e
"$HOPS" data report ragged.csv -o report.html >out 2>err
rc=$?
set -e
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "a ragged row: exit $rc"
assert_contains err "ragged.csv:3"
unchanged "a ragged CSV"
ok "a ragged row is reported with file and line (exit $rc)"

printf 'a,"b\n1,2\n' >unterminated.csv
set +e
"$HOPS" data report unterminated.csv -o report.html >out 2>err
rc=$?
set -e
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "an unterminated quote: exit $rc"
assert_contains err "unterminated.csv:1:"
unchanged "an unterminated quote"
ok "an unterminated quote is reported with file, line and column (exit $rc)"

set +e
"$HOPS" data report good.csv --label nope -o report.html >out 2>err
rc=$?
set -e
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || fail "--label of a missing column: exit $rc"
assert_contains err "nope"
unchanged "--label of a missing column"
ok "--label of a column that does not exist is refused (exit $rc)"

# Degenerate files: empty, header only, binary garbage. Either a report or a
# clear error, never a crash; a report that is written is complete.
: >empty.csv
printf 'a,b,c\n' >header.csv
head -c 4096 /dev/urandom >garbage.csv
for f in empty.csv header.csv garbage.csv; do
    set +e
    "$HOPS" data report "$f" -o "$f.html" >out 2>err
    rc=$?
    set -e
    [ "$rc" -lt 128 ] || fail "$f: crashed (exit $rc)"
    if [ "$rc" -eq 0 ]; then
        tail -n 1 "$f.html" | grep -q '</html>' || fail "$f: the report is incomplete"
        grep -qi '<script' "$f.html" && fail "$f: a <script in the report"
    else
        [ -s err ] || fail "$f: exit $rc without a message"
        [ -e "$f.html" ] && fail "$f: exit $rc yet a report was written"
    fi
    ok "$f: exit $rc, $(head -c 200 err)"
done
