# Ctrl-C (SIGINT to hops run) reaches the child; the run is KILLED.
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
cat >waiter.sh <<'TRIAL'
trap 'echo "child got SIGINT"; echo "{\"final\": {\"interrupted\": 1}}" >>"$HOPS_REPORT"; exit 130' INT
echo '{"step": 1, "metrics": {"loss": 1}}' >>"$HOPS_REPORT"
touch started
while :; do sleep 0.05; done
TRIAL
"$HOPS" run --json -- sh waiter.sh >out.json 2>err.txt &
PID=$!
i=0
while [ ! -f started ]; do i=$((i + 1)); [ $i -lt 200 ] || fail "child never started"; sleep 0.05; done
kill -INT $PID
set +e
wait $PID
CODE=$?
set -e
assert_eq "$CODE" 130 "(hops run exit code)"
assert_contains out.json "child got SIGINT"
ID=$(tail -n 1 out.json | jget '["run_id"]')
"$HOPS" runs show "$ID" --json >show.json
assert_eq "$(jget '["state"]' <show.json)" KILLED
assert_eq "$(jget '["final_metrics"]["interrupted"]' <show.json)" 1.0
assert_contains show.json "Interrupt"
ok "SIGINT is passed to the child, the run is KILLED and its last reports kept"

# A child that ignores SIGINT: a second Ctrl-C stops it for good.
cat >stubborn.sh <<'TRIAL'
trap '' INT
touch started2
while :; do sleep 0.05; done
TRIAL
"$HOPS" run --quiet --json -- sh stubborn.sh >out2.json 2>/dev/null &
PID=$!
i=0
while [ ! -f started2 ]; do i=$((i + 1)); [ $i -lt 200 ] || fail "child never started"; sleep 0.05; done
kill -INT $PID
sleep 0.3
kill -INT $PID
set +e
wait $PID
CODE=$?
set -e
assert_eq "$CODE" 137 "(killed)"
assert_eq "$(jget '["state"]' <out2.json)" KILLED
ok "a second Ctrl-C kills a child that ignores the first"
