"""Compare two `hops data stats --json` documents of the same file, one from
a single process and one merged from ranks (MPI or Slurm): exact fields
equal, sketched ones within their stated errors. Exits non-zero (assert) on
a difference.  usage: stats_compare.py SINGLE.json MERGED.json"""
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
assert a["rows"] == b["rows"], (a["rows"], b["rows"])
assert a["label"]["classes"] == b["label"]["classes"]
for ca, cb in zip(a["columns"], b["columns"]):
    assert ca["name"] == cb["name"]
    for k in ("count", "nulls"):
        assert ca[k] == cb[k], (ca["name"], k, ca[k], cb[k])
    if "numeric" in ca:
        na, nb = ca["numeric"], cb["numeric"]
        for k in ("min", "max", "mean"):
            assert na[k] == nb[k], (ca["name"], k, na[k], nb[k])
        assert abs(na["std"] - nb["std"]) <= 1e-12 * max(1.0, abs(na["std"])), (na["std"], nb["std"])
        n = ca["count"]
        err = na["quantile_rank_error"]
        for q in na["quantiles"]:
            # both within the stated rank error of the truth: within twice of each other in rank terms;
            # check the values are close relative to the spread instead of re-ranking here.
            spread = na["max"] - na["min"]
            assert abs(na["quantiles"][q] - nb["quantiles"][q]) <= 4 * err * spread + 1e-9, (q, na["quantiles"][q], nb["quantiles"][q])
    if ca.get("distinct") is not None:
        e = max(ca["distinct_error"], cb["distinct_error"])
        assert abs(ca["distinct"] - cb["distinct"]) <= 6 * e * max(ca["distinct"], 1) + 1, (ca["distinct"], cb["distinct"])
