# Distributed mlp training: `hops train --strategy allreduce --workers 2`
# (two ranks under hops launch, gradients all-reduced over hops' collectives)
# and `--strategy mirrored --replicas 2` (two threads) give the loss curve of
# single-process training with the same global batch, up to float rounding;
# each is one run with per-rank logs and rank 0's metrics, and registers the
# model like plain training.
. "$(dirname "$0")/lib.sh"
"$HOPS" init >/dev/null
"$PY" - <<'PY'
from sklearn.datasets import load_breast_cancer
load_breast_cancer(as_frame=True).frame.to_csv("bc.csv", index=False)
PY
ARGS="--data bc.csv --label target --model mlp --hidden 32,16 --epochs 12 --batch 50 --seed 5"
expect_code 0 "$HOPS" train $ARGS --name single --json -q
cp "$T/out" single.json
expect_code 0 "$HOPS" train $ARGS --name dp --strategy allreduce --workers 2 --json
cp "$T/out" dp.json
expect_code 0 "$HOPS" train $ARGS --name mirrored --strategy mirrored --replicas 2 --json -q
cp "$T/out" mir.json
expect_code 0 "$HOPS" train $ARGS --name ps --strategy ps --ps 2 --workers 2 --json
cp "$T/out" ps.json
for f in single dp mir ps; do
    "$HOPS" runs metrics "$(jget '["run_id"]' <$f.json)" --json >$f.metrics
done
"$PY" - <<'PY'
import json
curves = {f: json.load(open(f + ".metrics"))["metrics"] for f in ("single", "dp", "mir", "ps")}
for key in ("loss", "val_loss", "val_accuracy"):
    base = [p[1] for p in curves["single"][key]]
    assert len(base) == 12, (key, len(base))
    for f in ("dp", "mir", "ps"):
        got = [p[1] for p in curves[f][key]]
        assert len(got) == len(base), (f, key, len(got))
        for e, (a, b) in enumerate(zip(base, got), 1):
            assert abs(a - b) <= 1e-4 * max(1.0, abs(a)), (f, key, e, a, b)
print("curves equal:", [round(p[1], 5) for p in curves["dp"]["loss"]][:4], "...")
PY
ok "allreduce (2 ranks), synchronous ps (2 servers, 2 workers) and mirrored (2 threads): the single-process loss curve, within 1e-4"

PS=$(jget '["run_id"]' <ps.json)
D=$("$HOPS" runs show "$PS" --json | jget '["run_dir"]')
assert_contains "$D/stderr.log" "ps:0 | parameter server 0 of 2 for 2 workers (synchronous)"
assert_contains "$D/stderr.log" "ps:1 | parameter server 1 of 2 for 2 workers (synchronous)"
assert_contains "$D/stderr.log" "worker:0 | worker 1 of 2, 2 parameter server(s)"
expect_code 0 "$HOPS" train $ARGS --name psasync --strategy ps --ps 1 --workers 2 --async --json -q
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["test_metrics"]["accuracy"] > 0.9, d' "$T/out"
ok "ps: per-task logs of the servers; asynchronous updates train too (test accuracy > 0.9)"

DP=$(jget '["run_id"]' <dp.json)
"$HOPS" runs show "$DP" --json >show.json
D=$(jget '["run_dir"]' <show.json)
[ -s "$D/tasks/chief-0.stderr.log" ] && [ -s "$D/tasks/worker-0.stderr.log" ] || fail "no per-rank logs"
assert_contains "$D/stderr.log" "chief:0 | rank 0 of 2 (shm all-reduce)"
assert_contains "$D/stderr.log" "worker:0 | rank 1 of 2 (shm all-reduce)"
assert_contains "$D/stderr.log" "chief:0 | epoch 12  loss"
"$PY" - show.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["state"] == "FINISHED" and s["final_metrics"]["accuracy"] > 0.9, s["final_metrics"]
assert s["params"]["model"] == "mlp", s["params"]
PY
assert_eq "$(jget '["spec"]' <dp.json)" "dp:1"
expect_code 0 "$HOPS" predict --model dp --data bc.csv --json
ok "one run: per-rank logs (chief:0, worker:0), rank 0's metrics; the model registered and predicts"

expect_code 2 "$HOPS" train $ARGS --strategy allreduce
assert_contains "$T/err" "needs --workers"
expect_code 2 "$HOPS" train $ARGS --strategy mirrored
assert_contains "$T/err" "needs --replicas"
expect_code 2 "$HOPS" train $ARGS --strategy ring --workers 2
expect_code 2 "$HOPS" train --data bc.csv --label target --model logistic --strategy allreduce --workers 2
assert_contains "$T/err" "is for --model mlp"
expect_code 2 "$HOPS" train $ARGS --workers 2
assert_contains "$T/err" "go with --strategy allreduce or ps"
expect_code 2 "$HOPS" train $ARGS --strategy ps --workers 2
assert_contains "$T/err" "needs --ps M and --workers N"
expect_code 2 "$HOPS" train $ARGS --strategy allreduce --workers 2 --async
assert_contains "$T/err" "go with --strategy ps"
ok "bad strategy options are refused clearly"
