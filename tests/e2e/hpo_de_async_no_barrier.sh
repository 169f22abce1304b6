# Async DE never waits on a generation: while a slow trial of the initial
# population still runs, the other slot goes on to DE trial vectors (trial
# numbers >= population). The generational mode, same spec otherwise, does
# wait. Proved from the start and end times recorded in SQLite.
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
cat >trial.sh <<'TRIAL'
# Trial 0 is slow; the rest are quick. The objective is deterministic.
if [ "$HOPS_TRIAL" = 0 ]; then sleep 1.5; else sleep 0.05; fi
for a in "$@"; do case $a in --x=*) x=${a#--x=} ;; esac; done
echo "{\"final\": {\"score\": $x}}" >>"$HOPS_REPORT"
TRIAL
for mode in async generational; do
    cat >$mode.json <<SPEC
{"name": "de-$mode", "space": {"x": [1, 1000]}, "args": true, "metric": "score",
 "sampler": {"type": "de", "population": 4, "generations": 3, "mode": "$mode"}, "seed": 5}
SPEC
    expect_code 0 "$HOPS" hpo run $mode.json --slots cpu=2 -q -- sh "$T/trial.sh"
done

# Trials of the second generation or later (trial >= population 4) that
# started before trial 0, of the initial population, ended.
overlap() {
    sqlite3 .hops/hops.db "SELECT count(*) FROM hpo_attempts a JOIN hpo h ON h.id = a.hpo_id
        JOIN experiments e ON e.id = h.experiment_id
        WHERE e.name = '$1' AND a.trial >= 4 AND a.start_time <
        (SELECT end_time FROM hpo_attempts b WHERE b.hpo_id = a.hpo_id AND b.trial = 0)"
}
async=$(overlap de-async)
gen=$(overlap de-generational)
[ "$async" -ge 3 ] || fail "async DE: only $async trial vectors ran beside the slow trial 0"
assert_eq "$gen" 0 "(generational DE must wait for trial 0)"
ok "async DE reused the free slot for $async DE trial vectors while trial 0 still ran; generational waited"

# Slot use: two slots, never more than two trials at once.
max=$(sqlite3 .hops/hops.db "SELECT max(n) FROM (SELECT (SELECT count(*) FROM hpo_attempts b
      WHERE b.hpo_id = a.hpo_id AND b.start_time <= a.start_time AND b.end_time > a.start_time) n
      FROM hpo_attempts a JOIN hpo h ON h.id = a.hpo_id JOIN experiments e ON e.id = h.experiment_id
      WHERE e.name = 'de-async')")
[ "$max" -le 2 ] || fail "$max trials ran at once on 2 slots"
"$HOPS" hpo show de-async --json >s.json
assert_eq "$(jget '["sampler_state"]["mode"]' <s.json)" async
[ "$(jget '["counts"]["finished"]' <s.json)" -ge 8 ] || fail "too few trials"
ok "never more trials than slots; the DE population is shown"
