"""Deterministic CSV generator for bench/data_stats (not a benchmark itself:
this file is deliberately not executable, so bench/run_all.sh skips it).

    /usr/bin/python3 bench/data_gen.py OUT.csv [--mb 1024] [--seed 42]

Writes OUT.csv (via OUT.csv.tmp and a rename, so a killed run leaves no
half-written file behind) and OUT.csv.json with what was generated:
{"rows": N, "bytes": B, "seed": S, "mb": M, "version": V, "columns": [...]}.

Columns (header row first, comma-separated, LF line ends, no quoting needed):
    f0 .. f9   floats, each with its own distribution and about 5% nulls
               (3% .. 7.5%, a different rate per column); a null is an empty
               field. Printed with '%.6g' (so some use exponent notation).
    country    categorical: 20 ISO country codes, Zipf-like frequencies
    label      classes 0, 1, 2 with probabilities 0.85, 0.12, 0.03

The same --mb and --seed always give byte-identical output: the row count is
fixed from the size of the first chunk, and every chunk draws from its own
generator seeded with (seed, chunk index).
"""
import argparse
import json
import os
import sys

import numpy as np
import pandas as pd

VERSION = 1  # bump when the output for a given (mb, seed) changes
CHUNK_ROWS = 250_000
COUNTRIES = ["SE", "US", "DE", "GB", "FR", "NO", "FI", "DK", "NL", "ES",
             "IT", "PL", "JP", "CN", "IN", "BR", "CA", "AU", "CH", "IE"]
LABELS = np.array([0, 1, 2])
LABEL_P = [0.85, 0.12, 0.03]
NULL_RATES = [round(0.03 + 0.005 * i, 4) for i in range(10)]  # 3% .. 7.5%, mean 5.25%


def _floats(rng, i, n):
    # Ten shapes: centred, shifted, skewed, bounded, heavy-tailed, large scale.
    if i == 0:
        return rng.standard_normal(n)
    if i == 1:
        return rng.normal(100.0, 15.0, n)
    if i == 2:
        return rng.lognormal(3.0, 1.0, n)
    if i == 3:
        return rng.random(n)
    if i == 4:
        return rng.exponential(2.0, n)
    if i == 5:
        return rng.normal(-50.0, 200.0, n)
    if i == 6:
        return rng.uniform(-1000.0, 1000.0, n)
    if i == 7:
        return rng.gamma(2.0, 3.0, n)
    if i == 8:
        return rng.beta(2.0, 5.0, n)
    return (rng.pareto(3.0, n) + 1.0) * 1e5


def chunk(seed, index, n):
    """The DataFrame of chunk `index` (n rows)."""
    rng = np.random.default_rng([seed, index])
    cols = {}
    for i in range(10):
        x = _floats(rng, i, n)
        x[rng.random(n) < NULL_RATES[i]] = np.nan
        cols["f%d" % i] = x
    zipf = 1.0 / np.arange(1, len(COUNTRIES) + 1)
    cols["country"] = np.array(COUNTRIES)[rng.choice(len(COUNTRIES), n, p=zipf / zipf.sum())]
    cols["label"] = rng.choice(LABELS, n, p=LABEL_P)
    return pd.DataFrame(cols)


def to_csv(df, header):
    return df.to_csv(index=False, header=header, float_format="%.6g", na_rep="",
                     lineterminator="\n").encode("ascii")


def generate(out, mb, seed, progress=True):
    target = int(mb * 1024 * 1024)
    first = to_csv(chunk(seed, 0, CHUNK_ROWS), True)
    header_len = first.index(b"\n") + 1
    per_row = (len(first) - header_len) / CHUNK_ROWS
    rows = max(1, int(round((target - header_len) / per_row)))
    tmp = out + ".tmp"
    written, index, done = 0, 0, 0
    with open(tmp, "wb") as f:
        while done < rows:
            n = min(CHUNK_ROWS, rows - done)
            if index == 0 and n == CHUNK_ROWS:
                data = first
            else:
                df = chunk(seed, index, CHUNK_ROWS)
                data = to_csv(df.iloc[:n], index == 0)
            f.write(data)
            written += len(data)
            done += n
            index += 1
            if progress:
                print("\rdata_gen: %d / %d rows, %.0f MB" % (done, rows, written / 2**20),
                      end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    meta = {"version": VERSION, "mb": mb, "seed": seed, "rows": rows, "bytes": written,
            "columns": ["f%d" % i for i in range(10)] + ["country", "label"],
            "null_rates": NULL_RATES, "label_p": LABEL_P, "countries": COUNTRIES}
    with open(out + ".json.tmp", "w") as f:
        json.dump(meta, f, indent=1)
    os.replace(tmp, out)
    os.replace(out + ".json.tmp", out + ".json")
    return meta


def main():
    ap = argparse.ArgumentParser(description="generate the bench/data_stats CSV")
    ap.add_argument("out")
    ap.add_argument("--mb", type=float, default=1024)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    if a.mb <= 0:
        ap.error("--mb must be positive")
    meta = generate(a.out, a.mb, a.seed)
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
