# hops.experiment.collective_all_reduce / parameter_server / mirrored with
# hops-util-py's shapes: the script is started again in every task of one
# `hops launch` job; train_fn finds TF_CONFIG and the torch.distributed
# variables set; the chief's return value is the run's final metrics; a
# failing task raises RuntimeError naming it.
. "$(dirname "$0")/lib.sh"
PYTHONPATH=$HOPS_SOURCE_DIR/python
export PYTHONPATH HOPS_BIN
"$HOPS" init >/dev/null

cat >allreduce.py <<'PY'
import datetime, json, os, sys
from hops import experiment

def train():
    import torch, torch.distributed as dist
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
    x = torch.tensor([float(dist.get_rank() + 1)])
    dist.all_reduce(x)
    task = json.loads(os.environ["TF_CONFIG"])["task"]
    dist.destroy_process_group()
    return {"sum": float(x.item()), "world": dist.get_world_size() if False else int(os.environ["WORLD_SIZE"]),
            "chief": 1.0 if task["type"] == "chief" else 0.0}

logdir, result = experiment.collective_all_reduce(train, name="car", metric_key="sum", workers=3)
print("DRIVER", json.dumps({"logdir": logdir, "result": result}))
PY
"$PY" allreduce.py >out.txt 2>err.txt || { cat out.txt err.txt >&2; fail "collective_all_reduce failed"; }
grep -c '^DRIVER' out.txt | grep -qx 1 || fail "the driver code after the call ran in the tasks too"
"$PY" - <<'PY'
import json, os
line = [l for l in open("out.txt") if l.startswith("DRIVER")][0]
d = json.loads(line[len("DRIVER "):])
assert d["result"] == {"sum": 6.0, "world": 3, "chief": 1.0}, d
assert os.path.isdir(d["logdir"]) and "/.hops/runs/car/" in d["logdir"], d
tasks = sorted(os.listdir(d["logdir"] + "/tasks"))
assert tasks == ["chief-0.stderr.log", "chief-0.stdout.log", "worker-0.stderr.log",
                 "worker-0.stdout.log", "worker-1.stderr.log", "worker-1.stdout.log"], tasks
PY
ok "collective_all_reduce: 3 torch gloo ranks all-reduce; the chief's dict is the return value"

cat >ps.py <<'PY'
import json, os, signal, time
from hops import experiment

def train():
    task = json.loads(os.environ["TF_CONFIG"])
    if task["task"]["type"] == "ps":   # a parameter server serves until stopped
        while True:
            time.sleep(0.05)
    c = task["cluster"]
    return {"ps": len(c["ps"]), "workers": len(c["worker"]) + len(c["chief"]),
            "evaluators": len(c.get("evaluator", []))}

logdir, result = experiment.parameter_server(train, name="ps", workers=2, num_ps=2, evaluator=True,
                                             metric_key="ps")
if experiment.is_driver():   # the mirrored job's task replays the call above
    print("DRIVER", json.dumps(result, sort_keys=True))
logdir, result = experiment.mirrored(lambda: 0.75, name="mirrored")
print("MIRRORED", json.dumps(result))
PY
"$PY" ps.py >out.txt 2>err.txt || { cat out.txt err.txt >&2; fail "parameter_server failed"; }
assert_eq "$(grep -c 'DRIVER' out.txt)" 1
assert_contains out.txt '^DRIVER {"evaluators": 1.0, "ps": 2.0, "workers": 2.0}$'
assert_contains out.txt '^MIRRORED {"metric": 0.75}$'
ok "parameter_server: chief, worker, 2 ps (stopped when done), evaluator; mirrored: one task"
ok "two distributed calls in one script: the second job's task replays the first call's result"

cat >fails.py <<'PY'
import os, sys
from hops import experiment

def train():
    if os.environ["HOPS_TASK_TYPE"] == "worker":
        raise ValueError("bad shard")
    return 1.0

try:
    experiment.collective_all_reduce(train, name="fails", workers=2)
except RuntimeError as e:
    print("RAISED", e)
    sys.exit(0)
sys.exit(1)
PY
"$PY" fails.py >out.txt 2>err.txt || { cat out.txt err.txt >&2; fail "a failing task did not raise"; }
assert_contains out.txt "RAISED collective_all_reduce: run .* FAILED: worker:0 exited with code 1"
assert_contains err.txt "ValueError: bad shard"
ok "a task that raises: RuntimeError naming worker:0; its traceback on stderr"

expect_code 1 "$PY" -c 'from hops import experiment; experiment.collective_all_reduce(lambda: 1)'
assert_contains "$T/err" "call it from a script file"
ok "called from -c: a clear error"
