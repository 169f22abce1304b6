# `hops launch`: every task of a distributed job gets the TF_CONFIG and the
# torch.distributed variables its framework expects, with distinct free
# ports; one run records the job with per-task and prefixed logs, and the
# chief's metrics only; parameter servers are stopped when the trainers end.
. "$(dirname "$0")/lib.sh"
"$HOPS" init >/dev/null

cat >task.py <<'PY'
import json, os, signal, sys, time
t, i = os.environ["HOPS_TASK_TYPE"], os.environ["HOPS_TASK_INDEX"]
keys = ("TF_CONFIG", "MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK",
        "LOCAL_WORLD_SIZE", "HOPS_RANK", "HOPS_WORLD_SIZE", "HOPS_RENDEZVOUS", "HOPS_RUN_ID",
        "HOPS_REPORT", "HOPS_PARAMS")
env = {k: os.environ.get(k) for k in keys}
os.makedirs(os.environ["HOPS_RUN_DIR"] + "/artifacts", exist_ok=True)
with open(os.environ["HOPS_RUN_DIR"] + f"/artifacts/{t}-{i}.json", "w") as f:
    json.dump(env, f)
print(f"hello from {t} {i}", flush=True)
print(f"a warning from {t} {i}", file=sys.stderr, flush=True)
with open(os.environ["HOPS_REPORT"], "a") as r:   # only the chief's is recorded
    r.write(json.dumps({"step": 1, "metrics": {"loss": 0.5 if t == "chief" else 99}}) + "\n")
    r.write(json.dumps({"final": {"who": 0 if t == "chief" else 1}}) + "\n")
if t == "ps":   # a parameter server serves until it is told to stop
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(0.05)
# Trainers end only once every task has written its file: the parameter
# servers are stopped when the trainers are done, maybe before they wrote.
art = os.environ["HOPS_RUN_DIR"] + "/artifacts"
for _ in range(600):
    if len([f for f in os.listdir(art) if f.endswith(".json")]) == 6:
        break
    time.sleep(0.05)
PY

expect_code 0 "$HOPS" launch --workers 3 --ps 2 --evaluator --param lr=0.1 --json -- "$PY" task.py
RUN=$(run_id_of "$T/out")
assert_eq "$(tail -n 1 "$T/out" | jget '["state"]')" FINISHED
assert_eq "$(tail -n 1 "$T/out" | jget '["tasks"]')" 6
DIR=$(ls -d .hops/runs/default/"$RUN")
"$PY" - "$DIR" <<'PY'
import json, os, sys
d = sys.argv[1]
tasks = [("chief", 0), ("worker", 0), ("worker", 1), ("ps", 0), ("ps", 1), ("evaluator", 0)]
envs = {(t, i): json.load(open(f"{d}/artifacts/{t}-{i}.json")) for t, i in tasks}
clusters = [json.loads(e["TF_CONFIG"])["cluster"] for e in envs.values()]
assert all(c == clusters[0] for c in clusters), "every task sees the same cluster"
c = clusters[0]
assert sorted(c) == ["chief", "evaluator", "ps", "worker"], c
assert len(c["chief"]) == 1 and len(c["worker"]) == 2 and len(c["ps"]) == 2 and len(c["evaluator"]) == 1
addrs = [a for v in c.values() for a in v]
assert len(set(addrs)) == 6 and all(a.startswith("127.0.0.1:") for a in addrs), addrs
ports = [int(a.split(":")[1]) for a in addrs]
for (t, i), e in envs.items():
    task = json.loads(e["TF_CONFIG"])["task"]
    assert task == {"type": t, "index": i}, (t, i, task)
    assert json.loads(e["HOPS_PARAMS"]) == {"lr": 0.1}
    if t in ("chief", "worker"):
        rank = 0 if t == "chief" else i + 1
        assert e["RANK"] == e["LOCAL_RANK"] == e["HOPS_RANK"] == str(rank), e
        assert e["WORLD_SIZE"] == e["LOCAL_WORLD_SIZE"] == e["HOPS_WORLD_SIZE"] == "3", e
        assert e["MASTER_ADDR"] == "127.0.0.1" and int(e["MASTER_PORT"]) not in ports, e
        host, port = e["HOPS_RENDEZVOUS"].rsplit(":", 1)
        assert host == "127.0.0.1" and int(port) not in ports and port != e["MASTER_PORT"]
    else:
        assert e["RANK"] is None and e["WORLD_SIZE"] is None and e["MASTER_PORT"] is None, e
    assert (e["HOPS_REPORT"] == "/dev/null") == (t != "chief"), e
    ranks = {e["MASTER_PORT"] for e in envs.values() if e["MASTER_PORT"]}
    assert len(ranks) == 1, "one master port for all trainers"
out = open(f"{d}/stdout.log").read().splitlines()
err = open(f"{d}/stderr.log").read().splitlines()
for t, i in tasks:
    assert f"{t}:{i} | hello from {t} {i}" in out, out
    assert f"{t}:{i} | a warning from {t} {i}" in err, err
    assert open(f"{d}/tasks/{t}-{i}.stdout.log").read() == f"hello from {t} {i}\n"
    assert open(f"{d}/tasks/{t}-{i}.stderr.log").read() == f"a warning from {t} {i}\n"
PY
ok "6 tasks: one cluster, distinct free ports, task type/index, torch variables for trainers only"
ok "per-task logs and prefixed lines in the run's stdout.log / stderr.log"

"$HOPS" runs show "$RUN" --json >show.json
assert_eq "$(jget '["state"]' <show.json)" FINISHED
"$HOPS" runs metrics "$RUN" --json >metrics.json
assert_eq "$(jget '["metrics"]["loss"][0][1]' <metrics.json)" 0.5
"$PY" - <<'PY'
import json
s = json.load(open("show.json"))
assert s["final_metrics"] == {"who": 0}, s["final_metrics"]
assert s["series"] == {} or list(s["series"]) == ["loss"], s["series"]
PY
ok "the run's metrics are the chief's (the workers' reports went to /dev/null)"

expect_code 0 "$HOPS" launch -q -- "$PY" -c 'import os, json; c = json.loads(os.environ["TF_CONFIG"]); assert c["cluster"] == {"chief": [c["cluster"]["chief"][0]]} and c["task"] == {"type": "chief", "index": 0}; assert os.environ["WORLD_SIZE"] == "1"'
ok "a one-task job is a chief alone"
