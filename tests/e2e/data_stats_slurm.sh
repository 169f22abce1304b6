# `hops data stats FILE --ranks N --executor slurm` on a real single-node
# Slurm (tests/e2e/slurm_local.sh): N srun tasks each compute their byte
# range's sketches, the merge equals the single-process statistics (exactly
# for counts, nulls, min, max, mean and classes; sketches within their
# errors). Skips (77) only when slurmctld is not installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/slurm_local.sh"
SD=$T/slurm
mkdir -p "$SD"
cleanup_slurm() { slurm_local_stop "$SD"; cleanup; }
trap cleanup_slurm EXIT
slurm_local_start "$SD"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

"$PY" - <<'PY'
import random
r = random.Random(11)
with open("d.csv", "w") as f:
    f.write("x,n,cat,label\n")
    for i in range(60000):
        x = "" if r.random() < 0.05 else "%.5f" % r.gauss(3, 2)
        f.write("%s,%d,%s,%d\n" % (x, r.randint(-50, 50), r.choice("abcdefg"), r.random() < 0.15))
PY
"$HOPS" data stats d.csv --label label --correlation --json >single.json
for n in 1 2; do
    expect_code 0 "$HOPS" data stats d.csv --label label --correlation --ranks $n --executor slurm --json
    cp "$T/out" slurm$n.json
    "$PY" "$HOPS_SOURCE_DIR/tests/e2e/stats_compare.py" single.json slurm$n.json
done
ok "--ranks 1 and 2 as Slurm tasks equal the single-process statistics"
assert_eq "$(squeue -h | wc -l)" 0 "(the tasks' job must be gone)"
[ -z "$(ls "${TMPDIR:-/tmp}" | grep '^hops-stats-' || true)" ] || fail "partial states left behind"
ok "no job and no partial state left behind"

expect_code 2 "$HOPS" data stats d.csv --executor slurm
assert_contains "$T/err" "goes with --ranks"
expect_code 2 "$HOPS" data stats d.csv --ranks 2 --executor yarn
expect_code 2 "$HOPS" data stats d.csv --slurm-part /tmp
assert_contains "$T/err" "SLURM_PROCID"
ok "bad --executor uses are refused clearly"
