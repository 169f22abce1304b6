# Helpers for the `hops serve` end-to-end tests (sourced after lib.sh): a
# server on a free loopback port, stopped at exit; curl as the client.

SERVE_PID=""
serve_cleanup() {
    if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
        kill -TERM "$SERVE_PID" 2>/dev/null || true
        wait "$SERVE_PID" 2>/dev/null || true
    fi
    cleanup
}
trap serve_cleanup EXIT

# Two small models in a fresh project: `clf` (logistic: x1, x2, x3 numeric,
# color categorical; label yes/no) and `reg` (linear: same features, y).
make_models() {
    "$PY" - <<'PYEOF'
import random
random.seed(7)
with open("clf.csv", "w") as f, open("reg.csv", "w") as g:
    f.write("x1,x2,x3,color,label\n")
    g.write("x1,x2,x3,color,y\n")
    for i in range(400):
        x = [random.gauss(0, 1) for _ in range(3)]
        c = random.choice(["red", "green", "blue"])
        s = x[0] - 0.5 * x[1] + 0.25 * x[2] + (0.8 if c == "red" else 0)
        f.write("%r,%r,%r,%s,%s\n" % (x[0], x[1], x[2], c, "yes" if s + random.gauss(0, 0.3) > 0 else "no"))
        g.write("%r,%r,%r,%s,%r\n" % (x[0], x[1], x[2], c, 3 * s + 1))
PYEOF
    "$HOPS" init >/dev/null
    "$HOPS" train --data clf.csv --label label --model logistic --name clf --seed 1 --quiet >/dev/null 2>&1
    "$HOPS" train --data reg.csv --label y --model linear --name reg --seed 1 --quiet >/dev/null 2>&1
}

# start_serve LOG ARGS...: `hops serve ARGS` on 127.0.0.1 and a free port
# (in $SERVE_CWD when set); returns once /readyz answers 200. Sets
# SERVE_PID, PORT and URL.
start_serve() {
    log=$1
    shift
    rm -f "$T/port"
    (cd "${SERVE_CWD:-.}" && exec "$HOPS" serve --host 127.0.0.1 --port 0 --port-file "$T/port" "$@") \
        >"$log" 2>&1 &
    SERVE_PID=$!
    i=0
    while [ ! -s "$T/port" ]; do
        kill -0 "$SERVE_PID" 2>/dev/null || { cat "$log" >&2; fail "hops serve $* exited"; }
        i=$((i + 1))
        [ $i -lt 1200 ] || { cat "$log" >&2; fail "hops serve did not start"; }
        sleep 0.05
    done
    PORT=$(cat "$T/port")
    URL="http://127.0.0.1:$PORT"
    i=0
    until curl -sf "$URL/readyz" >/dev/null; do
        i=$((i + 1))
        [ $i -lt 600 ] || fail "hops serve never got ready"
        sleep 0.05
    done
}

# stop_serve: SIGTERM, and the exit code in SERVE_RC.
stop_serve() {
    kill -TERM "$SERVE_PID"
    set +e
    wait "$SERVE_PID"
    SERVE_RC=$?
    set -e
    SERVE_PID=""
}

# req METHOD PATH [BODY [CURL ARGS...]]: the status code on stdout, the body in $T/body.
req() {
    m=$1
    p=$2
    shift 2
    if [ $# -gt 0 ]; then
        b=$1
        shift
        curl -s -o "$T/body" -w '%{http_code}' -X "$m" -H 'Content-Type: application/json' \
            --data-binary "$b" "$@" "$URL$p"
    else
        curl -s -o "$T/body" -w '%{http_code}' -X "$m" "$URL$p"
    fi
}

# expect_req CODE METHOD PATH [BODY [CURL ARGS]]: fail unless the status is CODE.
expect_req() {
    want=$1
    shift
    got=$(req "$@")
    [ "$got" = "$want" ] || { cat "$T/body" >&2; fail "$1 $2 answered $got, expected $want"; }
}

# A value from the last body: body_get '["predictions"][0]'
body_get() { jget "$1" <"$T/body"; }

# metric REGEX: the sum of every /metrics series whose name and labels match
# REGEX in full (0 when none), e.g. metric 'hops_serving_requests_total\{model="clf",.*code="200"\}'
metric() {
    curl -s "$URL/metrics" >"$T/metrics"
    "$PY" - "$T/metrics" "$1" <<'PYEOF'
import re, sys
pat = re.compile(sys.argv[2])
total = 0.0
for line in open(sys.argv[1]):
    if line.startswith("#") or " " not in line:
        continue
    series, value = line.rstrip("\n").rsplit(" ", 1)
    if pat.fullmatch(series):
        total += float(value)
print(int(total) if total == int(total) else total)
PYEOF
}
