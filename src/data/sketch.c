/* The hash every sketch shares, and the byte format their states travel in. */
#include <stdlib.h>
#include <string.h>

#include "sketch.h"

/* ---- hash: the multiply-mix construction of wyhash (final v4) ---- */

__extension__ typedef unsigned __int128 u128;

static const uint64_t P0 = 0xa0761d6478bd642fULL, P1 = 0xe7037ed1a0b428dbULL,
                      P2 = 0x8ebc6af09c88c6e3ULL, P3 = 0x589965cc75374cc3ULL;

static inline void mum(uint64_t *a, uint64_t *b)
{
    u128 r = *a;
    r *= *b;
    *a = (uint64_t)r;
    *b = (uint64_t)(r >> 64);
}

static inline uint64_t mix(uint64_t a, uint64_t b)
{
    mum(&a, &b);
    return a ^ b;
}

uint64_t hops__hash64(const void *key, size_t len, uint64_t seed)
{
    const uint8_t *p = key;
    /* mix(P0, P1), the mixed seed 0 every sketch uses, precomputed */
    seed = seed ? seed ^ mix(seed ^ P0, P1) : 0x1ff5c2923a788d2cULL;
    if (len <= 16)
        return hops__hash64_small(key, len, seed);
    size_t i = len;
    if (i > 48) {
        uint64_t see1 = seed, see2 = seed;
        do {
            seed = mix(hops__le64(p) ^ P1, hops__le64(p + 8) ^ seed);
            see1 = mix(hops__le64(p + 16) ^ P2, hops__le64(p + 24) ^ see1);
            see2 = mix(hops__le64(p + 32) ^ P3, hops__le64(p + 40) ^ see2);
            p += 48;
            i -= 48;
        } while (i > 48);
        seed ^= see1 ^ see2;
    }
    while (i > 16) {
        seed = mix(hops__le64(p) ^ P1, hops__le64(p + 8) ^ seed);
        i -= 16;
        p += 16;
    }
    uint64_t a = hops__le64(p + i - 16) ^ P1, b = hops__le64(p + i - 8) ^ seed;
    mum(&a, &b);
    return mix(a ^ P0 ^ len, b ^ P1);
}

/* ---- writer ---- */

void hops__wr_bytes(hops_wr *w, const void *p, size_t n)
{
    if (!w->failed && hops__buf_put(&w->b, p, n) != 0)
        w->failed = 1;
}

void hops__wr_u64(hops_wr *w, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    hops__wr_bytes(w, b, 8);
}

void hops__wr_f64(hops_wr *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    hops__wr_u64(w, u);
}

void hops__wr_str(hops_wr *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    hops__wr_u64(w, n);
    hops__wr_bytes(w, s ? s : "", n);
}

/* ---- reader ---- */

const void *hops__rd_bytes(hops_rd *r, size_t n)
{
    if (r->bad || n > r->len - r->pos) {
        r->bad = 1;
        return NULL;
    }
    const void *p = r->p + r->pos;
    r->pos += n;
    return p;
}

uint64_t hops__rd_u64(hops_rd *r)
{
    const unsigned char *b = hops__rd_bytes(r, 8);
    uint64_t v = 0;
    if (!b)
        return 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

double hops__rd_f64(hops_rd *r)
{
    uint64_t u = hops__rd_u64(r);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

uint64_t hops__rd_count(hops_rd *r, uint64_t max)
{
    uint64_t v = hops__rd_u64(r);
    if (v > max) {
        r->bad = 1;
        return 0;
    }
    return v;
}

char *hops__rd_str(hops_rd *r)
{
    uint64_t n = hops__rd_count(r, r->len);
    const char *p = hops__rd_bytes(r, (size_t)n);
    if (!p)
        return NULL;
    return hops__strndup(p, (size_t)n);
}
