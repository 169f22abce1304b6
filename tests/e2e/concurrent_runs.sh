# Two `hops run` processes write to one project at once: no "database is
# locked" failure and no lost points.
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
N=${N:-20000}
cat >flood.sh <<'TRIAL'
i=0
while [ $i -lt $1 ]; do
    echo "{\"step\": $i, \"metrics\": {\"x\": $i, \"y\": 1}}"
    i=$((i + 1))
done >>"$HOPS_REPORT"
TRIAL

"$HOPS" run --quiet --json -e a -- sh flood.sh "$N" >a.json 2>a.err &
A=$!
"$HOPS" run --quiet --json -e b -- sh flood.sh "$N" >b.json 2>b.err &
B=$!
"$HOPS" run --quiet --json -e c -- sh flood.sh "$N" >c.json 2>c.err &
C=$!
wait $A || fail "run a failed: $(cat a.err)"
wait $B || fail "run b failed: $(cat b.err)"
wait $C || fail "run c failed: $(cat c.err)"
if grep -il "locked\|busy" a.err b.err c.err; then fail "a writer saw the lock"; fi

for f in a b c; do
    id=$(run_id_of $f.json)
    "$HOPS" runs show "$id" --json >show.json
    assert_eq "$(jget '["state"]' <show.json)" FINISHED
    assert_eq "$(jget '["series"]["x"]["points"]' <show.json)" "$N"
    assert_eq "$(jget '["series"]["y"]["points"]' <show.json)" "$N"
    assert_eq "$(jget '["series"]["x"]["last_value"]' <show.json)" "$((N - 1)).0"
done
assert_eq "$(sqlite3 .hops/hops.db 'SELECT count(*) FROM metrics')" "$((6 * N))"
assert_eq "$(sqlite3 .hops/hops.db 'PRAGMA integrity_check')" ok
ok "three concurrent runs: every point of every run is stored"
