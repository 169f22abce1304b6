# `hops serve --kafka-brokers B --kafka-topic T` logs every answered
# inference to Kafka: against librdkafka's mock cluster (three brokers over
# TCP, in a helper process that consumes the topic back), each message holds
# the model, version, verb, the request and the very answer curl got; a
# refused request is not logged; SIGTERM flushes the log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
MOCK="$HOPS_BUILD_DIR/tests/hops-test-kafka-mock"
[ -x "$MOCK" ] || { echo "no $MOCK"; exit 77; }

make_models
"$MOCK" "$T/bootstrap" inference 3 >consumed.txt 2>mock.err &
MOCK_PID=$!
i=0
while [ ! -s "$T/bootstrap" ]; do
    i=$((i + 1)); [ $i -lt 600 ] || { cat mock.err; fail "no mock cluster"; }; sleep 0.05
done
start_serve "$T/serve.log" --models clf,reg --kafka-brokers "$(cat "$T/bootstrap")" \
    --kafka-topic inference --kafka-config client.id=hops-e2e
expect_req 200 POST /v1/models/clf:predict '{"instances": [{"x1": 1, "x2": 0, "x3": 0, "color": "red"}]}'
cp "$T/body" a1.json
expect_req 400 POST /v1/models/clf:predict '{"instances": [{"x1": "bad"}]}'
expect_req 200 POST /v1/models/clf:classify '{"examples": [{"x1": 1, "x2": 0, "x3": 0}], "context": {"color": "blue"}}'
cp "$T/body" a2.json
expect_req 200 POST /v1/models/reg:regress '{"examples": [{"x1": 2, "x2": 1, "x3": 0, "color": "red"}]}'
cp "$T/body" a3.json
stop_serve
assert_eq "$SERVE_RC" 0
wait $MOCK_PID || { cat mock.err consumed.txt; fail "the consumer did not get 3 messages"; }
"$PY" - <<'PYEOF'
import json
msgs = [json.loads(l) for l in open("consumed.txt")]
assert len(msgs) == 3, msgs
want = [("clf", "predict", "a1.json"), ("clf", "classify", "a2.json"), ("reg", "regress", "a3.json")]
for m, (model, verb, answer) in zip(msgs, want):
    assert m["model"] == model and m["verb"] == verb and m["version"] == 1, m
    assert m["response"] == json.load(open(answer)), (m, answer)
    assert isinstance(m["time"], float)
assert msgs[0]["request"]["instances"][0]["color"] == "red"
assert msgs[1]["request"]["context"] == {"color": "blue"}
PYEOF
ok "3 inferences logged to Kafka (mock cluster), the refused one not"

# A bad Kafka setting is a usage error.
expect_code 2 "$HOPS" serve --models clf --port 0 --kafka-brokers x:1 --kafka-topic t \
    --kafka-config no.such.setting=1
assert_contains "$T/err" "no.such.setting"
expect_code 2 "$HOPS" serve --models clf --port 0 --kafka-topic t
