# `hops launch --executor slurm` (srun tasks on a real single-node Slurm,
# tests/e2e/slurm_local.sh) and `--executor mpi` (mpirun ranks): each task
# publishes its host and port, TF_CONFIG and the torch variables are built
# from them, a real torch gloo all-reduce runs across the tasks, the chief's
# metrics are recorded, parameter servers are stopped when the trainers end,
# and a failing task fails the run naming it. Skips (77) only when
# slurmctld is not installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/slurm_local.sh"
SD=$T/slurm
mkdir -p "$SD"
cleanup_slurm() { slurm_local_stop "$SD"; cleanup; }
trap cleanup_slurm EXIT
slurm_local_start "$SD"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"   # Open MPI's own allocations
"$HOPS" init >/dev/null

cat >allreduce.py <<'PY'
import datetime, json, os
import torch, torch.distributed as dist
dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
x = torch.tensor([float(dist.get_rank() + 1)])
dist.all_reduce(x)
cfg = json.loads(os.environ["TF_CONFIG"])
print("rank", dist.get_rank(), "sum", x.item(), "type", cfg["task"]["type"],
      "addrs", len({a for v in cfg["cluster"].values() for a in v}), flush=True)
if dist.get_rank() == 0:
    with open(os.environ["HOPS_REPORT"], "a") as f:
        f.write(json.dumps({"final": {"sum": x.item()}}) + "\n")
dist.destroy_process_group()
PY
for ex in slurm mpi; do
    expect_code 0 timeout 180 "$HOPS" launch --executor $ex --workers 3 --json -- "$PY" allreduce.py
    RUN=$(run_id_of "$T/out")
    assert_contains "$T/out" "chief:0 | rank 0 sum 6.0 type chief addrs 3"
    assert_contains "$T/out" "worker:1 | rank 2 sum 6.0 type worker addrs 3"
    "$HOPS" runs show "$RUN" --json >show.json
    assert_eq "$(jget '["state"]' <show.json)" FINISHED
    assert_eq "$(jget '["final_metrics"]["sum"]' <show.json)" 6.0
    D=$(jget '["run_dir"]' <show.json)
    assert_contains "$D/tasks/worker-0.stdout.log" "rank 1 sum 6.0"
    assert_contains "$D/stdout.log" "worker:0 | rank 1 sum 6.0"
    ok "--executor $ex: 3 torch gloo ranks all-reduce over published addresses; chief's metric recorded"
done
assert_eq "$(squeue -h | wc -l)" 0 "(the job must be gone)"

# A parameter server serves until the trainers are done, then is stopped.
expect_code 0 timeout 180 "$HOPS" launch --executor slurm --workers 2 --ps 1 --json -- \
    sh -c '[ "$HOPS_TASK_TYPE" = ps ] && exec sleep 600; echo trained'
assert_eq "$(tail -n 1 "$T/out" | jget '["state"]')" FINISHED
ok "--executor slurm: the parameter server is stopped once the trainers end"

# A failing task fails the run, named; srun stops the others.
expect_code 3 timeout 180 "$HOPS" launch --executor slurm --workers 2 --fail-timeout 5 --json -- \
    sh -c '[ "$HOPS_TASK_TYPE" = worker ] && exit 3; exec sleep 600'
assert_eq "$(tail -n 1 "$T/out" | jget '["failed_task"]')" worker:0
"$HOPS" runs show "$(run_id_of "$T/out")" --json >show.json
assert_contains show.json "worker:0 exited with code 3"
ok "--executor slurm: worker:0 exits 3, the run is FAILED naming it"

expect_code 2 "$HOPS" launch --executor yarn -- true
assert_contains "$T/err" "expected local, slurm or mpi"
ok "an unknown executor is refused"
