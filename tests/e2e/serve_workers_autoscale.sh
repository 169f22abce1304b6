# Scale: --workers N processes share the port (one listening socket,
# SO_REUSEPORT); a killed worker is replaced; --autoscale MIN:MAX adds
# workers under generated load (wrk) and retires them when idle, with no
# failed request; server-side batching puts concurrent requests for a gbdt
# model into shared model calls (batch sizes above 1) with the same answers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
command -v wrk >/dev/null || { echo "wrk is not installed"; exit 77; }

make_models
cat >post.lua <<'LUA'
wrk.method = "POST"
wrk.body = '{"instances": [{"x1": 0.3, "x2": -0.2, "x3": 1.0, "color": "blue"}]}'
wrk.headers["Content-Type"] = "application/json"
LUA
P=/v1/models/clf:predict
ROW='{"instances": [{"x1": 0.3, "x2": -0.2, "x3": 1.0, "color": "blue"}]}'

# wrk_ok SECONDS PATH: generated load; fails on socket errors or non-2xx answers.
wrk_ok() {
    wrk -t2 -c32 -d"$1"s -s post.lua "$URL$2" >wrk.out 2>&1 || { cat wrk.out; fail "wrk failed"; }
    if grep -q "Non-2xx\|Socket errors" wrk.out; then cat wrk.out >&2; fail "failed requests under load"; fi
    grep "Requests/sec" wrk.out
}

# wait_metric REGEX MIN: until the metric is at least MIN (60 s at most).
wait_metric() {
    i=0
    while [ "$(metric "$1")" -lt "$2" ]; do
        i=$((i + 1))
        [ $i -lt 600 ] || { cat "$T/metrics" >&2; fail "$1 never reached $2"; }
        sleep 0.1
    done
}

# 1. Fixed workers, one killed and replaced.
start_serve "$T/serve.log" --models clf --workers 3
wait_metric 'hops_serving_workers' 3
kids=$(ps -o pid= --ppid "$SERVE_PID" | wc -l)
assert_eq "$kids" 3
victim=$(ps -o pid= --ppid "$SERVE_PID" | head -n 1 | tr -d ' ')
kill -9 "$victim"
i=0
while ps -o pid= --ppid "$SERVE_PID" | grep -qw "$victim" || [ "$(ps -o pid= --ppid "$SERVE_PID" | wc -l)" -ne 3 ]; do
    i=$((i + 1)); [ $i -lt 600 ] || fail "the killed worker was not replaced"; sleep 0.1
done
for i in 1 2 3 4 5 6; do expect_req 200 POST $P "$ROW"; done
wrk_ok 2 $P
stop_serve
assert_eq "$SERVE_RC" 0
assert_contains "$T/serve.log" "died (signal 9); starting another"
[ -z "$(ps -o pid= --ppid "$SERVE_PID" 2>/dev/null)" ] || fail "workers left behind"
ok "3 workers; a killed one replaced; all stopped on SIGTERM"

# 1b. --reuse-port: a second server binds the same port; the first stops
# (a rolling restart) and requests keep being answered.
start_serve "$T/serve.log" --models clf --reuse-port
"$HOPS" serve --models clf --host 127.0.0.1 --port "$PORT" --reuse-port >"$T/second.log" 2>&1 &
SECOND=$!
i=0
until grep -q "hops serve: clf on" "$T/second.log"; do
    kill -0 "$SECOND" 2>/dev/null || { cat "$T/second.log"; fail "the second server exited"; }
    i=$((i + 1)); [ $i -lt 600 ] || fail "the second server did not start"; sleep 0.1
done
for i in 1 2 3 4 5 6 7 8; do expect_req 200 POST $P "$ROW"; done
stop_serve
for i in 1 2 3 4 5 6 7 8; do expect_req 200 POST $P "$ROW"; done
kill -TERM "$SECOND"
wait "$SECOND"
ok "--reuse-port: a second server takes over the port"

# 2. The autoscaler grows under load and shrinks when idle.
start_serve "$T/serve.log" --models clf --autoscale 1:3 --autoscale-interval-ms 200 \
    --autoscale-latency-ms 20
assert_eq "$(metric 'hops_serving_workers')" 1
wrk_ok 4 $P
wait_metric 'hops_serving_autoscale_total\{direction="up"\}' 1
up_workers=$(grep -c "autoscale up" "$T/serve.log")
wait_metric 'hops_serving_autoscale_total\{direction="down"\}' 1
i=0
while [ "$(metric 'hops_serving_workers')" -ne 1 ]; do
    i=$((i + 1)); [ $i -lt 600 ] || fail "never back to 1 worker"; sleep 0.1
done
for i in 1 2 3; do expect_req 200 POST $P "$ROW"; done
stop_serve
assert_eq "$SERVE_RC" 0
assert_contains "$T/serve.log" "autoscale up to 2 workers"
assert_contains "$T/serve.log" "autoscale down to"
ok "autoscale 1:3: up $up_workers time(s) under load, down to 1 when idle"

# 3. Batching for gradient-boosted trees (a model call has a fixed cost
# worth sharing): concurrent requests share model calls.
"$HOPS" train --data clf.csv --label label --model gbdt --epochs 20 --name net \
    --seed 1 --quiet >/dev/null 2>&1
start_serve "$T/serve.log" --models net
expect_req 200 POST /v1/models/net:predict "$ROW"
cp "$T/body" alone.json
stop_serve
start_serve "$T/serve.log" --models net --batch-max 32 --batch-timeout-us 5000 --threads 8
expect_req 200 POST /v1/models/net:predict "$ROW"
"$PY" - "$T/body" <<'PYEOF'
import json, sys
a = json.load(open("alone.json"))["predictions"][0]
b = json.load(open(sys.argv[1]))["predictions"][0]
assert a["classes"] == b["classes"] and all(abs(x - y) < 1e-6 for x, y in zip(a["scores"], b["scores"])), (a, b)
PYEOF
wrk_ok 2 /v1/models/net:predict
batches=$(metric 'hops_serving_batch_size_count')
rows=$(metric 'hops_serving_batch_size_sum')
ones=$(metric 'hops_serving_batch_size_bucket\{le="1"\}')
[ "$rows" -gt "$batches" ] || fail "no batch had more than one row ($rows rows in $batches calls)"
[ "$ones" -lt "$batches" ] || fail "every batch had one row"
stop_serve
ok "batching: $rows rows in $batches model calls"
