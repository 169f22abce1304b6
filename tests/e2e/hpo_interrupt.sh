# SIGTERM (or Ctrl-C) to `hops hpo run`: the running trials are stopped
# (their process groups get SIGTERM), their runs are KILLED, the search is
# KILLED with a reason, hops exits 128+N, and `hops hpo resume` finishes it.
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
cat >trial.sh <<'TRIAL'
for a in "$@"; do case $a in --x=*) x=${a#--x=} ;; esac; done
echo "{\"step\": 0, \"metrics\": {\"v\": $x}}" >>"$HOPS_REPORT"
sleep 0.4
echo "{\"final\": {\"v\": $x}}" >>"$HOPS_REPORT"
TRIAL
echo '{"name": "stopme", "space": {"x": [1, 8]}, "sampler": "grid", "metric": "v", "args": true}' >s.json
"$HOPS" hpo run s.json --slots cpu=2 -q -- sh "$T/trial.sh" 2>run.err &
PID=$!
i=0
until [ "$(sqlite3 .hops/hops.db "SELECT count(*) FROM hpo_trials WHERE tell_seq IS NOT NULL" 2>/dev/null || echo 0)" -ge 2 ]; do
    i=$((i + 1)); [ $i -lt 200 ] || fail "no progress"; sleep 0.05
done
kill -TERM $PID
set +e
wait $PID
code=$?
set -e
assert_eq "$code" 143
"$HOPS" hpo show stopme --json >s1.json
assert_eq "$(jget '["state"]' <s1.json)" KILLED
assert_contains s1.json "hops hpo resume stopme"
[ "$(sqlite3 .hops/hops.db "SELECT count(*) FROM runs WHERE state = 'KILLED'")" -ge 1 ] || fail "no KILLED run"
[ "$(sqlite3 .hops/hops.db "SELECT count(*) FROM runs WHERE state = 'RUNNING'")" -eq 0 ] || fail "a run left RUNNING"
ok "SIGTERM: trials stopped and KILLED, search KILLED, exit 143"

expect_code 0 "$HOPS" hpo resume stopme --json
assert_eq "$(jget '["finished"]' <"$T/out")" 8
assert_eq "$(jget '["best_value"]' <"$T/out")" 8.0
ok "resume after SIGTERM finishes the grid"
