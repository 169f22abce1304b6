# A distributed job whose rank dies or hangs never hangs `hops launch`: the
# others get --fail-timeout seconds, are stopped, and the run is FAILED naming
# the task; the job timeout, a command that does not exist, Ctrl-C and bad
# options each end the job with a clear status. (Every hops launch here runs
# under timeout(1), so a hang fails the test instead of blocking it.)
. "$(dirname "$0")/lib.sh"
"$HOPS" init >/dev/null
L() { timeout 120 "$HOPS" launch "$@"; }

# worker:0 dies with code 3; the chief would wait forever for it.
cat >dies.py <<'PY'
import os, sys, time
if os.environ["HOPS_TASK_TYPE"] == "worker":
    print("worker giving up", flush=True)
    sys.exit(3)
time.sleep(600)
PY
expect_code 3 L --workers 2 --fail-timeout 1 --json -- "$PY" dies.py
assert_eq "$(tail -n 1 "$T/out" | jget '["state"]')" FAILED
assert_eq "$(tail -n 1 "$T/out" | jget '["failed_task"]')" worker:0
RUN=$(run_id_of "$T/out")
"$HOPS" runs show "$RUN" --json >show.json
assert_eq "$(jget '["reason"]' <show.json)" "worker:0 exited with code 3"
assert_eq "$(jget '["exit_code"]' <show.json)" 3
assert_contains "$T/err" "task worker:0"
pgrep -f "dies.py" >/dev/null && fail "a task of the failed job is still running"
ok "a rank that dies: the blocked chief is stopped after --fail-timeout; FAILED naming worker:0, exit 3"

# The chief ends; worker:1 hangs.
cat >hangs.py <<'PY'
import os, time
if os.environ["HOPS_TASK_TYPE"] == "worker" and os.environ["HOPS_TASK_INDEX"] == "1":
    time.sleep(600)
PY
expect_code 124 L --workers 3 --fail-timeout 1 --json -- "$PY" hangs.py
assert_eq "$(tail -n 1 "$T/out" | jget '["failed_task"]')" worker:1
RUN=$(run_id_of "$T/out")
"$HOPS" runs show "$RUN" --json >show.json
assert_contains show.json "worker:1 did not end within 1 s of"
ok "a rank that hangs: stopped --fail-timeout after the first trainer ended; FAILED naming worker:1, exit 124"

# A task killed by a signal.
expect_code 137 L --workers 2 --fail-timeout 1 --json -- sh -c '[ "$HOPS_TASK_TYPE" = chief ] && kill -9 $$; sleep 600'
assert_eq "$(tail -n 1 "$T/out" | jget '["failed_task"]')" chief:0
"$HOPS" runs show "$(run_id_of "$T/out")" --json >show.json
assert_contains show.json "chief:0 was terminated by signal 9"
ok "a rank killed by SIGKILL: FAILED naming it, exit 137"

# A parameter server that dies fails the job.
expect_code 5 L --workers 1 --ps 1 --fail-timeout 1 --json -- sh -c '[ "$HOPS_TASK_TYPE" = ps ] && exit 5; sleep 600'
assert_eq "$(tail -n 1 "$T/out" | jget '["failed_task"]')" ps:0
ok "a parameter server that dies: FAILED naming ps:0"

# The whole job's timeout.
expect_code 124 L --workers 2 --timeout 1 --json -- sleep 600
"$HOPS" runs show "$(run_id_of "$T/out")" --json >show.json
assert_contains show.json "did not end within its timeout of 1 s"
ok "--timeout stops the job: FAILED, exit 124"

# A command that does not exist.
expect_code 127 L --workers 2 --json -- ./no-such-program
assert_eq "$(tail -n 1 "$T/out" | jget '["state"]')" FAILED
assert_contains "$T/err" "command not found"
ok "a missing command: FAILED, exit 127"

# SIGTERM to hops launch reaches every task; the run is KILLED.
set +e
"$HOPS" launch --workers 2 --json -- sh -c 'echo $$ >"pid.$HOPS_TASK_TYPE.$HOPS_TASK_INDEX"; sleep 600' >killed.out 2>killed.err &
LPID=$!
( sleep 100; kill -9 "$LPID" ) >/dev/null 2>&1 &   # a watchdog: a hang fails, never blocks
WATCHDOG=$!
set -e
for _ in $(seq 100); do [ -f pid.chief.0 ] && [ -f pid.worker.0 ] && break; sleep 0.1; done
kill -TERM "$LPID"
set +e; wait "$LPID"; code=$?; set -e
pkill -P "$WATCHDOG" 2>/dev/null || true; kill "$WATCHDOG" 2>/dev/null || true
assert_eq "$code" 143
assert_eq "$(tail -n 1 killed.out | jget '["state"]')" KILLED
for f in pid.chief.0 pid.worker.0; do
    kill -0 "$(cat $f)" 2>/dev/null && fail "task $f survived hops launch being stopped"
done
ok "SIGTERM to hops launch stops every task; the run is KILLED"

# Bad options: exit 2 before any run exists.
expect_code 2 "$HOPS" launch --workers 0 -- true
assert_contains "$T/err" "whole number from 1"
expect_code 2 "$HOPS" launch --ps -1 -- true
expect_code 2 "$HOPS" launch --executor yarn -- true
assert_contains "$T/err" "expected local, slurm or mpi"
expect_code 2 "$HOPS" launch --timeout soon -- true
expect_code 2 "$HOPS" launch --workers 2
assert_contains "$T/err" "no command given"
expect_code 2 "$HOPS" launch --bogus -- true
"$HOPS" runs list --json >all.json
assert_eq "$("$PY" -c 'import json; print(len(json.load(open("all.json"))))')" 7
ok "bad options exit 2 and record nothing"
