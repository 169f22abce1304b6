# `hops launch` runs a real PyTorch torch.distributed program (gloo backend,
# Debian's python3-torch) with 2 ranks: they rendezvous through MASTER_ADDR /
# MASTER_PORT and all-reduce a tensor; the chief reports the result.
. "$(dirname "$0")/lib.sh"
"$PY" -c 'import torch.distributed as d; assert d.is_available() and d.is_gloo_available()' 2>/dev/null ||
    fail "python3-torch with the gloo backend is needed (scripts/install-deps.sh installs it)"
"$HOPS" init >/dev/null
cat >allreduce.py <<'PY'
import json, os
import torch
import torch.distributed as dist
dist.init_process_group("gloo", timeout=__import__("datetime").timedelta(seconds=60))
rank, world = dist.get_rank(), dist.get_world_size()
assert rank == int(os.environ["RANK"]) and world == int(os.environ["WORLD_SIZE"])
x = torch.arange(5, dtype=torch.float32) * (rank + 1)   # rank r holds (r+1) * [0..4]
dist.all_reduce(x, op=dist.ReduceOp.SUM)
print(f"rank {rank}/{world}: {x.tolist()}", flush=True)
want = [v * sum(r + 1 for r in range(world)) for v in range(5)]
assert x.tolist() == want, (x.tolist(), want)
if rank == 0:
    with open(os.environ["HOPS_REPORT"], "a") as f:
        f.write(json.dumps({"final": {"allreduce_sum": float(x.sum())}}) + "\n")
dist.destroy_process_group()
PY
expect_code 0 "$HOPS" launch --workers 2 --fail-timeout 60 --timeout 240 --json -- "$PY" allreduce.py
RUN=$(run_id_of "$T/out")
assert_eq "$(tail -n 1 "$T/out" | jget '["state"]')" FINISHED
assert_contains "$T/out" "chief:0 | rank 0/2: \[0.0, 3.0, 6.0, 9.0, 12.0\]"
assert_contains "$T/out" "worker:0 | rank 1/2: \[0.0, 3.0, 6.0, 9.0, 12.0\]"
"$HOPS" runs show "$RUN" --json >show.json
assert_eq "$(jget '["final_metrics"]["allreduce_sum"]' <show.json)" 30.0
ok "2 torch.distributed ranks (gloo) all-reduce under hops launch; the chief's result is recorded"
