#!/bin/sh
# End-to-end: the Python binding (python/hops) with the real hops binary and
# libhops.so: hops.report under `hops run`, hops.experiment.launch in process.
# The checks themselves are in python_binding.py.
. "$(dirname "$0")/lib.sh"

HELPER=$HOPS_SOURCE_DIR/tests/e2e/python_binding.py
PYTHONPATH=$HOPS_SOURCE_DIR/python
HOPS_LIB=$HOPS_BUILD_DIR/libhops.so
export HOPS_BIN PYTHONPATH HOPS_LIB
unset HOPS_EXPERIMENT

# A sanitizer-built libhops.so needs the ASan runtime first in the interpreter.
# Only the Python that loads it gets these (not hops, whose leak checks stay on).
preload=
case ${HOPS_SANITIZE:-} in
[Oo][Nn] | 1 | [Tt][Rr][Uu][Ee] | [Yy][Ee][Ss])
    preload="LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0" ;;
esac

"$HOPS" init >/dev/null

"$HOPS" run -p lr=0.1 -p name=x -- "$PY" "$HELPER" trial
"$PY" "$HELPER" check-trial
ok "hops.report under hops run: steps, NaN/Infinity, finals"

"$PY" "$HELPER" outside
ok "hops.report outside hops raises RuntimeError"

# shellcheck disable=SC2086 # $preload is zero or two words
env $preload "$PY" "$HELPER" launch
"$PY" "$HELPER" check-launch
ok "hops.experiment.launch: zipped args, returns, FAILED/KILLED runs"
