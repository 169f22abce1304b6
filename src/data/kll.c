/* KLL quantile sketch (Karnin, Lang, Liberty 2016), in the shape Apache
 * DataSketches uses: capacities shrinking by 2/3 per level below the top,
 * compactions that keep every other item of a sorted level from a random
 * start. Level 0 is a larger unsorted buffer, radix-sorted when full, so the
 * per-value cost is an append plus an amortised sort of 1024 doubles. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sketch.h"

#define MIN_LEVEL_CAP 8

void hops__kll_init(hops_kll *s, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->k = HOPS_KLL_K;
    s->n_levels = 1;
    s->rng = hops__mix64(seed + 0x9e3779b97f4a7c15ULL) | 1;
}

void hops__kll_free(hops_kll *s)
{
    for (int h = 0; h < HOPS_KLL_MAX_LEVELS; h++)
        free(s->lv[h].v);
    memset(s, 0, sizeof *s);
}

static int coin(hops_kll *s)
{
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return (int)((x * 0x2545f4914f6cdd1dULL) >> 63);
}

/* Capacity of level H (>= 1): k at the top, 2/3 of the level above below it. */
static uint32_t level_cap(const hops_kll *s, uint32_t h)
{
    uint32_t depth = s->n_levels - 1 - h, cap = s->k;
    for (uint32_t d = 0; d < depth && cap > MIN_LEVEL_CAP; d++)
        cap = (2 * cap + 1) / 3;
    return cap > MIN_LEVEL_CAP ? cap : MIN_LEVEL_CAP;
}

static int level_reserve(hops_kll_level *l, uint32_t need)
{
    if (need <= l->cap)
        return 0;
    uint32_t cap = l->cap ? l->cap : 16;
    while (cap < need)
        cap *= 2;
    double *v = realloc(l->v, (size_t)cap * sizeof *v);
    if (!v)
        return -1;
    l->v = v;
    l->cap = cap;
    return 0;
}

/* Merge sorted SRC[0..n) into the sorted level L (in place, from the back). */
static int level_merge_sorted(hops_kll_level *l, const double *src, uint32_t n)
{
    if (level_reserve(l, l->len + n) != 0)
        return -1;
    int64_t i = (int64_t)l->len - 1, j = (int64_t)n - 1, k = (int64_t)l->len + n - 1;
    while (j >= 0) {
        if (i >= 0 && l->v[i] > src[j])
            l->v[k--] = l->v[i--];
        else
            l->v[k--] = src[j--];
    }
    l->len += n;
    return 0;
}

static inline uint64_t to_key(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return (u >> 63) ? ~u : u | (1ULL << 63);
}

static inline double from_key(uint64_t k)
{
    uint64_t u = (k >> 63) ? k & ~(1ULL << 63) : ~k;
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* One LSD radix pass over byte SHIFT / 8 of the N keys in SRC into DST.
 * Two histograms, for even and odd keys, so runs of one byte value do not
 * serialise on one counter. */
static void radix_pass(const uint64_t *src, uint64_t *dst, uint32_t n, unsigned shift)
{
    uint32_t cnt[2][256];
    memset(cnt, 0, sizeof cnt);
    uint32_t i = 0;
    for (; i + 1 < n; i += 2) {
        cnt[0][(src[i] >> shift) & 0xff]++;
        cnt[1][(src[i + 1] >> shift) & 0xff]++;
    }
    if (i < n)
        cnt[0][(src[i] >> shift) & 0xff]++;
    uint32_t sum = 0;
    for (int x = 0; x < 256; x++) {
        uint32_t t = cnt[0][x] + cnt[1][x];
        cnt[0][x] = sum;
        sum += t;
    }
    for (i = 0; i < n; i++)
        dst[cnt[0][(src[i] >> shift) & 0xff]++] = src[i];
}

/* Finish sorting keys that are sorted by their high bytes: insertion sort,
 * giving up (0) once it has moved more than BUDGET keys. */
static int insertion_finish(uint64_t *k, uint32_t n, uint64_t budget)
{
    for (uint32_t i = 1; i < n; i++) {
        uint64_t x = k[i];
        if (x >= k[i - 1])
            continue;
        uint32_t j = i;
        do {
            k[j] = k[j - 1];
            j--;
        } while (j > 0 && k[j - 1] > x);
        k[j] = x;
        uint64_t moved = i - j;
        if (moved > budget)
            return 0; /* K is still a permutation, sorted by the high bytes */
        budget -= moved;
    }
    return 1;
}

/* Sort N <= HOPS_KLL_BUF doubles: LSD radix, 8 bits a pass, only over the
 * bytes that differ between keys (data in one range share their sign and
 * exponent bytes). First only the four highest of those bytes, then an
 * insertion sort puts the few keys that tie there in order; only when that
 * meets many ties (data that differ in their low bits only) do the
 * remaining bytes get their passes. */
static void radix_sort(double *v, uint32_t n)
{
    uint64_t a[HOPS_KLL_BUF], b[HOPS_KLL_BUF];
    uint64_t *src = a, *dst = b, diff = 0;
    int pass[8], n_pass = 0;
    if (n < 2)
        return;
    uint64_t k0 = to_key(v[0]);
    for (uint32_t i = 0; i < n; i++) {
        a[i] = to_key(v[i]);
        diff |= a[i] ^ k0;
    }
    for (int p = 0; p < 8; p++)
        if ((diff >> (8 * p)) & 0xff)
            pass[n_pass++] = p;
    int first = n_pass > 4 ? n_pass - 4 : 0;
    for (int p = first; p < n_pass; p++) {
        radix_pass(src, dst, n, 8 * (unsigned)pass[p]);
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (first > 0 && !insertion_finish(src, n, 2 * (uint64_t)n)) {
        /* Sorted by the high bytes is no help to LSD: start over from the
         * lowest byte (every pass is stable, so the result is exact). */
        for (int p = 0; p < n_pass; p++) {
            radix_pass(src, dst, n, 8 * (unsigned)pass[p]);
            uint64_t *t = src;
            src = dst;
            dst = t;
        }
    }
    for (uint32_t i = 0; i < n; i++)
        v[i] = from_key(src[i]);
}

/* Compact the sorted level H into H + 1: every other item from a random
 * start, at twice the weight; one item stays behind when the count is odd. */
static int compact(hops_kll *s, uint32_t h)
{
    hops_kll_level *l = &s->lv[h];
    uint32_t len = l->len, odd = len & 1, half = (len - odd) / 2;
    if (half == 0)
        return 0;
    if (h + 1 >= HOPS_KLL_MAX_LEVELS)
        return -1; /* 2^60 values: not reachable from a file */
    double left = odd ? l->v[len - 1] : 0;
    int off = coin(s);
    for (uint32_t i = 0; i < half; i++)
        l->v[i] = l->v[2 * i + (uint32_t)off];
    if (level_merge_sorted(&s->lv[h + 1], l->v, half) != 0)
        return -1;
    l->len = odd;
    if (odd)
        l->v[0] = left;
    s->compacted = 1;
    if (h + 1 >= s->n_levels)
        s->n_levels = h + 2;
    return 0;
}

static int cascade(hops_kll *s)
{
    for (uint32_t h = 1; h < s->n_levels; h++)
        if (s->lv[h].len > level_cap(s, h) && compact(s, h) != 0)
            return -1;
    return 0;
}

int hops__kll_flush(hops_kll *s)
{
    hops_kll_level *l0 = &s->lv[0];
    if (!l0->v) {
        l0->v = malloc(HOPS_KLL_BUF * sizeof *l0->v);
        if (!l0->v)
            return -1;
        l0->cap = HOPS_KLL_BUF;
        return 0;
    }
    if (l0->len < l0->cap)
        return 0;
    radix_sort(l0->v, l0->len);
    if (compact(s, 0) != 0)
        return -1;
    return cascade(s);
}

int hops__kll_merge(hops_kll *a, const hops_kll *b)
{
    for (uint32_t i = 0; i < b->lv[0].len; i++)
        if (hops__kll_add(a, b->lv[0].v[i]) != 0)
            return -1;
    for (uint32_t h = 1; h < b->n_levels; h++) {
        if (!b->lv[h].len)
            continue;
        if (level_merge_sorted(&a->lv[h], b->lv[h].v, b->lv[h].len) != 0)
            return -1;
        if (h + 1 > a->n_levels)
            a->n_levels = h + 1;
    }
    a->n += b->n - b->lv[0].len;
    a->compacted |= b->compacted;
    return cascade(a);
}

double hops__kll_rank_error(const hops_kll *s)
{
    return s->compacted ? 2.446 / pow((double)s->k, 0.9433) : 0.0;
}

typedef struct {
    double v;
    uint64_t w;
} weighted;

static int cmp_weighted(const void *a, const void *b)
{
    double x = ((const weighted *)a)->v, y = ((const weighted *)b)->v;
    return (x > y) - (x < y);
}

int hops__kll_view(const hops_kll *s, hops_kll_view *out)
{
    size_t n = 0, i = 0;
    memset(out, 0, sizeof *out);
    for (uint32_t h = 0; h < s->n_levels; h++)
        n += s->lv[h].len;
    out->exact = !s->compacted;
    out->total = s->n;
    if (n == 0)
        return 0;
    weighted *w = malloc(n * sizeof *w);
    out->v = malloc(n * sizeof *out->v);
    out->cum = malloc(n * sizeof *out->cum);
    if (!w || !out->v || !out->cum) {
        free(w);
        hops__kll_view_free(out);
        return -1;
    }
    for (uint32_t h = 0; h < s->n_levels; h++)
        for (uint32_t j = 0; j < s->lv[h].len; j++) {
            w[i].v = s->lv[h].v[j];
            w[i++].w = 1ULL << h;
        }
    qsort(w, n, sizeof *w, cmp_weighted);
    uint64_t cum = 0;
    for (i = 0; i < n; i++) {
        cum += w[i].w;
        out->v[i] = w[i].v;
        out->cum[i] = cum;
    }
    out->n = n;
    free(w);
    return 0;
}

void hops__kll_view_free(hops_kll_view *v)
{
    free(v->v);
    free(v->cum);
    memset(v, 0, sizeof *v);
}

double hops__kll_quantile(const hops_kll_view *v, double q)
{
    if (v->n == 0)
        return NAN;
    if (q <= 0)
        return v->v[0];
    if (q >= 1)
        return v->v[v->n - 1];
    if (v->exact) {
        /* numpy's "linear" method: between order statistics floor and ceil
         * of q (n - 1), computed the way numpy's _lerp does. */
        double pos = q * (double)(v->n - 1);
        size_t lo = (size_t)pos;
        double t = pos - (double)lo;
        if (lo + 1 >= v->n)
            return v->v[v->n - 1];
        double a = v->v[lo], b = v->v[lo + 1], diff = b - a;
        return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
    }
    double target = q * (double)v->total;
    size_t lo = 0, hi = v->n - 1;
    while (lo < hi) { /* the first item whose cumulative weight reaches target */
        size_t mid = lo + (hi - lo) / 2;
        if ((double)v->cum[mid] >= target)
            hi = mid;
        else
            lo = mid + 1;
    }
    return v->v[lo];
}

uint64_t hops__kll_rank(const hops_kll_view *v, double x, int inclusive)
{
    size_t lo = 0, hi = v->n; /* the first item > x (inclusive) or >= x */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (inclusive ? v->v[mid] <= x : v->v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? v->cum[lo - 1] : 0;
}

void hops__kll_write(hops_wr *w, const hops_kll *s)
{
    hops__wr_u64(w, s->k);
    hops__wr_u64(w, s->n_levels);
    hops__wr_u64(w, s->n);
    hops__wr_u64(w, s->rng);
    hops__wr_u64(w, (uint64_t)s->compacted);
    for (uint32_t h = 0; h < s->n_levels; h++) {
        hops__wr_u64(w, s->lv[h].len);
        for (uint32_t i = 0; i < s->lv[h].len; i++)
            hops__wr_f64(w, s->lv[h].v[i]);
    }
}

int hops__kll_read(hops_rd *r, hops_kll *s)
{
    uint64_t total = 0;
    hops__kll_init(s, 0);
    s->k = (uint32_t)hops__rd_count(r, 1u << 16);
    s->n_levels = (uint32_t)hops__rd_count(r, HOPS_KLL_MAX_LEVELS);
    s->n = hops__rd_u64(r);
    s->rng = hops__rd_u64(r) | 1;
    s->compacted = (int)hops__rd_count(r, 1);
    if (r->bad || s->k < MIN_LEVEL_CAP || s->n_levels < 1)
        goto bad;
    for (uint32_t h = 0; h < s->n_levels; h++) {
        hops_kll_level *l = &s->lv[h];
        /* Bounded by what is left to read: no huge allocation for a lie. */
        uint64_t left = (r->len - r->pos) / 8;
        uint32_t len = (uint32_t)hops__rd_count(r, h == 0              ? HOPS_KLL_BUF
                                                   : left < (1u << 24) ? left
                                                                       : 1u << 24);
        if (r->bad || level_reserve(l, h == 0 ? HOPS_KLL_BUF : len) != 0)
            goto bad;
        for (uint32_t i = 0; i < len; i++) {
            double x = hops__rd_f64(r);
            if (!isfinite(x) || (h > 0 && i > 0 && x < l->v[i - 1]))
                goto bad;
            l->v[i] = x;
        }
        l->len = len;
        if (h >= 40 && len)
            goto bad;
        total += (uint64_t)len << h;
    }
    if (r->bad || total != s->n || (!s->compacted && s->n_levels > 1))
        goto bad;
    return 0;
bad:
    r->bad = 1;
    hops__kll_free(s);
    return -1;
}
