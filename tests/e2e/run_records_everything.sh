# `hops run` records params, tags, command, cwd, git commit + dirty flag, host,
# user, times, exit code, logs, artifacts and metrics, and gives the child the
# trial protocol's environment.
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
git init -q . && git config user.email t@e && git config user.name t
echo one >tracked && git add tracked && git commit -qm one
COMMIT=$(git rev-parse HEAD)

cat >trial.sh <<'TRIAL'
echo "params=$HOPS_PARAMS"
echo "run=$HOPS_RUN_ID dir=$HOPS_RUN_DIR project=$HOPS_PROJECT"
echo "to stderr" >&2
echo model >"$HOPS_RUN_DIR/artifacts/model.bin"
for i in 0 1 2 3 4; do
    echo "{\"step\": $i, \"metrics\": {\"loss\": 1.$i, \"acc\": 0.$i}}" >>"$HOPS_REPORT"
done
echo '{"final": {"acc": 0.93}}' >>"$HOPS_REPORT"
exit "${1:-0}"
TRIAL

expect_code 0 "$HOPS" run --json -e exp1 -p lr=0.01 -p layers=3 -p opt=adam -p flag=true \
    -t owner=ann -- sh trial.sh 0
ID=$(run_id_of "$T/out")
assert_contains "$T/out" "params={\"flag\":true,\"layers\":3,\"lr\":0.01,\"opt\":\"adam\"}"
assert_contains "$T/err" "run $ID started"
ok "the child sees typed HOPS_PARAMS and the run id is printed"

"$HOPS" runs show "$ID" --json >show.json
assert_eq "$(jget '["state"]' <show.json)" FINISHED
assert_eq "$(jget '["experiment"]' <show.json)" exp1
assert_eq "$(jget '["exit_code"]' <show.json)" 0
assert_eq "$(jget '["params"]["lr"]' <show.json)" 0.01
assert_eq "$(jget '["params"]["opt"]' <show.json)" adam
assert_eq "$(jget '["tags"]["owner"]' <show.json)" ann
assert_eq "$(jget '["command"]' <show.json)" '["sh", "trial.sh", "0"]'
assert_eq "$(jget '["cwd"]' <show.json)" "$T"
assert_eq "$(jget '["git_commit"]' <show.json)" "$COMMIT"
assert_eq "$(jget '["git_dirty"]' <show.json)" false
assert_eq "$(jget '["host"]' <show.json)" "$(hostname)"
assert_eq "$(jget '["user"]' <show.json)" "$(id -un)"
assert_eq "$(jget '["final_metrics"]["acc"]' <show.json)" 0.93
assert_eq "$(jget '["series"]["loss"]["points"]' <show.json)" 5
"$PY" - show.json <<'PY'
import json, sys, time
r = json.load(open(sys.argv[1]))
assert 0 < r["start_time"] <= r["end_time"] <= time.time() + 1, r
assert r["duration"] >= 0
PY
ok "state, params, tags, command, cwd, git, host, user and times are recorded"

DIR=$(jget '["run_dir"]' <show.json)
assert_contains "$DIR/stdout.log" "run=$ID"
assert_contains "$DIR/stdout.log" "dir=$DIR"
assert_contains "$DIR/stderr.log" "to stderr"
[ -f "$DIR/artifacts/model.bin" ] || fail "artifact missing"
assert_contains "$DIR/params.json" '"lr":0.01'
ok "logs, artifacts and params.json are in the run directory"

"$HOPS" runs metrics "$ID" --key loss --json >m.json
"$PY" - m.json <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
pts = doc["metrics"]["loss"]
assert [p[0] for p in pts] == [0, 1, 2, 3, 4], pts
assert [p[1] for p in pts] == [1.0, 1.1, 1.2, 1.3, 1.4], pts
assert all(p[2] > 1e9 for p in pts), pts
assert list(doc["metrics"]) == ["loss"]
PY
ok "metrics are time series of (step, value, wall time)"

echo two >>tracked
expect_code 3 "$HOPS" run --quiet --json -- sh trial.sh 3
ID2=$(run_id_of "$T/out")
"$HOPS" runs show "$ID2" --json >show2.json
assert_eq "$(jget '["state"]' <show2.json)" FAILED
assert_eq "$(jget '["exit_code"]' <show2.json)" 3
assert_eq "$(jget '["git_dirty"]' <show2.json)" true
assert_eq "$(jget '["experiment"]' <show2.json)" default
ok "hops run exits with the child's code; FAILED; dirty work tree noticed"

expect_code 143 "$HOPS" run --quiet --json -- sh -c 'kill -TERM $$'
"$HOPS" runs show "$(run_id_of "$T/out")" --json >show3.json
assert_eq "$(jget '["state"]' <show3.json)" FAILED
assert_eq "$(jget '["signal"]' <show3.json)" 15
assert_contains show3.json "terminated by signal 15"
ok "a child killed by a signal is FAILED with the signal recorded (exit 128+N)"

NOGIT=$(mktemp -d)
cd "$NOGIT"
expect_code 0 env HOPS_PROJECT="$T" "$HOPS" run --quiet --json -- true
HOPS_PROJECT="$T" "$HOPS" runs show "$(run_id_of "$T/out")" --json >"$T/show4.json"
cd "$T"
rm -rf "$NOGIT"
assert_eq "$(jget '["git_commit"]' <show4.json)" null
assert_eq "$(jget '["git_dirty"]' <show4.json)" null
ok "outside a git work tree no commit is recorded"
