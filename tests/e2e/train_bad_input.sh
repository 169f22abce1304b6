# Bad input to `hops train` and `hops predict`: each is refused with a
# clear message (the file, line and column, or the missing column), the
# right exit code and no crash; a training that fails is recorded as a
# FAILED run with the reason. Also: --help everywhere.
. "$(dirname "$0")/lib.sh"

for cmd in "train" "predict" "model" "model list" "model show" "model versions" "model export" \
    "model best"; do
    # shellcheck disable=SC2086
    expect_code 0 "$HOPS" $cmd --help
    assert_contains "$T/out" "usage: hops"
done
expect_code 0 "$HOPS" --help
assert_contains "$T/out" "train --data D --label COL --model TYPE"

# Outside a project.
printf 'a,y\n1,0\n2,1\n' >t.csv
expect_code 3 "$HOPS" train --data t.csv --label y --model logistic
"$HOPS" init >/dev/null

cat >good.csv <<'CSV'
age,city,score,y
30,Oslo,1.5,yes
41,Lund,2.5,no
25,Oslo,0.5,yes
37,Umea,3.5,no
52,Lund,2.0,no
29,Oslo,1.0,yes
CSV

# Usage errors.
expect_code 2 "$HOPS" train --data good.csv --label y
assert_contains "$T/err" "which model?"
expect_code 2 "$HOPS" train --data good.csv --label y --model forest
assert_contains "$T/err" "unknown --model 'forest'"
expect_code 2 "$HOPS" train --data good.csv --label y --model mlp --hidden 0
assert_contains "$T/err" "hidden layer 1 has 0 units"
expect_code 2 "$HOPS" train --data good.csv --label y --model mlp --hidden 32,0,8
assert_contains "$T/err" "hidden layer 2 has 0 units"
expect_code 2 "$HOPS" train --data good.csv --label y --model mlp --lr -0.01
assert_contains "$T/err" "--lr (the learning rate) must be a positive number, not '-0.01'"
expect_code 2 "$HOPS" train --data good.csv --label y --model mlp --lr=-1
assert_contains "$T/err" "must be a positive number"
expect_code 2 "$HOPS" train --data good.csv --label y --model logistic --test-split 1
expect_code 2 "$HOPS" train --data good.csv --label y --model logistic --param nonsense=1
assert_contains "$T/err" "--param nonsense: not a setting of logistic models"
ok "usage errors"

# The label column: missing, entirely null, a single class.
expect_code 2 "$HOPS" train --data good.csv --label churned --model logistic
assert_contains "$T/err" "label column 'churned' is not in good.csv; its columns are: age, city, score, y"
printf 'a,y\n1,\n2,\n3,\n' >nulls.csv
expect_code 2 "$HOPS" train --data nulls.csv --label y --model logistic
assert_contains "$T/err" "the label column 'y' of nulls.csv is entirely null (3 rows)"
printf 'a,y\n1,yes\n2,yes\n3,\n' >one.csv
expect_code 2 "$HOPS" train --data one.csv --label y --model mlp
assert_contains "$T/err" "has a single class ('yes'): a classifier needs at least two"
ok "label: missing, null, one class"

# Values a model cannot use, with FILE:LINE:COLUMN.
cat >text.csv <<'CSV'
age,city,score,y
30,Oslo,1.5,yes
41,Lund,2.5,no
25,Oslo,lots,yes
37,Umea,3.5,no
CSV
expect_code 2 "$HOPS" train --data text.csv --label y --model logistic --test-split 0
assert_contains "$T/err" "text.csv:4:3: feature column 'score' is numeric but 'lots' is not a number"
cat >nan.csv <<'CSV'
age,city,score,y
30,Oslo,1.5,yes
41,Lund,NaN,no
25,Oslo,0.5,yes
CSV
expect_code 2 "$HOPS" train --data nan.csv --label y --model logistic --test-split 0
assert_contains "$T/err" "nan.csv:3:3: feature column 'score' is NaN"
printf 'age,y\n1,yes\n,no\n3,yes\n' >hole.csv
expect_code 2 "$HOPS" train --data hole.csv --label y --model logistic --test-split 0
assert_contains "$T/err" "hole.csv:3:1: feature column 'age' is empty (null)"
printf 'a,y\n1,2\n2,"x\n' >broken.csv
expect_code 2 "$HOPS" train --data broken.csv --label y --model linear
assert_contains "$T/err" "broken.csv:3"
expect_code 4 "$HOPS" train --data missing.csv --label y --model linear
ok "text, NaN and nulls in numeric features; malformed and missing files"

# A failed training is a FAILED run with the reason.
expect_code 0 "$HOPS" runs list --json
"$PY" -c "
import json
runs = json.load(open('$T/out'))
assert runs and all(r['state'] == 'FAILED' for r in runs), runs
" || fail "failed trainings not recorded as FAILED"
expect_code 0 "$HOPS" runs list --json --filter "state=FAILED"
ok "failed trainings are FAILED runs"

# Prediction: a column the model needs is missing (all of them named).
expect_code 0 "$HOPS" train --data good.csv --label y --model logistic --name g --test-split 0 --quiet
printf 'city,y,other\nOslo,yes,1\n' >fewer.csv
expect_code 2 "$HOPS" predict --model g --data fewer.csv
assert_contains "$T/err" "fewer.csv lacks 2 of the 3 columns the model was trained on: 'age', 'score'"
printf 'age,city,score\n30,Oslo,abc\n' >badpred.csv
expect_code 2 "$HOPS" predict --model g --data badpred.csv
assert_contains "$T/err" "badpred.csv:2:3: feature column 'score' is numeric but 'abc' is not a number"
expect_code 4 "$HOPS" predict --model nope --data good.csv
assert_contains "$T/err" "no model 'nope' in this project; models: g"
expect_code 4 "$HOPS" predict --model g:9 --data good.csv
assert_contains "$T/err" "model 'g' has no version 9; versions: 1"
expect_code 2 "$HOPS" predict --model g
expect_code 4 "$HOPS" model best g --metric accuracy
assert_contains "$T/err" "no version of model 'g' has the test metric 'accuracy'"
ok "predict: missing columns named, bad values located, unknown models"
