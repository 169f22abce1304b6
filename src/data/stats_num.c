/* Numbers, fast and correctly rounded.
 *
 * Decimal to double follows the Eisel-Lemire algorithm (Lemire, "Number
 * parsing at a gigabyte per second", 2021): multiply the decimal significand
 * by a 128-bit approximation of 5^q and read the double off the product,
 * bailing out to strtod in the rare cases where the truncation could matter.
 * The table of 5^q is computed once at first use, for q in [-27, 308]; what
 * falls outside (more than 19 digits, tiny exponents) goes to strtod. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sketch.h"

__extension__ typedef unsigned __int128 u128;

#define MIN_Q (-27) /* 5^27 < 2^63: the reciprocal needs one 64-bit divisor */
#define MAX_Q 308
#define N_Q (MAX_Q - MIN_Q + 1)

static uint64_t pow5_hi[N_Q], pow5_lo[N_Q];
static pthread_once_t pow5_once = PTHREAD_ONCE_INIT;
static int pow5_ready; /* set (release) when the tables are filled */

/* The 128 bits of X (N 32-bit limbs, little-endian) from its top bit down,
 * zero-filled below the end. */
static void top128(const uint32_t *x, int n, uint64_t *hi, uint64_t *lo)
{
    int len = 0;
    for (int i = n - 1; i >= 0; i--)
        if (x[i]) {
            len = 32 * i + 32 - __builtin_clz(x[i]);
            break;
        }
    *hi = *lo = 0;
    for (int i = 0; i < 128; i++) {
        int pos = len - 1 - i;
        uint64_t bit = pos >= 0 ? (x[pos / 32] >> (pos % 32)) & 1 : 0;
        if (i < 64)
            *hi |= bit << (63 - i);
        else
            *lo |= bit << (127 - i);
    }
}

static void pow5_init(void)
{
    /* q >= 0: 5^q with its top bit at bit 127, truncated. */
    uint32_t big[24] = {1};
    for (int q = 0; q <= MAX_Q; q++) {
        if (q > 0) {
            uint64_t carry = 0;
            for (int i = 0; i < 24; i++) {
                uint64_t t = (uint64_t)big[i] * 5 + carry;
                big[i] = (uint32_t)t;
                carry = t >> 32;
            }
        }
        top128(big, 24, &pow5_hi[q - MIN_Q], &pow5_lo[q - MIN_Q]);
    }
    /* q < 0: floor(2^b / 5^-q) + 1 with b = bitlen(5^-q) + 127, which lies in
     * [2^127, 2^128): the reciprocal, rounded up. */
    uint64_t p5 = 1;
    for (int q = -1; q >= MIN_Q; q--) {
        p5 *= 5;
        int z = 64 - __builtin_clzll(p5), b = z + 127;
        uint64_t r = 0, hi = 0, lo = 0;
        for (int i = b; i >= 0; i--) {
            r = 2 * r + (i == b);
            if (r >= p5) {
                r -= p5;
                if (i >= 64)
                    hi |= 1ULL << (i - 64);
                else
                    lo |= 1ULL << i;
            }
        }
        if (++lo == 0)
            hi++;
        pow5_hi[q - MIN_Q] = hi;
        pow5_lo[q - MIN_Q] = lo;
    }
    __atomic_store_n(&pow5_ready, 1, __ATOMIC_RELEASE);
}

static const double exact_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* W * 10^Q (W != 0) correctly rounded into *out, or 0 when unsure. */
static int eisel_lemire(uint64_t w, int64_t q, int neg, double *out)
{
    if (q < MIN_Q || q > MAX_Q)
        return 0;
    if (!__atomic_load_n(&pow5_ready, __ATOMIC_ACQUIRE))
        pthread_once(&pow5_once, pow5_init);
    uint64_t factor = pow5_hi[q - MIN_Q];
    int64_t exponent = (((152170 + 65536) * q) >> 16) + 1024 + 63;
    int lz = __builtin_clzll(w);
    w <<= lz;
    u128 prod = (u128)w * factor;
    uint64_t lower = (uint64_t)prod, upper = (uint64_t)(prod >> 64);
    if ((upper & 0x1FF) == 0x1FF && lower + w < lower) {
        u128 prod2 = (u128)w * pow5_lo[q - MIN_Q];
        uint64_t low2 = (uint64_t)prod2, middle = lower + (uint64_t)(prod2 >> 64);
        uint64_t high = upper;
        if (middle < lower)
            high++;
        if (middle + 1 == 0 && (high & 0x1FF) == 0x1FF && low2 + w < low2)
            return 0;
        upper = high;
        lower = middle;
    }
    uint64_t upperbit = upper >> 63;
    uint64_t mantissa = upper >> (upperbit + 9);
    lz += (int)(1 ^ upperbit);
    if (lower == 0 && (upper & 0x1FF) == 0 && (mantissa & 3) == 1)
        return 0; /* exactly halfway: let strtod break the tie */
    mantissa += mantissa & 1;
    mantissa >>= 1;
    if (mantissa >= (1ULL << 53)) {
        mantissa = 1ULL << 52;
        lz--;
    }
    mantissa &= ~(1ULL << 52);
    int64_t real_exponent = exponent - lz;
    if (real_exponent < 1 || real_exponent > 2046)
        return 0;
    uint64_t bits = mantissa | (uint64_t)real_exponent << 52 | (uint64_t)neg << 63;
    memcpy(out, &bits, sizeof bits);
    return 1;
}

static int slow_parse(const char *p, size_t len, double *out)
{
    char stack[128], *buf = stack, *end;
    if (len >= sizeof stack && !(buf = malloc(len + 1)))
        return 0;
    memcpy(buf, p, len);
    buf[len] = '\0';
    double v = strtod(buf, &end);
    int ok = end == buf + len && isfinite(v);
    if (buf != stack)
        free(buf);
    if (ok)
        *out = v;
    return ok;
}

static inline uint64_t load8(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* Eight ASCII digits at once (SWAR, as fast_float does). */
static inline int is_8digits(uint64_t v)
{
    return !(((v + 0x4646464646464646ULL) | (v - 0x3030303030303030ULL)) & 0x8080808080808080ULL);
}

static inline uint32_t parse_8digits(uint64_t v)
{
    const uint64_t mask = 0x000000FF000000FFULL, mul1 = 0x000F424000000064ULL,
                   mul2 = 0x0000271000000001ULL;
    v -= 0x3030303030303030ULL;
    v = (v * 10) + (v >> 8);
    return (uint32_t)((((v & mask) * mul1) + (((v >> 16) & mask) * mul2)) >> 32);
}

int hops__parse_number(const char *p, size_t len, double *out, int64_t *iout)
{
    const char *s = p, *end = p + len;
    int neg = 0;
    uint64_t w = 0;
    int64_t exp10 = 0;
    if (s < end && (*s == '-' || *s == '+'))
        neg = *s++ == '-';
    const char *start = s;
    while (s < end && (unsigned)(*s - '0') < 10)
        w = w * 10 + (uint64_t)(*s++ - '0');
    int64_t digits = s - start;
    if (s == end && digits > 0 && digits <= 19) {
        /* An integer: digits only. 19 digits may not fit in int64. */
        if (digits == 19 && w > (uint64_t)INT64_MAX + (uint64_t)neg)
            return slow_parse(p, len, out) ? 2 : 0;
        *iout = neg ? (int64_t)(0 - w) : (int64_t)w;
        *out = neg && !w ? -0.0 : (double)*iout;
        return 1;
    }
    if (s < end && *s == '.') {
        const char *frac = ++s;
        while (end - s >= 8 && is_8digits(load8(s))) {
            w = w * 100000000 + parse_8digits(load8(s));
            s += 8;
        }
        while (s < end && (unsigned)(*s - '0') < 10)
            w = w * 10 + (uint64_t)(*s++ - '0');
        exp10 = -(int64_t)(s - frac);
        digits += s - frac;
    }
    if (digits == 0)
        return 0;
    if (s < end && (*s == 'e' || *s == 'E')) {
        int eneg = 0;
        int64_t e = 0;
        s++;
        if (s < end && (*s == '-' || *s == '+'))
            eneg = *s++ == '-';
        if (s == end || (unsigned)(*s - '0') >= 10)
            return 0;
        for (; s < end && (unsigned)(*s - '0') < 10; s++)
            if (e < 100000)
                e = e * 10 + (*s - '0');
        exp10 += eneg ? -e : e;
    }
    if (s != end)
        return 0;
    if (digits > 19) {
        /* W overflowed unless the extra digits were leading zeros. */
        for (const char *z = start; z < end && (*z == '0' || *z == '.'); z++)
            digits -= *z == '0';
        if (digits > 19)
            return slow_parse(p, len, out) ? 2 : 0;
    }
    if (w == 0) {
        *out = neg ? -0.0 : 0.0;
        return 2;
    }
    if (w <= (1ULL << 53) && exp10 >= -22 && exp10 <= 22) {
        double d = (double)w;
        d = exp10 < 0 ? d / exact_pow10[-exp10] : d * exact_pow10[exp10];
        *out = neg ? -d : d;
        return 2;
    }
    if (eisel_lemire(w, exp10, neg, out))
        return 2;
    return slow_parse(p, len, out) ? 2 : 0;
}

int hops__parse_double(const char *p, size_t len, double *out)
{
    int64_t i;
    return hops__parse_number(p, len, out, &i) != 0;
}

int hops__parse_int64(const char *p, size_t len, int64_t *out)
{
    const char *s = p, *end = p + len;
    int neg = 0;
    if (s < end && (*s == '-' || *s == '+'))
        neg = *s++ == '-';
    if (s == end || end - s > 19)
        return 0;
    uint64_t v = 0;
    for (; s < end; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (d >= 10)
            return 0;
        v = v * 10 + d; /* at most 19 digits: < 10^19 < 2^64 */
    }
    if (v > (uint64_t)INT64_MAX + (uint64_t)neg)
        return 0;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
}
