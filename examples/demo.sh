#!/bin/sh
# The hops demo: the main job end to end on embedded defaults (SQLite, local
# processes, local files). `make demo` runs it after building.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${HOPS_BUILD_DIR:-$ROOT/build}
HOPS=$BUILD/hops
PY=/usr/bin/python3
export PYTHONPATH="$ROOT/python${PYTHONPATH:+:$PYTHONPATH}"
export HOPS_LIB="$BUILD/libhops.so"

DEMO=$(mktemp -d "${TMPDIR:-/tmp}/hops-demo.XXXXXX")
unset HOPS_PROJECT
cd "$DEMO"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run_id() { sed -n 's/.*"run_id":"\([^"]*\)".*/\1/p'; }

step "hops init: a project in $DEMO"
"$HOPS" init

DATA="$ROOT/examples/data"
step "hops dataset add: an immutable, versioned copy of the customer table"
"$HOPS" dataset add "$DATA/customers.csv" --name customers --description "demo customers"
"$HOPS" dataset list

step "hops data schema customers: infer column types, nulls, ranges and value sets"
"$HOPS" data schema customers -o schema.json

step "hops data validate: a new batch with planted errors, checked line by line"
if "$HOPS" data validate "$DATA/customers_new.csv" --schema schema.json --quarantine rejected.csv; then
    echo "unexpected: the planted errors were not found" >&2
    exit 1
else
    echo "(exit $?: violations found, as planted; the failing rows are in rejected.csv:" \
        "$(($(wc -l <rejected.csv) - 1)) rows)"
fi

step "hops data stats customers --label churned: statistics and class balance"
"$HOPS" data stats customers --label churned

step "hops data transform: clean, encode, standardize and split 80/20"
"$HOPS" data transform customers -o customers_prepared.csv --name customers_prepared \
    --filter 'income is not null and age >= 18' --one-hot country --standardize income \
    --drop id,signup --split train=0.8,test=0.2 --seed 7
ls -l customers_prepared.*.csv

step "hops data report: one self-contained HTML file"
"$HOPS" data report customers --label churned -o report.html
echo "open $DEMO/report.html in a browser ($(wc -c <report.html) bytes, no network needed)"

step "hops data transform: fill the missing scores of both splits (models need numbers)"
for split in train test; do
    "$HOPS" data transform "customers_prepared.$split.csv" -o "churn_$split.csv" --fill-null score=0
done

step "hops train: logistic regression on the train split, as a recorded run"
"$HOPS" train --data churn_train.csv --label churned --model logistic --name churn --seed 7

step "hops train: an MLP (32, 16), Adam, early stopping on a validation split"
"$HOPS" train --data churn_train.csv --label churned --model mlp --hidden 32,16 --epochs 100 \
    --name churn --seed 7

step "distributed: the same MLP data-parallel over 2 processes (--strategy allreduce --workers 2)"
MLP="--data churn_train.csv --label churned --model mlp --hidden 32,16 --epochs 100 --seed 7"
# shellcheck disable=SC2086
"$HOPS" train $MLP --name churn-mlp --json -q >mlp_single.json
# shellcheck disable=SC2086
"$HOPS" train $MLP --name churn-mlp --strategy allreduce --workers 2 --json -q >mlp_dp.json
"$PY" - <<'PY'
import json
one, two = (json.load(open(f))["test_metrics"]["accuracy"] for f in ("mlp_single.json", "mlp_dp.json"))
print(f"test accuracy: 1 process {one:.4f}, 2 workers (all-reduce) {two:.4f}")
assert abs(one - two) <= 0.01, "data-parallel training should reach the single-process accuracy"
PY

step "hops train: gradient-boosted trees (XGBoost)"
"$HOPS" train --data churn_train.csv --label churned --model gbdt --epochs 50 \
    --param max_depth=3 --name churn --seed 7

step "hops model list; hops model best churn --metric roc_auc"
"$HOPS" model list
"$HOPS" model best churn --metric roc_auc
BEST=$("$HOPS" model best churn --metric roc_auc --json | sed -n 's/.*"spec":"\([^"]*\)".*/\1/p')

step "evaluate $BEST on the test split (rows it never saw)"
"$HOPS" predict --model "$BEST" --data churn_test.csv -o churn_test_predictions.csv

step "hops predict: the first five rows of the test split, classes and probabilities"
head -6 churn_test.csv >few.csv
"$HOPS" predict --model "$BEST" --data few.csv

step "a C trial (examples/train_linear.c), two learning rates"
C1=$("$HOPS" run --json --experiment linear --param lr=0.05 --param epochs=30 -- "$BUILD/train_linear" | run_id)
C2=$("$HOPS" run --json --experiment linear --param lr=0.3 --param epochs=30 -- "$BUILD/train_linear" | run_id)

step "a Python trial (examples/train_logistic.py), reporting through the hops binding"
P1=$("$HOPS" run --json --experiment logistic --param lr=0.5 --tag kind=demo -- "$PY" "$ROOT/examples/train_logistic.py" | run_id)

step "hops.experiment.launch: one run per zipped args combination"
"$PY" - <<'PYEOF'
import hops
from hops import experiment

def train(lr, epochs):
    w, loss = 0.0, None
    for epoch in range(1, epochs + 1):
        loss = (w - 1.0) ** 2
        w -= lr * 2 * (w - 1.0)
        hops.report(step=epoch, loss=loss)
    return {"loss": loss, "w": w}

logdir, result = experiment.launch(train, {"lr": [0.1, 0.4], "epochs": [10, 10]}, name="launch-demo")
print("launch logdir:", logdir)
print("launch result:", result)
PYEOF

step "hops hpo run: differential evolution over lr and epochs on 2 slots"
"$HOPS" hpo run "$ROOT/examples/hpo_linear.json" --slots cpu=2 -q -- "$BUILD/train_linear"
"$HOPS" hpo show linear-de | head -8
echo "(every trial is a run: hops runs list -e linear-de; hops hpo show linear-de --json has the DE population)"

step "hops.experiment.differential_evolution: the same search from Python, in process"
"$PY" - <<'PYEOF'
from hops import experiment

def train(lr, epochs):
    w = 0.0
    for _ in range(epochs):
        w -= lr * 2 * (w - 1.0)
    return {"loss": (w - 1.0) ** 2}

logdir, best = experiment.differential_evolution(train, {"lr": [0.01, 0.9], "epochs": [2, 30]},
                                                 direction="min", optimization_key="loss",
                                                 name="py-de")
print("best parameters:", best)
PYEOF

step "hops runs list"
"$HOPS" runs list

step "hops runs list --filter 'metrics.loss<0.01' --sort metrics.loss"
"$HOPS" runs list --filter 'metrics.loss<0.01' --sort metrics.loss

step "hops runs compare $C1 $C2"
"$HOPS" runs compare "$C1" "$C2"

step "hops runs show $P1"
"$HOPS" runs show "$P1"

step "hops runs metrics $C2 --key loss (first lines)"
"$HOPS" runs metrics "$C2" --key loss | head -6

step "TensorBoard event files"
find "$DEMO/.hops/runs" -name 'events.out.tfevents.*' | sort
echo
echo "See the curves with: tensorboard --logdir $DEMO/.hops/runs"
echo "The demo project stays in $DEMO (remove it with: rm -rf $DEMO)"

step "hops hpo run: a grid over the logistic model's C; each trial is a hops train registering churn-hpo:N"
cat >"$DEMO/train_churn.sh" <<TRIAL
#!/bin/sh
# A trial: --C=VALUE in, a trained and registered model out, its test ROC AUC reported.
set -eu
C=\${1#--C=}
"$HOPS" train --data "$DEMO/churn_train.csv" --label churned --model logistic --param C=\$C \\
    --name churn-hpo --seed 7 --json -q >"\$HOPS_RUN_DIR/train.json"
auc=\$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["test_metrics"]["roc_auc"])' "\$HOPS_RUN_DIR/train.json")
echo "{\"final\": {\"roc_auc\": \$auc}}" >>"\$HOPS_REPORT"
TRIAL
chmod +x "$DEMO/train_churn.sh"
cat >"$DEMO/hpo_churn.json" <<'SPEC'
{"name": "churn-hpo", "space": {"C": {"type": "discrete", "values": [0.01, 0.1, 1, 10]}},
 "sampler": "grid", "direction": "max", "metric": "roc_auc", "args": true, "timeout": 120}
SPEC
"$HOPS" hpo run "$DEMO/hpo_churn.json" --slots cpu=2 -q -- "$DEMO/train_churn.sh"
"$HOPS" hpo show churn-hpo | head -14
"$HOPS" model best churn-hpo --metric roc_auc
SERVED=$("$HOPS" model best churn-hpo --metric roc_auc --json | sed -n 's/.*"version":\([0-9]*\).*/\1/p')
"$HOPS" model label churn-hpo "$SERVED" stable

step "hops serve: the search's best model (churn-hpo:$SERVED, label stable) over TensorFlow Serving's REST API"
"$HOPS" serve --models churn-hpo --host 127.0.0.1 --port 0 --port-file "$DEMO/serve.port" \
    --poll-ms 200 >"$DEMO/serve.log" 2>&1 &
SERVE_PID=$!
trap 'kill -TERM $SERVE_PID 2>/dev/null || true' EXIT
while [ ! -s "$DEMO/serve.port" ]; do sleep 0.1; done
URL="http://127.0.0.1:$(cat "$DEMO/serve.port")"
until curl -sf "$URL/readyz" >/dev/null; do sleep 0.1; done
cat "$DEMO/serve.log"
"$PY" - "$DEMO/churn_test.csv" >"$DEMO/request.json" <<'PYEOF'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))[:3]
def value(v):
    try:
        return float(v)
    except ValueError:
        return v
print(json.dumps({"instances": [{k: value(v) for k, v in r.items() if k != "churned"} for r in rows]}))
PYEOF
echo "\$ curl $URL/v1/models/churn-hpo"
curl -s "$URL/v1/models/churn-hpo"; echo
echo "\$ curl -X POST $URL/v1/models/churn-hpo:predict -d @request.json   (3 raw rows of the test split)"
curl -s -X POST "$URL/v1/models/churn-hpo:predict" -H 'Content-Type: application/json' -d @"$DEMO/request.json"; echo
echo "\$ curl -X POST $URL/v1/models/churn-hpo/labels/stable:classify -d '{\"examples\": [...]}'"
"$PY" -c "import json; d = json.load(open('$DEMO/request.json')); print(json.dumps({'examples': d['instances'][:1]}))" >"$DEMO/classify.json"
curl -s -X POST "$URL/v1/models/churn-hpo/labels/stable:classify" -d @"$DEMO/classify.json"; echo

step "a hot swap: train an MLP as the next version of churn-hpo while serving; the server switches to it"
"$HOPS" train --data churn_train.csv --label churned --model mlp --hidden 16 --epochs 60 --seed 7 \
    --name churn-hpo -q
NEW=$("$HOPS" model versions churn-hpo --json | "$PY" -c "import json,sys; print(json.load(sys.stdin)[-1]['version'])")
until curl -s "$URL/v1/models/churn-hpo" | grep -q "\"version\":\"$NEW\""; do sleep 0.1; done
echo "\$ curl $URL/v1/models/churn-hpo   (the latest, $NEW, and the stable label's $SERVED)"
curl -s "$URL/v1/models/churn-hpo"; echo
curl -s -X POST "$URL/v1/models/churn-hpo:predict" -d @"$DEMO/request.json"; echo
echo "(the stable label still answers with version $SERVED: /v1/models/churn-hpo/labels/stable:predict)"

step "GET /metrics (Prometheus)"
curl -s "$URL/metrics" | grep -v '^#' | grep -v '_bucket{le="0.0' | head -30

step "stop the server: SIGTERM finishes requests in flight"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || true
trap - EXIT
tail -n 2 "$DEMO/serve.log"
