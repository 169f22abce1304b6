# Every command answers --help with its usage on stdout and exit 0.
. "$(dirname "$0")/lib.sh"

for cmd in "" "init" "run" "launch" "runs" "runs list" "runs show" "runs metrics" "runs compare" "runs delete" \
    "data" "data schema" "data validate" "data stats" "data transform" "data report" \
    "dataset" "dataset add" "dataset list" "dataset show" \
    "hpo" "hpo run" "hpo resume" "hpo show" "hpo status" "hpo list"; do
    # shellcheck disable=SC2086
    expect_code 0 "$HOPS" $cmd --help
    assert_contains "$T/out" "usage: hops"
done
expect_code 0 "$HOPS" --version
assert_contains "$T/out" "hops "
expect_code 2 "$HOPS"
assert_contains "$T/err" "usage: hops"
ok "--help on every command"
