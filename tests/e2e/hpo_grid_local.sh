# hops hpo run with a grid over local processes: every combination runs once
# as a hops run of the experiment, parameters reach the trial as HOPS_PARAMS
# and --name=value, the best is found, and bad input fails with a clear
# message and the documented exit code.
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
cat >trial.sh <<'TRIAL'
for a in "$@"; do
    case $a in --x=*) x=${a#--x=} ;; --opt=*) opt=${a#--opt=} ;; esac
done
[ -n "$x" ] && [ -n "$opt" ] || { echo "no args: $*" >&2; exit 3; }
case $HOPS_PARAMS in *"\"x\":$x"*) ;; *) echo "HOPS_PARAMS $HOPS_PARAMS lacks x=$x" >&2; exit 4 ;; esac
bonus=0; [ "$opt" = adam ] && bonus=10
echo "{\"step\": 0, \"metrics\": {\"score\": $x}}" >>"$HOPS_REPORT"
sleep 0.05
echo "{\"final\": {\"score\": $((x * 100 + bonus))}}" >>"$HOPS_REPORT"
TRIAL
cat >grid.json <<'SPEC'
{"name": "grid", "space": {"x": {"type": "int", "range": [1, 3]},
                            "opt": {"type": "categorical", "values": ["sgd", "adam"]}},
 "sampler": "grid", "direction": "max", "metric": "score", "args": true}
SPEC
expect_code 0 "$HOPS" hpo run grid.json --slots cpu=2 --json -- sh "$T/trial.sh"
assert_eq "$(jget '["state"]' <"$T/out")" FINISHED
assert_eq "$(jget '["trials"]' <"$T/out")" 6
assert_eq "$(jget '["finished"]' <"$T/out")" 6
assert_eq "$(jget '["best_value"]' <"$T/out")" 310.0
assert_contains "$T/err" "trial 0 started"
ok "grid: 6 trials, best found"

"$HOPS" hpo show grid --json >show.json
assert_eq "$(jget '["best"]["params"]["x"]' <show.json)" 3
assert_eq "$(jget '["best"]["params"]["opt"]' <show.json)" adam
assert_eq "$(jget '["counts"]["finished"]' <show.json)" 6
"$PY" - show.json <<'PYEOF'
import json, sys
doc = json.load(open(sys.argv[1]))
combos = sorted((t["params"]["x"], t["params"]["opt"]) for t in doc["trials"])
assert combos == sorted((x, o) for x in (1, 2, 3) for o in ("sgd", "adam")), combos
assert all(len(t["attempts"]) == 1 and t["attempts"][0]["state"] == "FINISHED" for t in doc["trials"])
PYEOF
"$HOPS" runs list -e grid --json >runs.json
assert_eq "$("$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))' <runs.json)" 6
assert_eq "$(jget '[0]["tags"]["hpo.trial"]' <runs.json)" 5
"$HOPS" hpo show grid >show.txt
assert_contains show.txt "best        310 (trial 5"
"$HOPS" hpo status grid >/dev/null
"$HOPS" hpo list >list.txt
assert_contains list.txt "grid"
ok "show / status / list; each trial is a run of the experiment"

# The spec may name the command itself.
cat >cmd.json <<SPEC
{"name": "cmd", "command": ["sh", "$T/trial.sh"], "space": {"x": [1, 2], "opt": ["adam"]},
 "sampler": "grid", "metric": "score", "args": true}
SPEC
expect_code 0 "$HOPS" hpo run cmd.json -q
assert_eq "$("$HOPS" hpo show cmd --json | jget '["best"]["value"]')" 210.0
ok "the spec's command"

# Bad input: each with its message and exit code.
expect_code 1 "$HOPS" hpo run grid.json -- sh "$T/trial.sh"
assert_contains "$T/err" "already has a search"
echo '{"space": {"lr": {"type": "float", "range": [0.1, 0.01]}}}' >bad1.json
expect_code 2 "$HOPS" hpo run bad1.json --name b1 -- true
assert_contains "$T/err" "space.lr: range .0.1, 0.01.: lo must be below hi"
echo '{"space": {"act": {"type": "categorical", "values": []}}}' >bad2.json
expect_code 2 "$HOPS" hpo run bad2.json --name b2 -- true
assert_contains "$T/err" "space.act: values is empty"
echo '{"space": {"x": {"type": "complex", "range": [1, 2]}}}' >bad3.json
expect_code 2 "$HOPS" hpo run bad3.json --name b3 -- true
assert_contains "$T/err" "space.x: unknown type 'complex'"
echo '{"space": {"x": [1, 2], "x": [3, 4]}}' >bad4.json
expect_code 2 "$HOPS" hpo run bad4.json --name b4 -- true
assert_contains "$T/err" "'x' is given twice"
expect_code 2 "$HOPS" hpo run grid.json --name b5 --executor kubernetes -- true
assert_contains "$T/err" "unknown executor 'kubernetes'"
expect_code 2 "$HOPS" hpo run grid.json --name b6 --slots cpu=two -- true
assert_contains "$T/err" "bad slots 'cpu=two'"
echo '{"space": {"x": [1, 2]}, "resources": {"gpu": 1}}' >gpu.json
expect_code 2 "$HOPS" hpo run gpu.json --name b8 --slots cpu=2 -- true
assert_contains "$T/err" "no trial could ever run"
expect_code 4 "$HOPS" hpo run missing.json -- true
assert_contains "$T/err" "missing.json"
expect_code 2 "$HOPS" hpo run bad1.json
expect_code 4 "$HOPS" hpo show nosuch
assert_contains "$T/err" "'nosuch' has no search"
expect_code 4 "$HOPS" hpo resume nosuch
expect_code 2 "$HOPS" hpo frobnicate
expect_code 2 "$HOPS" hpo run grid.json --name b9 --bogus -- true
ok "spec errors name the field; bad executor, slots, resources, names: clear messages"

# A trial that fails every time: retried, then the max-failures guard stops the search.
cat >fail.json <<'SPEC'
{"name": "hopeless", "space": {"x": [1, 100]}, "trials": 50, "retries": 1, "max_failures": 4}
SPEC
expect_code 1 "$HOPS" hpo run fail.json --slots cpu=1 -- sh -c 'echo "cannot open data.csv" >&2; exit 2'
assert_contains "$T/err" "max_failures is 4"
assert_contains "$T/err" "cannot open data.csv"
"$HOPS" hpo show hopeless --json >h.json
assert_eq "$(jget '["state"]' <h.json)" FAILED
[ "$(jget '["counts"]["trials"]' <h.json)" -le 3 ] || fail "the guard let too many trials start"
assert_eq "$(sqlite3 .hops/hops.db "SELECT count(*) FROM hpo_attempts a JOIN hpo h ON h.id = a.hpo_id JOIN experiments e ON e.id = h.experiment_id WHERE e.name = 'hopeless'")" 4
assert_eq "$(sqlite3 .hops/hops.db "SELECT max(attempts) FROM hpo_trials t JOIN hpo h ON h.id = t.hpo_id JOIN experiments e ON e.id = h.experiment_id WHERE e.name = 'hopeless'")" 2
ok "retries, then the max-failures guard stops a hopeless search (exit 1)"

# Every trial failing below the guard: the search ends, but not with exit 0.
echo '{"name": "allfail", "space": {"x": [1, 3]}, "sampler": "grid", "max_failures": 10}' >allfail.json
expect_code 1 "$HOPS" hpo run allfail.json -- false
assert_contains "$T/err" "no trial gave a value (3 failed)"
ok "a search where no trial gave a value exits 1"

# A command that does not exist is a failure of every trial too.
echo '{"name": "nocmd", "space": {"x": [1, 9]}, "max_failures": 2}' >nocmd.json
expect_code 1 "$HOPS" hpo run nocmd.json -- hops-no-such-program
assert_contains "$T/err" "command not found: hops-no-such-program"
ok "a missing command trips the guard"
