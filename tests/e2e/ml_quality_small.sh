# Model quality against scikit-learn, the small version of bench/ml_quality:
# on iris and diabetes, with the same split and matched settings, hops'
# test accuracy (R^2 for diabetes) is within 1 point of LogisticRegression,
# MLPClassifier and Ridge.
. "$(dirname "$0")/lib.sh"

HOPS_BIN=$HOPS "$PY" "$HOPS_SOURCE_DIR/bench/ml_quality" --check --models logistic,mlp,ridge \
    iris diabetes >"$T/table" 2>&1 || { cat "$T/table" >&2; fail "more than 1 point from scikit-learn"; }
cat "$T/table"
[ "$(grep -c ' ok$' "$T/table")" -eq 3 ] || fail "expected 3 judged rows"
ok "iris and diabetes within 1 point of scikit-learn"
