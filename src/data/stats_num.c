/* Numbers, fast and correctly rounded.
 *
 * Decimal to double follows the Eisel-Lemire algorithm (Lemire, "Number
 * parsing at a gigabyte per second", 2021): multiply the decimal significand
 * by a 128-bit approximation of 5^q and read the double off the product,
 * bailing out to strtod in the rare cases where the truncation could matter.
 * The table of 5^q is computed once at first use, for q in [-27, 308]; what
 * falls outside (more than 19 digits, tiny exponents) goes to strtod.
 *
 * The usual field (an integer or a plain decimal of at most 16 bytes after
 * the sign) takes a short path first: its bytes go into one or two words and
 * its digits into a number 8 at a time, without a loop (see below). */
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
__attribute__((always_inline)) static inline int eisel_lemire(uint64_t w, int64_t q, int neg,
                                                              double *out)
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

/* W * 10^EXP10 (with the sign NEG) into *out: 1, or 0 when not finite. W
 * holds every significant digit (at most 19); P, LEN are the whole field, for
 * strtod when the fast ways are unsure. */
__attribute__((always_inline)) static inline int
finish_double(uint64_t w, int64_t exp10, int neg, const char *p, size_t len, double *out)
{
    if (w == 0) {
        *out = neg ? -0.0 : 0.0;
        return 1;
    }
    if (w <= (1ULL << 53) && exp10 >= -22 && exp10 <= 22) {
        /* Both exact, so one IEEE operation rounds correctly (Clinger). */
        double d = (double)w;
        d = exp10 < 0 ? d / exact_pow10[-exp10] : d * exact_pow10[exp10];
        *out = neg ? -d : d;
        return 1;
    }
    if (eisel_lemire(w, exp10, neg, out))
        return 1;
    return slow_parse(p, len, out);
}

/* hops__parse_number for any field, a byte at a time: long ones, exponents,
 * more than 19 digits, and what the short path passes on. */
__attribute__((noinline)) static int parse_general(const char *p, size_t len, double *out,
                                                   int64_t *iout)
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
        while (end - s >= 8 && is_8digits(hops__le64(s))) {
            w = w * 100000000 + parse_8digits(hops__le64(s));
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
    return finish_double(w, exp10, neg, p, len, out) ? 2 : 0;
}

/* ---- the short path ----
 *
 * Most fields are short: at most 16 bytes after the sign. The short path
 * holds such a field, xor '0', aligned to the right in 16 bytes: A the first
 * 8, B the last 8 (byte i of N at byte 16 - N + i), the bytes in front zero
 * or 0x30 (both read as leading zeros). A per-byte test marks the
 * non-digits; when there is none, or one '.', the digits (those before the
 * '.' moved up a byte over it) go into a number 8 at a time. No branch
 * depends on the digits themselves, whose count varies from field to field:
 * a loop over them costs a mispredicted exit on every other field. */

#define BYTES(b) (0x0101010101010101ULL * (b))

/* The N (1 to 8) bytes at S as the top of a little-endian word: byte i at
 * byte 8 - N + i, zeros below. Reads nothing outside [S, S+N): two
 * overlapping loads of 4 when N >= 4, else the first, middle and last byte. */
static inline uint64_t load_top(const char *s, size_t n)
{
    if (n >= 4)
        return (uint64_t)hops__le32(s + n - 4) << 32 | (uint64_t)hops__le32(s) << 8 * (8 - n);
    return (uint64_t)(unsigned char)s[n - 1] << 56 |
           (uint64_t)(unsigned char)s[n / 2] << 8 * (8 - n + n / 2) |
           (uint64_t)(unsigned char)s[0] << 8 * (8 - n);
}

/* 0x80 in each byte of T (bytes xor '0') that was not an ASCII digit, 0 in
 * the others; no carry crosses a byte. */
static inline uint64_t nondigit_bytes(uint64_t t)
{
    return (((t & BYTES(0x7F)) + BYTES(0x80 - 10)) | t) & BYTES(0x80);
}

/* Eight digit values (0 to 9, one a byte, the first the most significant) as
 * a number: parse_8digits without the '0' to take off. */
static inline uint64_t digits8_value(uint64_t v)
{
    const uint64_t mask = 0x000000FF000000FFULL, mul1 = 0x000F424000000064ULL,
                   mul2 = 0x0000271000000001ULL;
    v = (v * 10) + (v >> 8);
    return (((v & mask) * mul1) + (((v >> 16) & mask) * mul2)) >> 32;
}

/* X (not negative, +0 included) with the sign NEG, without a branch: the
 * sign of a field is as good as random. */
static inline double with_sign(double x, int neg)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    bits |= (uint64_t)neg << 63;
    memcpy(&x, &bits, sizeof bits);
    return x;
}

/* Is B (N of 1 to 8 bytes, as load_top) a plain mantissa, D+ or D*.D* with
 * a digit? 1 with its digits as *W (< 10^8) and *FRAC the count after the
 * '.' (-1 without one), else 0. */
__attribute__((always_inline)) static inline int mantissa8(uint64_t b, size_t n, uint64_t *w,
                                                           int *frac)
{
    /* 0x80 at the non-digits among the N bytes; D: the digits' values, 0
     * elsewhere. */
    uint64_t nd = nondigit_bytes(b), inside = nd & BYTES(0x80) << 8 * (8 - n);
    uint64_t d = b & ~((nd >> 7) * 0xFF);
    if (!inside) {
        *w = digits8_value(d);
        *frac = -1;
        return 1;
    }
    uint64_t at = inside >> 7; /* 1 in the byte of each non-digit */
    if ((inside & (inside - 1)) || (b & at * 0xFF) != at * ('.' ^ '0') || n == 1)
        return 0;
    d = (d & (at - 1)) << 8 | (d & ~(at - 1));
    *w = digits8_value(d);
    *frac = 7 - (int)((unsigned)__builtin_ctzll(at) / 8);
    return 1;
}

/* mantissa8 for N of 9 to 16 bytes in A, B: *W < 10^16, and < 10^15 with a
 * '.'. */
__attribute__((always_inline)) static inline int mantissa16(uint64_t a, uint64_t b, size_t n,
                                                            uint64_t *w, int *frac)
{
    uint64_t nd_a = nondigit_bytes(a), nd_b = nondigit_bytes(b);
    uint64_t in_a = nd_a & BYTES(0x80) << 8 * (16 - n);
    uint64_t da = a & ~((nd_a >> 7) * 0xFF), db = b & ~((nd_b >> 7) * 0xFF);
    if (!(in_a | nd_b)) {
        *w = digits8_value(da) * 100000000 + digits8_value(db);
        *frac = -1;
        return 1;
    }
    uint64_t at_a = in_a >> 7, at_b = nd_b >> 7;
    if ((in_a && nd_b) || (in_a & (in_a - 1)) || (nd_b & (nd_b - 1)) ||
        ((a & at_a * 0xFF) ^ at_a * ('.' ^ '0')) || ((b & at_b * 0xFF) ^ at_b * ('.' ^ '0')))
        return 0;
    u128 d = (u128)db << 64 | da, before = ((u128)at_b << 64 | at_a) - 1;
    d = (d & before) << 8 | (d & ~before);
    *w = digits8_value((uint64_t)d) * 100000000 + digits8_value((uint64_t)(d >> 64));
    *frac = 15 - (int)(at_a ? (unsigned)__builtin_ctzll(at_a) / 8
                            : 8 + (unsigned)__builtin_ctzll(at_b) / 8);
    return 1;
}

/* A plain mantissa: an integer (kind 1; under 10^16, so it fits; -0 for
 * "-0") or W / 10^FRAC with W < 2^53: both exact, so one IEEE division
 * rounds correctly (Clinger); 0 / 10^k is +0, then -0 with the sign. */
static inline int short_result(uint64_t w, int frac, int neg, double *out, int64_t *iout)
{
    if (frac < 0) {
        *iout = neg ? (int64_t)(0 - w) : (int64_t)w;
        *out = with_sign((double)(int64_t)w, neg);
        return 1;
    }
    *out = with_sign((double)(int64_t)w / exact_pow10[frac], neg);
    return 2;
}

/* Can a field still be a number when its first non-digit (the lowest 0x80
 * in FLAGS, not 0, a byte of T) is there? Only if it is '.', 'e' or 'E':
 * "2021-03-04", "12:30", "3 kg" need go no further. */
static inline int first_nondigit_ok(uint64_t t, uint64_t flags)
{
    unsigned c = (unsigned)(t >> ((unsigned)__builtin_ctzll(flags) & ~7u)) & 0xFF;
    return c == ('.' ^ '0') || (c | 0x20) == (('e' ^ '0') | 0x20);
}

/* finish_double out of line, for the short path's rare cases: kind 2, or
 * 0. */
__attribute__((noinline)) static int finish_double_cold(uint64_t w, int64_t exp10, int neg,
                                                        const char *p, size_t len, double *out)
{
    return finish_double(w, exp10, neg, p, len, out) ? 2 : 0;
}

/* W * 10^E (W < 2^53) with the sign NEG into *out: kind 2, or 0. */
static inline int short_exp_result(uint64_t w, int64_t e, int neg, const char *p, size_t len,
                                   double *out)
{
    if (e < -22 || e > 22)
        return finish_double_cold(w, e, neg, p, len, out);
    /* Clinger, as finish_double; 0 gives +0, then -0 with the sign. */
    double x = (double)(int64_t)w;
    *out = with_sign(e < 0 ? x / exact_pow10[-e] : x * exact_pow10[e], neg);
    return 2;
}

/* parse_short16's field (S, N; B its last 8 bytes, with a non-digit) when it
 * is not a plain mantissa: a number only as MANTISSA [eE] [+-]? D+ , as
 * printf's %e writes it. The exponent's digits are those after the last
 * non-digit in B, the 'e' is at or just before it, and the mantissa, when
 * at most 8 bytes, goes through mantissa8. */
__attribute__((noinline)) static int parse_short16_exp(const char *p, size_t len, const char *s,
                                                       size_t n, uint64_t b, double *out)
{
    uint64_t nd = nondigit_bytes(b);
    unsigned last = (63 - (unsigned)__builtin_clzll(nd)) / 8, edigits = 7 - last;
    if (edigits == 0)
        return 0;
    int64_t e = (int64_t)digits8_value(b & ~0ULL << 8 * (last + 1));
    size_t at = n - 1 - edigits;
    unsigned char c = (unsigned char)s[at];
    e = c == '-' ? -e : e;
    at -= ((unsigned)(c - '+') & ~2u) == 0; /* past a '+' or '-' */
    if ((s[at] | 0x20) != 'e')
        return 0;
    /* The mantissa, S[0, AT); more than 8 bytes of it is rare. */
    uint64_t w;
    int frac;
    if (at > 8) {
        int64_t i;
        return parse_general(p, len, out, &i);
    }
    if (at == 0 || !mantissa8(load_top(s, at) ^ BYTES('0'), at, &w, &frac))
        return 0;
    return short_exp_result(w, e - (frac < 0 ? 0 : frac), p[0] == '-', p, len, out);
}

/* The short path for N of 9 to 16 bytes (17: parse_general). */
__attribute__((noinline)) static int parse_short16(const char *p, size_t len, const char *s,
                                                   size_t n, double *out, int64_t *iout)
{
    if (n > 16)
        return parse_general(p, len, out, iout);
    uint64_t a = hops__le64(s) << 8 * (16 - n) ^ BYTES('0'), b = hops__le64(s + n - 8) ^ BYTES('0'), w;
    int frac;
    if (!mantissa16(a, b, n, &w, &frac)) {
        uint64_t in_a = nondigit_bytes(a) & BYTES(0x80) << 8 * (16 - n), nd_b = nondigit_bytes(b);
        if (!(in_a ? first_nondigit_ok(a, in_a) : first_nondigit_ok(b, nd_b)))
            return 0;
        if (!nd_b) /* an exponent of 8 digits or more */
            return parse_general(p, len, out, iout);
        return parse_short16_exp(p, len, s, n, b, out);
    }
    return short_result(w, frac, p[0] == '-', out, iout);
}

/* The short path for up to 8 bytes after the sign here, parse_short16 for 9
 * to 16; parse_general for longer fields and for those that are not a plain
 * mantissa (an exponent, junk). */
int hops__parse_number(const char *p, size_t len, double *out, int64_t *iout)
{
    if (len - 1 >= 17)
        return len ? parse_general(p, len, out, iout) : 0;
    size_t sign = p[0] == '-' || p[0] == '+', n = len - sign;
    const char *s = p + sign;
    if (n - 1 >= 8) /* "+", "-", or 9 to 17 bytes */
        return n ? parse_short16(p, len, s, n, out, iout) : 0;
    uint64_t b = load_top(s, n) ^ BYTES('0'), w;
    int frac;
    if (!mantissa8(b, n, &w, &frac)) {
        if (!first_nondigit_ok(b, nondigit_bytes(b) & BYTES(0x80) << 8 * (8 - n)))
            return 0;
        return parse_general(p, len, out, iout);
    }
    return short_result(w, frac, p[0] == '-', out, iout);
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
