# `kill -9` of `hops run` mid-run: the next `hops runs list` shows that run as
# FAILED with a reason, and the database stays consistent.
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
cat >slow.sh <<'TRIAL'
i=0
while :; do
    echo "{\"step\": $i, \"metrics\": {\"loss\": $i}}" >>"$HOPS_REPORT" || exit 1
    i=$((i + 1))
    sleep 0.05
done
TRIAL
"$HOPS" run --quiet -- sh slow.sh 2>run.err &
PID=$!
# Wait until some points are committed.
i=0
while [ "$(sqlite3 .hops/hops.db 'SELECT count(*) FROM metrics' 2>/dev/null || echo 0)" -lt 5 ]; do
    i=$((i + 1)); [ $i -lt 200 ] || fail "no metrics arrived"; sleep 0.05
done
"$HOPS" runs list --json >before.json
assert_eq "$(jget '[0]["state"]' <before.json)" RUNNING
ok "the run is RUNNING while its recorder lives"

kill -9 $PID
wait $PID 2>/dev/null || true
# The orphaned trial dies on its next report (the pipe's reader is gone).
sleep 0.3
pkill -f "sh slow.sh" 2>/dev/null || true

"$HOPS" runs list --json >after.json
assert_eq "$(jget '[0]["state"]' <after.json)" FAILED
assert_contains after.json "died without ending it"
ID=$(jget '[0]["id"]' <after.json)
"$HOPS" runs show "$ID" --json >show.json
[ "$(jget '["end_time"]' <show.json)" != null ] || fail "no end time"
[ "$(jget '["series"]["loss"]["points"]' <show.json)" -ge 5 ] || fail "committed points lost"
assert_eq "$(sqlite3 .hops/hops.db 'PRAGMA integrity_check')" ok
ok "after kill -9 the run is FAILED with a reason; committed points kept; database consistent"

expect_code 0 "$HOPS" run --quiet -- true
expect_code 0 "$HOPS" runs delete "$ID"
ok "the project keeps working and the dead run can be deleted"
