/* hops — private: the mergeable summaries behind `hops data stats`.
 *
 *   hash    a fast 64-bit string hash (wyhash-style multiply-mix)     sketch.c
 *   wr/rd   a little-endian byte format for shipping states           sketch.c
 *   xsum    an exact sum of doubles (a superaccumulator)              xsum.c
 *   kll     quantiles: a KLL sketch with a stated rank error          kll.c
 *   hll     distinct counts: HyperLogLog, 2^14 registers              hll.c
 *   freq    value counts: exact up to a limit, then Misra-Gries,
 *           with exact distinct counts while exact, HLL after         topk.c
 *   number  a fast, correctly rounded decimal parser                  stats_num.c
 *
 * Every summary merges with another of its kind (across chunks, threads and
 * processes) and serialises to bytes and back. None of them prints or exits;
 * the functions that allocate return 0, or -1 when out of memory.
 */
#ifndef HOPS_DATA_SKETCH_H
#define HOPS_DATA_SKETCH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/core.h"

/* Little-endian loads of 8 and 4 bytes at any alignment. */
static inline uint64_t hops__le64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint32_t hops__le32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

/* ---- hash (sketch.c) ---- */

/* A 64-bit hash of LEN bytes at P, good in every bit (HLL uses the top 14
 * bits for the register and the rest for the rank). Deterministic. */
uint64_t hops__hash64(const void *p, size_t len, uint64_t seed);

/* hops__hash64 of LEN <= 16 bytes with the seed SEED as mixed by it. */
static inline uint64_t hops__hash64_small(const void *key, size_t len, uint64_t seed)
{
    __extension__ typedef unsigned __int128 u128;
    const uint8_t *p = key;
    const uint64_t P0 = 0xa0761d6478bd642fULL, P1 = 0xe7037ed1a0b428dbULL;
    uint64_t a, b;
    if (len >= 4) {
        size_t q = (len >> 3) << 2;
        a = (uint64_t)hops__le32(p) << 32 | hops__le32(p + q);
        b = (uint64_t)hops__le32(p + len - 4) << 32 | hops__le32(p + len - 4 - q);
    } else if (len > 0) {
        a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) | p[len - 1];
        b = 0;
    } else
        a = b = 0;
    u128 r = (u128)(a ^ P1) * (b ^ seed);
    a = (uint64_t)r ^ P0 ^ len;
    b = (uint64_t)(r >> 64) ^ P1;
    r = (u128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* hops__hash64(P, LEN, 0) for LEN <= 16, inline: every field of a table is
 * hashed, and most fields are short. */
static inline uint64_t hops__hash64_short(const void *key, size_t len)
{
    return hops__hash64_small(key, len, 0x1ff5c2923a788d2cULL); /* seed 0 mixed: mix(P0, P1) */
}

/* Mix one 64-bit value into a well-spread one (splitmix64's finaliser). */
static inline uint64_t hops__mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* ---- serialisation (sketch.c) ---- */

/* A writer: appends little-endian values to B; FAILED sticks after the first
 * allocation failure so callers check once at the end. */
typedef struct {
    hops_buf b;
    int failed;
} hops_wr;

void hops__wr_u64(hops_wr *w, uint64_t v);
void hops__wr_f64(hops_wr *w, double v);
void hops__wr_bytes(hops_wr *w, const void *p, size_t n);
void hops__wr_str(hops_wr *w, const char *s); /* length-prefixed */

/* A reader over LEN bytes; BAD sticks after the first read past the end or a
 * value out of its range, and every later read returns zeros. */
typedef struct {
    const unsigned char *p;
    size_t len, pos;
    int bad;
} hops_rd;

uint64_t hops__rd_u64(hops_rd *r);
double hops__rd_f64(hops_rd *r);
/* A pointer to the next N bytes (borrowed from the reader's buffer), or NULL. */
const void *hops__rd_bytes(hops_rd *r, size_t n);
/* A length-prefixed string, owned by the caller (NULL when bad or no memory). */
char *hops__rd_str(hops_rd *r);
/* Read a count that must be at most MAX (else the reader goes bad). */
uint64_t hops__rd_count(hops_rd *r, uint64_t max);

/* ---- exact sum (xsum.c) ---- */

/* The exact sum of finite doubles in fixed point: 67 signed 64-bit digits
 * of 32 bits each, from 2^-1074 up. Adding is a few integer operations; the
 * result does not depend on the order of the additions or how they were
 * split and merged, so a mean is the same for 1 thread, 16 threads or 8
 * processes. Zero-initialise to start. */
#define HOPS_XSUM_DIGITS 67
#define HOPS_XSUM_ADDS_PER_CARRY 1024 /* each add moves a digit by < 2^52 */

typedef struct {
    int64_t d[HOPS_XSUM_DIGITS];
    uint32_t adds; /* since the last carry */
} hops_xsum;

void hops__xsum_carry(hops_xsum *s);

/* X must be finite. */
static inline void hops__xsum_add(hops_xsum *s, double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    uint64_t mant = u & ((1ULL << 52) - 1);
    unsigned e = (unsigned)((u >> 52) & 0x7ff);
    if (e)
        mant |= 1ULL << 52;
    else
        e = 1; /* subnormal: same scale as the smallest normal */
    unsigned pos = e - 1, lo = pos & 31, hi = pos >> 5;
    int64_t low = (int64_t)((mant << lo) & 0xffffffffULL), high = (int64_t)(mant >> (32 - lo));
    int64_t neg = -(int64_t)(u >> 63); /* 0 or -1: negate without a branch */
    s->d[hi] += (low ^ neg) - neg;
    s->d[hi + 1] += (high ^ neg) - neg;
    if (++s->adds == HOPS_XSUM_ADDS_PER_CARRY)
        hops__xsum_carry(s);
}

void hops__xsum_merge(hops_xsum *a, const hops_xsum *b);
/* The sum, correctly rounded to the nearest double (ties to even); ±inf on
 * overflow. */
double hops__xsum_round(const hops_xsum *s);
void hops__xsum_write(hops_wr *w, const hops_xsum *s);
void hops__xsum_read(hops_rd *r, hops_xsum *s);

/* ---- KLL quantile sketch (kll.c) ---- */

#define HOPS_KLL_K 512    /* the top level keeps about K items */
#define HOPS_KLL_BUF 4096 /* level 0: an unsorted buffer this long */
#define HOPS_KLL_MAX_LEVELS 60
#define HOPS_KLL_SAMPLE_MAX 16 /* blocks of at most 2^16 values for the sampler */

typedef struct {
    double *v; /* sorted, for levels >= 1 */
    uint32_t len, cap;
} hops_kll_level;

/* Level h holds items of weight 2^h; level 0 is an unsorted input buffer that
 * is sorted (radix sort) and compacted when full; a compaction keeps every
 * other item, starting at a random one of the first two, and doubles their
 * weight. Zero-initialise, then hops__kll_init. */
typedef struct {
    uint32_t k;
    uint32_t n_levels;
    uint64_t n;    /* values added (the total weight) */
    uint64_t rng;  /* xorshift state for the compaction coin */
    int compacted; /* 0: every value is still held, the answers are exact */
    uint64_t samp_w2; /* the sampler's blocks: the sum of their sizes squared */
    hops_kll_level samp; /* sampled items of weight 2^samp_h, unsorted */
    uint32_t samp_h;
    hops_kll_level lv[HOPS_KLL_MAX_LEVELS];
} hops_kll;

void hops__kll_init(hops_kll *s, uint64_t seed);
void hops__kll_free(hops_kll *s);
int hops__kll_flush(hops_kll *s); /* compact a full level 0 */

static inline int hops__kll_add(hops_kll *s, double x)
{
    hops_kll_level *l0 = &s->lv[0];
    if (l0->len == l0->cap && hops__kll_flush(s) != 0)
        return -1;
    l0->v[l0->len++] = x;
    s->n++;
    return 0;
}

/* hops__kll_add of X[0, N), in order. */
int hops__kll_add_n(hops_kll *s, const double *x, uint32_t n);

/* Add X[0, N) through a sampler below the compactors (the KLL paper's own
 * device for long streams): each block of 2^H consecutive values gives one,
 * chosen uniformly at random, at weight 2^H, so only one value in 2^H is
 * ever sorted. The chosen ones wait in a buffer like level 0's (samp), which
 * is sorted and compacted into level H + 1 when full. The N mod 2^H left
 * over go in blocks of the powers of two in their count, each one straight
 * into its level. H = 0 is hops__kll_add_n; H at most HOPS_KLL_SAMPLE_MAX.
 * The weights still sum to the values seen; the error this adds is in
 * hops__kll_rank_error. */
int hops__kll_add_sampled(hops_kll *s, const double *x, uint32_t n, unsigned h);

/* Add everything B holds to A (B is unchanged). */
int hops__kll_merge(hops_kll *a, const hops_kll *b);

/* The normalized rank error the sketch promises for every quantile (and CDF
 * value) at once, with 99% confidence: 0 while exact, else 2.446 / k^0.9433
 * (0.0068 for k = 512), the bound Apache DataSketches states for the same
 * compactor design (our level 0 is larger, which only lowers the error),
 * combined in quadrature with the sampler's Hoeffding bound when values went
 * through hops__kll_add_sampled. A histogram bin, the difference of two CDF
 * values, is within twice that. */
double hops__kll_rank_error(const hops_kll *s);

/* The sorted (value, weight) view of a sketch for queries. */
typedef struct {
    double *v;
    uint64_t *cum; /* cum[i]: total weight of v[0..i] */
    size_t n;
    uint64_t total;
    int exact;
} hops_kll_view;

int hops__kll_view(const hops_kll *s, hops_kll_view *out);
void hops__kll_view_free(hops_kll_view *v);
/* Quantile Q in [0,1]. Exact sketches interpolate linearly between order
 * statistics like numpy/pandas; others return the first item whose
 * cumulative weight reaches Q * n. NaN when empty. */
double hops__kll_quantile(const hops_kll_view *v, double q);
/* Estimated number of values < X (or <= X when INCLUSIVE). */
uint64_t hops__kll_rank(const hops_kll_view *v, double x, int inclusive);

void hops__kll_write(hops_wr *w, const hops_kll *s);
int hops__kll_read(hops_rd *r, hops_kll *s); /* s zeroed; -1 on a bad state */

/* ---- HyperLogLog (hll.c) ---- */

#define HOPS_HLL_P 14
#define HOPS_HLL_M (1u << HOPS_HLL_P)

typedef struct {
    uint8_t reg[HOPS_HLL_M];
} hops_hll;

static inline void hops__hll_add(hops_hll *h, uint64_t hash)
{
    uint32_t idx = (uint32_t)(hash >> (64 - HOPS_HLL_P));
    uint64_t w = hash << HOPS_HLL_P;
    uint8_t rank = w ? (uint8_t)(__builtin_clzll(w) + 1) : (uint8_t)(64 - HOPS_HLL_P + 1);
    uint8_t cur = h->reg[idx];
    h->reg[idx] = rank > cur ? rank : cur; /* branch-free: ranks are unpredictable */
}

void hops__hll_merge(hops_hll *a, const hops_hll *b);
/* Ertl's improved estimator (2017): unbiased from 0 to far beyond 2^40
 * without bias tables or a switch to linear counting. */
double hops__hll_estimate(const hops_hll *h);
/* The standard error 1.04 / sqrt(m). */
double hops__hll_std_error(void);

/* ---- value counts (topk.c) ---- */

typedef struct {
    uint64_t hash;
    uint64_t count;
    uint32_t off, len; /* the value's bytes in the arena (NUL-terminated) */
} hops_freq_entry;

/* Counts of distinct values (their bytes), exact while there are at most
 * EXACT_LIMIT of them; past that a Misra-Gries summary of KEEP counters
 * (reduced when it reaches 2 * KEEP): every reported count is at most ERR
 * below the true one, and any value not listed occurred at most ERR times;
 * ERR <= n / (KEEP + 1). While exact, the number of entries is the exact
 * distinct count; once not, a HyperLogLog of every value answers that.
 * Zero-initialise, then hops__freq_init. */
typedef struct {
    hops_freq_entry *e; /* dense, in insertion order (so arena offsets ascend) */
    size_t n, cap;
    uint64_t *slot; /* open addressing: (entry index + 1) | (hash >> 32) << 32 */
    size_t n_slots; /* a power of two, load <= 1/2; 0 before the first insert */
    char *arena;
    size_t arena_len, arena_cap;
    size_t exact_limit, keep;
    int exact;
    int hll_only; /* counting stopped: no entries, only the HLL (never exact) */
    uint64_t err;
    hops_hll *hll; /* NULL while exact */
} hops_freq;

void hops__freq_init(hops_freq *f, size_t exact_limit, size_t keep);
void hops__freq_free(hops_freq *f);
int hops__freq_add(hops_freq *f, const char *p, size_t len, uint64_t hash);
/* Stop counting values: drop every entry and keep only the distinct count
 * (HLL). For columns where value counts say nothing (a float column with
 * thousands of distinct values) and cost most of the pass. Merging with an
 * hll_only summary makes the result hll_only. */
int hops__freq_stop_counting(hops_freq *f);
/* Start loading the cache lines hops__freq_add(F, .., HASH) will touch. */
static inline void hops__freq_prefetch(const hops_freq *f, uint64_t hash)
{
    if (f->n_slots && !f->hll_only)
        __builtin_prefetch(&f->slot[(size_t)hash & (f->n_slots - 1)]);
    if (f->hll)
        __builtin_prefetch(&f->hll->reg[hash >> (64 - HOPS_HLL_P)]);
}
/* Add B's counts into A (A keeps its own limits). */
int hops__freq_merge(hops_freq *a, const hops_freq *b);
/* The distinct count: exact (*err = 0) or the HLL estimate (*err its
 * relative standard error). */
double hops__freq_distinct(const hops_freq *f, double *err);
/* The f->n entries by count (descending), ties by value (bytewise); *out
 * owned (free()), pointing into F. */
int hops__freq_sorted(const hops_freq *f, const hops_freq_entry ***out);
static inline const char *hops__freq_text(const hops_freq *f, const hops_freq_entry *e)
{
    return f->arena + e->off;
}
void hops__freq_write(hops_wr *w, const hops_freq *f);
int hops__freq_read(hops_rd *r, hops_freq *f); /* f zeroed; -1 on a bad state */

/* ---- numbers (stats_num.c) ---- */

/* Parse LEN bytes as a decimal number: [+-]? (D+ [. D*] | . D+) ([eE] [+-]? D+)?
 * with nothing before or after. Correctly rounded (Eisel-Lemire, falling back
 * to strtod for the rare hard cases); 1 on success, 0 when not a number or
 * not finite. */
int hops__parse_double(const char *p, size_t len, double *out);
/* Both at once: 1 for an integer ([+-]? D+ fitting in int64: *iout, and
 * *out its double), 2 for any other number (*out), 0 for not a number. */
int hops__parse_number(const char *p, size_t len, double *out, int64_t *iout);
/* [+-]? D+ fitting in int64: 1 and *out, else 0. */
int hops__parse_int64(const char *p, size_t len, int64_t *out);

#endif
