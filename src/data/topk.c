/* Value counts: an exact hash table of distinct values while there are few,
 * then a Misra-Gries summary (mergeable: Agarwal et al., "Mergeable
 * summaries", 2012) with a HyperLogLog for the distinct count.
 *
 * Entries live densely in insertion order, their bytes (NUL-terminated) in
 * one arena, and an open-addressing index of 64-bit slots (entry index and
 * the hash's top half) points at them: a value costs one probe and, when new,
 * one copy, with no malloc per value; a reduction compacts the dense arrays
 * in place (offsets ascend with the entries) and rebuilds the index. */
#include <stdlib.h>
#include <string.h>

#include "sketch.h"

#define MAX_ENTRIES (1u << 24)
#define MAX_VALUE_LEN (1u << 30)

void hops__freq_init(hops_freq *f, size_t exact_limit, size_t keep)
{
    memset(f, 0, sizeof *f);
    f->exact_limit = exact_limit;
    f->keep = keep;
    f->exact = 1;
}

void hops__freq_free(hops_freq *f)
{
    free(f->e);
    free(f->slot);
    free(f->arena);
    free(f->hll);
    memset(f, 0, sizeof *f);
}

static inline void slot_put(hops_freq *f, size_t idx)
{
    uint64_t h = f->e[idx].hash;
    size_t mask = f->n_slots - 1, i = (size_t)h & mask;
    while (f->slot[i])
        i = (i + 1) & mask;
    f->slot[i] = (uint64_t)(idx + 1) | (h >> 32) << 32;
}

/* Rebuild the index with N_SLOTS slots (a power of two). */
static int slots_rebuild(hops_freq *f, size_t n_slots)
{
    if (n_slots != f->n_slots) {
        uint64_t *s = calloc(n_slots, sizeof *s);
        if (!s)
            return -1;
        free(f->slot);
        f->slot = s;
        f->n_slots = n_slots;
    } else
        memset(f->slot, 0, n_slots * sizeof *f->slot);
    for (size_t i = 0; i < f->n; i++)
        slot_put(f, i);
    return 0;
}

/* A == B for N bytes; short values (most are) without a call to memcmp:
 * two overlapping loads that stay inside the N bytes. */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
    if (n >= 8 && n <= 16)
        return ((hops__le64(a) ^ hops__le64(b)) | (hops__le64(a + n - 8) ^ hops__le64(b + n - 8))) == 0;
    if (n >= 4 && n < 8)
        return ((hops__le32(a) ^ hops__le32(b)) | (hops__le32(a + n - 4) ^ hops__le32(b + n - 4))) == 0;
    if (n < 4) {
        for (size_t i = 0; i < n; i++)
            if (a[i] != b[i])
                return 0;
        return 1;
    }
    return memcmp(a, b, n) == 0;
}

/* The entry holding the value, or NULL and *pos the empty slot for it. */
static inline hops_freq_entry *lookup(const hops_freq *f, const char *p, size_t len, uint64_t hash,
                                      size_t *pos)
{
    size_t mask = f->n_slots - 1, i = (size_t)hash & mask;
    uint64_t tag = hash >> 32;
    for (;;) {
        uint64_t s = f->slot[i];
        if (!s)
            break;
        if ((s >> 32) == tag) {
            hops_freq_entry *e = &f->e[(uint32_t)s - 1];
            if (e->hash == hash && e->len == len && same_bytes(f->arena + e->off, p, len))
                return e;
        }
        i = (i + 1) & mask;
    }
    *pos = i;
    return NULL;
}

/* Insert a value known to be absent, at slot POS (from lookup), with COUNT;
 * no reduction. */
static int insert_at(hops_freq *f, const char *p, size_t len, uint64_t hash, uint64_t count,
                     size_t pos)
{
    if (f->n >= MAX_ENTRIES || len >= MAX_VALUE_LEN)
        return -1;
    if ((f->n + 1) * 2 > f->n_slots) {
        if (slots_rebuild(f, f->n_slots * 2) != 0)
            return -1;
        lookup(f, p, len, hash, &pos);
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 32;
        hops_freq_entry *e = realloc(f->e, cap * sizeof *e);
        if (!e)
            return -1;
        f->e = e;
        f->cap = cap;
    }
    if (f->arena_len + len + 1 > f->arena_cap) {
        size_t cap = f->arena_cap ? f->arena_cap : 1024;
        while (cap < f->arena_len + len + 1)
            cap *= 2;
        if (cap > UINT32_MAX)
            return -1;
        char *a = realloc(f->arena, cap);
        if (!a)
            return -1;
        f->arena = a;
        f->arena_cap = cap;
    }
    hops_freq_entry *e = &f->e[f->n];
    e->hash = hash;
    e->count = count;
    e->off = (uint32_t)f->arena_len;
    e->len = (uint32_t)len;
    if (len)
        memcpy(f->arena + f->arena_len, p, len);
    f->arena[f->arena_len + len] = '\0';
    f->arena_len += len + 1;
    f->slot[pos] = (uint64_t)(f->n + 1) | (hash >> 32) << 32;
    f->n++;
    return 0;
}

/* Add COUNT to the value, inserting it when new; no reduction. */
static int upsert(hops_freq *f, const char *p, size_t len, uint64_t hash, uint64_t count)
{
    size_t pos;
    if (!f->n_slots && slots_rebuild(f, 64) != 0)
        return -1;
    hops_freq_entry *e = lookup(f, p, len, hash, &pos);
    if (e) {
        e->count += count;
        return 0;
    }
    return insert_at(f, p, len, hash, count, pos);
}

/* The K-th smallest (0-based) of N counts; reorders C. Three-way
 * partitions, so runs of equal counts (all 1s) take one pass. */
static uint64_t select_kth(uint64_t *c, size_t n, size_t k)
{
    ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
    while (lo < hi) {
        uint64_t a = c[lo], b = c[lo + (hi - lo) / 2], d = c[hi];
        uint64_t pivot = a < b ? (b < d ? b : (a < d ? d : a)) : (a < d ? a : (b < d ? d : b));
        ptrdiff_t lt = lo, i = lo, gt = hi;
        while (i <= gt) {
            uint64_t t = c[i];
            if (t < pivot) {
                c[i++] = c[lt];
                c[lt++] = t;
            } else if (t > pivot) {
                c[i] = c[gt];
                c[gt--] = t;
            } else
                i++;
        }
        if (kk < lt)
            hi = lt - 1;
        else if (kk > gt)
            lo = gt + 1;
        else
            return pivot;
    }
    return c[kk];
}

/* Misra-Gries reduction: subtract the (KEEP+1)-th largest count from every
 * counter and drop those that reach 0; at most KEEP remain, indexed by a
 * table sized for 2 * KEEP. */
static int reduce(hops_freq *f)
{
    if (f->n <= f->keep)
        return 0;
    uint64_t stack[1024], *c = f->n <= 1024 ? stack : malloc(f->n * sizeof *c);
    if (!c)
        return -1;
    for (size_t i = 0; i < f->n; i++)
        c[i] = f->e[i].count;
    uint64_t cut = select_kth(c, f->n, f->n - f->keep - 1);
    if (c != stack)
        free(c);
    size_t w = 0, arena = 0;
    for (size_t i = 0; i < f->n; i++) {
        hops_freq_entry e = f->e[i];
        if (e.count <= cut)
            continue;
        e.count -= cut;
        memmove(f->arena + arena, f->arena + e.off, (size_t)e.len + 1);
        e.off = (uint32_t)arena;
        arena += (size_t)e.len + 1;
        f->e[w++] = e;
    }
    f->n = w;
    f->arena_len = arena;
    f->err += cut;
    size_t n_slots = 64;
    while (n_slots < 4 * (f->keep + 1))
        n_slots *= 2;
    return slots_rebuild(f, n_slots);
}

/* Leave exact mode: the HLL takes over the distinct count, seeded with every
 * value seen so far (the table still holds them all). */
static int go_approx(hops_freq *f)
{
    if (!f->exact)
        return 0;
    f->hll = calloc(1, sizeof *f->hll);
    if (!f->hll)
        return -1;
    for (size_t i = 0; i < f->n; i++)
        hops__hll_add(f->hll, f->e[i].hash);
    f->exact = 0;
    return 0;
}

/* Leave exact mode now: HLL, reduction, and the memory back. */
static int enforce_limits_now(hops_freq *f)
{
    if (go_approx(f) != 0 || reduce(f) != 0)
        return -1;
    size_t cap = 2 * f->keep + 2;
    if (f->cap > cap) {
        hops_freq_entry *e = realloc(f->e, cap * sizeof *e);
        if (e) {
            f->e = e;
            f->cap = cap;
        }
    }
    if (f->arena_cap > 4 * f->arena_len + 4096) {
        char *a = realloc(f->arena, 4 * f->arena_len + 4096);
        if (a) {
            f->arena = a;
            f->arena_cap = 4 * f->arena_len + 4096;
        }
    }
    return 0;
}

static int enforce_limits(hops_freq *f)
{
    if (f->exact && f->n > f->exact_limit)
        return enforce_limits_now(f);
    if (!f->exact && f->n > 2 * f->keep)
        return reduce(f);
    return 0;
}

int hops__freq_stop_counting(hops_freq *f)
{
    if (f->hll_only)
        return 0;
    if (go_approx(f) != 0)
        return -1;
    free(f->e);
    free(f->slot);
    free(f->arena);
    f->e = NULL;
    f->slot = NULL;
    f->arena = NULL;
    f->n = f->cap = f->n_slots = f->arena_len = f->arena_cap = 0;
    f->err = 0;
    f->hll_only = 1;
    return 0;
}

int hops__freq_add(hops_freq *f, const char *p, size_t len, uint64_t hash)
{
    size_t pos;
    if (f->hll_only) {
        hops__hll_add(f->hll, hash);
        return 0;
    }
    if (!f->n_slots && slots_rebuild(f, 64) != 0)
        return -1;
    hops_freq_entry *e = lookup(f, p, len, hash, &pos);
    if (e) {
        e->count++;
        return 0;
    }
    if (f->exact && f->n == f->exact_limit) {
        /* One distinct value too many: reduce before growing the table. */
        if (enforce_limits_now(f) != 0)
            return -1;
        lookup(f, p, len, hash, &pos);
    }
    /* A value in the table is in the HLL already: added when it was
     * inserted, or by go_approx. */
    if (f->hll)
        hops__hll_add(f->hll, hash);
    if (insert_at(f, p, len, hash, 1, pos) != 0)
        return -1;
    return !f->exact && f->n > 2 * f->keep ? reduce(f) : 0;
}

int hops__freq_merge(hops_freq *a, const hops_freq *b)
{
    if (a->hll_only || b->hll_only) {
        if (hops__freq_stop_counting(a) != 0)
            return -1;
        if (b->hll) /* every value B saw (it has one whenever it is not exact) */
            hops__hll_merge(a->hll, b->hll);
        else
            for (size_t i = 0; i < b->n; i++)
                hops__hll_add(a->hll, b->e[i].hash);
        return 0;
    }
    if (!a->exact || !b->exact) {
        if (go_approx(a) != 0)
            return -1;
        if (b->exact) {
            for (size_t i = 0; i < b->n; i++)
                hops__hll_add(a->hll, b->e[i].hash);
        } else
            hops__hll_merge(a->hll, b->hll);
    }
    for (size_t i = 0; i < b->n; i++) {
        const hops_freq_entry *e = &b->e[i];
        if (upsert(a, b->arena + e->off, e->len, e->hash, e->count) != 0)
            return -1;
    }
    a->err += b->err;
    return enforce_limits(a);
}

double hops__freq_distinct(const hops_freq *f, double *err)
{
    if (f->exact || !f->hll) {
        *err = 0;
        return (double)f->n;
    }
    *err = hops__hll_std_error();
    return hops__hll_estimate(f->hll);
}

typedef struct {
    const char *arena;
    const hops_freq_entry *e;
} ranked;

static int cmp_ranked(const void *x, const void *y)
{
    const hops_freq_entry *a = ((const ranked *)x)->e, *b = ((const ranked *)y)->e;
    const char *arena = ((const ranked *)x)->arena;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    int c = memcmp(arena + a->off, arena + b->off, a->len < b->len ? a->len : b->len);
    if (c)
        return c;
    return (a->len > b->len) - (a->len < b->len);
}

int hops__freq_sorted(const hops_freq *f, const hops_freq_entry ***out)
{
    ranked *r = malloc((f->n ? f->n : 1) * sizeof *r);
    const hops_freq_entry **e = malloc((f->n ? f->n : 1) * sizeof *e);
    if (!r || !e) {
        free(r);
        free(e);
        return -1;
    }
    for (size_t i = 0; i < f->n; i++) {
        r[i].arena = f->arena;
        r[i].e = &f->e[i];
    }
    qsort(r, f->n, sizeof *r, cmp_ranked);
    for (size_t i = 0; i < f->n; i++)
        e[i] = r[i].e;
    free(r);
    *out = e;
    return 0;
}

void hops__freq_write(hops_wr *w, const hops_freq *f)
{
    hops__wr_u64(w, f->exact_limit);
    hops__wr_u64(w, f->keep);
    hops__wr_u64(w, (uint64_t)f->exact);
    hops__wr_u64(w, (uint64_t)f->hll_only);
    hops__wr_u64(w, f->err);
    hops__wr_u64(w, f->n);
    for (size_t i = 0; i < f->n; i++) {
        hops__wr_u64(w, f->e[i].hash);
        hops__wr_u64(w, f->e[i].count);
        hops__wr_u64(w, f->e[i].len);
        hops__wr_bytes(w, f->arena + f->e[i].off, f->e[i].len);
    }
    hops__wr_u64(w, f->hll != NULL);
    if (f->hll)
        hops__wr_bytes(w, f->hll->reg, HOPS_HLL_M);
}

int hops__freq_read(hops_rd *r, hops_freq *f)
{
    size_t exact_limit = (size_t)hops__rd_count(r, MAX_ENTRIES);
    size_t keep = (size_t)hops__rd_count(r, MAX_ENTRIES / 4);
    hops__freq_init(f, exact_limit, keep);
    f->exact = (int)hops__rd_count(r, 1);
    f->hll_only = (int)hops__rd_count(r, 1);
    f->err = hops__rd_u64(r);
    uint64_t n = hops__rd_count(r, (r->len - r->pos) / 24); /* each entry takes >= 24 bytes */
    if (r->bad || keep < 1)
        goto bad;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t hash = hops__rd_u64(r), count = hops__rd_u64(r);
        uint64_t len = hops__rd_count(r, MAX_VALUE_LEN - 1);
        const char *p = hops__rd_bytes(r, (size_t)len);
        if (!p || count == 0 || upsert(f, p, (size_t)len, hash, count) != 0)
            goto bad;
    }
    uint64_t has_hll = hops__rd_count(r, 1);
    if (has_hll != (uint64_t)!f->exact)
        goto bad;
    if (has_hll) {
        const uint8_t *reg = hops__rd_bytes(r, HOPS_HLL_M);
        f->hll = malloc(sizeof *f->hll);
        if (!reg || !f->hll)
            goto bad;
        memcpy(f->hll->reg, reg, HOPS_HLL_M);
    }
    if (r->bad || (f->exact && f->n > f->exact_limit) || (!f->exact && f->n > 2 * f->keep) ||
        (f->hll_only && (f->exact || f->n || f->err)))
        goto bad;
    return 0;
bad:
    r->bad = 1;
    hops__freq_free(f);
    return -1;
}
