/* KLL quantile sketch (Karnin, Lang, Liberty 2016), in the shape Apache
 * DataSketches uses: capacities shrinking by 2/3 per level below the top,
 * compactions that keep every other item of a sorted level from a random
 * start. Level 0 is a larger unsorted buffer, radix-sorted when full, so the
 * per-value cost is an append plus its share of sorting HOPS_KLL_BUF (4096)
 * doubles. For long streams the paper's sampler can stand below the
 * compactors (hops__kll_add_sampled): one value of each block of 2^h goes
 * into a second such buffer at weight 2^h, and only those are sorted. */
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
    free(s->samp.v);
    memset(s, 0, sizeof *s);
}

/* The next H (1 .. 32) random bits: a xorshift step. */
static uint32_t rand_bits(hops_kll *s, unsigned h)
{
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return (uint32_t)((x * 0x2545f4914f6cdd1dULL) >> (64 - h));
}

static int coin(hops_kll *s)
{
    return (int)rand_bits(s, 1);
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

/* Merge the N sorted items SRC[0], SRC[STRIDE], SRC[2 STRIDE], ... into the
 * sorted level L, in place from the back; of two equal items the one from SRC
 * goes last. SRC must not be L's own array. Without branches on the data:
 * which side an item comes from is a coin toss on mixed data. */
static int level_merge_sorted(hops_kll_level *l, const double *src, uint32_t n, uint32_t stride)
{
    if (level_reserve(l, l->len + n) != 0)
        return -1;
    double *v = l->v;
    uint32_t i = l->len, j = n, k = l->len + n; /* items left on each side */
    while (i > 0 && j > 0) {
        double x = v[i - 1], y = src[(size_t)(j - 1) * stride];
        uint32_t from_l = x > y;
        v[--k] = from_l ? x : y;
        i -= from_l;
        j -= 1 - from_l;
    }
    for (; j > 0; j--)
        v[--k] = src[(size_t)(j - 1) * stride];
    l->len += n;
    return 0;
}

/* Level 0 is sorted as unsigned keys that order like the doubles: a
 * negative double has all its bits flipped, a positive one its sign bit set.
 * The order is total on the bits: -0.0 sorts before +0.0, equal keys are
 * equal doubles bit for bit, so every exact sort gives the same output. */
static inline uint64_t to_key(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u ^ ((0 - (u >> 63)) | (1ULL << 63));
}

static inline double from_key(uint64_t k)
{
    uint64_t u = k ^ (((k >> 63) - 1) | (1ULL << 63));
    double d;
    memcpy(&d, &u, 8);
    return d;
}

#define DIGIT_BITS 11 /* 2048 counters of 4 bytes: a histogram fits L1 */
#define DIGIT_MAX 3   /* digits whose histograms one read builds */

/* LSD radix passes over the N keys in *SRC, one per digit, lowest digit
 * first: digit d is the WIDTH (<= DIGIT_BITS) bits from bit SHIFT[d]. One
 * read builds every histogram; a digit that is the same in every key is
 * skipped. Passes ping-pong between *SRC and *DST; on return *SRC holds the
 * keys, stably sorted by the digits given. */
static void radix_passes(uint64_t **src, uint64_t **dst, uint32_t n, const unsigned *shift,
                         int n_dig, unsigned width)
{
    uint32_t cnt[DIGIT_MAX][1u << DIGIT_BITS], end[1u << DIGIT_BITS];
    const uint64_t mask = (1ULL << width) - 1, *s = *src, k0 = s[0];
    const uint32_t size = width < 2 ? 4 : 1u << width; /* counters past mask stay 0 */
    const unsigned s0 = shift[0], s1 = n_dig > 1 ? shift[1] : 0, s2 = n_dig > 2 ? shift[2] : 0;
    memset(cnt, 0, sizeof cnt);
    if (n_dig == 3) {
        for (uint32_t i = 0; i < n; i++) {
            uint64_t k = s[i];
            cnt[0][(k >> s0) & mask]++;
            cnt[1][(k >> s1) & mask]++;
            cnt[2][(k >> s2) & mask]++;
        }
    } else if (n_dig == 2) {
        for (uint32_t i = 0; i < n; i++) {
            uint64_t k = s[i];
            cnt[0][(k >> s0) & mask]++;
            cnt[1][(k >> s1) & mask]++;
        }
    } else {
        /* Two histograms, for even and odd keys, so runs of one digit do
         * not serialise on one counter (few distinct values). */
        uint32_t i = 0;
        for (; i + 1 < n; i += 2) {
            cnt[0][(s[i] >> s0) & mask]++;
            cnt[1][(s[i + 1] >> s0) & mask]++;
        }
        if (i < n)
            cnt[0][(s[i] >> s0) & mask]++;
        for (uint32_t x = 0; x < size; x++)
            cnt[0][x] += cnt[1][x];
    }
    for (int d = 0; d < n_dig; d++) {
        uint32_t *c = cnt[d], sum = 0;
        const unsigned sh = shift[d];
        if (c[(k0 >> sh) & mask] == n)
            continue; /* every key has the digit of the first: nothing to do */
        /* C: where each bucket starts; END: where it ends. */
        for (uint32_t x = 0; x < size; x += 4) {
            uint32_t t0 = c[x], t1 = c[x + 1], t2 = c[x + 2], t3 = c[x + 3];
            c[x] = sum;
            c[x + 1] = end[x] = sum + t0;
            c[x + 2] = end[x + 1] = sum + t0 + t1;
            c[x + 3] = end[x + 2] = sum + t0 + t1 + t2;
            end[x + 3] = sum += t0 + t1 + t2 + t3;
        }
        /* Two runs at once, so keys with the same digit in a row do not all
         * wait on one counter: the first half of the keys fills each bucket
         * from its start, the second half (read backwards) from its end.
         * Both keep the order of equal digits, and the counts make them
         * meet exactly. */
        const uint64_t *from = *src;
        uint64_t *to = *dst;
        for (uint32_t i = 0, j = n - 1; i < n / 2; i++, j--) {
            uint64_t k = from[i], l = from[j];
            to[c[(k >> sh) & mask]++] = k;
            to[--end[(l >> sh) & mask]] = l;
        }
        if (n & 1) {
            uint64_t k = from[n / 2];
            to[c[(k >> sh) & mask]++] = k;
        }
        *dst = *src;
        *src = to;
    }
}

/* Sort the N keys in *SRC exactly by their bits LO .. LO + SPAN - 1 (the
 * others are the same in every key): LSD, as few passes as DIGIT_BITS
 * allows, the bits shared evenly between them. */
static void radix_exact(uint64_t **src, uint64_t **dst, uint32_t n, unsigned lo, unsigned span)
{
    unsigned n_pass = (span + DIGIT_BITS - 1) / DIGIT_BITS;
    unsigned width = (span + n_pass - 1) / n_pass, shift[2 * DIGIT_MAX];
    for (unsigned p = 0; p < n_pass; p++)
        shift[p] = lo + p * width; /* < 64: (n_pass - 1) width < span */
    for (unsigned p = 0; p < n_pass; p += DIGIT_MAX) {
        unsigned m = n_pass - p < DIGIT_MAX ? n_pass - p : DIGIT_MAX;
        radix_passes(src, dst, n, shift + p, (int)m, width);
    }
}

/* Finish sorting keys that are sorted by their high bits: insertion sort,
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
            return 0; /* K is still a permutation, sorted by the high bits */
        budget -= moved;
    }
    return 1;
}

/* The keys of the N <= HOPS_KLL_BUF doubles V, sorted ascending: in A or in
 * B (scratch of HOPS_KLL_BUF keys each), whichever is returned. Only the
 * bits that differ between keys count (data in one range share their sign
 * and high exponent bits). Up to 33 of them: an exact LSD radix sort, 11
 * bits a pass at most. More: the 33 highest get three passes, then an
 * insertion sort puts the few keys that tie there in order; only when that
 * meets many ties (data that differ in their low bits only) does an exact
 * LSD over all the differing bits start over (every pass is stable, so it
 * is exact whatever order it starts from). */
static const uint64_t *sort_keys(const double *v, uint32_t n, uint64_t *a, uint64_t *b)
{
    uint64_t *src = a, *dst = b, diff = 0, k0 = n ? to_key(v[0]) : 0;
    for (uint32_t i = 0; i < n; i++) {
        a[i] = to_key(v[i]);
        diff |= a[i] ^ k0;
    }
    if (diff == 0)
        return a; /* every value the same, bit for bit (or N < 2) */
    unsigned lo = (unsigned)__builtin_ctzll(diff), hi = 63 - (unsigned)__builtin_clzll(diff);
    unsigned span = hi - lo + 1;
    if (span <= DIGIT_MAX * DIGIT_BITS) {
        radix_exact(&src, &dst, n, lo, span);
    } else {
        const unsigned shift[DIGIT_MAX] = {hi + 1 - 3 * DIGIT_BITS, hi + 1 - 2 * DIGIT_BITS,
                                           hi + 1 - DIGIT_BITS};
        radix_passes(&src, &dst, n, shift, DIGIT_MAX, DIGIT_BITS);
        if (!insertion_finish(src, n, 2 * (uint64_t)n))
            radix_exact(&src, &dst, n, lo, span);
    }
    return src;
}

/* The end of a compaction of L, whose items weigh 2^H: merge the HALF items
 * it keeps (SRC, SRC + STRIDE, ...: every other item of the sorted level,
 * from a random start) into level H + 1 at twice the weight, and leave
 * behind in L only LEFT, its largest item, when it held an odd count (ODD). */
static int promote(hops_kll *s, hops_kll_level *l, uint32_t h, const double *src, uint32_t half,
                   uint32_t stride, uint32_t odd, double left)
{
    if (level_merge_sorted(&s->lv[h + 1], src, half, stride) != 0)
        return -1;
    l->len = odd;
    if (odd)
        l->v[0] = left;
    s->compacted = 1;
    if (h + 1 >= s->n_levels)
        s->n_levels = h + 2;
    return 0;
}

/* Compact the sorted level H (>= 1) into H + 1: every other item from a
 * random start, at twice the weight, merged straight from where they lie;
 * one item stays behind when the count is odd. */
static int compact(hops_kll *s, uint32_t h)
{
    hops_kll_level *l = &s->lv[h];
    uint32_t len = l->len, odd = len & 1, half = len / 2;
    if (half == 0)
        return 0;
    if (h + 1 >= HOPS_KLL_MAX_LEVELS)
        return -1; /* 2^60 values: not reachable from a file */
    double left = odd ? l->v[len - 1] : 0;
    uint32_t off = (uint32_t)coin(s);
    return promote(s, l, h, l->v + off, half, 2, odd, left);
}

static int cascade(hops_kll *s)
{
    for (uint32_t h = 1; h < s->n_levels; h++)
        if (s->lv[h].len > level_cap(s, h) && compact(s, h) != 0)
            return -1;
    return 0;
}

/* Sort and compact the full unsorted buffer B, whose items weigh 2^H, in one
 * go: of the sorted keys only the half that goes up a level is read, so only
 * that half is turned back into doubles (the same items, coin and order as
 * sorting B then compacting it). */
static int compact_buffer(hops_kll *s, hops_kll_level *b, uint32_t h)
{
    uint64_t ka[HOPS_KLL_BUF], kb[HOPS_KLL_BUF];
    uint32_t len = b->len, odd = len & 1, half = len / 2;
    const uint64_t *key = sort_keys(b->v, len, ka, kb);
    if (half > 0) {
        uint32_t off = (uint32_t)coin(s);
        double left = odd ? from_key(key[len - 1]) : 0;
        for (uint32_t i = 0; i < half; i++)
            b->v[i] = from_key(key[2 * i + off]);
        if (promote(s, b, h, b->v, half, 1, odd, left) != 0)
            return -1;
    }
    return cascade(s);
}

static int buffer_alloc(hops_kll_level *b)
{
    if (b->v)
        return 0;
    b->v = malloc(HOPS_KLL_BUF * sizeof *b->v);
    if (!b->v)
        return -1;
    b->cap = HOPS_KLL_BUF;
    return 0;
}

int hops__kll_flush(hops_kll *s)
{
    hops_kll_level *l0 = &s->lv[0];
    if (!l0->v)
        return buffer_alloc(l0);
    if (l0->len < l0->cap)
        return 0;
    return compact_buffer(s, l0, 0);
}

int hops__kll_add_n(hops_kll *s, const double *x, uint32_t n)
{
    while (n) {
        hops_kll_level *l0 = &s->lv[0];
        if (l0->len == l0->cap && hops__kll_flush(s) != 0)
            return -1;
        uint32_t take = l0->cap - l0->len < n ? l0->cap - l0->len : n;
        memcpy(l0->v + l0->len, x, take * sizeof *x);
        l0->len += take;
        s->n += take;
        x += take;
        n -= take;
    }
    return 0;
}

/* Merge the N sorted items SRC of weight 2^H (>= 1) into level H. */
static int level_add_sorted(hops_kll *s, uint32_t h, const double *src, uint32_t n)
{
    if (level_merge_sorted(&s->lv[h], src, n, 1) != 0)
        return -1;
    if (h + 1 > s->n_levels)
        s->n_levels = h + 1;
    return 0;
}

/* Sort the items of the unsorted buffer B (weight 2^H >= 2) into level H
 * of S, whole; B is unchanged. */
static int level_add_buffer(hops_kll *s, uint32_t h, const hops_kll_level *b)
{
    uint64_t ka[HOPS_KLL_BUF], kb[HOPS_KLL_BUF];
    double tmp[HOPS_KLL_BUF];
    const uint64_t *key = sort_keys(b->v, b->len, ka, kb);
    for (uint32_t i = 0; i < b->len; i++)
        tmp[i] = from_key(key[i]);
    return level_add_sorted(s, h, tmp, b->len);
}

int hops__kll_add_sampled(hops_kll *s, const double *x, uint32_t n, unsigned h)
{
    if (h == 0)
        return hops__kll_add_n(s, x, n);
    if (h > HOPS_KLL_SAMPLE_MAX)
        return -1;
    hops_kll_level *b = &s->samp;
    if (b->len && s->samp_h != h) { /* another block size: the old items go to their level */
        if (level_add_buffer(s, s->samp_h, b) != 0)
            return -1;
        b->len = 0;
        if (cascade(s) != 0)
            return -1;
    }
    s->samp_h = h;
    if (buffer_alloc(b) != 0)
        return -1;
    uint32_t blocks = n >> h, pos = blocks << h;
    for (uint32_t i = 0; i < blocks; i++) {
        if (b->len == b->cap && compact_buffer(s, b, h) != 0)
            return -1;
        b->v[b->len++] = x[((size_t)i << h) + rand_bits(s, h)];
    }
    s->samp_w2 += (uint64_t)blocks << (2 * h);
    /* The last N mod 2^H values: a block of 2^J for each bit J of the count,
     * largest first, one value of each at weight 2^J; a single one is
     * simply added (the weights still sum to the values seen). */
    for (unsigned j = h; j-- > 1;) {
        if (!((n - pos) >> j & 1))
            continue;
        double y = x[pos + rand_bits(s, j)];
        if (level_add_sorted(s, j, &y, 1) != 0)
            return -1;
        s->samp_w2 += 1ULL << (2 * j);
        pos += 1u << j;
    }
    s->n += pos;
    s->compacted |= pos > 0;
    if (pos < n && hops__kll_add(s, x[pos]) != 0)
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
        if (level_merge_sorted(&a->lv[h], b->lv[h].v, b->lv[h].len, 1) != 0)
            return -1;
        if (h + 1 > a->n_levels)
            a->n_levels = h + 1;
    }
    if (b->samp.len && level_add_buffer(a, b->samp_h, &b->samp) != 0) /* at their weight */
        return -1;
    a->n += b->n - b->lv[0].len;
    a->samp_w2 += b->samp_w2;
    a->compacted |= b->compacted;
    return cascade(a);
}

double hops__kll_rank_error(const hops_kll *s)
{
    if (!s->compacted)
        return 0.0;
    double e = 2.446 / pow((double)s->k, 0.9433);
    if (s->samp_w2 && s->n) {
        /* The sampler: each block's count error lies in an interval as long
         * as the block, so Hoeffding gives |error| <= sqrt(ln(200) / 2 *
         * sum w^2) with 99% confidence; independent of the compactors',
         * the two add in quadrature. */
        double d = sqrt(log(200.0) / 2 * (double)s->samp_w2) / (double)s->n;
        e = sqrt(e * e + d * d);
    }
    return e;
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
    n += s->samp.len;
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
    for (uint32_t j = 0; j < s->samp.len; j++) {
        w[i].v = s->samp.v[j];
        w[i++].w = 1ULL << s->samp_h;
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
    hops__wr_u64(w, s->samp_w2);
    for (uint32_t h = 0; h < s->n_levels; h++) {
        hops__wr_u64(w, s->lv[h].len);
        for (uint32_t i = 0; i < s->lv[h].len; i++)
            hops__wr_f64(w, s->lv[h].v[i]);
    }
    hops__wr_u64(w, s->samp_h);
    hops__wr_u64(w, s->samp.len);
    for (uint32_t i = 0; i < s->samp.len; i++)
        hops__wr_f64(w, s->samp.v[i]);
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
    s->samp_w2 = hops__rd_u64(r);
    if (r->bad || s->k < MIN_LEVEL_CAP || s->n_levels < 1 || (s->samp_w2 && !s->compacted))
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
    s->samp_h = (uint32_t)hops__rd_count(r, HOPS_KLL_SAMPLE_MAX);
    uint32_t sl = (uint32_t)hops__rd_count(r, HOPS_KLL_BUF);
    if (r->bad || (sl && (!s->samp_h || !s->compacted)) || (sl && buffer_alloc(&s->samp) != 0))
        goto bad;
    for (uint32_t i = 0; i < sl; i++) {
        double x = hops__rd_f64(r);
        if (!isfinite(x))
            goto bad;
        s->samp.v[i] = x;
    }
    s->samp.len = sl;
    total += (uint64_t)sl << s->samp_h;
    if (r->bad || total != s->n || (!s->compacted && s->n_levels > 1))
        goto bad;
    return 0;
bad:
    r->bad = 1;
    hops__kll_free(s);
    return -1;
}
