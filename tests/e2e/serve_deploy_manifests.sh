# deploy/: the Kubernetes manifests parse (PyYAML) and hang together
# (selectors, ports, probes, the autoscaler's target), the Dockerfile's
# runtime image installs the package of every library `hops` links, and the
# container's command line, run here with the Deployment's args, serves a
# model whose readiness and liveness probe paths answer 200 -- then stops
# on SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
"$PY" -c "import yaml" 2>/dev/null || { echo "python3-yaml is not installed"; exit 77; }
D="$HOPS_SOURCE_DIR/deploy"

"$PY" - "$D" >args.txt <<'PYEOF'
import json, os, re, sys, yaml
d = sys.argv[1]
docs = {}
for name in sorted(os.listdir(os.path.join(d, "k8s"))):
    for doc in yaml.safe_load_all(open(os.path.join(d, "k8s", name))):
        assert doc and "kind" in doc and "apiVersion" in doc, (name, doc)
        docs[doc["kind"]] = doc
assert set(docs) >= {"Deployment", "Service", "HorizontalPodAutoscaler"}, set(docs)
dep, svc, hpa = docs["Deployment"], docs["Service"], docs["HorizontalPodAutoscaler"]
assert dep["apiVersion"] == "apps/v1" and hpa["apiVersion"] == "autoscaling/v2"
tmpl = dep["spec"]["template"]
labels = tmpl["metadata"]["labels"]
assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
assert svc["spec"]["selector"].items() <= labels.items()
(c,) = tmpl["spec"]["containers"]
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
assert ports == {"http": 8501}, ports
(sp,) = svc["spec"]["ports"]
assert sp["port"] == 8501 and sp["targetPort"] in ("http", 8501)
for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
    g = c[probe]["httpGet"]
    assert g["path"] == path and g["port"] in ("http", 8501), (probe, g)
    assert c[probe]["periodSeconds"] > 0
ref = hpa["spec"]["scaleTargetRef"]
assert ref["kind"] == "Deployment" and ref["name"] == dep["metadata"]["name"]
assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
assert tmpl["spec"]["terminationGracePeriodSeconds"] >= 10
env = {e["name"]: e["value"] for e in c.get("env", [])}
assert "MODEL_NAME" in env
mounts = {m["mountPath"] for m in c["volumeMounts"]}
assert "/models/" + env["MODEL_NAME"] in mounts, mounts
# The Dockerfile: port, entrypoint, runtime packages.
df = open(os.path.join(d, "Dockerfile")).read()
assert re.search(r"^EXPOSE 8501$", df, re.M)
entry = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", df, re.M).group(1))
envs = dict(re.findall(r"(\w+)=(\S+)", re.search(r"^ENV (.*)$", df, re.M).group(1)))
assert envs["REST_API_PORT"] == "8501" and envs["MODEL_BASE_PATH"] == "/models"
print(json.dumps({"entry": entry, "args": c["args"], "model": env["MODEL_NAME"]}))
PYEOF
ok "manifests parse and agree"

# Every library hops needs directly comes from a package the runtime stage installs.
runtime=$(sed -n '/^FROM debian:12-slim$/,$p' "$D/Dockerfile" | sed -n '2,/rm -rf/p')
for lib in $(readelf -d "$HOPS" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
    case $lib in libc.so*|libm.so*|ld-linux*|libasan*|libubsan*|libpthread*|libstdc++*|libgcc_s*) continue ;; esac
    path=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')
    [ -n "$path" ] || continue
    pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n 1 | cut -d: -f1)
    [ -n "$pkg" ] || continue
    echo "$runtime" | grep -qw -- "$pkg" || fail "the runtime image lacks $pkg (for $lib)"
done
ok "the runtime stage installs every linked library"

# The container's command, with the Deployment's args, on a local model dir.
make_models
model=$("$PY" -c "import json; print(json.load(open('args.txt'))['model'])")
expect_code 0 "$HOPS" model export clf -o "models/$model/1"
"$PY" - "$HOPS" "$T" <<'PYEOF' >cmd.sh
import json, shlex, sys
hops, t = sys.argv[1], sys.argv[2]
a = json.load(open("args.txt"))
entry = [x.replace("/usr/local/bin/hops", hops) for x in a["entry"]]
print("export MODEL_NAME=%s MODEL_BASE_PATH=%s/models REST_API_PORT=0" % (a["model"], t))
print("exec " + " ".join(shlex.quote(x) for x in entry + a["args"]) + ' --host 127.0.0.1 --port-file "$1"')
PYEOF
rm -f "$T/port"
sh cmd.sh "$T/port" >"$T/serve.log" 2>&1 &
SERVE_PID=$!
i=0
while [ ! -s "$T/port" ]; do
    kill -0 "$SERVE_PID" 2>/dev/null || { cat "$T/serve.log"; fail "the container command exited"; }
    i=$((i + 1)); [ $i -lt 1200 ] || fail "no port"; sleep 0.05
done
URL="http://127.0.0.1:$(cat "$T/port")"
until curl -sf "$URL/readyz" >/dev/null; do sleep 0.05; done
expect_req 200 GET /readyz
expect_req 200 GET /healthz
expect_req 200 POST "/v1/models/$model:predict" '{"instances": [{"x1": 1, "x2": 0, "x3": 0, "color": "red"}]}'
stop_serve
assert_eq "$SERVE_RC" 0
ok "the container command serves /models/$model; probes answer 200; SIGTERM exits 0"
