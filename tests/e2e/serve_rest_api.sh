# `hops serve` answers TensorFlow Serving's REST API with real sockets and
# curl: :predict in row and columnar form (named raw features, or ready
# vectors), :classify and :regress with examples and context, status and
# metadata; predictions equal `hops predict` on the same rows; versions by
# number and label (hops model label), version policies latest / all /
# specific; tensorflow_model_server's flags over an exported base path;
# /metrics, /healthz, /readyz.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

make_models
start_serve "$T/serve.log" --models clf,reg

# Row format, named raw features (the encodings are the model's).
cat >rows.csv <<'CSV'
x1,x2,x3,color
0.5,-1,2,red
-1.5,0.25,0,blue
0.1,0.2,0.3,purple
CSV
ROWS='{"instances": [{"x1": 0.5, "x2": -1, "x3": 2, "color": "red"},
                    {"x1": -1.5, "x2": 0.25, "x3": 0, "color": "blue"},
                    {"x1": 0.1, "x2": 0.2, "x3": 0.3, "color": "purple"}]}'
expect_req 200 POST /v1/models/clf:predict "$ROWS"
cp "$T/body" served.json
expect_code 0 "$HOPS" predict --model clf --data rows.csv -o batch.jsonl
"$PY" - <<'PYEOF'
import json
served = json.load(open("served.json"))["predictions"]
batch = [json.loads(l) for l in open("batch.jsonl")]
assert len(served) == len(batch) == 3, (served, batch)
for s, b in zip(served, batch):
    assert s["classes"] == b["prediction"], (s, b)
    # scores are in the order of the metadata's classes: no, yes
    assert abs(s["scores"][0] - b["probabilities"]["no"]) < 1e-6, (s, b)
    assert abs(s["scores"][1] - b["probabilities"]["yes"]) < 1e-6, (s, b)
PYEOF
ok "predict (rows) equals hops predict"

# Columnar form: inputs -> outputs; same numbers.
expect_req 200 POST /v1/models/clf:predict \
    '{"inputs": {"x1": [0.5, -1.5, 0.1], "x2": [-1, 0.25, 0.2], "x3": [2, 0, 0.3], "color": ["red", "blue", "purple"]}}'
"$PY" - "$T/body" <<'PYEOF'
import json, sys
out = json.load(open(sys.argv[1]))["outputs"]
rows = json.load(open("served.json"))["predictions"]
assert out["classes"] == [r["classes"] for r in rows], out
assert all(abs(a - b) < 1e-12 for s, r in zip(out["scores"], rows) for a, b in zip(s, r["scores"]))
PYEOF
ok "predict (columnar) gives outputs"

# A ready numeric vector (x1, x2, x3, then one-hot blue, green, red).
expect_req 200 POST /v1/models/clf:predict '{"instances": [[0, 0, 0, 0, 0, 1], [0, 0, 0, 1, 0, 0]]}'
assert_eq "$(body_get '["predictions"].__len__()')" 2

# :classify with context, :regress.
expect_req 200 POST /v1/models/clf:classify \
    '{"context": {"x3": 2, "color": "red"}, "examples": [{"x1": 0.5, "x2": -1}, {"x1": -3, "x2": 3, "color": "blue"}]}'
"$PY" - "$T/body" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
rows = json.load(open("served.json"))["predictions"]
assert [c for c, _ in r[0]] == ["no", "yes"], r
assert abs(r[0][1][1] - rows[0]["scores"][1]) < 1e-12, (r, rows)   # the same row as instance 0
assert r[1][0][1] > 0.5, r
PYEOF
expect_req 200 POST /v1/models/reg:regress '{"examples": [{"x1": 1, "x2": 0, "x3": 0, "color": "red"}]}'
"$PY" -c "
import json; v = json.load(open('$T/body'))['results'][0]
assert abs(v - (3 * 1.8 + 1)) < 0.05, v"
expect_req 200 POST /v1/models/reg:predict '{"instances": [{"x1": 1, "x2": 0, "x3": 0, "color": "red"}]}'
assert_eq "$(body_get '["predictions"].__len__()')" 1
ok "classify with context, regress"

# Status and metadata.
expect_req 200 GET /v1/models/clf
assert_eq "$(body_get '["model_version_status"][0]["version"]')" 1
assert_eq "$(body_get '["model_version_status"][0]["state"]')" AVAILABLE
assert_eq "$(body_get '["model_version_status"][0]["status"]["error_code"]')" OK
expect_req 200 GET /v1/models/clf/versions/1
expect_req 404 GET /v1/models/clf/versions/2
expect_req 200 GET /v1/models/clf/metadata
assert_eq "$(body_get '["model_spec"]["version"]')" 1
assert_eq "$(body_get '["metadata"]["signature_def"]["signature_def"]["serving_default"]["inputs"]["color"]["dtype"]')" DT_STRING
assert_eq "$(body_get '["metadata"]["signature_def"]["signature_def"]["serving_default"]["outputs"]["classes"]["values"]')" '["no", "yes"]'
expect_req 200 GET /healthz
expect_req 200 GET /readyz
ok "status, metadata, health"

# Metrics: requests by model, version and code; histograms; workers.
expect_req 200 GET /metrics
assert_contains "$T/body" '# TYPE hops_serving_requests_total counter'
assert_contains "$T/body" 'hops_serving_requests_total{model="clf",version="1",code="200"}'
assert_contains "$T/body" 'hops_serving_request_duration_seconds_bucket{le="+Inf"}'
assert_contains "$T/body" 'hops_serving_batch_size_count'
assert_contains "$T/body" 'hops_serving_workers 1'
n=$(metric 'hops_serving_requests_total\{model="clf",version="1",code="200"\}')
[ "$n" -ge 4 ] || fail "clf:1 200s counted $n"
ok "metrics"
stop_serve
assert_eq "$SERVE_RC" 0

# Versions and labels from the registry: policies latest, all, specific.
"$HOPS" train --data clf.csv --label label --model logistic --name clf --seed 2 --param C=0.01 --quiet >/dev/null 2>&1
expect_code 0 "$HOPS" model label clf 1 stable
expect_code 0 "$HOPS" model label clf 2 canary
expect_code 0 "$HOPS" model label clf --json
assert_eq "$(jget '["stable"]' <"$T/out")" 1
expect_code 4 "$HOPS" model label clf 9 stable
expect_code 4 "$HOPS" model label nope 1 stable
expect_code 2 "$HOPS" model label clf 1 ../x
start_serve "$T/serve.log" --models clf
expect_req 200 GET /v1/models/clf
"$PY" -c "
import json; v = sorted(x['version'] for x in json.load(open('$T/body'))['model_version_status'])
assert v == ['1', '2'], v  # latest (2) and the stable label's 1"
expect_req 200 POST /v1/models/clf/labels/stable:predict "$ROWS"
cp "$T/body" stable.json
expect_req 200 POST /v1/models/clf/versions/1:predict "$ROWS"
cmp -s "$T/body" stable.json || fail "labels/stable is not version 1"
expect_req 200 POST /v1/models/clf/labels/canary:predict "$ROWS"
cp "$T/body" canary.json
expect_req 200 POST /v1/models/clf:predict "$ROWS"
cmp -s "$T/body" canary.json || fail "the default is not the latest version"
cmp -s stable.json canary.json && fail "versions 1 and 2 predict the same"
expect_req 404 POST /v1/models/clf/labels/nope:predict "$ROWS"
assert_contains "$T/body" "no label 'nope'"
expect_req 200 GET /v1/models/clf/labels/canary/metadata
assert_eq "$(body_get '["model_spec"]["version"]')" 2
stop_serve

# Labelled versions are served beside the policy's: without the canary label,
# "specific 1" serves version 1 only.
expect_code 0 "$HOPS" model label clf --remove canary
start_serve "$T/serve.log" --models clf --version-policy specific --versions 1
expect_req 404 POST /v1/models/clf/versions/2:predict "$ROWS"
expect_req 200 POST /v1/models/clf:predict "$ROWS"
cmp -s "$T/body" stable.json || fail "specific 1 is not version 1"
stop_serve
start_serve "$T/serve.log" --models clf --version-policy all
expect_req 200 POST /v1/models/clf/versions/1:predict "$ROWS"
expect_req 200 POST /v1/models/clf/versions/2:predict "$ROWS"
stop_serve
ok "labels stable/canary; policies latest, specific, all"

# tensorflow_model_server's flags over an exported base path.
expect_code 0 "$HOPS" model export clf:1 -o base/1
expect_code 0 "$HOPS" model export clf:2 -o base/2
mkdir -p empty
SERVE_CWD=empty start_serve "$T/serve.log" --model_name churn --model_base_path "$T/base" \
    --rest_api_port 0 --label stable=1
expect_req 200 POST /v1/models/churn:predict "$ROWS"
cmp -s "$T/body" canary.json || fail "base path latest is not version 2"
expect_req 200 POST /v1/models/churn/labels/stable:predict "$ROWS"
cmp -s "$T/body" stable.json || fail "base path label"
expect_req 404 POST /v1/models/clf:predict "$ROWS"
# The port is taken: a second server is refused (exit 1) unless both share it.
expect_code 1 "$HOPS" serve --models clf --host 127.0.0.1 --port "$PORT"
assert_contains "$T/err" "Address already in use"
stop_serve
ok "--model_name/--model_base_path/--rest_api_port; a port in use is an error"

# Usage errors.
expect_code 2 "$HOPS" serve
expect_code 2 "$HOPS" serve --models clf --port 70000
expect_code 2 "$HOPS" serve --models clf --version-policy newest
expect_code 2 "$HOPS" serve --models clf --version-policy specific
expect_code 2 "$HOPS" serve --model_name x
expect_code 2 "$HOPS" serve --models clf --autoscale 3:1
expect_code 2 "$HOPS" serve --models '../etc' --port 0
expect_code 4 "$HOPS" serve --models nope --port 0
expect_code 0 "$HOPS" serve --help
assert_contains "$T/out" "model_base_path"
ok "usage errors"
