# kill -9 of the hops hpo driver mid-search, then `hops hpo resume`: finished
# trials are not rerun, the trial that was running runs again, the DE
# population is rebuilt, and the best equals what an uninterrupted search
# with the same seed finds (deterministic objective, one slot).
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
cat >trial.sh <<'TRIAL'
for a in "$@"; do case $a in --x=*) x=${a#--x=} ;; --y=*) y=${a#--y=} ;; esac; done
sleep 0.15
echo "{\"final\": {\"score\": $(( -(x - 37) * (x - 37) - (y - 5) * (y - 5) ))}}" >>"$HOPS_REPORT"
TRIAL
spec() {
    cat <<SPEC
{"name": "$1", "space": {"x": [1, 100], "y": [1, 10]}, "args": true, "metric": "score",
 "sampler": {"type": "de", "population": 5, "generations": 3}, "seed": 9}
SPEC
}
spec full >full.json
spec cut >cut.json
expect_code 0 "$HOPS" hpo run full.json --slots cpu=1 -q -- sh "$T/trial.sh"

"$HOPS" hpo run cut.json --slots cpu=1 -q -- sh "$T/trial.sh" 2>cut.err &
PID=$!
told() { sqlite3 .hops/hops.db "SELECT count(*) FROM hpo_trials WHERE tell_seq IS NOT NULL AND hpo_id = (SELECT h.id FROM hpo h JOIN experiments e ON e.id = h.experiment_id WHERE e.name = 'cut')" 2>/dev/null || echo 0; }
running() { sqlite3 .hops/hops.db "SELECT count(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE e.name = 'cut' AND r.state = 'RUNNING'" 2>/dev/null || echo 0; }
i=0
# Kill while a trial runs (after the 7th told): between two trials there is
# nothing to rerun, and a loaded host can stretch that gap.
while [ "$(told)" -lt 7 ] || [ "$(running)" -lt 1 ]; do
    i=$((i + 1)); [ $i -lt 600 ] || fail "the search made no progress"; sleep 0.02
done
kill -9 $PID
wait $PID 2>/dev/null || true
"$HOPS" hpo show cut --json >before.json
assert_eq "$(jget '["state"]' <before.json)" INTERRUPTED
BEFORE=$(told)
ok "after kill -9 the search shows INTERRUPTED with $BEFORE trials done"

expect_code 0 "$HOPS" hpo resume cut --json
assert_contains "$T/err" "resuming search 'cut'"
"$HOPS" hpo show cut --json >after.json
"$HOPS" hpo show full --json >full_show.json
"$PY" - before.json after.json full_show.json <<'PYEOF'
import json, sys
before, after, full = (json.load(open(p)) for p in sys.argv[1:4])
done_before = {t["trial"] for t in before["trials"] if t["state"] in ("FINISHED", "FAILED")}
for t in after["trials"]:
    runs = [a["run"] for a in t["attempts"]]
    if t["trial"] in done_before:
        assert len(runs) == 1, ("finished trial rerun", t)
    assert t["state"] == "FINISHED", t
# The trial that was running when the driver died ran again.
rerun = [t for t in after["trials"] if len(t["attempts"]) == 2]
assert len(rerun) == 1, [len(t["attempts"]) for t in after["trials"]]
assert rerun[0]["attempts"][0]["state"] == "LOST", rerun[0]
assert after["state"] == "FINISHED"
assert [t["params"] for t in after["trials"]] == [t["params"] for t in full["trials"]], "different points"
assert after["best"]["value"] == full["best"]["value"], (after["best"], full["best"])
assert after["best"]["params"] == full["best"]["params"]
print("best", after["best"]["value"], after["best"]["params"])
PYEOF
ok "resume: finished trials kept, the running one rerun, same points and best as uninterrupted"

"$HOPS" runs list -e cut --json >runs.json
assert_contains runs.json "died without ending it"
expect_code 0 "$HOPS" hpo resume cut
assert_contains "$T/err" "FINISHED"
assert_eq "$(sqlite3 .hops/hops.db 'PRAGMA integrity_check')" ok
ok "the killed attempt's run is FAILED with a reason; resuming a finished search is a no-op"
