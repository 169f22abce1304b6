# hops hpo on a real single-node Slurm, started and stopped here
# (tests/e2e/slurm_local.sh): trials as srun steps inside one allocation,
# or as sbatch jobs; a trial past its timeout is cancelled with scancel.
# Skips (exit 77) only when slurmctld is not installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/slurm_local.sh"

SD=$T/slurm
mkdir -p "$SD"
cleanup_slurm() { slurm_local_stop "$SD"; cleanup; }
trap cleanup_slurm EXIT
slurm_local_start "$SD"
ok "slurmctld + slurmd up ($(sinfo -h -o '%P %T %c' | head -1))"

"$HOPS" init >/dev/null
cat >trial.sh <<'TRIAL'
for a in "$@"; do case $a in --x=*) x=${a#--x=} ;; esac; done
echo "{\"step\": 1, \"metrics\": {\"score\": $x}}" >>"$HOPS_REPORT"
[ "$x" = 99 ] && sleep 60
sleep 0.2
echo "job=$SLURM_JOB_ID step=${SLURM_STEP_ID:-batch} cpus=$SLURM_CPUS_PER_TASK"
echo "{\"final\": {\"score\": $x}}" >>"$HOPS_REPORT"
TRIAL
cat >srun.json <<'SPEC'
{"name": "srun", "space": {"x": [1, 4]}, "sampler": "grid", "metric": "score", "args": true}
SPEC
expect_code 0 "$HOPS" hpo run srun.json --slots cpu=2 --executor slurm --json -- sh "$T/trial.sh"
assert_eq "$(jget '["finished"]' <"$T/out")" 4
assert_eq "$(jget '["best_value"]' <"$T/out")" 4.0
cat .hops/runs/srun/*/stdout.log >srun.out
# One allocation: every trial ran as a step of the same job.
assert_eq "$(sed 's/ step=.*//' srun.out | sort -u | wc -l)" 1
assert_eq "$(sort -u srun.out | wc -l)" 4
assert_contains srun.out "cpus=1"
assert_eq "$(squeue -h | wc -l)" 0 "(the allocation must be given back)"
ok "srun steps in one allocation: $(head -1 srun.out | sed 's/ step=.*//'), 4 steps, allocation released"

cat >sbatch.json <<'SPEC'
{"name": "sbatch", "space": {"x": [1, 2]}, "sampler": "grid", "metric": "score", "args": true}
SPEC
expect_code 0 "$HOPS" hpo run sbatch.json --slots cpu=2 --executor slurm:sbatch -- sh "$T/trial.sh"
cat .hops/runs/sbatch/*/stdout.log >sbatch.out
assert_eq "$(grep -c 'step=batch' sbatch.out)" 2
assert_eq "$(sort -u sbatch.out | sed 's/ step.*//' | sort -u | wc -l)" 2 "(one job per trial)"
assert_eq "$("$HOPS" hpo show sbatch --json | jget '["counts"]["finished"]')" 2
ok "sbatch: one job per trial"

# A trial past its timeout is cancelled through scancel, in both modes.
for ex in slurm slurm:sbatch; do
    name=timeout-$(echo $ex | tr : -)
    cat >$name.json <<SPEC
{"name": "$name", "space": {"x": {"type": "discrete", "values": [99, 3]}}, "sampler": "grid",
 "metric": "score", "args": true, "timeout": 10, "kill_grace": 1}
SPEC
    start=$(date +%s)
    expect_code 0 "$HOPS" hpo run $name.json --slots cpu=2 --executor $ex -- sh "$T/trial.sh"
    took=$(($(date +%s) - start))
    "$HOPS" hpo show $name --json >$name.show
    "$PY" - $name.show <<'PYEOF'
import json, sys
doc = json.load(open(sys.argv[1]))
st = {t["params"]["x"]: t["state"] for t in doc["trials"]}
assert st == {99: "FAILED", 3: "FINISHED"}, st
PYEOF
    [ "$took" -lt 50 ] || fail "$ex: the timed-out trial was not cancelled ($took s)"
    assert_contains "$T/err" "ran past its timeout"
    i=0
    while [ "$(squeue -h | wc -l)" -gt 0 ]; do
        i=$((i + 1)); [ $i -lt 100 ] || { squeue >&2; fail "$ex: jobs left in the queue"; }; sleep 0.1
    done
    ok "$ex: a trial past its timeout is cancelled (scancel), the other finishes"
done

# kill -9 of the driver leaves its allocation behind; resume gives it back,
# takes a new one and finishes.
cat >slow.json <<'SPEC'
{"name": "slow", "space": {"x": [1, 6]}, "sampler": "grid", "metric": "score", "args": true}
SPEC
"$HOPS" hpo run slow.json --slots cpu=1 --executor slurm -q -- sh -c 'sleep 0.5; exec sh "$0" "$@"' "$T/trial.sh" 2>/dev/null &
PID=$!
i=0
until [ "$(sqlite3 .hops/hops.db "SELECT count(*) FROM hpo_trials t JOIN hpo h ON h.id = t.hpo_id JOIN experiments e ON e.id = h.experiment_id WHERE e.name = 'slow' AND t.tell_seq IS NOT NULL" 2>/dev/null || echo 0)" -ge 1 ]; do
    i=$((i + 1)); [ $i -lt 300 ] || fail "the srun search made no progress"; sleep 0.05
done
kill -9 $PID
wait $PID 2>/dev/null || true
OLD=$("$HOPS" hpo show slow --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["options"]["slurm_job"])')
squeue -h -o %i | grep -qx "$OLD" || fail "the dead driver's allocation $OLD is not in the queue"
expect_code 0 "$HOPS" hpo resume slow --json
assert_eq "$(jget '["finished"]' <"$T/out")" 6
i=0
while squeue -h -o %i | grep -qx "$OLD"; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "the dead driver's allocation $OLD was not given back"; sleep 0.1
done
ok "resume after kill -9 on Slurm: the old allocation $OLD cancelled, the search finished"

expect_code 2 "$HOPS" hpo run srun.json --name x2 --executor slurm:mpi -- true
assert_contains "$T/err" "unknown executor 'slurm:mpi'"
