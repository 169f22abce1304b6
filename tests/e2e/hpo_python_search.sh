# The Python binding's searches in hops-util-py's shapes:
# experiment.grid_search / random_search / differential_evolution run
# in-process trials through libhops's search driver; each is a search that
# `hops hpo show` sees, each trial a run.
. "$(dirname "$0")/lib.sh"

PYTHONPATH=$HOPS_SOURCE_DIR/python
HOPS_LIB=$HOPS_BUILD_DIR/libhops.so
export PYTHONPATH HOPS_LIB
preload=
case ${HOPS_SANITIZE:-} in
[Oo][Nn] | 1 | [Tt][Rr][Uu][Ee] | [Yy][Ee][Ss])
    preload="LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0" ;;
esac
"$HOPS" init >/dev/null
cat >search.py <<'PYEOF'
import hops
from hops import experiment

def train(lr, layers, act="relu"):
    for epoch in range(3):
        hops.report(step=epoch, loss=1.0 / (epoch + 1))
    return {"accuracy": -(lr - 0.1) ** 2 - 0.01 * (layers - 4) ** 2 + (0.005 if act == "tanh" else 0),
            "note": "not a metric"}

logdir, best = experiment.grid_search(train, {"lr": [0.05, 0.1], "layers": [2, 4]}, name="grid",
                                      optimization_key="accuracy")
assert best == {"lr": 0.1, "layers": 4}, best
assert logdir.endswith("/.hops/runs/grid"), logdir

logdir, best = experiment.random_search(lambda x, y: (x - 3) ** 2 + y, {"x": [0, 10], "y": [0.0, 1.0]},
                                        direction="min", samples=8, name="rnd")
assert set(best) == {"x", "y"} and isinstance(best["x"], int) and isinstance(best["y"], float), best
logdir2, best2 = experiment.random_search(lambda x, y: (x - 3) ** 2 + y, {"x": [0, 10], "y": [0.0, 1.0]},
                                          direction="min", samples=8, name="rnd")
assert logdir2.endswith("/rnd-2") and best2 == best, (logdir2, best2)  # same seed, same points

logdir, best = experiment.differential_evolution(
    train, {"lr": [0.01, 0.3], "layers": [2, 8], "act": ["relu", "tanh"]}, generations=3,
    population=5, name="de", optimization_key="accuracy", mode="generational")
assert best["layers"] in range(2, 9) and best["act"] in ("relu", "tanh"), best

try:
    experiment.grid_search(lambda x: 1 / 0, {"x": [1, 2]}, name="broken")
    raise SystemExit("a search whose every trial raised did not raise")
except ZeroDivisionError:
    pass
try:
    experiment.grid_search(train, {"lr": []}, name="empty")
    raise SystemExit("an empty grid list was accepted")
except ValueError:
    pass
print("ok")
PYEOF
# shellcheck disable=SC2086
env $preload "$PY" search.py >py.out 2>py.err || { cat py.err >&2; fail "search.py"; }
assert_contains py.out ok
"$HOPS" hpo show grid --json >g.json
assert_eq "$(jget '["counts"]["finished"]' <g.json)" 4
assert_eq "$(jget '["best"]["value"]' <g.json)" 0.0
"$HOPS" hpo show de --json >d.json
assert_eq "$(jget '["spec"]["sampler"]["mode"]' <d.json)" generational
[ "$(jget '["counts"]["trials"]' <d.json)" -le 20 ] || fail "more than population x (generations + 1) trials"
"$HOPS" runs list -e grid --json >runs.json
assert_contains runs.json '"loss"'
assert_eq "$("$HOPS" hpo show broken --json | jget '["counts"]["failed"]')" 2
ok "grid_search, random_search, differential_evolution from Python; failures raise"
