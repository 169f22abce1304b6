# Hot model swaps under load: while clients keep sending predictions over
# keep-alive connections, a new version is registered (`hops train` into the
# registry) or appears in the base path (copied in slowly, so the server
# first sees a partial file); the server loads it in the background and
# switches at once. Zero failed requests; each client sees the old answer,
# then the new one, never the old again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

make_models

# load.py PORT NAME: 4 clients until ./stop exists; results in load.json.
cat >load.py <<'PYEOF'
import http.client, json, os, sys, threading, time
port, name = int(sys.argv[1]), sys.argv[2]
body = json.dumps({"instances": [{"x1": 0.3, "x2": -0.2, "x3": 1.0, "color": "blue"}]})
results = []
def client():
    seen, failed, n, order_ok = [], [], 0, True
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not os.path.exists("stop"):
        try:
            conn.request("POST", "/v1/models/%s:predict" % name, body,
                         {"Content-Type": "application/json"})
            r = conn.getresponse()
            text = r.read().decode()
            if r.status != 200:
                failed.append("%d %s" % (r.status, text))
            elif not seen or seen[-1] != text:
                if text in seen:
                    order_ok = False   # went back to an older answer
                seen.append(text)
            n += 1
        except Exception as e:  # a connection error is a failed request too
            failed.append(repr(e))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    results.append({"n": n, "failed": failed, "seen": seen, "order_ok": order_ok})
threads = [threading.Thread(target=client) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
json.dump(results, open("load.json", "w"))
PYEOF

# check_load MIN_ANSWERS: zero failures, every client saw exactly MIN_ANSWERS
# distinct answers in order.
check_load() {
    "$PY" - "$1" <<'PYEOF'
import json, sys
res = json.load(open("load.json"))
total = sum(r["n"] for r in res)
failed = [f for r in res for f in r["failed"]]
assert not failed, failed[:5]
for r in res:
    assert r["order_ok"], r
    assert len(r["seen"]) == int(sys.argv[1]), r["seen"]
print("requests: %d, failed: 0" % total)
PYEOF
}

# wait_version V: until GET /v1/models/$1 lists version V.
wait_version() {
    i=0
    until curl -s "$URL/v1/models/$1" | grep -q "\"version\":\"$2\""; do
        i=$((i + 1))
        [ $i -lt 1200 ] || fail "version $2 of $1 never served"
        sleep 0.05
    done
}

# 1. A registration while requests flow.
start_serve "$T/serve.log" --models clf --poll-ms 100 --threads 4
rm -f stop
"$PY" load.py "$PORT" clf &
LOAD=$!
sleep 1
"$HOPS" train --data clf.csv --label label --model logistic --name clf --seed 2 --param C=0.01 \
    --quiet >/dev/null 2>&1
wait_version clf 2
sleep 1
touch stop
wait $LOAD
check_load 2
v1=$(metric 'hops_serving_requests_total\{model="clf",version="1",code="200"\}')
v2=$(metric 'hops_serving_requests_total\{model="clf",version="2",code="200"\}')
[ "$v1" -gt 0 ] && [ "$v2" -gt 0 ] || fail "answers by version: v1 $v1, v2 $v2"
swaps=$(metric 'hops_serving_model_swaps_total')
[ "$swaps" -ge 1 ] || fail "no swap counted"
expect_req 200 GET /v1/models/clf
assert_eq "$(body_get '["model_version_status"].__len__()')" 1
stop_serve
assert_contains "$T/serve.log" "loaded model clf version 2"
ok "registration under load: v1 $v1 then v2 $v2 answers, none failed"

# 2. A file appearing in the base path, first partial.
expect_code 0 "$HOPS" model export clf:1 -o base/1
expect_code 0 "$HOPS" model export clf:2 -o staged
start_serve "$T/serve.log" --model_name churn --model_base_path "$T/base" --poll-ms 100
rm -f stop
"$PY" load.py "$PORT" churn &
LOAD=$!
sleep 1
mkdir base/2
size=$(wc -c <staged/model.hops)
head -c $((size / 2)) staged/model.hops >base/2/model.hops   # half a file: not loaded
sleep 1
expect_req 200 GET /v1/models/churn
assert_eq "$(body_get '["model_version_status"][0]["version"]')" 1
cat staged/model.hops >base/2/model.hops                      # now whole
wait_version churn 2
sleep 1
touch stop
wait $LOAD
check_load 2
stop_serve
assert_contains "$T/serve.log" "churn version 2 does not load"
ok "base path: a partial file is skipped, the whole one swapped in under load"
