# A resumed search rebuilds more than the DE population: ASHA's rungs come
# back from the heartbeats in SQLite (so a weak trial after the resume is
# still cut against the trials before it), and the random sampler's stream
# continues where it was (the same points as an uninterrupted search).
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
cat >trial.sh <<'TRIAL'
budget=4
for a in "$@"; do case $a in --x=*) x=${a#--x=} ;; --budget=*) budget=${a#--budget=} asha=1 ;; esac; done
# Weak ASHA trials take a while to their first heartbeat: the driver is
# killed while one runs, so that it is decided after the resume.
[ -n "${asha:-}" ] && [ "$x" -lt 5 ] && sleep 2
i=1
while [ $i -le "$budget" ]; do
    sleep 0.1
    echo "{\"step\": $i, \"metrics\": {\"acc\": $((x * i))}}" >>"$HOPS_REPORT"
    i=$((i + 1))
done
TRIAL
told() { sqlite3 .hops/hops.db "SELECT count(*) FROM hpo_trials t JOIN hpo h ON h.id = t.hpo_id JOIN experiments e ON e.id = h.experiment_id WHERE e.name = '$1' AND tell_seq IS NOT NULL" 2>/dev/null || echo 0; }
running() { sqlite3 .hops/hops.db "SELECT count(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE e.name = '$1' AND r.state = 'RUNNING'" 2>/dev/null || echo 0; }
# Run SPEC in the background, kill -9 it once N trials are done.
run_and_kill() {
    "$HOPS" hpo run "$1" --slots cpu=1 -q -- sh "$T/trial.sh" 2>/dev/null &
    pid=$!
    i=0
    # After N tells, and while the next trial runs (a loaded host must not
    # land the kill between two trials, or after the next one is decided).
    until [ "$(told "$2")" -ge "$3" ] && [ "$(running "$2")" -ge 1 ]; do
        i=$((i + 1)); [ $i -lt 1000 ] || fail "$2 made no progress"; sleep 0.02
    done
    kill -9 $pid
    wait $pid 2>/dev/null || true
}

# ASHA: the two strong trials run first and fill the rungs; the driver dies;
# the weak ones after the resume must still be cut.
cat >asha.json <<'SPEC'
{"name": "asha", "space": {"x": {"type": "discrete", "values": [8, 9, 1, 2]}}, "sampler": "grid",
 "metric": "acc", "args": true,
 "early_stopping": {"type": "asha", "reduction_factor": 2, "min_resource": 1, "max_resource": 4}}
SPEC
run_and_kill asha.json asha 2
expect_code 0 "$HOPS" hpo resume asha
"$HOPS" hpo show asha --json >a.json
"$PY" - a.json <<'PYEOF'
import json, sys
doc = json.load(open(sys.argv[1]))
st = {t["params"]["x"]: t["state"] for t in doc["trials"]}
assert st[9] == "FINISHED" and st[8] == "FINISHED", st
assert st[1] == "EARLY_STOPPED" and st[2] == "EARLY_STOPPED", st
# x=1 was running when the driver died: it was decided after the resume.
weak = [t for t in doc["trials"] if t["params"]["x"] == 1][0]
assert [a["state"] for a in weak["attempts"]] == ["LOST", "EARLY_STOPPED"], weak["attempts"]
PYEOF
ok "ASHA rungs rebuilt on resume: weak trials after it are still stopped"

# Random: the resumed stream gives the points an uninterrupted search gives.
for n in full cut; do
    echo "{\"name\": \"rnd-$n\", \"space\": {\"x\": [1, 50]}, \"trials\": 8, \"seed\": 4, \"metric\": \"acc\", \"args\": true}" >rnd-$n.json
done
expect_code 0 "$HOPS" hpo run rnd-full.json --slots cpu=1 -q -- sh "$T/trial.sh"
run_and_kill rnd-cut.json rnd-cut 3
expect_code 0 "$HOPS" hpo resume rnd-cut
a=$("$HOPS" hpo show rnd-full --json | "$PY" -c 'import json,sys; print([t["params"] for t in json.load(sys.stdin)["trials"]])')
b=$("$HOPS" hpo show rnd-cut --json | "$PY" -c 'import json,sys; print([t["params"] for t in json.load(sys.stdin)["trials"]])')
assert_eq "$b" "$a"
ok "random: the seeded stream continues where it was"

# A search whose driver is alive cannot be resumed beside it.
echo '{"name": "busy", "space": {"x": [1, 50]}, "trials": 50, "metric": "acc", "args": true}' >busy.json
"$HOPS" hpo run busy.json --slots cpu=1 -q -- sh "$T/trial.sh" 2>/dev/null &
pid=$!
i=0
until [ "$(told busy)" -ge 1 ]; do i=$((i + 1)); [ $i -lt 300 ] || fail "no progress"; sleep 0.02; done
expect_code 6 "$HOPS" hpo resume busy
assert_contains "$T/err" "is running now"
kill -TERM $pid
wait $pid 2>/dev/null || true
ok "resume refuses a search whose driver lives (exit 6)"
