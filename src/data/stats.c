/* hops data stats: every statistic of a table in one pass over the file.
 *
 * Each parse chunk gets its own summaries (chunk_begin, on a parser thread),
 * fills them record by record, and hands them to chunk_end, which merges
 * them into the whole-file accumulator in file order on the calling thread.
 * Nothing a chunk computes depends on the thread that ran it (sketch seeds
 * come from the chunk's first record), so the document is the same for any
 * thread count. The accumulator serialises, which is how byte ranges of a
 * file computed in other processes merge (hops_data_stats_partial/merge).
 *
 * Per column: counts by kind (int, float, bool, timestamp, string), the
 * exact sum of the numbers (xsum.c), min/max, mean and M2 merged with Chan
 * et al.'s formulas from per-chunk shifted sums, a KLL sketch, and value
 * counts (topk.c). Correlations: per chunk, the candidate columns are those
 * whose value in the chunk's first record is numeric or null (at most 64);
 * sums of products of the shifted values over rows, plus corrections for the
 * rows where a column is missing, give every pair's pairwise-complete
 * moments; a column that is not a candidate in some chunk had a non-number
 * there, so it is not numeric and never reported. */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "data_internal.h"
#include "hops/schema.h"
#include "hops/stats.h"
#include "sketch.h"

#define CHUNK_FREQ_EXACT 2048 /* distinct values a chunk counts exactly */
#define CHUNK_FREQ_KEEP 128
#define GLOBAL_FREQ_EXACT 10000 /* ... and the whole column */
#define GLOBAL_FREQ_KEEP 2048
#define CORR_MAX 64
/* A string column with at most this many distinct values (and at most half
 * as many as it has values) is a category: the rule of `hops data schema`. */
#define CATEGORY_MAX 20
#define STATE_MAGIC "HOPSSTA1"
#define STATE_VERSION 3

/* ---- the mergeable accumulators ---- */

typedef struct {
    uint64_t count, nulls;
    uint64_t n_int, n_float, n_bool, n_ts, n_str;
    uint64_t n_num;     /* n_int + n_float */
    double min, max;    /* over the numbers */
    int64_t imin, imax; /* over the ints, when n_int > 0 */
    hops_xsum sum;
    double mean, m2; /* Chan et al.; mean here only feeds M2 merges */
    hops_kll *kll;   /* NULL until the first number */
    hops_freq freq;
} col_acc;

typedef struct {
    double n, mx, my, m2x, m2y, cxy; /* over the rows where both are numbers */
} pair_acc;

typedef struct {
    int started; /* 0 until the first chunk with records */
    int k;
    int col[CORR_MAX]; /* candidate columns, ascending */
    int alive[CORR_MAX];
    pair_acc *pair; /* k * k, [a * k + b] for a < b */
} corr_acc;

typedef struct {
    char *path;
    hops_data_format format;
    size_t n_cols;
    char **names;
    int corr_on;
    uint64_t rows;
    col_acc *cols;
    corr_acc corr;
} stats_acc;

static void col_acc_init(col_acc *a, size_t exact_limit, size_t keep)
{
    memset(a, 0, sizeof *a);
    hops__freq_init(&a->freq, exact_limit, keep);
}

static void col_acc_free(col_acc *a)
{
    if (a->kll) {
        hops__kll_free(a->kll);
        free(a->kll);
    }
    hops__freq_free(&a->freq);
}

static hops_kll *kll_new(uint64_t seed)
{
    hops_kll *s = malloc(sizeof *s);
    if (s)
        hops__kll_init(s, seed);
    return s;
}

/* Fold B into A. SEED seeds A's sketch if it needs one. */
static int col_acc_merge(col_acc *a, const col_acc *b, uint64_t seed)
{
    if (b->n_num) {
        if (!a->n_num) {
            a->min = b->min;
            a->max = b->max;
            a->mean = b->mean;
            a->m2 = b->m2;
        } else {
            if (b->min < a->min)
                a->min = b->min;
            if (b->max > a->max)
                a->max = b->max;
            double na = (double)a->n_num, nb = (double)b->n_num, n = na + nb;
            double delta = b->mean - a->mean;
            a->mean += delta * (nb / n);
            a->m2 += b->m2 + delta * delta * (na * nb / n);
        }
    }
    if (b->n_int) {
        if (!a->n_int) {
            a->imin = b->imin;
            a->imax = b->imax;
        } else {
            if (b->imin < a->imin)
                a->imin = b->imin;
            if (b->imax > a->imax)
                a->imax = b->imax;
        }
    }
    a->count += b->count;
    a->nulls += b->nulls;
    a->n_int += b->n_int;
    a->n_float += b->n_float;
    a->n_bool += b->n_bool;
    a->n_ts += b->n_ts;
    a->n_str += b->n_str;
    a->n_num += b->n_num;
    hops__xsum_merge(&a->sum, &b->sum);
    if (b->kll) {
        if (!a->kll && !(a->kll = kll_new(seed)))
            return -1;
        if (hops__kll_merge(a->kll, b->kll) != 0)
            return -1;
    }
    return hops__freq_merge(&a->freq, &b->freq);
}

static void pair_merge(pair_acc *a, const pair_acc *b)
{
    if (b->n == 0)
        return;
    if (a->n == 0) {
        *a = *b;
        return;
    }
    double n = a->n + b->n, dx = b->mx - a->mx, dy = b->my - a->my, f = a->n * b->n / n;
    a->mx += dx * (b->n / n);
    a->my += dy * (b->n / n);
    a->m2x += b->m2x + dx * dx * f;
    a->m2y += b->m2y + dy * dy * f;
    a->cxy += b->cxy + dx * dy * f;
    a->n = n;
}

static void corr_free(corr_acc *c)
{
    free(c->pair);
    memset(c, 0, sizeof *c);
}

/* Start the whole-file correlation state with candidate columns COLS. */
static int corr_start(corr_acc *c, const int *cols, int k)
{
    c->started = 1;
    c->k = k;
    for (int a = 0; a < k; a++) {
        c->col[a] = cols[a];
        c->alive[a] = 1;
    }
    c->pair = calloc(k ? (size_t)k * (size_t)k : 1, sizeof *c->pair);
    return c->pair ? 0 : -1;
}

/* Position of column COL among C's candidates, or -1. */
static int corr_pos(const corr_acc *c, int col)
{
    for (int a = 0; a < c->k; a++)
        if (c->col[a] == col)
            return a;
    return -1;
}

static void stats_acc_free(stats_acc *s)
{
    free(s->path);
    for (size_t i = 0; i < s->n_cols; i++) {
        if (s->names)
            free(s->names[i]);
        if (s->cols)
            col_acc_free(&s->cols[i]);
    }
    free(s->names);
    free(s->cols);
    corr_free(&s->corr);
    memset(s, 0, sizeof *s);
}

static hops_status stats_acc_init(stats_acc *s, const char *path, hops_data_format format,
                                  size_t n_cols, char *const *names, int corr_on)
{
    memset(s, 0, sizeof *s);
    s->path = hops__strdup(path);
    s->format = format;
    s->corr_on = corr_on;
    s->names = calloc(n_cols ? n_cols : 1, sizeof *s->names);
    s->cols = calloc(n_cols ? n_cols : 1, sizeof *s->cols);
    if (!s->path || !s->names || !s->cols) {
        free(s->names);
        free(s->cols);
        free(s->path);
        memset(s, 0, sizeof *s);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    s->n_cols = n_cols;
    for (size_t i = 0; i < n_cols; i++) {
        col_acc_init(&s->cols[i], GLOBAL_FREQ_EXACT, GLOBAL_FREQ_KEEP);
        if (!(s->names[i] = hops__strdup(names[i]))) {
            stats_acc_free(s);
            return hops__error(HOPS_ENOMEM, "out of memory");
        }
    }
    return HOPS_OK;
}

/* Fold the state B (of the same columns) into A. */
static hops_status stats_acc_merge(stats_acc *a, const stats_acc *b)
{
    a->rows += b->rows;
    for (size_t i = 0; i < a->n_cols; i++)
        if (col_acc_merge(&a->cols[i], &b->cols[i], hops__mix64(i + 1)) != 0)
            return hops__error(HOPS_ENOMEM, "out of memory");
    if (!a->corr_on || !b->corr.started)
        return HOPS_OK;
    if (!a->corr.started) {
        if (corr_start(&a->corr, b->corr.col, b->corr.k) != 0)
            return hops__error(HOPS_ENOMEM, "out of memory");
        memcpy(a->corr.alive, b->corr.alive, sizeof a->corr.alive);
    }
    int map[CORR_MAX];
    for (int a_i = 0; a_i < a->corr.k; a_i++) {
        int pb = corr_pos(&b->corr, a->corr.col[a_i]);
        map[a_i] = pb;
        if (pb < 0 || !b->corr.alive[pb])
            a->corr.alive[a_i] = 0;
    }
    for (int x = 0; x < a->corr.k; x++)
        for (int y = x + 1; y < a->corr.k; y++)
            if (a->corr.alive[x] && a->corr.alive[y])
                pair_merge(&a->corr.pair[x * a->corr.k + y],
                           &b->corr.pair[map[x] * b->corr.k + map[y]]);
    return HOPS_OK;
}

/* ---- one chunk ---- */

/* Numbers and HLL-only hashes wait in small per-column batches and are
 * folded in column by column (col_flush): one column's sketch state stays in
 * L1 for a whole batch instead of a dozen columns' states competing for it
 * on every row. Each batch keeps the values' order, so every sum, sketch and
 * register ends exactly as if the values had gone in one by one. */
#define BATCH 256

typedef struct {
    col_acc a;
    double shift, s1, s2; /* sums of (x - shift) and its square over the numbers */
    uint32_t nx, nh;      /* batched numbers, batched hashes */
    double xb[BATCH];
    uint64_t hb[BATCH];
    hops_xsum sum2; /* every other batched number: two chains of additions, not one */
} col_chunk;

typedef struct chunk {
    struct chunk *prev, *next; /* the run's live chunks */
    int started;
    uint64_t rows, seed;
    uint64_t first_line; /* of its first record; 0: unknown */
    col_chunk *cols;
    int k; /* correlation candidates */
    int cand[CORR_MAX];
    int16_t *slot_of;     /* per column: candidate index, or -1 */
    double *vb;           /* k * BATCH: candidate a's shifted values in the batch's
                             rows at [a * BATCH + r], 0 where missing */
    uint64_t pb[BATCH];   /* the batch's rows: which candidates are present */
    uint16_t *miss_rows;  /* k * BATCH: per candidate, the batch's rows without it */
    uint32_t nr;          /* rows in the batch */
    double *sxy;          /* k * k: sums of v_a v_b, a < b */
    double *dn, *d1, *d2; /* k * k: [j * k + a] over rows where j is missing: */
                          /* rows, v_a, v_a^2 where a is present */
} chunk;

typedef struct {
    const hops_stats_options *o;
    hops_table_info info;
    size_t n_cols;
    stats_acc acc;
    size_t label_col; /* the --label column, or SIZE_MAX */
    pthread_mutex_t lock;
    chunk *live;
    /* Per column: 1 once the merged state counts only distinct values (HLL).
     * A chunk begun after that skips counting that column's values exactly:
     * merged into an HLL-only state, both give the same registers, so the
     * result does not depend on when a chunk began. Written by chunk_end,
     * read by chunk_begin on parser threads (atomics). */
    int *hll_hint;
} stats_run;

static void chunk_free(stats_run *run, chunk *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < run->n_cols; i++)
        col_acc_free(&c->cols[i].a);
    free(c->cols);
    free(c->slot_of);
    free(c->sxy);
    free(c->vb);
    free(c->miss_rows);
    free(c->dn);
    free(c->d1);
    free(c->d2);
    free(c);
}

static void *chunk_begin(void *ud)
{
    stats_run *run = ud;
    chunk *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cols = calloc(run->n_cols ? run->n_cols : 1, sizeof *c->cols);
    if (!c->cols) {
        free(c);
        return NULL;
    }
    for (size_t i = 0; i < run->n_cols; i++) {
        col_acc_init(&c->cols[i].a, CHUNK_FREQ_EXACT, CHUNK_FREQ_KEEP);
        if (__atomic_load_n(&run->hll_hint[i], __ATOMIC_RELAXED) &&
            hops__freq_stop_counting(&c->cols[i].a.freq) != 0) {
            chunk_free(run, c);
            return NULL;
        }
    }
    pthread_mutex_lock(&run->lock);
    c->next = run->live;
    if (run->live)
        run->live->prev = c;
    run->live = c;
    pthread_mutex_unlock(&run->lock);
    return c;
}

static void chunk_unlink(stats_run *run, chunk *c)
{
    pthread_mutex_lock(&run->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        run->live = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&run->lock);
}

static int is_number(const hops_field *f)
{
    double x;
    int64_t i;
    return hops__parse_number(f->ptr, f->len, &x, &i) != 0;
}

/* Once about SAMPLE_FROM numbers of a column precede a chunk, its quantile
 * sketch stops sorting every one: it takes one value in 2^h, at random,
 * h = 1 + log2(before / SAMPLE_FROM) rounded down, at most SAMPLE_MAX (KLL's
 * sampler, kll.c). BEFORE is estimated from the chunk alone: the line it
 * begins at times the share of its rows so far that gave this column a
 * number, so a sparse column is not sampled early. The sampler's error grows
 * like sqrt(2^h / before), a few percent of the compactors' own (the stated
 * error counts both), while the sorting, a fifth of the time on a long file,
 * shrinks to a fraction. The estimate depends on the chunk's bytes only, not
 * on the thread count; in a byte range of a file (line unknown, 0) nothing
 * is sampled. */
#define SAMPLE_FROM (1u << 19)
#define SAMPLE_MAX 4

static unsigned kll_sample_for(const chunk *c, const col_acc *a)
{
    double before = (double)c->first_line * (double)a->n_num / (double)(c->rows ? c->rows : 1);
    unsigned h = 0;
    for (double from = SAMPLE_FROM; h < SAMPLE_MAX && before >= from; from *= 2)
        h++;
    return h;
}

/* The first record of a chunk: seed its sketches from its bytes, pick its
 * correlation candidates. */
static hops_status chunk_start(stats_run *run, chunk *c, const hops_record *rec)
{
    c->started = 1;
    c->seed = hops__hash64(rec->raw, rec->raw_len, rec->line);
    c->first_line = rec->line;
    if (!run->acc.corr_on)
        return HOPS_OK;
    c->slot_of = malloc(run->n_cols * sizeof *c->slot_of);
    if (!c->slot_of)
        return hops__error(HOPS_ENOMEM, "out of memory");
    for (size_t i = 0; i < run->n_cols; i++) {
        const hops_field *f = i < rec->n_fields ? &rec->fields[i] : NULL;
        c->slot_of[i] = -1;
        if (c->k < CORR_MAX && (!f || f->is_null || is_number(f))) {
            c->slot_of[i] = (int16_t)c->k;
            c->cand[c->k++] = (int)i;
        }
    }
    if (c->k < 2) {
        c->k = 0; /* nothing to correlate; an empty candidate set */
        return HOPS_OK;
    }
    c->sxy = calloc((size_t)c->k * (size_t)c->k, sizeof *c->sxy);
    c->vb = calloc((size_t)c->k * BATCH, sizeof *c->vb);
    c->miss_rows = malloc((size_t)c->k * BATCH * sizeof *c->miss_rows);
    return c->sxy && c->vb && c->miss_rows ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}

/* Fold X[0, N) into the minimum *MN, the maximum *MX and the sums *S1 and
 * *S2 of (x - SHIFT) and its square, in four lanes (the positions mod 4), so
 * no chain of dependent operations is longer than a quarter of the batch:
 * each is one instruction of 4 cycles a value otherwise. The lanes are then
 * joined in order; of equal extremes (-0 and +0) the lower lane's stays.
 * With SSE2 two lanes share a register; the results are the same. */
static void batch_moments(const double *x, uint32_t n, double shift, double *mn, double *mx,
                          double *s1, double *s2)
{
    double lo[4], hi[4], a1[4] = {*s1, 0, 0, 0}, a2[4] = {*s2, 0, 0, 0};
    uint32_t i = 0;
    for (int l = 0; l < 4; l++)
        lo[l] = *mn, hi[l] = *mx;
#if defined(__SSE2__)
    __m128d lo01 = _mm_loadu_pd(lo), lo23 = _mm_loadu_pd(lo + 2), hi01 = _mm_loadu_pd(hi),
            hi23 = _mm_loadu_pd(hi + 2), p01 = _mm_loadu_pd(a1), p23 = _mm_loadu_pd(a1 + 2),
            q01 = _mm_loadu_pd(a2), q23 = _mm_loadu_pd(a2 + 2), sh = _mm_set1_pd(shift);
    for (; i + 4 <= n; i += 4) {
        __m128d v01 = _mm_loadu_pd(x + i), v23 = _mm_loadu_pd(x + i + 2);
        lo01 = _mm_min_pd(v01, lo01); /* v < lo ? v : lo, as below */
        lo23 = _mm_min_pd(v23, lo23);
        hi01 = _mm_max_pd(v01, hi01);
        hi23 = _mm_max_pd(v23, hi23);
        __m128d d01 = _mm_sub_pd(v01, sh), d23 = _mm_sub_pd(v23, sh);
        p01 = _mm_add_pd(p01, d01);
        p23 = _mm_add_pd(p23, d23);
        q01 = _mm_add_pd(q01, _mm_mul_pd(d01, d01));
        q23 = _mm_add_pd(q23, _mm_mul_pd(d23, d23));
    }
    _mm_storeu_pd(lo, lo01), _mm_storeu_pd(lo + 2, lo23);
    _mm_storeu_pd(hi, hi01), _mm_storeu_pd(hi + 2, hi23);
    _mm_storeu_pd(a1, p01), _mm_storeu_pd(a1 + 2, p23);
    _mm_storeu_pd(a2, q01), _mm_storeu_pd(a2 + 2, q23);
#endif
    for (; i < n; i++) {
        int l = (int)(i & 3);
        double v = x[i], d = v - shift;
        lo[l] = v < lo[l] ? v : lo[l];
        hi[l] = v > hi[l] ? v : hi[l];
        a1[l] += d;
        a2[l] += d * d;
    }
    double m = lo[0], M = hi[0];
    for (int l = 1; l < 4; l++) {
        m = lo[l] < m ? lo[l] : m;
        M = hi[l] > M ? hi[l] : M;
    }
    *mn = m;
    *mx = M;
    *s1 = (a1[0] + a1[1]) + (a1[2] + a1[3]);
    *s2 = (a2[0] + a2[1]) + (a2[2] + a2[3]);
}

/* Fold the column's batched hashes, and its numbers once a whole batch of
 * them waits, into chunk C's summaries; at the chunk's end (FINAL), every
 * number and the second exact sum. (Numbers go to the quantile sketch in
 * whole batches: the sampler's blocks then fit them exactly.) */
static int col_flush(const chunk *c, col_chunk *cc, int final)
{
    col_acc *a = &cc->a;
    uint32_t n = cc->nx;
    if (n == BATCH || (n && final)) {
        const double *x = cc->xb;
        if (a->n_num == n) /* the chunk's first numbers */
            a->min = a->max = x[0];
        batch_moments(x, n, cc->shift, &a->min, &a->max, &cc->s1, &cc->s2);
        uint32_t i = 0;
        for (; i + 1 < n; i += 2) {
            hops__xsum_add(&a->sum, x[i]);
            hops__xsum_add(&cc->sum2, x[i + 1]);
        }
        if (i < n)
            hops__xsum_add(&a->sum, x[i]);
        if (hops__kll_add_sampled(a->kll, x, n, kll_sample_for(c, a)) != 0)
            return -1;
        cc->nx = 0;
    }
    if (cc->nh) {
        hops_hll *h = cc->a.freq.hll;
        for (uint32_t i = 0; i < cc->nh; i++)
            hops__hll_add(h, cc->hb[i]);
        cc->nh = 0;
    }
    if (final) {
        hops__xsum_merge(&a->sum, &cc->sum2);
        memset(&cc->sum2, 0, sizeof cc->sum2);
    }
    return 0;
}

static inline int add_number(chunk *c, col_chunk *cc, size_t col, double x)
{
    col_acc *a = &cc->a;
    if (a->n_num == 0) {
        cc->shift = x;
        if (!a->kll && !(a->kll = kll_new(c->seed ^ hops__mix64(col + 1))))
            return -1;
    }
    a->n_num++;
    cc->xb[cc->nx++] = x;
    return cc->nx == BATCH ? col_flush(c, cc, 0) : 0;
}

/* The sum of X[i] * Y[i] over N values, in four interleaved partial sums
 * (two SSE2 registers of two where there is SSE2: the same sums either way). */
static double dot(const double *x, const double *y, uint32_t n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    uint32_t i = 0;
#if defined(__SSE2__)
    __m128d a01 = _mm_setzero_pd(), a23 = _mm_setzero_pd();
    for (; i + 4 <= n; i += 4) {
        a01 = _mm_add_pd(a01, _mm_mul_pd(_mm_loadu_pd(x + i), _mm_loadu_pd(y + i)));
        a23 = _mm_add_pd(a23, _mm_mul_pd(_mm_loadu_pd(x + i + 2), _mm_loadu_pd(y + i + 2)));
    }
    double t[4];
    _mm_storeu_pd(t, a01);
    _mm_storeu_pd(t + 2, a23);
    s0 = t[0], s1 = t[1], s2 = t[2], s3 = t[3];
#endif
    for (; i + 4 <= n; i += 4) {
        s0 += x[i] * y[i];
        s1 += x[i + 1] * y[i + 1];
        s2 += x[i + 2] * y[i + 2];
        s3 += x[i + 3] * y[i + 3];
    }
    for (; i < n; i++)
        s0 += x[i] * y[i];
    return (s0 + s1) + (s2 + s3);
}

/* Fold the batch's rows into the chunk's correlation sums: every pair's sum
 * of products column by column, then, for the rows where some candidate is
 * missing, the moments of the others over those rows. */
static int corr_flush(chunk *c)
{
    const int k = c->k;
    const uint32_t nr = c->nr;
    if (!k || !nr)
        return 0;
    for (int a = 0; a < k; a++)
        for (int b = a + 1; b < k; b++)
            c->sxy[a * k + b] += dot(c->vb + (size_t)a * BATCH, c->vb + (size_t)b * BATCH, nr);
    /* The rows where each candidate is missing (few), then per candidate j
     * and every other a: the count, sum and sum of squares of a over them
     * (v_a is 0 where a is missing too; only the count needs the bit). */
    const uint64_t all = k == 64 ? ~0ULL : (1ULL << k) - 1;
    uint32_t n_miss[CORR_MAX] = {0};
    for (uint32_t r = 0; r < nr; r++)
        for (uint64_t miss = ~c->pb[r] & all; miss; miss &= miss - 1) {
            int j = __builtin_ctzll(miss);
            c->miss_rows[(size_t)j * BATCH + n_miss[j]++] = (uint16_t)r;
        }
    for (int j = 0; j < k; j++) {
        if (!n_miss[j])
            continue;
        if (!c->dn) {
            size_t n = (size_t)k * (size_t)k;
            c->dn = calloc(n, sizeof *c->dn);
            c->d1 = calloc(n, sizeof *c->d1);
            c->d2 = calloc(n, sizeof *c->d2);
            if (!c->dn || !c->d1 || !c->d2)
                return -1;
        }
        const uint16_t *rows = c->miss_rows + (size_t)j * BATCH;
        for (int a = 0; a < k; a++) {
            if (a == j)
                continue;
            const double *va = c->vb + (size_t)a * BATCH;
            double cnt = 0, s1 = 0, s2 = 0;
            for (uint32_t t = 0; t < n_miss[j]; t++) {
                uint32_t r = rows[t];
                double v = va[r];
                cnt += (double)(c->pb[r] >> a & 1);
                s1 += v;
                s2 += v * v;
            }
            c->dn[j * k + a] += cnt;
            c->d1[j * k + a] += s1;
            c->d2[j * k + a] += s2;
        }
    }
    memset(c->vb, 0, (size_t)k * BATCH * sizeof *c->vb);
    c->nr = 0;
    return 0;
}

static hops_status on_record(void *ud, void *cs, const hops_record *rec)
{
    stats_run *run = ud;
    chunk *c = cs;
    const size_t n = run->n_cols;
    hops_status st;
    if (!c)
        return hops__error(HOPS_ENOMEM, "out of memory");
    if (rec->n_fields != n && (st = hops__record_check(&run->info, rec)) != HOPS_OK)
        return st;
    if (!c->started && (st = chunk_start(run, c, rec)) != HOPS_OK)
        return st;
    c->rows++;
    uint64_t present = 0;
    double *vrow = c->vb ? c->vb + c->nr : NULL; /* this row's shifted values, stride BATCH */
    const size_t have = n < rec->n_fields ? n : rec->n_fields; /* the rest are missing */
    for (size_t i = 0; i < n; i++) {
        col_chunk *cc = &c->cols[i];
        if (i >= have || rec->fields[i].is_null) {
            cc->a.nulls++;
            continue;
        }
        const hops_field *f = &rec->fields[i];
        const char *p = f->ptr;
        size_t len = f->len;
        uint64_t h = len <= 16 ? hops__hash64_short(p, len) : hops__hash64(p, len, 0);
        cc->a.count++;
        if (cc->a.freq.hll_only) {
            cc->hb[cc->nh++] = h;
            if (cc->nh == BATCH && col_flush(c, cc, 0) != 0)
                return hops__error(HOPS_ENOMEM, "out of memory");
        } else if (hops__freq_add(&cc->a.freq, p, len, h) != 0)
            return hops__error(HOPS_ENOMEM, "out of memory");
        if (len == 0) {
            cc->a.n_str++;
            continue;
        }
        unsigned c0 = (unsigned char)p[0];
        double x;
        int64_t iv;
        int is_true;
        if (c0 - '0' < 10 || c0 == '-' || c0 == '+' || c0 == '.') {
            int kind = hops__parse_number(p, len, &x, &iv);
            if (kind == 1) {
                col_acc *a = &cc->a;
                if (!a->n_int)
                    a->imin = a->imax = iv;
                else if (iv < a->imin)
                    a->imin = iv;
                else if (iv > a->imax)
                    a->imax = iv;
                a->n_int++;
            } else if (kind == 2) {
                cc->a.n_float++;
            } else {
                double t;
                if (hops_data_parse_timestamp(p, len, &t))
                    cc->a.n_ts++;
                else
                    cc->a.n_str++;
                continue;
            }
            if (add_number(c, cc, i, x) != 0)
                return hops__error(HOPS_ENOMEM, "out of memory");
            /* Numbers only, and more distinct ones than the chunk counts
             * exactly: a measurement, whose value counts are noise that
             * would cost more than everything else here. Keep its distinct
             * count (HLL) only, as pandas' describe and TFDV do. */
            if (!cc->a.freq.exact && !cc->a.freq.hll_only && cc->a.n_num == cc->a.count &&
                i != run->label_col && hops__freq_stop_counting(&cc->a.freq) != 0)
                return hops__error(HOPS_ENOMEM, "out of memory");
            if (c->k) {
                int s = c->slot_of[i];
                if (s >= 0) {
                    vrow[(size_t)s * BATCH] = x - cc->shift;
                    present |= 1ULL << s;
                }
            }
        } else if (hops_data_parse_bool(p, len, &is_true))
            cc->a.n_bool++;
        else
            cc->a.n_str++;
    }
    if (c->k) {
        c->pb[c->nr++] = present;
        if (c->nr == BATCH && corr_flush(c) != 0)
            return hops__error(HOPS_ENOMEM, "out of memory");
    }
    return HOPS_OK;
}

/* The chunk's correlation sums as pairwise moments, merged into ACC. */
static hops_status corr_merge_chunk(stats_acc *acc, const chunk *c)
{
    corr_acc *g = &acc->corr;
    if (!g->started && corr_start(g, c->cand, c->k) != 0)
        return hops__error(HOPS_ENOMEM, "out of memory");
    int pos[CORR_MAX]; /* chunk candidate -> global position */
    for (int a = 0; a < c->k; a++)
        pos[a] = corr_pos(g, c->cand[a]);
    for (int x = 0; x < g->k; x++)
        if (!c->slot_of || c->slot_of[g->col[x]] < 0 || c->k == 0)
            g->alive[x] = 0;
    const int k = c->k;
    for (int a = 0; a < k; a++) {
        if (pos[a] < 0 || !g->alive[pos[a]])
            continue;
        const col_chunk *ca = &c->cols[c->cand[a]];
        for (int b = a + 1; b < k; b++) {
            if (pos[b] < 0 || !g->alive[pos[b]])
                continue;
            const col_chunk *cb = &c->cols[c->cand[b]];
            double dn_ab = c->dn ? c->dn[b * k + a] : 0, d1_ab = c->d1 ? c->d1[b * k + a] : 0;
            double d2_ab = c->d2 ? c->d2[b * k + a] : 0, d1_ba = c->d1 ? c->d1[a * k + b] : 0;
            double d2_ba = c->d2 ? c->d2[a * k + b] : 0;
            double nn = (double)ca->a.n_num - dn_ab;
            if (nn <= 0)
                continue;
            double sx = ca->s1 - d1_ab, sxx = ca->s2 - d2_ab;
            double sy = cb->s1 - d1_ba, syy = cb->s2 - d2_ba;
            pair_acc p;
            p.n = nn;
            p.mx = ca->shift + sx / nn;
            p.my = cb->shift + sy / nn;
            p.m2x = fmax(0, sxx - sx * sx / nn);
            p.m2y = fmax(0, syy - sy * sy / nn);
            p.cxy = c->sxy[a * k + b] - sx * sy / nn;
            pair_merge(&g->pair[pos[a] * g->k + pos[b]], &p);
        }
    }
    return HOPS_OK;
}

/* The end of a chunk's records, on its parser thread: empty the batches. */
static hops_status chunk_finish(void *ud, void *cs)
{
    stats_run *run = ud;
    chunk *c = cs;
    if (!c)
        return hops__error(HOPS_ENOMEM, "out of memory");
    for (size_t i = 0; i < run->n_cols; i++)
        if (col_flush(c, &c->cols[i], 1) != 0)
            return hops__error(HOPS_ENOMEM, "out of memory");
    if (corr_flush(c) != 0)
        return hops__error(HOPS_ENOMEM, "out of memory");
    return HOPS_OK;
}

static hops_status chunk_end(void *ud, void *cs)
{
    stats_run *run = ud;
    chunk *c = cs;
    hops_status st = HOPS_OK;
    if (!c)
        return hops__error(HOPS_ENOMEM, "out of memory");
    chunk_unlink(run, c);
    run->acc.rows += c->rows;
    for (size_t i = 0; i < run->n_cols && st == HOPS_OK; i++) {
        col_chunk *cc = &c->cols[i];
        if (col_flush(c, cc, 1) != 0) { /* (chunk_finish emptied them, unless the chunk failed) */
            st = hops__error(HOPS_ENOMEM, "out of memory");
            break;
        }
        if (cc->a.n_num) {
            double nn = (double)cc->a.n_num;
            cc->a.mean = cc->shift + cc->s1 / nn;
            cc->a.m2 = fmax(0, cc->s2 - cc->s1 * cc->s1 / nn);
        }
        if (col_acc_merge(&run->acc.cols[i], &cc->a, hops__mix64(i + 1)) != 0)
            st = hops__error(HOPS_ENOMEM, "out of memory");
        if (run->acc.cols[i].freq.hll_only)
            __atomic_store_n(&run->hll_hint[i], 1, __ATOMIC_RELAXED);
    }
    if (st == HOPS_OK && corr_flush(c) != 0)
        st = hops__error(HOPS_ENOMEM, "out of memory");
    if (st == HOPS_OK && run->acc.corr_on && c->started)
        st = corr_merge_chunk(&run->acc, c);
    chunk_free(run, c);
    return st;
}

/* ---- options, columns, the scan ---- */

static const hops_stats_options default_options = HOPS_STATS_OPTIONS_INIT;

static hops_status check_options(const hops_stats_options **o)
{
    if (!*o)
        *o = &default_options;
    if ((*o)->version != HOPS_STATS_OPTIONS_VERSION)
        return hops__error(HOPS_EVERSION, "hops_stats_options version %u (this library knows %d)",
                           (*o)->version, HOPS_STATS_OPTIONS_VERSION);
    if ((*o)->top_k < 0 || (*o)->top_k > 1000 || (*o)->histogram_bins < 0 ||
        (*o)->histogram_bins > 10000)
        return hops__error(HOPS_EINVAL, "top_k must be 0..1000 and histogram_bins 0..10000");
    return HOPS_OK;
}

/* HOPS_EINVAL naming the columns when LABEL is not one of them. */
static hops_status check_label(const char *path, const char *label, size_t n, char *const *names)
{
    if (!label)
        return HOPS_OK;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], label) == 0)
            return HOPS_OK;
    hops_buf b = HOPS_BUF_INIT;
    for (size_t i = 0; i < n && b.len < 2000; i++)
        hops__buf_printf(&b, "%s%s", i ? ", " : "", names[i]);
    hops_status st = hops__error(HOPS_EINVAL, "%s: no column '%s' for --label; the columns are: %s",
                                 path, label, b.data ? b.data : "(none)");
    hops__buf_free(&b);
    return st;
}

static hops_status stats_scan(const char *path, const hops_stats_options *o, int range,
                              uint64_t begin, uint64_t end, stats_acc *out)
{
    stats_run run;
    hops_table_info info2;
    hops_status st;
    memset(&run, 0, sizeof run);
    memset(&info2, 0, sizeof info2);
    run.o = o;
    if ((st = hops__table_open(path, &o->read, &run.info)) != HOPS_OK)
        return st;
    run.n_cols = run.info.n_columns;
    run.label_col = SIZE_MAX;
    for (size_t i = 0; o->label && i < run.n_cols; i++)
        if (strcmp(run.info.columns[i], o->label) == 0)
            run.label_col = i;
    if ((st = check_label(path, o->label, run.n_cols, run.info.columns)) != HOPS_OK ||
        (st = stats_acc_init(&run.acc, path, run.info.format, run.n_cols, run.info.columns,
                             o->correlation != 0)) != HOPS_OK) {
        hops__table_info_free(&run.info);
        return st;
    }
    if (!(run.hll_hint = calloc(run.n_cols ? run.n_cols : 1, sizeof *run.hll_hint))) {
        stats_acc_free(&run.acc);
        hops__table_info_free(&run.info);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&run.lock, NULL);
    hops_scan_cb cb = {&run, chunk_begin, on_record, chunk_end, chunk_finish};
    if (range)
        st = hops__data_scan_range(path, &o->read, begin, end, &info2, &cb);
    else
        st = hops__data_scan(path, &o->read, &info2, &cb);
    while (run.live) { /* chunks a failed scan never ended */
        chunk *c = run.live;
        chunk_unlink(&run, c);
        chunk_free(&run, c);
    }
    pthread_mutex_destroy(&run.lock);
    free(run.hll_hint);
    if (st == HOPS_OK && info2.n_columns != run.n_cols)
        st = hops__error(HOPS_EPARSE, "%s: the columns changed while reading (%zu, then %zu)", path,
                         run.n_cols, info2.n_columns);
    hops__table_info_free(&info2);
    hops__table_info_free(&run.info);
    if (st != HOPS_OK) {
        stats_acc_free(&run.acc);
        return st;
    }
    *out = run.acc;
    return HOPS_OK;
}

/* ---- the document ---- */

/* A JSON string of LEN bytes; invalid UTF-8 bytes become U+FFFD. */
static json_t *json_bytes(const char *p, size_t len)
{
    json_t *s = json_stringn(p, len);
    if (s)
        return s;
    hops_buf b = HOPS_BUF_INIT;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)p[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        json_t *t = n && c && i + n <= len ? json_stringn(p + i, n) : NULL;
        if (t) {
            hops__buf_put(&b, p + i, n);
            json_decref(t);
            i += n;
        } else {
            hops__buf_puts(&b, "\xef\xbf\xbd");
            i++;
        }
    }
    s = json_stringn(b.data ? b.data : "", b.len);
    hops__buf_free(&b);
    return s;
}

static json_t *real_or_null(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static const char *col_type(const col_acc *a)
{
    if (a->count == 0)
        return "string";
    if (a->n_num == a->count)
        return a->n_float ? "float" : "int";
    if (a->n_bool == a->count)
        return "bool";
    if (a->n_ts == a->count)
        return "timestamp";
    if (a->freq.exact && a->freq.n <= CATEGORY_MAX && 2 * a->freq.n <= a->count)
        return "category";
    return "string";
}

static int is_numeric_type(const col_acc *a)
{
    return a->count > 0 && a->n_num == a->count;
}

static json_t *numeric_json(const col_acc *a, int bins)
{
    json_t *num = json_object();
    hops_kll_view view;
    if (!num || !a->kll || hops__kll_view(a->kll, &view) != 0) {
        json_decref(num);
        return NULL;
    }
    int is_int = a->n_float == 0;
    double n = (double)a->n_num;
    json_object_set_new(num, "min", is_int ? json_integer(a->imin) : real_or_null(a->min));
    json_object_set_new(num, "max", is_int ? json_integer(a->imax) : real_or_null(a->max));
    json_object_set_new(num, "mean", real_or_null(hops__xsum_round(&a->sum) / n));
    json_object_set_new(num, "std",
                        a->n_num > 1 ? real_or_null(sqrt(a->m2 / (n - 1))) : json_null());
    static const struct {
        const char *name;
        double q;
    } qs[] = {{"p1", 0.01}, {"p25", 0.25}, {"p50", 0.5}, {"p75", 0.75}, {"p99", 0.99}};
    json_t *quant = json_object();
    for (size_t i = 0; i < HOPS_ARRAY_LEN(qs); i++) {
        double v = hops__kll_quantile(&view, qs[i].q);
        v = v < a->min ? a->min : v > a->max ? a->max : v;
        json_object_set_new(quant, qs[i].name, real_or_null(v));
    }
    json_object_set_new(num, "quantiles", quant);
    json_object_set_new(num, "quantile_rank_error", json_real(hops__kll_rank_error(a->kll)));

    /* Equal-width bins over [min, max] as numpy.histogram draws them (a
     * constant column gets [v - 0.5, v + 0.5]), counted from the sketch's
     * CDF: exact while the sketch is, else each bin within count_error *
     * count (twice the rank error: a bin is the difference of two ranks). */
    double lo = a->min, hi = a->max;
    if (lo == hi) {
        lo -= 0.5;
        hi += 0.5;
    }
    json_t *edges = json_array(), *counts = json_array();
    double step = (hi - lo) / bins;
    uint64_t prev = 0, *cnt = calloc((size_t)bins, sizeof *cnt);
    if (!cnt) {
        json_decref(num);
        json_decref(edges);
        json_decref(counts);
        hops__kll_view_free(&view);
        return NULL;
    }
    for (int b = 0; b <= bins; b++) {
        double e = b == bins ? hi : (double)b * step + lo;
        json_array_append_new(edges, real_or_null(e));
        if (b == 0)
            continue;
        uint64_t r = hops__kll_rank(&view, e, b == bins);
        cnt[b - 1] = r - prev;
        prev = r;
    }
    /* The first bin holds the min and the last the max, which a compacted
     * sketch may have dropped: give each at least 1, from the fullest bin
     * (a change of 1, well inside the stated error). */
    for (int end = 0; end < 2 && !view.exact && bins > 1; end++) {
        int b = end ? bins - 1 : 0, full = 0;
        for (int i = 1; i < bins; i++)
            full = cnt[i] > cnt[full] ? i : full;
        if (cnt[b] == 0 && cnt[full] > 1) {
            cnt[b]++;
            cnt[full]--;
        }
    }
    for (int b = 0; b < bins; b++)
        json_array_append_new(counts, json_integer((json_int_t)cnt[b]));
    free(cnt);
    json_t *hist = json_object();
    json_object_set_new(hist, "edges", edges);
    json_object_set_new(hist, "counts", counts);
    json_object_set_new(hist, "count_error", json_real(2 * hops__kll_rank_error(a->kll)));
    json_object_set_new(num, "histogram", hist);
    hops__kll_view_free(&view);
    return num;
}

/* [{"value", "count"}] of the LIMIT most frequent values (all when 0). */
static json_t *values_json(const hops_freq *f, size_t limit)
{
    const hops_freq_entry **e;
    json_t *arr = json_array();
    if (!arr || hops__freq_sorted(f, &e) != 0) {
        json_decref(arr);
        return NULL;
    }
    for (size_t i = 0; i < f->n && (!limit || i < limit); i++) {
        json_t *o = json_object();
        json_object_set_new(o, "value", json_bytes(hops__freq_text(f, e[i]), e[i]->len));
        json_object_set_new(o, "count", json_integer((json_int_t)e[i]->count));
        json_array_append_new(arr, o);
    }
    free(e);
    return arr;
}

static json_t *column_json(const stats_acc *s, size_t i, const hops_stats_options *o)
{
    const col_acc *a = &s->cols[i];
    json_t *col = json_object();
    double derr;
    double distinct = hops__freq_distinct(&a->freq, &derr);
    json_object_set_new(col, "name", json_bytes(s->names[i], strlen(s->names[i])));
    json_object_set_new(col, "type", json_string(col_type(a)));
    json_object_set_new(col, "count", json_integer((json_int_t)a->count));
    json_object_set_new(col, "nulls", json_integer((json_int_t)a->nulls));
    if (is_numeric_type(a)) {
        json_t *num = numeric_json(a, o->histogram_bins ? o->histogram_bins : 10);
        if (!num) {
            json_decref(col);
            return NULL;
        }
        json_object_set_new(col, "numeric", num);
    }
    json_object_set_new(col, "distinct", json_integer((json_int_t)llround(distinct)));
    json_object_set_new(col, "distinct_error", json_real(derr));
    json_t *top = values_json(&a->freq, (size_t)(o->top_k ? o->top_k : 10));
    if (!top) {
        json_decref(col);
        return NULL;
    }
    json_object_set_new(col, "top", top);
    json_object_set_new(col, "top_tracked", json_boolean(!a->freq.hll_only));
    json_object_set_new(col, "top_exact", json_boolean(a->freq.exact));
    json_object_set_new(col, "top_count_error", a->freq.hll_only
                                                    ? json_null()
                                                    : json_integer((json_int_t)a->freq.err));
    return col;
}

static json_t *label_json(const stats_acc *s, size_t i, const hops_stats_options *o)
{
    const col_acc *a = &s->cols[i];
    json_t *lab = json_object();
    json_t *classes = values_json(&a->freq, a->freq.exact ? 0 : (size_t)(o->top_k ? o->top_k : 10));
    if (!classes) {
        json_decref(lab);
        return NULL;
    }
    uint64_t most = 0, least = 0;
    for (size_t k = 0; k < a->freq.n; k++) {
        uint64_t c = a->freq.e[k].count;
        most = c > most ? c : most;
        least = !least || c < least ? c : least;
    }
    json_object_set_new(lab, "column", json_bytes(s->names[i], strlen(s->names[i])));
    json_object_set_new(lab, "classes", classes);
    json_object_set_new(lab, "nulls", json_integer((json_int_t)a->nulls));
    json_object_set_new(lab, "exact", json_boolean(a->freq.exact));
    json_object_set_new(lab, "imbalance_ratio",
                        a->freq.exact && least ? json_real((double)most / (double)least)
                                               : json_null());
    return lab;
}

static json_t *corr_json(const stats_acc *s)
{
    const corr_acc *c = &s->corr;
    int use[CORR_MAX], n = 0;
    json_t *names = json_array(), *matrix = json_array(), *out = json_object();
    for (int x = 0; x < c->k; x++)
        if (c->alive[x] && is_numeric_type(&s->cols[c->col[x]]))
            use[n++] = x;
    for (int x = 0; x < n; x++) {
        const col_acc *ca = &s->cols[c->col[use[x]]];
        json_t *row = json_array();
        json_array_append_new(
            names, json_bytes(s->names[c->col[use[x]]], strlen(s->names[c->col[use[x]]])));
        for (int y = 0; y < n; y++) {
            if (x == y) {
                json_array_append_new(row,
                                      ca->n_num > 1 && ca->m2 > 0 ? json_real(1.0) : json_null());
                continue;
            }
            int a = use[x] < use[y] ? use[x] : use[y], b = use[x] < use[y] ? use[y] : use[x];
            const pair_acc *p = &c->pair[a * c->k + b];
            double r = NAN;
            if (p->n > 1 && p->m2x > 0 && p->m2y > 0)
                r = p->cxy / sqrt(p->m2x * p->m2y);
            r = r > 1 ? 1 : r < -1 ? -1 : r;
            json_array_append_new(row, real_or_null(r));
        }
        json_array_append_new(matrix, row);
    }
    json_object_set_new(out, "columns", names);
    json_object_set_new(out, "matrix", matrix);
    return out;
}

static hops_status stats_document(const stats_acc *s, const hops_stats_options *o, char **out_json)
{
    hops_status st = check_label(s->path, o->label, s->n_cols, s->names);
    if (st != HOPS_OK)
        return st;
    json_t *doc = json_object(), *cols = json_array();
    json_object_set_new(doc, "file", json_bytes(s->path, strlen(s->path)));
    json_object_set_new(doc, "format",
                        json_string(s->format == HOPS_FORMAT_JSONL ? "jsonl" : "csv"));
    json_object_set_new(doc, "rows", json_integer((json_int_t)s->rows));
    json_object_set_new(doc, "columns", cols);
    for (size_t i = 0; i < s->n_cols; i++) {
        json_t *c = column_json(s, i, o);
        if (!c) {
            json_decref(doc);
            return hops__error(HOPS_ENOMEM, "out of memory");
        }
        json_array_append_new(cols, c);
    }
    if (o->label) {
        for (size_t i = 0; i < s->n_cols; i++)
            if (strcmp(s->names[i], o->label) == 0) {
                json_t *lab = label_json(s, i, o);
                if (!lab) {
                    json_decref(doc);
                    return hops__error(HOPS_ENOMEM, "out of memory");
                }
                json_object_set_new(doc, "label", lab);
                break;
            }
    }
    if (o->correlation && s->corr_on)
        json_object_set_new(doc, "correlation", corr_json(s));
    *out_json = hops__json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return *out_json ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}

hops_status hops_data_stats_json(const char *path, const hops_stats_options *o, char **out_json)
{
    stats_acc acc;
    hops_status st;
    if (!out_json || !path)
        return hops__error(HOPS_EINVAL, "hops_data_stats_json: NULL argument");
    *out_json = NULL;
    if ((st = check_options(&o)) != HOPS_OK || (st = stats_scan(path, o, 0, 0, 0, &acc)) != HOPS_OK)
        return st;
    st = stats_document(&acc, o, out_json);
    stats_acc_free(&acc);
    return st;
}

/* ---- partial states ---- */

static void col_write(hops_wr *w, const col_acc *a)
{
    const uint64_t counts[] = {a->count,  a->nulls, a->n_int, a->n_float,
                               a->n_bool, a->n_ts,  a->n_str, a->n_num};
    for (size_t i = 0; i < HOPS_ARRAY_LEN(counts); i++)
        hops__wr_u64(w, counts[i]);
    hops__wr_f64(w, a->min);
    hops__wr_f64(w, a->max);
    hops__wr_u64(w, (uint64_t)a->imin);
    hops__wr_u64(w, (uint64_t)a->imax);
    hops__xsum_write(w, &a->sum);
    hops__wr_f64(w, a->mean);
    hops__wr_f64(w, a->m2);
    hops__wr_u64(w, a->kll != NULL);
    if (a->kll)
        hops__kll_write(w, a->kll);
    hops__freq_write(w, &a->freq);
}

static int col_read(hops_rd *r, col_acc *a)
{
    uint64_t *counts[] = {&a->count,  &a->nulls, &a->n_int, &a->n_float,
                          &a->n_bool, &a->n_ts,  &a->n_str, &a->n_num};
    memset(a, 0, sizeof *a);
    for (size_t i = 0; i < HOPS_ARRAY_LEN(counts); i++)
        *counts[i] = hops__rd_u64(r);
    a->min = hops__rd_f64(r);
    a->max = hops__rd_f64(r);
    a->imin = (int64_t)hops__rd_u64(r);
    a->imax = (int64_t)hops__rd_u64(r);
    hops__xsum_read(r, &a->sum);
    a->mean = hops__rd_f64(r);
    a->m2 = hops__rd_f64(r);
    if (hops__rd_count(r, 1)) {
        if (!(a->kll = malloc(sizeof *a->kll)) || hops__kll_read(r, a->kll) != 0) {
            free(a->kll);
            a->kll = NULL;
            r->bad = 1;
        }
    }
    if (r->bad || hops__freq_read(r, &a->freq) != 0) {
        col_acc_free(a);
        memset(a, 0, sizeof *a);
        return -1;
    }
    if (a->n_num != a->n_int + a->n_float ||
        a->count != a->n_num + a->n_bool + a->n_ts + a->n_str ||
        (a->n_num && (!a->kll || a->kll->n != a->n_num)) || (!a->n_num && a->kll)) {
        col_acc_free(a);
        return -1;
    }
    return 0;
}

static void state_write(hops_wr *w, const stats_acc *s)
{
    hops__wr_bytes(w, STATE_MAGIC, 8);
    hops__wr_u64(w, STATE_VERSION);
    hops__wr_str(w, s->path);
    hops__wr_u64(w, (uint64_t)s->format);
    hops__wr_u64(w, s->n_cols);
    for (size_t i = 0; i < s->n_cols; i++)
        hops__wr_str(w, s->names[i]);
    hops__wr_u64(w, (uint64_t)s->corr_on);
    hops__wr_u64(w, s->rows);
    for (size_t i = 0; i < s->n_cols; i++)
        col_write(w, &s->cols[i]);
    hops__wr_u64(w, (uint64_t)s->corr.started);
    if (!s->corr.started)
        return;
    hops__wr_u64(w, (uint64_t)s->corr.k);
    for (int a = 0; a < s->corr.k; a++) {
        hops__wr_u64(w, (uint64_t)s->corr.col[a]);
        hops__wr_u64(w, (uint64_t)s->corr.alive[a]);
    }
    for (int a = 0; a < s->corr.k; a++)
        for (int b = a + 1; b < s->corr.k; b++) {
            const pair_acc *p = &s->corr.pair[a * s->corr.k + b];
            const double v[] = {p->n, p->mx, p->my, p->m2x, p->m2y, p->cxy};
            for (size_t i = 0; i < HOPS_ARRAY_LEN(v); i++)
                hops__wr_f64(w, v[i]);
        }
}

static hops_status state_read(const char *data, size_t len, size_t which, stats_acc *s)
{
    hops_rd r = {(const unsigned char *)data, len, 0, 0};
    char **names = NULL;
    char *path = NULL;
    size_t n_cols = 0;
    hops_status st = HOPS_ECORRUPT;
    const char *magic = hops__rd_bytes(&r, 8);
    memset(s, 0, sizeof *s);
    if (!magic || memcmp(magic, STATE_MAGIC, 8) != 0)
        return hops__error(HOPS_ECORRUPT, "stats state %zu: not a hops stats state", which);
    uint64_t version = hops__rd_u64(&r);
    if (r.bad)
        return hops__error(HOPS_ECORRUPT, "stats state %zu: truncated", which);
    if (version != STATE_VERSION)
        return hops__error(HOPS_EVERSION, "stats state %zu: version %llu (this library reads %d)",
                           which, (unsigned long long)version, STATE_VERSION);
    path = hops__rd_str(&r);
    uint64_t format = hops__rd_count(&r, HOPS_FORMAT_JSONL);
    n_cols = (size_t)hops__rd_count(&r, len / 8);
    names = calloc(n_cols ? n_cols : 1, sizeof *names);
    if (!names || !path)
        goto out;
    for (size_t i = 0; i < n_cols; i++)
        if (!(names[i] = hops__rd_str(&r)))
            goto out;
    int corr_on = (int)hops__rd_count(&r, 1);
    if (r.bad ||
        stats_acc_init(s, path, (hops_data_format)format, n_cols, names, corr_on) != HOPS_OK)
        goto out;
    s->rows = hops__rd_u64(&r);
    for (size_t i = 0; i < n_cols; i++) {
        col_acc_free(&s->cols[i]);
        if (col_read(&r, &s->cols[i]) != 0) {
            for (size_t j = i; j < n_cols; j++) /* the rest stay freeable */
                col_acc_init(&s->cols[j], GLOBAL_FREQ_EXACT, GLOBAL_FREQ_KEEP);
            goto out;
        }
    }
    if (hops__rd_count(&r, 1)) {
        int k = (int)hops__rd_count(&r, CORR_MAX), cols[CORR_MAX];
        for (int a = 0; a < k; a++) {
            cols[a] = (int)hops__rd_count(&r, n_cols ? n_cols - 1 : 0);
            if (a > 0 && cols[a] <= cols[a - 1])
                r.bad = 1;
            s->corr.alive[a] = (int)hops__rd_count(&r, 1);
        }
        int alive[CORR_MAX];
        memcpy(alive, s->corr.alive, sizeof alive);
        if (r.bad || corr_start(&s->corr, cols, k) != 0)
            goto out;
        memcpy(s->corr.alive, alive, sizeof alive);
        for (int a = 0; a < k; a++)
            for (int b = a + 1; b < k; b++) {
                pair_acc *p = &s->corr.pair[a * k + b];
                double *v[] = {&p->n, &p->mx, &p->my, &p->m2x, &p->m2y, &p->cxy};
                for (size_t i = 0; i < HOPS_ARRAY_LEN(v); i++)
                    *v[i] = hops__rd_f64(&r);
            }
    }
    if (!r.bad && r.pos == r.len)
        st = HOPS_OK;
out:
    for (size_t i = 0; names && i < n_cols; i++)
        free(names[i]);
    free(names);
    free(path);
    if (st != HOPS_OK) {
        stats_acc_free(s);
        return hops__error(HOPS_ECORRUPT, "stats state %zu: truncated or damaged", which);
    }
    return HOPS_OK;
}

hops_status hops_data_stats_partial(const char *path, const hops_stats_options *o, uint64_t begin,
                                    uint64_t end, char **state_out, size_t *len_out)
{
    stats_acc acc;
    hops_status st;
    hops_wr w = {HOPS_BUF_INIT, 0};
    if (!path || !state_out || !len_out)
        return hops__error(HOPS_EINVAL, "hops_data_stats_partial: NULL argument");
    *state_out = NULL;
    *len_out = 0;
    if ((st = check_options(&o)) != HOPS_OK)
        return st;
    if (end < begin)
        return hops__error(HOPS_EINVAL, "byte range [%llu, %llu) is backwards",
                           (unsigned long long)begin, (unsigned long long)end);
    if ((st = stats_scan(path, o, 1, begin, end, &acc)) != HOPS_OK)
        return st;
    state_write(&w, &acc);
    stats_acc_free(&acc);
    if (w.failed) {
        hops__buf_free(&w.b);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    *len_out = w.b.len;
    *state_out = hops__buf_detach(&w.b);
    return HOPS_OK;
}

hops_status hops_data_stats_merge_json(const char *const *states, const size_t *lens, size_t n,
                                       const hops_stats_options *o, char **out_json)
{
    stats_acc all, one;
    hops_status st;
    if (!out_json || (n && (!states || !lens)))
        return hops__error(HOPS_EINVAL, "hops_data_stats_merge_json: NULL argument");
    *out_json = NULL;
    if ((st = check_options(&o)) != HOPS_OK)
        return st;
    if (n == 0)
        return hops__error(HOPS_EINVAL, "no stats states to merge");
    if ((st = state_read(states[0], lens[0], 0, &all)) != HOPS_OK)
        return st;
    for (size_t i = 1; i < n && st == HOPS_OK; i++) {
        if ((st = state_read(states[i], lens[i], i, &one)) != HOPS_OK)
            break;
        int same = one.n_cols == all.n_cols && one.corr_on == all.corr_on;
        for (size_t c = 0; same && c < all.n_cols; c++)
            same = strcmp(one.names[c], all.names[c]) == 0;
        st = same ? stats_acc_merge(&all, &one)
                  : hops__error(HOPS_ECORRUPT, "stats state %zu: other columns than state 0", i);
        stats_acc_free(&one);
    }
    if (st == HOPS_OK)
        st = stats_document(&all, o, out_json);
    stats_acc_free(&all);
    return st;
}
