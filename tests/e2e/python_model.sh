# The Python binding's hops.model (hops-util-py's shapes): export registers
# the next version, get_best_model / get_model / list_models read the
# registry, predict gives the same predictions and metrics as `hops predict`.
. "$(dirname "$0")/lib.sh"

PYTHONPATH=$HOPS_SOURCE_DIR/python
HOPS_LIB=$HOPS_BUILD_DIR/libhops.so
export PYTHONPATH HOPS_LIB
preload=
case ${HOPS_SANITIZE:-} in
[Oo][Nn] | 1 | [Tt][Rr][Uu][Ee] | [Yy][Ee][Ss])
    preload="LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0" ;;
esac

"$PY" - <<'PYEOF'
from sklearn.datasets import load_wine
d = load_wine()
with open("wine.csv", "w") as f:
    f.write(",".join("f%d" % i for i in range(d.data.shape[1])) + ",kind\n")
    for row, t in zip(d.data, d.target):
        f.write(",".join(repr(float(v)) for v in row) + ",k%d\n" % t)
PYEOF
"$HOPS" init >/dev/null
expect_code 0 "$HOPS" train --data wine.csv --label kind --model softmax --name wine --quiet
expect_code 0 "$HOPS" train --data wine.csv --label kind --model mlp --epochs 3 --hidden 4 --name wine --quiet
expect_code 0 "$HOPS" predict --model wine:1 --data wine.csv --json
cp "$T/out" cli.json

# shellcheck disable=SC2086 # $preload is zero or two words
env $preload "$PY" - <<'PYEOF'
import json
import hops
from hops import model

listed = model.list_models()
assert [m["name"] for m in listed] == ["wine"] and listed[0]["latest"] == 2, listed
v = model.export(".hops/models/wine/1/model.hops", "wine")
assert v["version"] == 3 and v["type"] == "softmax", v
best = model.get_best_model("wine", "log_loss", model.Metric.MIN)
assert best["version"] in (1, 3), best
assert model.get_model("wine", 2)["header"]["type"] == "mlp"
preds, metrics = model.predict("wine:3", "wine.csv")
cli = json.load(open("cli.json"))
assert preds == cli["predictions"] and metrics == cli["metrics"], "differs from hops predict"
try:
    model.get_model("nope")
    raise SystemExit("no error for an unknown model")
except hops.HopsError as e:
    assert e.status == -4 and "no model 'nope'" in e.message, e.message
try:
    model.export("wine.csv", "wine")
    raise SystemExit("a CSV was registered as a model")
except hops.HopsError as e:
    assert "not a usable hops model file" in e.message, e.message
print("python ok")
PYEOF
ok "hops.model: export, get_best_model, get_model, list_models, predict"
