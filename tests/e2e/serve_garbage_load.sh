# Under wrk load (-t2 -c32) where one request in ten is garbage (malformed
# JSON, wrong shapes and types, NaN, unknown verbs and names, traversal,
# wrong methods), `hops serve` (two workers) never crashes and never answers
# 5xx: every valid request gets 200, every garbage one a 4xx.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
command -v wrk >/dev/null || { echo "wrk is not installed"; exit 77; }

make_models
start_serve "$T/serve.log" --models clf,reg --workers 2
cat >mixed.lua <<'LUA'
local valid = '{"instances": [{"x1": 0.3, "x2": -0.2, "x3": 1.0, "color": "blue"}]}'
local garbage = {
  {"POST", "/v1/models/clf:predict", '{"instances": [{"x1": 0.3'},
  {"POST", "/v1/models/clf:predict", '{"instances": [[1, 2]]}'},
  {"POST", "/v1/models/clf:predict", '{"instances": [{"x1": "a", "x2": 0, "x3": 0, "color": "red"}]}'},
  {"POST", "/v1/models/clf:predict", '{"instances": [{"x1": NaN, "x2": 0, "x3": 0}]}'},
  {"POST", "/v1/models/clf:predict", '{"instances": [[1e308, 0, 0, 0, 0, 1]]}'},
  {"POST", "/v1/models/clf:predict", '\0\1\2\255garbage'},
  {"POST", "/v1/models/clf:explode", valid},
  {"POST", "/v1/models/../../etc/passwd:predict", valid},
  {"POST", "/v1/models/nope:predict", valid},
  {"GET", "/v1/models/clf:predict", nil},
  {"POST", "/v1/models/reg:classify", '{"examples": [{"x1": 1}]}'},
  {"DELETE", "/v1/models/clf", nil},
}
local n = 0
local counts = {}
function setup(thread) table.insert(counts, thread) end
function init(args) valid_sent = 0; garbage_sent = 0; bad5xx = 0; bad_valid = 0 end
function request()
  n = n + 1
  if n % 10 == 0 then
    garbage_sent = garbage_sent + 1
    local g = garbage[(n / 10) % #garbage + 1]
    return wrk.format(g[1], g[2], {["Content-Type"] = "application/json"}, g[3])
  end
  valid_sent = valid_sent + 1
  return wrk.format("POST", "/v1/models/clf:predict", {["Content-Type"] = "application/json"}, valid)
end
function response(status, headers, body)
  if status >= 500 then bad5xx = bad5xx + 1 end
end
function done(summary, latency, requests)
  local v, g, b = 0, 0, 0
  for _, t in ipairs(counts) do
    v = v + t:get("valid_sent"); g = g + t:get("garbage_sent"); b = b + t:get("bad5xx")
  end
  io.write(string.format("VALID %d GARBAGE %d FIVEXX %d\n", v, g, b))
end
LUA
wrk -t2 -c32 -d5s -s mixed.lua "$URL" >wrk.out 2>&1 || { cat wrk.out; fail "wrk failed"; }
cat wrk.out
line=$(grep '^VALID' wrk.out)
valid=$(echo "$line" | awk '{print $2}')
garbage=$(echo "$line" | awk '{print $4}')
fivexx=$(echo "$line" | awk '{print $6}')
[ "$garbage" -gt 100 ] || fail "only $garbage garbage requests"
assert_eq "$fivexx" 0
# The server's own count: no 5xx at all; the valid requests all 200 (up to
# the ones in flight when wrk stopped, at most one per connection).
curl -s "$URL/metrics" >metrics.txt
if grep -q 'code="5' metrics.txt; then grep requests_total metrics.txt >&2; fail "5xx answered"; fi
ok200=$(metric 'hops_serving_requests_total\{model="clf",version="1",code="200"\}')
[ "$ok200" -le "$valid" ] && [ "$ok200" -ge $((valid - 64)) ] || fail "$ok200 answered 200 of $valid valid"
bad4xx=$(metric 'hops_serving_requests_total\{.*code="4..".*\}')
[ "$bad4xx" -gt 0 ] || fail "no 4xx counted"
expect_req 200 GET /healthz
grep -q "died" "$T/serve.log" && { cat "$T/serve.log"; fail "a worker died"; }
stop_serve
assert_eq "$SERVE_RC" 0
ok "$valid valid (200: $ok200), $garbage garbage (4xx: $bad4xx), no 5xx, no crash"
