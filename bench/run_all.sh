#!/bin/sh
# Run every executable benchmark in bench/ in turn (`make bench` calls this
# after `make`). Each benchmark prints its own results and exits non-zero only
# when something broke (a missed goal is reported, not fatal). Exits non-zero
# if any benchmark failed. Benchmarks read their settings from the environment
# (see each one's header), e.g. HOPS_BENCH_POINTS=200000 make bench.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.." || exit 1
failed=""
ran=0
for b in "$here"/*; do
    name=$(basename "$b")
    [ "$name" = run_all.sh ] && continue
    if [ ! -f "$b" ] || [ ! -x "$b" ]; then
        continue
    fi
    echo "==> bench/$name"
    ran=$((ran + 1))
    if ! "$b"; then
        echo "==> bench/$name FAILED" >&2
        failed="$failed $name"
    fi
    echo
done
if [ "$ran" -eq 0 ]; then
    echo "run_all.sh: no executable benchmarks in bench/" >&2
    exit 1
fi
if [ -n "$failed" ]; then
    echo "run_all.sh: failed:$failed" >&2
    exit 1
fi
echo "run_all.sh: $ran benchmark(s) ran"
