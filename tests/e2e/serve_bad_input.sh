# Bad requests against a real `hops serve` over real sockets, each with its
# status code and no crash: malformed JSON, wrong shapes, wrong types, NaN,
# a 10 MB body (with a length and chunked), path traversal in names,
# unknown verbs and methods, slow clients (timed out while others are
# served), and the bearer token (401 on a mismatch). The server answers
# /healthz afterwards and never answered 5xx.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

make_models
echo "s3cret-token" >token.txt
start_serve "$T/serve.log" --models clf,reg --request-timeout-s 1 --auth-token-file token.txt
ok_req() { expect_req "$1" "$2" "$3" "${4-}" -H "Authorization: Bearer s3cret-token"; }
P=/v1/models/clf:predict

# The token.
expect_req 401 POST $P '{"instances": [[0,0,0,0,0,1]]}'
assert_contains "$T/body" '"error"'
expect_req 401 POST $P '{"instances": [[0,0,0,0,0,1]]}' -H "Authorization: Bearer wrong"
expect_req 401 POST $P '{"instances": [[0,0,0,0,0,1]]}' -H "Authorization: Bearer s3cret-token-and-more"
expect_req 401 POST $P '{"instances": [[0,0,0,0,0,1]]}' -H "Authorization: s3cret-token"
expect_req 401 GET /v1/models/clf
expect_req 401 GET /metrics
expect_req 200 GET /healthz
expect_req 200 GET /readyz
ok_req 200 POST $P '{"instances": [[0,0,0,0,0,1]]}'
ok "bearer token: 401 on a mismatch, health checks open"

# Malformed JSON, wrong shapes, wrong types, NaN.
ok_req 400 POST $P '{"instances": [[0,0,0,0,0,1]'
assert_contains "$T/body" "malformed JSON"
ok_req 400 POST $P ''
ok_req 400 POST $P 'not json at all'
ok_req 400 POST $P '[1, 2, 3]'
ok_req 400 POST $P '{"instances": [[0,0,0]]}'
assert_contains "$T/body" "has 3 values"
ok_req 400 POST $P '{"instances": [[[0,0,0,0,0,1]]]}'
ok_req 400 POST $P '{"inputs": {"x1": [1, 2], "x2": [1], "x3": [1, 1], "color": ["red", "red"]}}'
assert_contains "$T/body" "different lengths"
ok_req 400 POST $P '{"instances": [{"x1": "abc", "x2": 0, "x3": 0, "color": "red"}]}'
assert_contains "$T/body" "not a number"
ok_req 400 POST $P '{"instances": [{"x1": {"a": 1}, "x2": 0, "x3": 0, "color": "red"}]}'
ok_req 400 POST $P '{"instances": [{"x2": 0, "x3": 0, "color": "red"}]}'
assert_contains "$T/body" "'x1' is missing"
ok_req 400 POST $P '{"instances": [[0,0,"0",0,0,1]]}'
ok_req 400 POST $P '{"instances": [[0,0,true,0,0,1]]}'
ok_req 400 POST $P '{"instances": "x"}'
ok_req 400 POST $P '{"instances": [], "inputs": {}}'
assert_contains "$T/body" "not both"
ok_req 400 POST $P '{"instances": [{"x1": NaN, "x2": 0, "x3": 0, "color": "red"}]}'
ok_req 400 POST $P '{"instances": [[NaN,0,0,0,0,1]]}'
ok_req 400 POST $P '{"instances": [{"x1": "NaN", "x2": 0, "x3": 0, "color": "red"}]}'
assert_contains "$T/body" "NaN"
ok_req 400 POST $P '{"instances": [{"x1": Infinity, "x2": 0, "x3": 0, "color": "red"}]}'
ok_req 400 POST $P '{"instances": [{"x1": 1e308, "x2": 0, "x3": 0, "color": "red"}]}'
ok_req 400 POST /v1/models/reg:classify '{"examples": [{"x1": 1, "x2": 0, "x3": 0}]}'
ok_req 400 POST /v1/models/clf:regress '{"examples": [{"x1": 1, "x2": 0, "x3": 0}]}'
ok "malformed JSON, shapes, types, NaN: 400"

# Bodies over the limit (4 MiB): with a Content-Length, and chunked.
head -c 10485760 /dev/zero | tr '\0' '1' >big.json
code=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -H "Authorization: Bearer s3cret-token" \
    --data-binary @big.json "$URL$P")
assert_eq "$code" 413
assert_contains "$T/body" "over the limit"
code=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -H "Authorization: Bearer s3cret-token" \
    -H "Transfer-Encoding: chunked" --data-binary @big.json "$URL$P")
assert_eq "$code" 413
ok "10 MB bodies: 413"

# Path traversal in names and labels; unknown verbs and methods.
code=$(curl -s --path-as-is -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer s3cret-token" \
    -X POST -d '{}' "$URL/v1/models/../../etc/passwd:predict")
assert_eq "$code" 400
code=$(curl -s --path-as-is -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer s3cret-token" \
    -X POST -d '{}' "$URL/v1/models/..%2f..%2fetc%2fpasswd:predict")
assert_eq "$code" 400
code=$(curl -s --path-as-is -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer s3cret-token" \
    "$URL/v1/models/clf/../../../etc/passwd")
assert_eq "$code" 404
code=$(curl -s --path-as-is -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer s3cret-token" \
    -X POST -d '{}' "$URL/v1/models/clf/labels/..%2f..:predict")
assert_eq "$code" 400
code=$(curl -s --path-as-is -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer s3cret-token" \
    "$URL/../../../../etc/passwd")
assert_eq "$code" 404
ok_req 400 POST /v1/models/clf:explode '{}'
assert_contains "$T/body" "unknown verb"
ok_req 400 POST /v1/models/clf:predict:predict '{}'
ok_req 405 GET /v1/models/clf:predict
ok_req 405 PUT /v1/models/clf '{}'
ok_req 405 DELETE /v1/models/clf
ok_req 404 POST /v1/models/nope:predict '{"instances": [[1]]}'
ok_req 404 GET /v1/models/clf/versions/99
ok_req 400 GET /v1/models/clf/versions/-1
ok "path traversal, unknown verbs and methods"

# Slow clients: one that stops mid-request is cut off after the timeout (1 s
# here) while a normal client is served meanwhile.
"$PY" - "$PORT" <<'PYEOF'
import socket, subprocess, sys, time
port = int(sys.argv[1])
slow = []
for part in (b"POST /v1/models/clf:predict HTTP/1.1\r\nHost: x\r\nAuthor",   # mid-header
             b"POST /v1/models/clf:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"):  # mid-body
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(part)
    slow.append(s)
# Served while they hang on.
code = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                       "Authorization: Bearer s3cret-token", "http://127.0.0.1:%d/v1/models/clf" % port],
                      capture_output=True, text=True).stdout
assert code == "200", code
for s in slow:
    s.settimeout(60)
    t0 = time.time()
    try:
        data = s.recv(4096)
    except ConnectionResetError:
        data = b""
    # Closed by the server (nothing, or at most an error answer, then EOF).
    rest = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            rest += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    assert not (data + rest).startswith(b"HTTP/1.1 200"), data
    s.close()
print("slow clients closed")
PYEOF
ok "slow clients time out"

# Still alive; no 5xx was ever answered.
expect_req 200 GET /healthz
curl -s -H "Authorization: Bearer s3cret-token" "$URL/metrics" >metrics.txt
if grep -q 'code="5' metrics.txt; then cat metrics.txt >&2; fail "a 5xx was answered"; fi
grep -q 'code="400"' metrics.txt || fail "400s not counted"
grep -q 'code="413"' metrics.txt || fail "413s not counted"
grep -q 'code="401"' metrics.txt || fail "401s not counted"
stop_serve
assert_eq "$SERVE_RC" 0
ok "alive afterwards, no 5xx, exit 0 on SIGTERM"

# A token file that cannot be read is a usage error.
expect_code 2 "$HOPS" serve --models clf --port 0 --auth-token-file missing.txt
