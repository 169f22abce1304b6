# `hops dataset add|list|show|versions`: immutable, byte-identical, read-only
# versions with SHA-256, rows and columns; duplicates make no version; specs
# NAME[:VERSION] resolve (and fail with the names or versions there are).
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
printf 'age,country,score\n31,SE,0.5\n20,NO,\n45,"S,E",1.25\n' >people.csv

expect_code 0 "$HOPS" dataset add people.csv --name people --description "first cut" --json
cp "$T/out" add1.json
assert_eq "$(jget '["added"]' <add1.json)" true
assert_eq "$(jget '["version"]' <add1.json)" 1
assert_eq "$(jget '["rows"]' <add1.json)" 3
assert_eq "$(jget '["columns"]' <add1.json)" '["age", "country", "score"]'
assert_eq "$(jget '["description"]' <add1.json)" "first cut"
STORED=$(jget '["path"]' <add1.json)
assert_eq "$STORED" "$T/.hops/datasets/people/1/people.csv"
SUM=$(sha256sum people.csv | cut -d' ' -f1)
assert_eq "$(sha256sum "$STORED" | cut -d' ' -f1)" "$SUM" "(stored copy differs)"
assert_eq "$(jget '["sha256"]' <add1.json)" "$SUM"
assert_eq "$(jget '["size"]' <add1.json)" "$(wc -c <people.csv | tr -d ' ')"
assert_eq "$(stat -c %a "$STORED")" 444
assert_eq "$(ls -A "$T/.hops/datasets/people/1")" people.csv
ok "add: a byte-identical read-only copy with its SHA-256, size, rows and columns"

# The same content again, even under another name: no new version.
cp people.csv same.csv
expect_code 0 "$HOPS" dataset add same.csv --name people
assert_contains "$T/out" "identical to people:1"
assert_contains "$T/out" "no new version"
expect_code 0 "$HOPS" dataset add same.csv --name people --json
assert_eq "$(jget '["added"]' <"$T/out")" false
assert_eq "$(jget '["version"]' <"$T/out")" 1
[ ! -e "$T/.hops/datasets/people/2" ] || fail "a duplicate made a version folder"
ok "identical content makes no new version and says so"

printf '45,DK,2\n' >>people.csv
expect_code 0 "$HOPS" dataset add people.csv --name people
assert_contains "$T/out" "Added people:2: 4 rows, 3 columns"
# The first version is untouched by the change to the original.
assert_eq "$(sha256sum "$STORED" | cut -d' ' -f1)" "$SUM"
# gzip and JSON Lines keep their names and extensions.
head -n 3 people.csv | gzip -c >small.csv.gz
expect_code 0 "$HOPS" dataset add small.csv.gz --name small --json
assert_eq "$(jget '["rows"]' <"$T/out")" 2
assert_eq "$(jget '["file_name"]' <"$T/out")" small.csv.gz
cmp small.csv.gz "$(jget '["path"]' <"$T/out")" || fail "gz copy differs"
printf '{"x": 1, "y": "a"}\n{"x": 2}\n' >events.jsonl
expect_code 0 "$HOPS" dataset add events.jsonl --name events --json
assert_eq "$(jget '["format"]' <"$T/out")" jsonl
assert_eq "$(jget '["columns"]' <"$T/out")" '["x", "y"]'
printf '1;2\n3;4\n5;6\n' >semi.txt
expect_code 0 "$HOPS" dataset add semi.txt --name semi --delimiter ';' --no-header --json
assert_eq "$(jget '["rows"]' <"$T/out")" 3
assert_eq "$(jget '["columns"]' <"$T/out")" '["c1", "c2"]'
ok "versions count up; .gz, JSON Lines and read options"

expect_code 0 "$HOPS" dataset list --json
assert_eq "$(jget '[1]["name"]' <"$T/out")" people
assert_eq "$(jget '[1]["latest"]' <"$T/out")" 2
assert_eq "$(jget '[1]["versions"]' <"$T/out")" 2
assert_eq "$(jget '[1]["rows"]' <"$T/out")" 4
expect_code 0 "$HOPS" dataset list
assert_contains "$T/out" "NAME"
assert_contains "$T/out" "people  2"
expect_code 0 "$HOPS" dataset versions people
assert_contains "$T/out" "first cut"
assert_eq "$(grep -c '^[12] ' "$T/out")" 2
ok "list and versions"

expect_code 0 "$HOPS" dataset show people:1
assert_contains "$T/out" "dataset      people:1 (latest version: 2)"
assert_contains "$T/out" "sha256       $SUM"
assert_contains "$T/out" "file         $STORED"
assert_contains "$T/out" "columns      3: age, country, score"
assert_contains "$T/out" "schema:"
assert_contains "$T/out" "  age                  int        not null  20 .. 45"
assert_contains "$T/out" "  score                float      nullable  0.5 .. 1.25"
expect_code 0 "$HOPS" dataset show people --json
assert_eq "$(jget '["version"]' <"$T/out")" 2
assert_eq "$(jget '["lineage"]' <"$T/out")" null
assert_eq "$(jget '["source_path"]' <"$T/out")" "$T/people.csv"
# From a subdirectory, the project is found by walking up.
mkdir -p sub/deeper
(cd sub/deeper && "$HOPS" dataset show people:1 --json >"$T/sub.json")
assert_eq "$(jget '["path"]' <sub.json)" "$STORED"
ok "show N and N:VERSION, from anywhere in the project"

expect_code 4 "$HOPS" dataset show people:3
assert_contains "$T/err" "dataset 'people' has no version 3; its versions: 1, 2"
expect_code 4 "$HOPS" dataset show nobody
assert_contains "$T/err" "no dataset 'nobody' in this project; datasets: events, people, semi, small"
expect_code 2 "$HOPS" dataset show people:abc
assert_contains "$T/err" "bad dataset spec 'people:abc': the version 'abc' is not a positive integer (column 8)"
expect_code 2 "$HOPS" dataset show people:
assert_contains "$T/err" "no version after ':'"
expect_code 2 "$HOPS" dataset show
assert_contains "$T/err" "which dataset?"
expect_code 4 "$HOPS" dataset versions nobody
ok "unknown names, unknown versions and bad specs are named"

# Data commands resolve N[:VERSION] where they take a file (once built).
for sub in schema stats; do
    set +e
    "$HOPS" data $sub people:1 >"$T/out" 2>"$T/err"
    code=$?
    set -e
    if grep -q "not built yet" "$T/err"; then
        echo "skip: hops data $sub is not built yet"
        continue
    fi
    [ $code = 0 ] || { cat "$T/err" >&2; fail "hops data $sub people:1 exited $code"; }
    assert_contains "$T/out" "country"
    expect_code 4 "$HOPS" data $sub people:7
    assert_contains "$T/err" "its versions: 1, 2"
    ok "hops data $sub resolves people:1"
done

# Bad input: each refused with a message, and nothing stored.
expect_code 2 "$HOPS" dataset add people.csv
assert_contains "$T/err" "name the dataset"
expect_code 2 "$HOPS" dataset add --name x
assert_contains "$T/err" "which file?"
expect_code 2 "$HOPS" dataset add people.csv --name 'a b'
assert_contains "$T/err" "bad dataset name 'a b'"
expect_code 2 "$HOPS" dataset add people.csv --name ../x
expect_code 2 "$HOPS" dataset add people.csv --name x --bogus
assert_contains "$T/err" "unknown option '--bogus'"
expect_code 4 "$HOPS" dataset add missing.csv --name x
assert_contains "$T/err" "cannot open 'missing.csv'"
expect_code 2 "$HOPS" dataset add sub --name x
assert_contains "$T/err" "'sub' is a directory"
printf 'a,b\n1,2\n3\n' >ragged.csv
expect_code 2 "$HOPS" dataset add ragged.csv --name x
assert_contains "$T/err" "ragged.csv:3: expected 2 fields, found 1"
printf 'a,b\n1,"open\n2,3\n' >quote.csv
expect_code 2 "$HOPS" dataset add quote.csv --name x
assert_contains "$T/err" "quote.csv:2:"
: >empty.csv
expect_code 2 "$HOPS" dataset add empty.csv --name x
assert_contains "$T/err" "empty.csv: the file is empty"
expect_code 4 "$HOPS" dataset show x
[ ! -e "$T/.hops/datasets/x" ] || fail "a failed add left .hops/datasets/x"
[ -z "$(ls -A "$T/.hops/datasets/.staging")" ] || fail "a failed add left a staging folder"
assert_eq "$(sqlite3 .hops/hops.db 'SELECT count(*) FROM dataset_versions')" 5
ok "bad input refused with file:line messages; nothing left behind"

# The stored file cannot be changed through its mode.
if [ "$(id -u)" != 0 ]; then
    if (echo x >>"$STORED") 2>/dev/null; then fail "the stored file is writable"; fi
fi
assert_eq "$(sqlite3 .hops/hops.db 'PRAGMA integrity_check')" ok
ok "database consistent"
