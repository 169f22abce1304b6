"""Check a `hops data stats --json` document against pandas/numpy.

usage: data_stats_check.py DATA STATS.json [--label COL] [--jsonl]

Exact: rows, count, nulls, min, max, mean (relative 1e-12), std (1e-9),
class counts, distinct counts and top values while the document says they are
exact. Sketched: each quantile's rank in the sorted data within
quantile_rank_error * n of q (n - 1); histogram counts within
count_error * n; distinct counts within 3 standard errors; every listed top
count at most top_count_error below the true one. Correlations to 1e-9.
Prints what it checked; exits 1 on the first mismatch.
"""
import json
import math
import sys

import numpy as np
import pandas as pd


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def close(a, b, rel, what):
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        if not (a is None and (b is None or (isinstance(b, float) and math.isnan(b)))):
            fail(f"{what}: hops {a!r}, pandas {b!r}")
        return
    if not math.isclose(a, b, rel_tol=rel, abs_tol=rel * 1e-3):
        fail(f"{what}: hops {a!r}, pandas {b!r} (rel {abs(a - b) / max(abs(b), 1e-300):.3g})")


def main():
    args = sys.argv[1:]
    path, stats_path = args[0], args[1]
    label = args[args.index("--label") + 1] if "--label" in args else None
    jsonl = "--jsonl" in args
    doc = json.load(open(stats_path))
    if jsonl:
        # Field text as the reader makes it: strings as they are, numbers as
        # integers or %.17g, booleans as true/false, null or missing as null.
        def as_text(v):
            if v is None:
                return None
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, float):
                return "%.17g" % v
            return v if isinstance(v, str) else json.dumps(v)
        rows = [json.loads(line) for line in open(path) if line.strip()]
        names = [c["name"] for c in doc["columns"]]
        text = pd.DataFrame({k: [as_text(r.get(k)) for r in rows] for k in names}, dtype=object)
    else:
        # Nulls are empty fields only, as hops reads them.
        text = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=str)
    df = text
    if doc["rows"] != len(df):
        fail(f"rows: hops {doc['rows']}, pandas {len(df)}")
    names = [c["name"] for c in doc["columns"]]
    if names != list(df.columns):
        fail(f"columns: hops {names}, pandas {list(df.columns)}")
    checked = 0
    for col in doc["columns"]:
        name = col["name"]
        s = df[name]
        what = f"column {name}"
        if col["count"] != int(s.notna().sum()) or col["nulls"] != int(s.isna().sum()):
            fail(f"{what}: count/nulls hops {col['count']}/{col['nulls']}, pandas "
                 f"{int(s.notna().sum())}/{int(s.isna().sum())}")
        num = col.get("numeric")
        if col["type"] in ("int", "float"):
            if num is None:
                fail(f"{what}: a numeric column without \"numeric\"")
            v = s.dropna().map(float).astype(float)
            close(num["min"], float(v.min()), 0, what + " min")
            close(num["max"], float(v.max()), 0, what + " max")
            close(num["mean"], float(v.mean()), 1e-12, what + " mean")
            close(num["std"], float(v.std()) if len(v) > 1 else None, 1e-9, what + " std")
            srt = np.sort(v.to_numpy())
            n = len(srt)
            eps = num["quantile_rank_error"]
            for key, q in (("p1", .01), ("p25", .25), ("p50", .5), ("p75", .75), ("p99", .99)):
                got = num["quantiles"][key]
                if eps == 0:
                    close(got, float(v.quantile(q)), 1e-12, f"{what} {key} (exact)")
                    continue
                lo = np.searchsorted(srt, got, "left")
                hi = np.searchsorted(srt, got, "right")
                target = q * (n - 1)
                slack = eps * n + 1
                if not (lo - slack <= target <= hi + slack):
                    fail(f"{what} {key}: {got} has rank [{lo}, {hi}] of {n}, wanted {target:.1f} "
                         f"within {eps} * n = {eps * n:.1f}")
            h = num["histogram"]
            edges = np.array(h["edges"])
            want_edges = np.histogram_bin_edges(srt, bins=len(edges) - 1)
            if not np.allclose(edges, want_edges, rtol=1e-12, atol=0):
                fail(f"{what} histogram edges {edges} != numpy {want_edges}")
            want_counts, _ = np.histogram(srt, bins=want_edges)
            err = h["count_error"] * n
            for got_c, want_c in zip(h["counts"], want_counts):
                if abs(got_c - want_c) > err + (0 if err == 0 else 1):
                    fail(f"{what} histogram counts {h['counts']} vs numpy {list(want_counts)} "
                         f"(allowed {err:.1f})")
            if sum(h["counts"]) != n:
                fail(f"{what} histogram counts sum to {sum(h['counts'])}, not {n}")
        elif num is not None:
            fail(f"{what}: type {col['type']} with \"numeric\"")
        t = text[name].dropna()
        vc = t.value_counts()
        true_distinct = len(vc)
        if col["distinct_error"] == 0:
            if col["distinct"] != true_distinct:
                fail(f"{what} distinct: hops {col['distinct']}, pandas {true_distinct} (exact)")
        elif abs(col["distinct"] - true_distinct) > 3 * col["distinct_error"] * true_distinct:
            fail(f"{what} distinct: hops {col['distinct']}, pandas {true_distinct}, beyond 3 "
                 f"standard errors of {col['distinct_error']}")
        if not col["top_tracked"]:
            # Value counts stop for a column of numbers with more distinct
            # values than a chunk counts exactly: no top values, no error.
            if col["top"] or col["top_exact"] or col["top_count_error"] is not None:
                fail(f"{what}: untracked top values with {col['top']}, top_exact "
                     f"{col['top_exact']}, top_count_error {col['top_count_error']}")
            if num is None or col["distinct_error"] == 0:
                fail(f"{what}: top values untracked for a column that is not numeric, "
                     f"or whose distinct count is exact")
            checked += 1
            continue
        err = col["top_count_error"]
        if col["top_exact"] != (err == 0):
            fail(f"{what}: top_exact {col['top_exact']} with top_count_error {err}")
        for e in col["top"]:
            true = int(vc.get(e["value"], 0))
            if not (true - err <= e["count"] <= true):
                fail(f"{what} top value {e['value']!r}: hops {e['count']}, true {true} "
                     f"(error allowed {err})")
        if col["top_exact"]:
            want = sorted(vc.items(), key=lambda kv: (-kv[1], kv[0]))[:len(col["top"])]
            got = [(e["value"], e["count"]) for e in col["top"]]
            if got != want:
                fail(f"{what} top: hops {got}, pandas {want}")
        checked += 1
    if label:
        lab = doc["label"]
        vc = text[label].dropna().value_counts()
        got = {c["value"]: c["count"] for c in lab["classes"]}
        if got != {k: int(v) for k, v in vc.items()}:
            fail(f"label classes: hops {got}, pandas {dict(vc)}")
        close(lab["imbalance_ratio"], float(vc.max() / vc.min()), 1e-12, "imbalance ratio")
    corr = doc.get("correlation")
    if corr is not None and len(corr["columns"]) > 1:
        want = df[corr["columns"]].apply(lambda c: c.map(lambda t: np.nan if t is None or
                                                         (isinstance(t, float) and math.isnan(t))
                                                         else float(t))).astype(float).corr()
        for i, a in enumerate(corr["columns"]):
            for j, b in enumerate(corr["columns"]):
                w = want.loc[a, b]
                got = corr["matrix"][i][j]
                if got is None or math.isnan(w):
                    if not (got is None and math.isnan(w)):
                        fail(f"correlation {a},{b}: hops {got}, pandas {w}")
                elif abs(got - w) > 1e-9:
                    fail(f"correlation {a},{b}: hops {got}, pandas {w}")
    print(f"ok: {checked} columns of {len(df)} rows match pandas"
          + (f", label {label}" if label else "")
          + (f", {len(corr['columns'])}x{len(corr['columns'])} correlations" if corr else ""))


if __name__ == "__main__":
    main()
