# `hops data stats --json` against pandas on generated data: exact counts,
# nulls, min, max, mean, std and class counts; quantiles, histograms and
# distinct counts within their stated errors; the same document for any
# thread count; CSV, gzip and JSON Lines alike.
. "$(dirname "$0")/lib.sh"
CHECK="$HOPS_SOURCE_DIR/tests/e2e/data_stats_check.py"

"$PY" - <<'PY'
import numpy as np, pandas as pd
rng = np.random.default_rng(7)

def frame(n):
    df = pd.DataFrame({
        "f": rng.normal(3.0, 2.0, n),
        "g": rng.lognormal(1.0, 1.5, n),
        "i": rng.integers(-1000, 1000, n).astype(float),
        "k": rng.integers(0, 50, n),
        "cat": rng.choice(["SE", "NO", "DK", "FI", "IS"], n, p=[.4, .3, .15, .1, .05]),
        "s": ["u%d" % v for v in rng.integers(0, n // 2, n)],
        "b": rng.choice(["true", "false"], n),
        "t": pd.date_range("2024-01-01", periods=n, freq="17min").strftime("%Y-%m-%dT%H:%M:%S"),
        "y": rng.choice([0, 1, 2], n, p=[.8, .15, .05]),
    })
    for col, rate in (("f", .05), ("g", .02), ("i", .1), ("cat", .01)):
        df.loc[rng.random(n) < rate, col] = np.nan
    df["i"] = df["i"].astype("Int64")
    return df

frame(40000).to_csv("big.csv", index=False)
small = frame(500)
small.to_csv("small.csv", index=False)
small.to_json("small.jsonl", orient="records", lines=True)
PY
ok "generated big.csv (40000 rows), small.csv and small.jsonl (500 rows)"

"$HOPS" data stats big.csv --label y --correlation --json >big.json
"$PY" "$CHECK" big.csv big.json --label y
assert_eq "$(jget '["columns"][0]["type"]' <big.json)" float
assert_eq "$(jget '["columns"][2]["type"]' <big.json)" int
assert_eq "$(jget '["columns"][4]["type"]' <big.json)" category
assert_eq "$(jget '["columns"][5]["type"]' <big.json)" string
assert_eq "$(jget '["columns"][6]["type"]' <big.json)" bool
assert_eq "$(jget '["columns"][7]["type"]' <big.json)" timestamp
ok "40000 rows: exact stats equal pandas, sketches within their stated errors, types inferred"
# Value counts: kept for the 50 ints of k, the categories and the 20000
# strings of s (Misra-Gries); dropped for the ~38000 distinct floats of f.
assert_eq "$(jget '["columns"][0]["top_tracked"]' <big.json)" false
assert_eq "$(jget '["columns"][0]["top_count_error"]' <big.json)" null
assert_eq "$(jget '["columns"][3]["top_tracked"]' <big.json)" true
assert_eq "$(jget '["columns"][3]["top_exact"]' <big.json)" true
assert_eq "$(jget '["columns"][5]["top_tracked"]' <big.json)" true
assert_eq "$(jget '["columns"][8]["top_tracked"]' <big.json)" true
ok "top values: counted for ints, categories and strings; not for 38000 distinct floats"

"$HOPS" data stats big.csv --label y --correlation --json --threads 1 >t1.json
"$HOPS" data stats big.csv --label y --correlation --json --threads 4 >t4.json
cmp t1.json t4.json || fail "--threads 1 and --threads 4 differ"
cmp t1.json big.json || fail "--threads 1 and the default differ"
ok "the same document byte for byte for 1, 4 and all threads"

HOPS_CHUNK_SIZE=4096 "$HOPS" data stats big.csv --label y --correlation --json >tiny.json
"$PY" "$CHECK" big.csv tiny.json --label y
"$PY" - big.json tiny.json <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["rows"] == b["rows"] and a["label"] == b["label"]
for ca, cb in zip(a["columns"], b["columns"]):
    for k in ("name", "type", "count", "nulls"):
        assert ca[k] == cb[k], (ca["name"], k)
    if "numeric" in ca:
        for k in ("min", "max", "mean"):
            assert ca["numeric"][k] == cb["numeric"][k], (ca["name"], k)
PY
ok "4 KiB chunks (hundreds of merges): counts, min, max, mean identical, the rest within error"

# Past about 2^19 numbers of a column the quantile sketches sample (one
# value in 2, 4, 8, 16 as the file goes on): quantiles still within the
# stated error, which now counts the sampler too, and the same document for
# any thread count.
"$PY" - <<'PY'
import numpy as np, pandas as pd
rng = np.random.default_rng(11)
n = 1100000
df = pd.DataFrame({"f": rng.normal(3.0, 2.0, n), "g": rng.lognormal(1.0, 1.5, n),
                   "y": rng.choice([0, 1, 2], n, p=[.8, .15, .05])})
df.loc[rng.random(n) < .05, "f"] = np.nan
df.to_csv("long.csv", index=False, float_format="%.6g")
PY
"$HOPS" data stats long.csv --label y --json >long.json
"$PY" "$CHECK" long.csv long.json --label y
"$PY" - long.json <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for c in doc["columns"][:2]:
    e = c["numeric"]["quantile_rank_error"]
    assert 0.0068046 < e < 0.0075, (c["name"], e)  # k's bound, plus a little for the sampler
PY
"$HOPS" data stats long.csv --label y --json --threads 1 >long1.json
cmp long.json long1.json || fail "sampled sketches: --threads 1 and the default differ"
ok "1.1M rows: sampled quantile sketches within their stated error, the same for any thread count"

"$HOPS" data stats small.csv --label y --json >small.json
"$PY" "$CHECK" small.csv small.json --label y
assert_eq "$(jget '["columns"][0]["numeric"]["quantile_rank_error"]' <small.json)" 0.0
ok "500 rows: the sketches are exact (quantiles interpolated like pandas, histogram = numpy)"

gzip -k big.csv
"$HOPS" data stats big.csv.gz --label y --correlation --json >gz.json
"$PY" - big.json gz.json <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
a.pop("file"); b.pop("file")
assert a == b, "gzip and plain differ"
PY
ok "big.csv.gz gives the same statistics as big.csv"

"$HOPS" data stats small.jsonl --label y --json >jsonl.json
assert_eq "$(jget '["format"]' <jsonl.json)" jsonl
"$PY" "$CHECK" small.jsonl jsonl.json --label y --jsonl
ok "JSON Lines: the same checks against pandas"
