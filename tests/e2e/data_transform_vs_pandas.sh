# `hops data transform` against the same computations in python3-pandas and
# the csv module, on generated data with nulls, quotes, commas and newlines:
# filter, fill-null, cast, standardize (ddof 0 and 1), one-hot, select/drop,
# all of them at once, and JSON Lines output.
. "$(dirname "$0")/lib.sh"

"$PY" - <<'PY'
import csv, random
random.seed(4)
names = ["Anna", "Smith, J", 'He said "hi"', "multi\nline", "Örjan", "x"]
with open("people.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["id", "age", "country", "score", "name", "flag"])
    for i in range(3000):
        age = "" if random.random() < 0.05 else str(random.randint(18, 80))
        country = "" if random.random() < 0.05 else random.choice(["SE", "NO", "DK", "FI", "IS"])
        score = "" if random.random() < 0.1 else repr(round(random.gauss(50, 15), 3))
        w.writerow([i, age, country, score, random.choice(names), random.choice(["yes", "no", "1", "0", "TRUE"])])
PY

check() { "$PY" - "$@" || fail "pandas disagrees: $*"; }

# ---- filter: the same rows, byte for byte, as pandas' mask picks
EXPR='age > 30 and country == "SE" or score is null or not (age <= 60 or country in ("NO", "DK"))'
"$HOPS" data transform people.csv -o f.csv --filter "$EXPR" --threads 4 >/dev/null
check people.csv f.csv <<'PY'
import csv, sys
import pandas as pd
df = pd.read_csv(sys.argv[1], keep_default_na=False, na_values=[""], float_precision="round_trip")
mask = ((df.age > 30) & (df.country == "SE")) | df.score.isna() | ~((df.age <= 60) | df.country.isin(["NO", "DK"]))
want = [r for r, keep in zip(list(csv.reader(open(sys.argv[1], newline="")))[1:], mask) if keep]
got = list(csv.reader(open(sys.argv[2], newline="")))[1:]
assert len(want) == mask.sum() and len(want) > 100, len(want)
assert got == want, (len(got), len(want))
PY
ok "--filter keeps exactly the rows pandas' mask keeps ($(($(wc -l <f.csv) - 1)) lines)"

# ---- fill-null, cast, standardize (ddof 0 and 1), one-hot, drop, together
"$HOPS" data transform people.csv -o all.csv --threads 3 \
    --fill-null country=XX --cast age:float,flag:bool --standardize score --one-hot country \
    --drop name --json >summary.json
check people.csv all.csv summary.json <<'PY'
import json, sys
import numpy as np
import pandas as pd
df = pd.read_csv(sys.argv[1], keep_default_na=False, na_values=[""], float_precision="round_trip")
got = pd.read_csv(sys.argv[2], keep_default_na=False, na_values=[""])
summary = json.load(open(sys.argv[3]))
country = df.country.fillna("XX")
dummies = pd.get_dummies(country, prefix="country", prefix_sep="=").astype(int)
want_cols = ["id", "age"] + list(dummies.columns) + ["score", "flag"]
assert list(got.columns) == want_cols, (list(got.columns), want_cols)
assert (got[dummies.columns].values == dummies.values).all()
assert got.age.equals(df.age.astype(float)) or np.allclose(got.age, df.age, equal_nan=True)
z = (df.score - df.score.mean()) / df.score.std(ddof=0)
assert np.allclose(got.score, z, rtol=1e-12, atol=1e-12, equal_nan=True)
assert (got.score.isna() == df.score.isna()).all()
flag = df.flag.astype(str).str.lower().map({"yes": True, "1": True, "true": True, "no": False, "0": False})
assert (got.flag.astype(str).str.lower() == flag.astype(str).str.lower()).all()
assert summary["rows_in"] == len(df) == summary["rows_out"]
s = summary["standardize"]["score"]
assert abs(s["mean"] - df.score.mean()) < 1e-9 and abs(s["std"] - df.score.std(ddof=0)) < 1e-9, s
assert s["count"] == df.score.count()
assert summary["one_hot"]["country"] == sorted(country.unique())
PY
ok "fill-null, cast, standardize (ddof 0), one-hot and drop match pandas"

"$HOPS" data transform people.csv -o std1.csv --standardize score,age --ddof 1 --select age,score >/dev/null
check people.csv std1.csv <<'PY'
import sys
import numpy as np
import pandas as pd
df = pd.read_csv(sys.argv[1], keep_default_na=False, na_values=[""], float_precision="round_trip")
got = pd.read_csv(sys.argv[2])
assert list(got.columns) == ["age", "score"]
for c in ("age", "score"):
    z = (df[c] - df[c].mean()) / df[c].std()  # pandas: ddof=1
    assert np.allclose(got[c], z, rtol=1e-12, atol=1e-12, equal_nan=True), c
PY
ok "--standardize --ddof 1 matches pandas' (x - mean) / std()"

# ---- filter and one-hot over the kept rows only; numeric categories sorted as numbers
"$HOPS" data transform people.csv -o hot.csv --filter 'age is not null and age < 25' --one-hot age --select id,age >/dev/null
check people.csv hot.csv <<'PY'
import sys
import pandas as pd
df = pd.read_csv(sys.argv[1], keep_default_na=False, na_values=[""], float_precision="round_trip")
kept = df[df.age < 25]
d = pd.get_dummies(kept.age.astype(int), prefix="age", prefix_sep="=").astype(int)
got = pd.read_csv(sys.argv[2])
assert list(got.columns) == ["id"] + list(d.columns), list(got.columns)
assert (got.id.values == kept.id.values).all()
assert (got[d.columns].values == d.values).all()
PY
ok "--one-hot of a numeric column: one column per value over the kept rows, in numeric order"

# ---- JSON Lines output: values typed, the rows and nulls as pandas reads them
"$HOPS" data transform people.csv -o out.jsonl --cast id:string --select id,age,score,name >/dev/null
check people.csv out.jsonl <<'PY'
import json, sys
import pandas as pd
df = pd.read_csv(sys.argv[1], keep_default_na=False, na_values=[""], float_precision="round_trip")
rows = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert len(rows) == len(df)
for r, (_, w) in zip(rows, df.iterrows()):
    assert list(r) == ["id", "age", "score", "name"]
    assert r["id"] == str(w.id)
    assert (r["age"] is None) == pd.isna(w.age) and (r["age"] is None or r["age"] == w.age)
    assert (r["score"] is None) == pd.isna(w.score) and (r["score"] is None or r["score"] == w.score)
    assert r["name"] == w["name"]
PY
ok "JSON Lines output: numbers as numbers, --cast string as strings, nulls as null"

# ---- and back: JSON Lines input to CSV gives the CSV the csv module wrote
"$HOPS" data transform out.jsonl -o back.csv >/dev/null
check people.csv back.csv <<'PY'
import csv, sys
want = [[r[0], r[1], r[3], r[4]] for r in csv.reader(open(sys.argv[1], newline=""))]
got = list(csv.reader(open(sys.argv[2], newline="")))
assert len(got) == len(want) and got[0] == want[0]
for g, w in zip(got[1:], want[1:]):
    # JSON does not keep 50.0 apart from 50: compare the scores as numbers.
    assert [g[0], g[1], g[3]] == [w[0], w[1], w[3]], (g, w)
    assert (g[2] == "") == (w[2] == "") and (g[2] == "" or float(g[2]) == float(w[2])), (g, w)
PY
ok "JSON Lines input converts back to the same CSV (numbers equal as numbers)"

# ---- a semicolon-separated input, no header
printf '1;a,b;x\n2;"q""";\n' >semi.csv
"$HOPS" data transform semi.csv -o semi-out.csv --delimiter ';' --no-header --filter 'c1 >= 1' >/dev/null
printf 'c1,c2,c3\n1,"a,b",x\n2,"q""",\n' >semi-want.csv
cmp semi-out.csv semi-want.csv || { cat semi-out.csv >&2; fail "semicolon input"; }
ok "read options: --delimiter ';' --no-header; output is RFC 4180 with commas"
