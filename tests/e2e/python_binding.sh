#!/bin/sh
# End-to-end: the Python binding (python/hops) with the real hops binary and
# libhops.so. The checks themselves are in python_binding.py.
#   env: HOPS_BIN, HOPS_BUILD_DIR (holds libhops.so), HOPS_SOURCE_DIR, HOPS_SANITIZE
set -e
: "${HOPS_BIN:?}" "${HOPS_BUILD_DIR:?}" "${HOPS_SOURCE_DIR:?}"

PY=/usr/bin/python3
HELPER=$HOPS_SOURCE_DIR/tests/e2e/python_binding.py
PYTHONPATH=$HOPS_SOURCE_DIR/python
HOPS_LIB=$HOPS_BUILD_DIR/libhops.so
export HOPS_BIN PYTHONPATH HOPS_LIB
unset HOPS_PROJECT HOPS_REPORT HOPS_RUN_ID HOPS_RUN_DIR HOPS_PARAMS HOPS_EXPERIMENT

# A sanitizer-built libhops.so needs the ASan runtime first in the interpreter.
# Only the Python that loads it gets these (not hops, whose leak checks stay on).
preload=
case $HOPS_SANITIZE in
[Oo][Nn] | 1 | [Tt][Rr][Uu][Ee] | [Yy][Ee][Ss])
    preload="LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0" ;;
esac

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
cd "$T"
"$HOPS_BIN" init >/dev/null

echo "python_binding: hops.report under hops run"
"$HOPS_BIN" run -p lr=0.1 -p name=x -- "$PY" "$HELPER" trial
"$PY" "$HELPER" check-trial

echo "python_binding: hops.report outside hops"
"$PY" "$HELPER" outside

echo "python_binding: hops.experiment.launch"
# shellcheck disable=SC2086 # $preload is zero or two words
env $preload "$PY" "$HELPER" launch
"$PY" "$HELPER" check-launch

echo "python_binding: ok"
