# Looking at runs: list (filter, sort, --json, fits the terminal), show,
# metrics, compare (differences marked), delete, id prefixes.
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
mk() { # experiment lr acc
    "$HOPS" run --quiet --json -e "$1" -p lr="$2" -p opt=adam -- sh -c \
        "echo '{\"step\": 1, \"metrics\": {\"acc\": $3, \"loss\": 1}}' >>\"\$HOPS_REPORT\"" | jget '["run_id"]'
}
R1=$(mk alpha 0.1 0.80)
R2=$(mk alpha 0.01 0.95)
R3=$(mk beta 0.001 0.91)
"$HOPS" run --quiet -e beta -- true 2>/dev/null  # no metrics at all

"$HOPS" runs list --json >all.json
assert_eq "$(jget '.__len__()' <all.json)" 4
assert_eq "$(jget '[1]["id"]' <all.json)" "$R3"
ok "list --json: every run, newest first"

"$HOPS" runs list --experiment alpha --json >a.json
assert_eq "$(jget '.__len__()' <a.json)" 2
"$HOPS" runs list --filter 'metrics.acc>0.9' --json >f.json
"$PY" - f.json "$R2" "$R3" <<'PY'
import json, sys
ids = [r["id"] for r in json.load(open(sys.argv[1]))]
assert sorted(ids) == sorted(sys.argv[2:]), ids
PY
"$HOPS" runs list --filter 'metrics.acc>0.9 and params.lr=0.01' --json >f2.json
assert_eq "$(jget '.__len__()' <f2.json)" 1
assert_eq "$(jget '[0]["id"]' <f2.json)" "$R2"
"$HOPS" runs list --filter "experiment = 'beta' and state=FINISHED" --json >f3.json
assert_eq "$(jget '.__len__()' <f3.json)" 2
ok "filters on metrics, params, experiment and state"

"$HOPS" runs list --sort metrics.acc --json >s.json
"$PY" - s.json "$R1" "$R3" "$R2" <<'PY'
import json, sys
ids = [r["id"] for r in json.load(open(sys.argv[1]))]
assert ids[:3] == sys.argv[2:5], ids
assert len(ids) == 4  # the run without the metric comes last
PY
"$HOPS" runs list --sort -metrics.acc --limit 2 --json >s2.json
"$PY" - s2.json "$R2" "$R3" <<'PY'
import json, sys
ids = [r["id"] for r in json.load(open(sys.argv[1]))]
assert ids == sys.argv[2:4], ids
PY
ok "sort ascending, descending (-KEY), missing values last, --limit"

expect_code 2 "$HOPS" runs list --filter 'metrics.acc >> 3'
assert_contains "$T/err" "column"
expect_code 2 "$HOPS" runs list --filter 'metrics.acc>0.9 or state=FAILED'
assert_contains "$T/err" "only \`and\`"
expect_code 2 "$HOPS" runs list --filter "params.opt='adam"
assert_contains "$T/err" "unterminated"
expect_code 2 "$HOPS" runs list --sort 'metrics.acc sideways'
ok "bad filters and sorts exit 2 naming the column"

COLUMNS=70 "$HOPS" runs list >narrow.txt
"$PY" -c '
import sys
for line in open(sys.argv[1], encoding="utf-8"):
    assert len(line.rstrip("\n")) <= 70, "too wide: " + line
' narrow.txt || fail "table wider than the terminal"
assert_contains narrow.txt "ID"
"$HOPS" runs list >wide.txt
assert_contains wide.txt "acc=0.95"
ok "tables fit the terminal width"

"$HOPS" runs compare "$R1" "$R2" >cmp.txt
grep -q '^\* *params.lr' cmp.txt || { cat cmp.txt; fail "differing param not marked"; }
grep -q '^\* *metrics.acc' cmp.txt || { cat cmp.txt; fail "differing metric not marked"; }
grep -q '^  *params.opt' cmp.txt || { cat cmp.txt; fail "equal param marked"; }
"$HOPS" runs compare "$R1" "$R2" "$R3" --json >cmp.json
"$PY" - cmp.json <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
rows = {r["field"]: r for r in doc["rows"]}
assert len(doc["runs"]) == 3
assert rows["params.lr"]["differs"] and not rows["params.opt"]["differs"]
assert rows["experiment"]["values"] == ["alpha", "alpha", "beta"]
PY
expect_code 2 "$HOPS" runs compare "$R1"
ok "compare shows params and metrics side by side and marks differences"

P=$(printf %s "$R1" | cut -c1-13)
expect_code 0 "$HOPS" runs show "$P" --json
assert_eq "$(jget '["id"]' <"$T/out")" "$R1"
expect_code 4 "$HOPS" runs show 0
assert_contains "$T/err" "ambiguous"
"$HOPS" runs show "$R1" >show.txt
assert_contains show.txt "lr"
assert_contains show.txt "tensorboard --logdir"
ok "show by id; an ambiguous prefix is refused listing candidates"

DIR=$("$HOPS" runs show "$R1" --json | jget '["run_dir"]')
expect_code 0 "$HOPS" runs delete "$R1"
[ ! -e "$DIR" ] || fail "run directory still there"
expect_code 4 "$HOPS" runs show "$R1"
assert_eq "$(sqlite3 .hops/hops.db "SELECT count(*) FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.uid = '$R1'")" 0
assert_eq "$("$HOPS" runs list --json | jget '.__len__()')" 3
ok "delete removes the run's rows and files"
