# Shared helpers for the end-to-end tests. Each test is its own process
# (ctest runs `sh test.sh`), gets its own temp dir and cleans it up.
set -eu

: "${HOPS_BIN:?HOPS_BIN must point at the hops binary}"
: "${HOPS_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${HOPS_BUILD_DIR:=$(dirname "$HOPS_BIN")}"
HOPS=$HOPS_BIN
PY=/usr/bin/python3
unset HOPS_PROJECT HOPS_REPORT HOPS_RUN_ID HOPS_RUN_DIR HOPS_PARAMS
export COLUMNS=200

T=$(mktemp -d "${TMPDIR:-/tmp}/hops-e2e.XXXXXX")
cleanup() { cd /; rm -rf "$T"; }
trap cleanup EXIT
cd "$T"

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# expect_code CODE CMD...: run CMD, check its exit code; output in $T/out, $T/err.
expect_code() {
    want=$1
    shift
    set +e
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    set -e
    if [ "$got" != "$want" ]; then
        echo "--- stdout" >&2; cat "$T/out" >&2
        echo "--- stderr" >&2; cat "$T/err" >&2
        fail "'$*' exited $got, expected $want"
    fi
}

# A value from JSON on stdin: jq-like path in Python syntax, e.g. '[0]["state"]'.
jget() { "$PY" -c "import json,sys; v=json.load(sys.stdin)$1; print(v if not isinstance(v,(dict,list,bool)) and v is not None else json.dumps(v))"; }

# The run id printed by `hops run --json`.
run_id_of() { tail -n 1 "$1" | jget '["run_id"]'; }

assert_contains() { grep -q -- "$2" "$1" || { cat "$1" >&2; fail "$1 does not contain '$2'"; }; }
assert_eq() { [ "$1" = "$2" ] || fail "expected '$2', got '$1' ${3:-}"; }
