# hops' metrics equal scikit-learn's on the same predictions (relative
# tolerance 1e-6): accuracy, precision, recall, F1 (macro), log loss, ROC AUC
# and the confusion matrix for a binary and a multiclass model, RMSE, MAE and
# R^2 for a regression. `hops predict --json` reports the metrics when the
# data has the label; `hops predict -o` writes the probabilities they come
# from (17 significant digits, so Python reads the same doubles).
. "$(dirname "$0")/lib.sh"

"$PY" - <<'PYEOF'
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.model_selection import train_test_split
def write(name, d, names=None):
    X, y = d.data, d.target
    labels = [str(names[t]) for t in y] if names is not None else [repr(float(t)) for t in y]
    Xtr, Xte, ytr, yte = train_test_split(X, labels, test_size=0.3, random_state=1)
    for part, XX, yy in (("train", Xtr, ytr), ("test", Xte, yte)):
        with open("%s.%s.csv" % (name, part), "w") as f:
            f.write(",".join("f%d" % i for i in range(X.shape[1])) + ",label\n")
            for row, t in zip(XX, yy):
                f.write(",".join(repr(float(v)) for v in row) + "," + t + "\n")
write("bc", load_breast_cancer(), ["malignant", "benign"])
write("wine", load_wine(), ["a", "b", "c"])
write("diabetes", load_diabetes())
PYEOF
"$HOPS" init >/dev/null

check() { # NAME MODEL ARGS...: train on NAME.train.csv, predict NAME.test.csv, compare
    name=$1
    shift
    expect_code 0 "$HOPS" train --data "$name.train.csv" --label label --name "$name" --quiet "$@"
    expect_code 0 "$HOPS" predict --model "$name" --data "$name.test.csv" -o "$name.pred.csv"
    expect_code 0 "$HOPS" predict --model "$name" --data "$name.test.csv" --json
    cp "$T/out" "$name.hops.json"
    "$PY" - "$name" <<'PYEOF'
import csv, json, math, sys
import numpy as np
from sklearn import metrics as M
name = sys.argv[1]
hops = json.load(open(name + ".hops.json"))["metrics"]
truth = [r["label"] for r in csv.DictReader(open(name + ".test.csv"))]
rows = list(csv.DictReader(open(name + ".pred.csv")))
def close(key, got, want):
    if not math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-12):
        sys.exit("%s %s: hops %r, sklearn %r" % (name, key, got, want))
if not any(k.startswith("p_") for k in rows[0]):
    y = np.array([float(t) for t in truth]); p = np.array([float(r["prediction"]) for r in rows])
    close("rmse", hops["rmse"], math.sqrt(M.mean_squared_error(y, p)))
    close("mae", hops["mae"], M.mean_absolute_error(y, p))
    close("r2", hops["r2"], M.r2_score(y, p))
else:
    classes = [k[2:] for k in rows[0] if k.startswith("p_")]
    proba = np.array([[float(r["p_" + c]) for c in classes] for r in rows])
    pred = [r["prediction"] for r in rows]
    close("accuracy", hops["accuracy"], M.accuracy_score(truth, pred))
    close("precision", hops["precision"], M.precision_score(truth, pred, average="macro", zero_division=0))
    close("recall", hops["recall"], M.recall_score(truth, pred, average="macro", zero_division=0))
    close("f1", hops["f1"], M.f1_score(truth, pred, average="macro", zero_division=0))
    close("log_loss", hops["log_loss"], M.log_loss(truth, proba, labels=classes))
    if len(classes) == 2 and len(set(truth)) == 1:
        assert hops["roc_auc"] is None, hops
    elif len(classes) == 2:
        close("roc_auc", hops["roc_auc"], M.roc_auc_score([classes.index(t) for t in truth], proba[:, 1]))
    cm = M.confusion_matrix(truth, pred, labels=classes).tolist()
    if cm != hops["confusion_matrix"]["matrix"] or classes != hops["confusion_matrix"]["classes"]:
        sys.exit("%s confusion matrix: hops %r, sklearn %r" % (name, hops["confusion_matrix"], cm))
    assert all(p == classes[int(np.argmax(q))] for p, q in zip(pred, proba))
print("ok: %s metrics equal scikit-learn's" % name)
PYEOF
}
check bc --model logistic
# Rows of one class only: the macro averages are over the classes present,
# as scikit-learn's; ROC AUC is undefined (null).
head -1 bc.test.csv >bc1.test.csv
grep ',benign$' bc.test.csv | head -20 >>bc1.test.csv
cp bc.train.csv bc1.train.csv
check bc1 --model logistic --epochs 3
check wine --model softmax
check wine --model mlp --hidden 8 --epochs 3   # a weak model: errors in the matrix
check diabetes --model linear --l2 0.5
check diabetes --model gbdt --epochs 10 --param task=regression
ok "metrics match scikit-learn"
