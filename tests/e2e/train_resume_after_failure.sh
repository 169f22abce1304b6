# `hops train --strategy allreduce --checkpoint-every N`: a rank killed with
# SIGKILL fails the run (named) instead of hanging it, the checkpoint
# survives, and `hops train --resume RUN` continues from it as a new run that
# ends where an uninterrupted training ends.
. "$(dirname "$0")/lib.sh"
"$HOPS" init >/dev/null
"$PY" - <<'PY'
from sklearn.datasets import load_breast_cancer
load_breast_cancer(as_frame=True).frame.to_csv("bc.csv", index=False)
PY
ARGS="--data bc.csv --label target --model mlp --hidden 16 --epochs 1500 --batch 100 --seed 9 --param validation=0 --param patience=0 -q"

# The uninterrupted reference (one process gives the same curve).
expect_code 0 "$HOPS" train $ARGS --name ref --json
REF=$(jget '["run_id"]' <"$T/out")

set +e
"$HOPS" train $ARGS --name dp --strategy allreduce --workers 2 --checkpoint-every 5 --json >dp.out 2>dp.err &
JOB=$!
set -e
ck=
for _ in $(seq 600); do
    ck=$(ls .hops/runs/dp/*/artifacts/checkpoint.hops 2>/dev/null || true)
    [ -n "$ck" ] && break
    sleep 0.05
done
[ -n "$ck" ] || fail "no checkpoint appeared"
victim=
for pid in $(pgrep -f -- "--rank-of-job" || true); do
    # this test's worker only: other tests may train at the same time
    env_of=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null || true)
    if printf '%s\n' "$env_of" | grep -qx "HOPS_TASK_TYPE=worker" &&
        printf '%s\n' "$env_of" | grep -qx "HOPS_PROJECT=$(pwd -P)"; then
        victim=$pid
    fi
done
[ -n "$victim" ] || fail "no worker rank found to kill"
kill -9 "$victim"
set +e; wait "$JOB"; code=$?; set -e
[ "$code" != 0 ] || fail "the run went on without its worker"
RUN=$(ls .hops/runs/dp)
"$HOPS" runs show "$RUN" --json >failed.json
assert_eq "$(jget '["state"]' <failed.json)" FAILED
assert_contains failed.json "worker:0 was terminated by signal 9"
ok "a worker killed with SIGKILL: the run FAILED naming worker:0 (exit $code), no hang"

expect_code 0 "$HOPS" train --resume "$RUN" --json
NEW=$(jget '["run_id"]' <"$T/out")
assert_contains "$T/err" "resuming run $RUN"
"$HOPS" runs metrics "$NEW" --key loss --json >new.json
"$HOPS" runs metrics "$REF" --key loss --json >ref.json
"$PY" - <<'PY'
import json
new = json.load(open("new.json"))["metrics"]["loss"]
ref = {int(p[0]): p[1] for p in json.load(open("ref.json"))["metrics"]["loss"]}
first = int(new[0][0])
assert first > 1 and (first - 1) % 5 == 0, f"resumed at epoch {first}, not after a checkpoint"
assert int(new[-1][0]) == 1500, new[-1]
for step, loss, _ in new:
    a = ref[int(step)]
    assert abs(a - loss) <= 1e-3 * max(1.0, abs(a)), (step, a, loss)
print(f"resumed at epoch {first}; epochs {first}..1500 follow the uninterrupted curve")
PY
"$HOPS" runs show "$NEW" --json >new_run.json
assert_eq "$(jget '["state"]' <new_run.json)" FINISHED
ok "hops train --resume: a new run from the last checkpoint, ending as the uninterrupted training"

expect_code 4 "$HOPS" train --resume "$REF"
assert_contains "$T/err" "left no checkpoint"
expect_code 4 "$HOPS" train --resume nosuchrun
printf 'garbage' >.hops/runs/dp/"$RUN"/artifacts/checkpoint.hops
expect_code 5 "$HOPS" train --resume "$RUN"
assert_contains "$T/err" "not a hops training checkpoint"
ok "resume without a checkpoint, of an unknown run, or from a damaged checkpoint: clear errors"
