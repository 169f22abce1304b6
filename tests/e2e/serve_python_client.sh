# hops.serving.make_inference_request (hops-util-py's call shape) against a
# running `hops serve`: predict, classify, regress, versions and labels, the
# bearer token from the environment, and the server's errors as ServingError.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

make_models
"$HOPS" model label clf 1 stable >/dev/null
echo "tok" >token.txt
start_serve "$T/serve.log" --models clf,reg --auth-token-file token.txt
expect_req 200 POST /v1/models/clf:predict '{"instances": [{"x1": 0.5, "x2": -1, "x3": 2, "color": "red"}]}' \
    -H "Authorization: Bearer tok"
cp "$T/body" curl.json

HOPS_SERVING_URL="$URL" HOPS_SERVING_TOKEN=tok PYTHONPATH="$HOPS_SOURCE_DIR/python" "$PY" - <<'PYEOF'
import json
from hops import serving

row = {"x1": 0.5, "x2": -1, "x3": 2, "color": "red"}
r = serving.make_inference_request("clf", {"instances": [row]})
assert r == json.load(open("curl.json")), r           # the same answer curl got
assert serving.make_inference_request("clf", [row]) == r   # a list is instances
assert serving.make_inference_request("clf", [row], version=1) == r
assert serving.make_inference_request("clf", [row], label="stable") == r
c = serving.make_inference_request("clf", {"examples": [{"x1": 0.5, "x2": -1}],
                                          "context": {"x3": 2, "color": "red"}}, verb=":classify")
assert [k for k, _ in c["results"][0]] == ["no", "yes"], c
assert abs(c["results"][0][1][1] - r["predictions"][0]["scores"][1]) < 1e-12
g = serving.make_inference_request("reg", [row], verb=":regress")
assert isinstance(g["results"][0], float), g
s = serving.get_status("clf")
assert s["model_version_status"][0]["state"] == "AVAILABLE", s
assert serving.get_metadata("clf")["model_spec"]["name"] == "clf"
assert "hops_serving_requests_total" in serving.get_metrics()

def refused(status, fn, *a, **k):
    try:
        fn(*a, **k)
    except serving.ServingError as e:
        assert e.status == status, (e.status, e.message)
        return e.message
    raise AssertionError("no error")

assert "not served" in refused(404, serving.make_inference_request, "nope", [row])
assert "no version 9" in refused(404, serving.make_inference_request, "clf", [row], version=9)
assert "is missing" in refused(400, serving.make_inference_request, "clf", [{"x1": 1}])
assert "classifier" in refused(400, serving.make_inference_request, "clf", [row], verb=":regress")
try:
    serving.make_inference_request("clf", [row], verb=":explode")
    raise AssertionError("bad verb accepted")
except ValueError:
    pass
import os
os.environ["HOPS_SERVING_TOKEN"] = "wrong"
refused(401, serving.make_inference_request, "clf", [row])
print("python client ok")
PYEOF
stop_serve
ok "hops.serving against hops serve"
