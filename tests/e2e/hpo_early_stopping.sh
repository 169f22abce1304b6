# Early stopping from the heartbeats trials already report: the median rule
# stops trials whose best is below the median of finished trials' running
# means; ASHA cuts trials below the top 1/rf of a rung, and the budget
# reaches each trial as a parameter. A stopped trial is an EARLY_STOPPED run
# with its last metric as final value.
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
cat >trial.sh <<'TRIAL'
budget=10
for a in "$@"; do case $a in --x=*) x=${a#--x=} ;; --budget=*) budget=${a#--budget=} ;; esac; done
i=1
while [ $i -le "$budget" ]; do
    echo "{\"step\": $i, \"metrics\": {\"acc\": $((x * i))}}" >>"$HOPS_REPORT"
    sleep 0.05
    i=$((i + 1))
done
echo "{\"final\": {\"acc\": $((x * budget))}}" >>"$HOPS_REPORT"
TRIAL

# Median: the two best go first and finish; every worse one is stopped.
cat >median.json <<'SPEC'
{"name": "median", "space": {"x": {"type": "discrete", "values": [9, 8, 3, 2, 1]}},
 "sampler": "grid", "metric": "acc", "args": true,
 "early_stopping": {"type": "median", "min": 2, "interval": 0.1}}
SPEC
expect_code 0 "$HOPS" hpo run median.json --slots cpu=2 -- sh "$T/trial.sh"
assert_contains "$T/err" "the median rule stops it"
"$HOPS" hpo show median --json >m.json
"$PY" - m.json <<'PYEOF'
import json, sys
doc = json.load(open(sys.argv[1]))
st = {t["params"]["x"]: t for t in doc["trials"]}
assert st[9]["state"] == "FINISHED" and st[8]["state"] == "FINISHED", st
stopped = [x for x in (3, 2, 1) if st[x]["state"] == "EARLY_STOPPED"]
assert len(stopped) >= 2, {x: st[x]["state"] for x in st}
for x in stopped:
    assert st[x]["value"] is not None and st[x]["value"] < 30, st[x]
assert doc["counts"]["early_stopped"] == len(stopped)
assert doc["best"]["params"]["x"] == 9
PYEOF
"$HOPS" runs list -e median --filter 'state=EARLY_STOPPED' --json >stopped.json
n=$("$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))' <stopped.json)
[ "$n" -ge 2 ] || fail "no EARLY_STOPPED runs"
assert_contains stopped.json "stopped early by the median rule"
# The last heartbeat is the stopped run's final metric.
"$PY" - stopped.json <<'PYEOF'
import json, sys
for r in json.load(open(sys.argv[1])):
    assert r["state"] == "EARLY_STOPPED" and r["metrics"]["acc"] < 30, r
PYEOF
ok "median rule: worse trials EARLY_STOPPED with their last metric"

# ASHA: rungs at 1, 2, 4 (rf 2, max 8); the budget 8 reaches the trial as --budget.
cat >asha.json <<'SPEC'
{"name": "asha", "space": {"x": {"type": "discrete", "values": [9, 1, 8, 2]}},
 "sampler": "grid", "metric": "acc", "args": true,
 "early_stopping": {"type": "asha", "reduction_factor": 2, "min_resource": 1, "max_resource": 8}}
SPEC
expect_code 0 "$HOPS" hpo run asha.json --slots cpu=1 -- sh "$T/trial.sh"
assert_contains "$T/err" "ASHA stops it"
"$HOPS" hpo show asha --json >a.json
"$PY" - a.json <<'PYEOF'
import json, sys
doc = json.load(open(sys.argv[1]))
st = {t["params"]["x"]: t["state"] for t in doc["trials"]}
assert st[9] == "FINISHED", st
assert st[1] == "EARLY_STOPPED" and st[2] == "EARLY_STOPPED", st
assert doc["best"]["value"] == 72, doc["best"]
PYEOF
ID=$("$HOPS" runs list -e asha --filter 'params.x=9' --json | jget '[0]["id"]')
"$HOPS" runs show "$ID" --json >r.json
assert_eq "$(jget '["params"]["budget"]' <r.json)" 8
ok "ASHA: trials below the rung's top half stopped; the budget is a parameter"
