/* An exact sum of doubles: a fixed-point superaccumulator (after Neal's
 * "small superaccumulator", 2015) with 32-bit digits held in 64-bit signed
 * words, so most additions touch two words and never carry. The result is a
 * function of the multiset of values alone, which is what lets a mean merged
 * from any split of the data equal the single-pass one bit for bit. */
#include <math.h>

#include "sketch.h"

/* Bring every digit but the top one into [0, 2^32), pushing carries up. */
void hops__xsum_carry(hops_xsum *s)
{
    for (int i = 0; i < HOPS_XSUM_DIGITS - 1; i++) {
        int64_t low = s->d[i] & 0xffffffffLL;
        int64_t carry = (s->d[i] - low) / ((int64_t)1 << 32); /* exact */
        s->d[i] = low;
        s->d[i + 1] += carry;
    }
    s->adds = 0;
}

void hops__xsum_merge(hops_xsum *a, const hops_xsum *b)
{
    hops_xsum t = *b;
    hops__xsum_carry(a);
    hops__xsum_carry(&t);
    for (int i = 0; i < HOPS_XSUM_DIGITS; i++)
        a->d[i] += t.d[i];
    hops__xsum_carry(a);
}

double hops__xsum_round(const hops_xsum *s)
{
    hops_xsum t = *s;
    int neg = 0, top = -1;
    hops__xsum_carry(&t);
    if (t.d[HOPS_XSUM_DIGITS - 1] < 0) {
        /* Negate: every digit, then carry again; the top becomes >= 0. */
        neg = 1;
        for (int i = 0; i < HOPS_XSUM_DIGITS; i++)
            t.d[i] = -t.d[i];
        hops__xsum_carry(&t);
    }
    for (int i = HOPS_XSUM_DIGITS - 1; i >= 0; i--)
        if (t.d[i]) {
            top = i;
            break;
        }
    if (top < 0)
        return 0.0;
    if (top == HOPS_XSUM_DIGITS - 1 && t.d[top] >= ((int64_t)1 << 32))
        return neg ? -INFINITY : INFINITY;
    uint64_t d0 = (uint64_t)t.d[top];
    uint64_t d1 = top >= 1 ? (uint64_t)t.d[top - 1] : 0;
    uint64_t d2 = top >= 2 ? (uint64_t)t.d[top - 2] : 0;
    uint64_t hi64 = (d0 << 32) | d1;
    int lz = __builtin_clzll(hi64); /* 0..31: d0 != 0 */
    uint64_t m = hi64 << lz;
    int sticky = 0;
    if (lz) {
        m |= d2 >> (32 - lz);
        sticky = (d2 & ((1ULL << (32 - lz)) - 1)) != 0;
    } else
        sticky = d2 != 0;
    for (int i = top - 3; i >= 0 && !sticky; i--)
        sticky = t.d[i] != 0;
    /* m's top bit is worth 2^(32*(top+1) - 1 - lz - 1074); keep 53 bits. */
    uint64_t keep = m >> 11, rem = m & 0x7ff;
    int exp2 = 32 * (top + 1) - 64 - lz - 1074 + 11;
    if (rem > 0x400 || (rem == 0x400 && (sticky || (keep & 1))))
        keep++;
    if (keep == (1ULL << 53)) {
        keep >>= 1;
        exp2++;
    }
    double v = ldexp((double)keep, exp2);
    return neg ? -v : v;
}

void hops__xsum_write(hops_wr *w, const hops_xsum *s)
{
    hops_xsum t = *s;
    hops__xsum_carry(&t);
    for (int i = 0; i < HOPS_XSUM_DIGITS; i++)
        hops__wr_u64(w, (uint64_t)t.d[i]);
}

void hops__xsum_read(hops_rd *r, hops_xsum *s)
{
    for (int i = 0; i < HOPS_XSUM_DIGITS; i++) {
        s->d[i] = (int64_t)hops__rd_u64(r);
        /* A carried state: digits below the top are 32-bit. The top one
         * (2^1038 a unit) holds at most n / 2^14 + 1 for n finite values:
         * 2^40 allows 2^54 of them and keeps merges and negation in range. */
        if (i < HOPS_XSUM_DIGITS - 1 ? s->d[i] < 0 || s->d[i] >= ((int64_t)1 << 32)
                                     : s->d[i] < -((int64_t)1 << 40) || s->d[i] > ((int64_t)1 << 40))
            r->bad = 1;
    }
    s->adds = 0;
}
