# `hops data stats FILE --ranks N` splits the file by byte ranges across N
# Open MPI ranks (mpirun) and merges their sketches: the results equal the
# single-process ones (exactly for counts, nulls, min, max, mean and class
# counts; quantiles and distinct counts within the stated sketch error).
. "$(dirname "$0")/lib.sh"

command -v mpirun >/dev/null || fail "mpirun (openmpi-bin) is needed"
[ -x "$HOPS_BUILD_DIR/hops-data-rank" ] || fail "hops-data-rank was not built (Open MPI missing?)"
if [ "$(id -u)" = 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# Open MPI's own allocations outlive MPI_Finalize; LeakSanitizer would count
# them against us. (The merge code is leak-checked by the unit tests.)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

"$PY" - <<'PY'
import random
r = random.Random(7)
with open("d.csv", "w") as f:
    f.write("x,n,cat,label\n")
    for i in range(120000):
        x = "" if r.random() < 0.05 else "%.5f" % r.gauss(3, 2)
        f.write("%s,%d,%s,%d\n" % (x, r.randint(-50, 50), r.choice("abcdefg"), r.random() < 0.15))
PY
"$HOPS" data stats d.csv --label label --correlation --json >single.json
for n in 1 2 3; do
    expect_code 0 "$HOPS" data stats d.csv --label label --correlation --ranks $n --json
    cp "$T/out" ranks$n.json
    "$PY" "$HOPS_SOURCE_DIR/tests/e2e/stats_compare.py" single.json ranks$n.json
done
ok "--ranks 1, 2 and 3 equal the single-process statistics"

expect_code 4 "$HOPS" data stats nosuch.csv --ranks 2
expect_code 2 "$HOPS" data stats d.csv --ranks 0
gzip -k d.csv
expect_code 2 "$HOPS" data stats d.csv.gz --ranks 2
assert_contains "$T/err" "gzip"
ok "bad --ranks uses are refused clearly"
