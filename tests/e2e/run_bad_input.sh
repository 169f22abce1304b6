# Bad input to `hops run`: malformed flags, no command, a missing command,
# report lines that are not JSON, NaN/Inf metric values.
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
count_runs() { "$HOPS" runs list --json | jget '.__len__()'; }

for bad in "lr" "=0.1" ""; do
    expect_code 2 "$HOPS" run --param "$bad" -- true
    assert_contains "$T/err" "bad --param"
    assert_contains "$T/err" "KEY=VALUE"
done
expect_code 2 "$HOPS" run --tag nokey -- true
assert_contains "$T/err" "bad --tag"
expect_code 2 "$HOPS" run -p a=1 -p a=2 -- true
assert_contains "$T/err" "given twice"
expect_code 2 "$HOPS" run --param
assert_contains "$T/err" "needs a value"
expect_code 2 "$HOPS" run --frobnicate -- true
assert_contains "$T/err" "unknown option"
expect_code 2 "$HOPS" run --
assert_contains "$T/err" "no command given"
expect_code 2 "$HOPS" run -e "a/b" -- true
assert_contains "$T/err" "bad experiment name"
assert_eq "$(count_runs)" 0 "(no run may be recorded for bad flags)"
ok "malformed flags exit 2 with a clear message and record nothing"

expect_code 127 "$HOPS" run --json -- ./no-such-program --flag
assert_contains "$T/err" "command not found"
ID=$("$HOPS" runs list --json | jget '[0]["id"]')
"$HOPS" runs show "$ID" --json >show.json
assert_eq "$(jget '["state"]' <show.json)" FAILED
assert_eq "$(jget '["exit_code"]' <show.json)" 127
assert_contains show.json "command not found"
ok "a command that does not exist: run FAILED, exit 127"

cat >noisy.sh <<'TRIAL'
{
echo '{"step": 1, "metrics": {"loss": 0.5}}'
echo 'this is not json'
echo '{"step": 2, "metrics": {"loss": "high"}}'
echo '[1, 2, 3]'
echo '{"step": 3, "metrics": {"loss": 0.25}}'
echo '{"step": 4, "metrics": {"loss": NaN, "gain": Infinity, "drop": -Infinity}}'
echo '{"step": 5, "metrics": {"loss": "NaN", "gain": "Infinity", "drop": "-Infinity"}}'
printf '{"step": 6, "metrics": {"loss": 0.125}}'
} >>"$HOPS_REPORT"
TRIAL
expect_code 0 "$HOPS" run --quiet --json -- sh noisy.sh
ID=$(run_id_of "$T/out")
assert_contains "$T/err" "report line 2 ignored: not JSON"
assert_contains "$T/err" "report line 3 ignored"
assert_contains "$T/err" "report line 4 ignored"
assert_eq "$(jget '["bad_report_lines"]' <"$T/out")" 3
"$HOPS" runs show "$ID" --json >show.json
assert_eq "$(jget '["state"]' <show.json)" FINISHED
DIR=$(jget '["run_dir"]' <show.json)
assert_contains "$DIR/report.jsonl" "this is not json"
assert_eq "$(wc -l <"$DIR/report.jsonl" | tr -d ' ')" 8
"$HOPS" runs metrics "$ID" --json >m.json
"$PY" - m.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
assert m["loss"] == [[p[0], p[1], p[2]] for p in m["loss"]]
assert [(p[0], p[1]) for p in m["loss"]] == [(1, 0.5), (3, 0.25), (4, "NaN"), (5, "NaN"), (6, 0.125)], m["loss"]
assert [p[1] for p in m["gain"]] == ["Infinity", "Infinity"], m["gain"]
assert [p[1] for p in m["drop"]] == ["-Infinity", "-Infinity"], m["drop"]
PY
"$HOPS" runs metrics "$ID" --key gain >table.txt
assert_contains table.txt "Infinity"
ok "bad report lines are warned with their line number and kept; the run goes on"
ok "NaN and +-Inf metric values are recorded, as bare tokens or strings; a last line without newline counts"

expect_code 4 "$HOPS" runs show nosuchrun
assert_contains "$T/err" "no run 'nosuchrun'"
expect_code 4 "$HOPS" runs metrics "$ID" --key nosuchkey
ok "unknown runs and metric keys exit 4"
