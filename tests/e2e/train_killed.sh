# `hops train` killed with SIGKILL mid-training: the run is marked FAILED
# once its driver is gone, no model version appears, and the next training
# registers version 1 as if nothing happened.
. "$(dirname "$0")/lib.sh"

"$PY" - <<'PYEOF'
import random
random.seed(5)
with open("d.csv", "w") as f:
    f.write("a,b,c,y\n")
    for _ in range(20000):
        a, b, c = random.random(), random.random(), random.random()
        f.write("%.4f,%.4f,%.4f,%d\n" % (a, b, c, a + b * c > 0.8))
PYEOF
"$HOPS" init >/dev/null
"$HOPS" train --data d.csv --label y --model mlp --hidden 64,64 --epochs 100000 --batch 16 \
    --param validation=0 --param patience=0 --name m --quiet >train.out 2>&1 &
pid=$!
# Wait until the run has reported a few epochs (at most 60 s).
i=0
while :; do
    n=$("$HOPS" runs list --json 2>/dev/null | "$PY" -c "
import json, sys
runs = json.load(sys.stdin)
print(runs[0]['metrics'].get('loss') is not None and runs[0]['state'] == 'RUNNING' if runs else False)" || echo False)
    [ "$n" = True ] && break
    i=$((i + 1))
    [ $i -lt 300 ] || { kill -9 $pid; cat train.out; fail "the training never reported an epoch"; }
    sleep 0.2
done
kill -9 $pid
wait $pid 2>/dev/null || true
expect_code 0 "$HOPS" runs list --json
assert_eq "$(jget '[0]["state"]' <"$T/out")" FAILED
expect_code 0 "$HOPS" model list --json
assert_eq "$(jget '.__len__()' <"$T/out")" 0
ok "killed training: FAILED run, no model version"

expect_code 0 "$HOPS" train --data d.csv --label y --model logistic --name m --quiet
assert_contains "$T/out" "Registered model m:1"
ok "the next training registers m:1"
