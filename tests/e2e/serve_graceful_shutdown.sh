# SIGTERM stops `hops serve` gracefully: a request in flight (a slow upload
# that is still arriving when the signal comes) is answered in full, new
# connections are refused, and the server exits 0 -- in one process and as
# a supervisor of workers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

make_models
"$PY" - <<'PYEOF'
import json
rows = [{"x1": i / 1000, "x2": -i / 500, "x3": 0.5, "color": ["red", "green", "blue"][i % 3]}
        for i in range(2000)]
json.dump({"instances": rows}, open("big.json", "w"))
PYEOF
size=$(wc -c <big.json)

# in_flight_then_stop ARGS: start, begin a slow upload (~3 s), SIGTERM after
# 1 s, and check the answer and the exit.
in_flight_then_stop() {
    start_serve "$T/serve.log" --models clf "$@"
    curl -s -o answer.json -w '%{http_code}' --limit-rate $((size / 3)) -X POST \
        -H 'Content-Type: application/json' -H 'Expect:' --data-binary @big.json \
        "$URL/v1/models/clf:predict" >code.txt &
    CURL=$!
    sleep 1
    kill -TERM "$SERVE_PID"
    wait $CURL || true
    assert_eq "$(cat code.txt)" 200
    assert_eq "$(jget '["predictions"].__len__()' <answer.json)" 2000
    set +e
    wait "$SERVE_PID"
    rc=$?
    set -e
    SERVE_PID=""
    assert_eq "$rc" 0
    # Nothing listens any more.
    code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz" || true)
    assert_eq "$code" 000
}

in_flight_then_stop
assert_contains "$T/serve.log" "stopped"
ok "one process: the in-flight request answered in full, exit 0"
in_flight_then_stop --workers 2
ok "two workers: the in-flight request answered in full, exit 0"
