/* Unit tests for the summaries behind `hops data stats` (src/data/sketch.h):
 * the number parser against strtod, the exact sum against integer
 * arithmetic, and each sketch's accuracy within its stated error, its merge
 * against a single stream, and its serialisation round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/sketch.h"

/* A deterministic generator for the tests (xorshift64*). */
static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}
static double rnd01(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}
static double rnd_normal(void)
{
    double u = rnd01() + 1e-300, v = rnd01();
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* ---- numbers ---- */

static void check_parse(const char *s)
{
    double got = 0, want;
    char *end;
    int ok = hops__parse_double(s, strlen(s), &got);
    want = strtod(s, &end);
    if (*end || !isfinite(want)) {
        assert_false(ok);
        return;
    }
    if (!ok || memcmp(&got, &want, sizeof got) != 0)
        fail_msg("'%s': got %.17g (ok %d), strtod %.17g", s, got, ok, want);
}

static void test_parse_double_matches_strtod(void **state)
{
    (void)state;
    char buf[80];
    /* Random significands of 1..20 digits, decimal points anywhere, exponents
     * from -40 to 320: the fast path, Eisel-Lemire, and the fallbacks. */
    for (int i = 0; i < 600000; i++) {
        int digits = 1 + (int)(rnd() % 20), dot = (int)(rnd() % (unsigned)(digits + 2)) - 1;
        size_t n = 0;
        if (rnd() % 4 == 0)
            buf[n++] = rnd() % 2 ? '-' : '+';
        for (int d = 0; d < digits; d++) {
            if (d == dot)
                buf[n++] = '.';
            buf[n++] = (char)('0' + (d == 0 && rnd() % 3 ? 1 + rnd() % 9 : rnd() % 10));
        }
        if (rnd() % 3 == 0)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "e%d", (int)(rnd() % 361) - 40);
        buf[n] = '\0';
        check_parse(buf);
    }
    /* Doubles printed with 17 and with shortest digits read back exactly. */
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = rnd() & ~(1ULL << 63);
        double x;
        memcpy(&x, &bits, 8);
        if (!isfinite(x))
            continue;
        snprintf(buf, sizeof buf, "%.17g", x);
        check_parse(buf);
        snprintf(buf, sizeof buf, "%.15g", rnd_normal() * 1000);
        check_parse(buf);
    }
    static const char *const edge[] = {"0",
                                       "-0",
                                       "0.0",
                                       ".5",
                                       "5.",
                                       "1e308",
                                       "1.7976931348623157e308",
                                       "1e309",
                                       "4.9e-324",
                                       "2.2250738585072014e-308",
                                       "2.2250738585072011e-308",
                                       "9007199254740993",
                                       "9007199254740992.5",
                                       "7.3177701707893310e+15",
                                       "0.1",
                                       "1e-30",
                                       "123456789012345678901234",
                                       "0.000000000000000000000000000000000001",
                                       "1E5",
                                       "1e+5",
                                       "00001.5",
                                       "1e-400"};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        check_parse(edge[i]);
}

static void test_parse_double_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",     "+",  "-",  ".",     "e5",  "1e",  "1e+",  "nan",   "inf",    "NaN", "Infinity",
        "0x10", " 1", "1 ", "1.2.3", "--1", "1,5", "1e5x", "1e999", "-1e999", "abc", "1-2"};
    double x;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (hops__parse_double(bad[i], strlen(bad[i]), &x))
            fail_msg("'%s' parsed as %g", bad[i], x);
}

static void test_parse_int64(void **state)
{
    (void)state;
    int64_t v;
    assert_true(hops__parse_int64("9223372036854775807", 19, &v));
    assert_true(v == INT64_MAX);
    assert_true(hops__parse_int64("-9223372036854775808", 20, &v));
    assert_true(v == INT64_MIN);
    assert_false(hops__parse_int64("9223372036854775808", 19, &v));
    assert_false(hops__parse_int64("-9223372036854775809", 20, &v));
    assert_false(hops__parse_int64("99999999999999999999", 20, &v));
    assert_true(hops__parse_int64("+5", 2, &v) && v == 5);
    assert_true(hops__parse_int64("007", 3, &v) && v == 7);
    assert_false(hops__parse_int64("", 0, &v));
    assert_false(hops__parse_int64("-", 1, &v));
    assert_false(hops__parse_int64("1.0", 3, &v));
    assert_false(hops__parse_int64("1e3", 3, &v));
    /* The combined parser agrees: 1 for integers, 2 for other numbers. */
    double x;
    assert_int_equal(hops__parse_number("-42", 3, &x, &v), 1);
    assert_true(v == -42 && x == -42.0);
    assert_int_equal(hops__parse_number("9223372036854775807", 19, &x, &v), 1);
    assert_true(v == INT64_MAX && x == 9223372036854775808.0);
    assert_int_equal(hops__parse_number("9223372036854775808", 19, &x, &v), 2);
    assert_true(x == 9223372036854775808.0);
    assert_int_equal(hops__parse_number("12345678901234567890123", 23, &x, &v), 2);
    assert_true(x == 12345678901234567890123.0);
    assert_int_equal(hops__parse_number("1.0", 3, &x, &v), 2);
    assert_int_equal(hops__parse_number("1e3", 3, &x, &v), 2);
    assert_true(x == 1000.0);
    assert_int_equal(hops__parse_number("0", 1, &x, &v), 1);
    assert_int_equal(hops__parse_number("x1", 2, &x, &v), 0);
    assert_int_equal(hops__parse_number("", 0, &x, &v), 0);
}

/* The reference for hops__parse_number: the grammar [+-]? (D+ [. D*] | . D+)
 * ([eE] [+-]? D+)? checked a byte at a time, kind 1 for [+-]? D+ of at most
 * 19 digits (leading zeros counted) within int64, else strtod in the C
 * locale, refused when not finite. */
static int ref_parse_number(const char *p, size_t len, double *x, int64_t *iv)
{
    size_t i = 0, digits = 0, dot = 0, exp = 0;
    if (i < len && (p[i] == '+' || p[i] == '-'))
        i++;
    for (; i < len && ((unsigned)(p[i] - '0') < 10 || (p[i] == '.' && !dot)); i++)
        p[i] == '.' ? (void)(dot = 1) : (void)digits++;
    if (!digits)
        return 0;
    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        exp = ++i;
        if (i < len && (p[i] == '+' || p[i] == '-'))
            i++;
        size_t e0 = i;
        while (i < len && (unsigned)(p[i] - '0') < 10)
            i++;
        if (i == e0)
            return 0;
    }
    if (i != len)
        return 0;
    char buf[128];
    assert_true(len < sizeof buf);
    memcpy(buf, p, len);
    buf[len] = '\0';
    if (!dot && !exp && digits <= 19) {
        int neg = buf[0] == '-';
        uint64_t v = strtoull(buf + (buf[0] == '-' || buf[0] == '+'), NULL, 10);
        if (v <= (uint64_t)INT64_MAX + (uint64_t)neg) {
            *iv = neg ? (int64_t)(0 - v) : (int64_t)v;
            *x = neg && !v ? -0.0 : (double)*iv;
            return 1;
        }
    }
    *x = strtod(buf, NULL);
    return isfinite(*x) ? 2 : 0;
}

/* S (LEN bytes) parsed by hops__parse_number from a heap block of exactly LEN
 * bytes, so that the sanitizer catches a read outside the field, against the
 * reference: the same kind, and the same bits. */
static void check_number(const char *s, size_t len)
{
    char *p = malloc(len ? len : 1);
    assert_non_null(p);
    memcpy(p, s, len);
    double got = 1.5, want = 2.5;
    int64_t gi = 7, wi = 9;
    int kind = hops__parse_number(p, len, &got, &gi), ref = ref_parse_number(p, len, &want, &wi);
    free(p);
    if (kind != ref || (ref && memcmp(&got, &want, sizeof got) != 0) || (ref == 1 && gi != wi))
        fail_msg("'%.*s': kind %d %.17g %lld, reference kind %d %.17g %lld", (int)len, s, kind, got,
                 (long long)gi, ref, want, (long long)wi);
}

/* N random characters from SET into BUF. */
static size_t rnd_chars(char *buf, size_t n, const char *set)
{
    size_t k = strlen(set);
    for (size_t i = 0; i < n; i++)
        buf[i] = set[rnd() % k];
    return n;
}

static void test_parse_number_matches_reference(void **state)
{
    (void)state;
    /* Every string of up to 5 characters over an alphabet of the grammar's
     * parts and a stranger: the syntax edge cases ("+", ".", "1.", ".5",
     * "1e", "1e+", "-.e1", "00", "1 "). */
    static const char alpha[] = "019.e-+ ";
    char buf[96];
    for (size_t len = 0; len <= 5; len++) {
        size_t total = 1;
        for (size_t i = 0; i < len; i++)
            total *= sizeof alpha - 1;
        for (size_t code = 0; code < total; code++) {
            size_t c = code;
            for (size_t i = 0; i < len; i++, c /= sizeof alpha - 1)
                buf[i] = alpha[c % (sizeof alpha - 1)];
            check_number(buf, len);
        }
    }
    for (int i = 0; i < 400000; i++) {
        size_t n = 0;
        switch (rnd() % 8) {
        case 0:
        case 1:
        case 2: /* short decimals, as a CSV writer prints them */
            if (rnd() % 3 == 0)
                buf[n++] = rnd() % 2 ? '-' : '+';
            n += rnd_chars(buf + n, rnd() % 9, "0123456789");
            if (rnd() % 4)
                buf[n++] = '.';
            n += rnd_chars(buf + n, rnd() % 9, "0123456789");
            break;
        case 3: /* integers of 1 to 20 digits, and leading zeros */
            if (rnd() % 2)
                buf[n++] = rnd() % 3 ? '-' : '+';
            n += rnd_chars(buf + n, rnd() % 4 == 0 ? rnd() % 6 : 0, "0");
            n += rnd_chars(buf + n, 1 + rnd() % 20, "0123456789");
            break;
        case 4: /* 15 to 20 digits with a point */
            if (rnd() % 2)
                buf[n++] = '-';
            n += rnd_chars(buf + n, rnd() % 21, "0123456789");
            buf[n++] = '.';
            n += rnd_chars(buf + n, rnd() % 21, "0123456789");
            break;
        case 5: /* exponents */
            if (rnd() % 2)
                buf[n++] = '-';
            n += rnd_chars(buf + n, rnd() % 10, "0123456789");
            if (rnd() % 2)
                buf[n++] = '.';
            n += rnd_chars(buf + n, rnd() % 10, "0123456789");
            buf[n++] = rnd() % 2 ? 'e' : 'E';
            if (rnd() % 2)
                buf[n++] = rnd() % 2 ? '-' : '+';
            n += rnd_chars(buf + n, rnd() % 5, "0123456789");
            break;
        case 6: { /* printf's %g, %e and %.17g */
            double v = rnd_normal() * pow(10, (double)(rnd() % 40) - 20);
            unsigned f = (unsigned)(rnd() % 3);
            n = (size_t)(f == 0   ? snprintf(buf, sizeof buf, "%g", v)
                         : f == 1 ? snprintf(buf, sizeof buf, "%e", v)
                                  : snprintf(buf, sizeof buf, "%.17g", v));
            break;
        }
        default: /* junk: a number with a byte changed */
            n = (size_t)snprintf(buf, sizeof buf, "%g", rnd_normal() * 1000);
            buf[rnd() % n] = "x. e-+:/\0"[rnd() % 9];
            break;
        }
        check_number(buf, n);
    }
    static const char *const edge[] = {"-0",
                                       "+0",
                                       "-0.0",
                                       "-.0",
                                       "0.",
                                       "-0e5",
                                       "00",
                                       "-00",
                                       "0000000000000000",
                                       "9999999999999999",
                                       "-9999999999999999",
                                       "99999999999999999",
                                       "9223372036854775807",
                                       "-9223372036854775808",
                                       "9223372036854775808",
                                       "-9223372036854775809",
                                       "0000000000000000000001",
                                       "12345678.9",
                                       "1234567.89",
                                       "0.12345678",
                                       "-0.0775385",
                                       "999999999999999.9",
                                       "9007199254740993",
                                       "9007199254740993.0",
                                       "1.5e-5",
                                       "1e22",
                                       "1e23",
                                       "1e-22",
                                       "1e-23",
                                       "1.234560e+02",
                                       "1e309",
                                       "1e-400",
                                       "1.2.3",
                                       "1e",
                                       "1e+",
                                       "+",
                                       "-",
                                       ".",
                                       "1.",
                                       ".5",
                                       "1 ",
                                       " 1",
                                       "1,5",
                                       "2021-03-04",
                                       "12:30:45",
                                       "nan",
                                       "inf",
                                       "-inf"};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        check_number(edge[i], strlen(edge[i]));
}

/* ---- exact sum ---- */

static void test_xsum_exact(void **state)
{
    (void)state;
    hops_xsum s;
    memset(&s, 0, sizeof s);
    hops__xsum_add(&s, 1e16);
    hops__xsum_add(&s, 1.0);
    hops__xsum_add(&s, -1e16);
    assert_true(hops__xsum_round(&s) == 1.0); /* a plain double sum gives 0 */

    memset(&s, 0, sizeof s);
    hops__xsum_add(&s, 1e300);
    hops__xsum_add(&s, 1e-300);
    hops__xsum_add(&s, -1e300);
    assert_true(hops__xsum_round(&s) == 1e-300);

    memset(&s, 0, sizeof s);
    for (int i = 0; i < 3; i++)
        hops__xsum_add(&s, 4.9e-324);
    assert_true(hops__xsum_round(&s) == 3 * 4.9e-324);

    memset(&s, 0, sizeof s);
    hops__xsum_add(&s, DBL_MAX);
    hops__xsum_add(&s, DBL_MAX);
    assert_true(isinf(hops__xsum_round(&s)) && hops__xsum_round(&s) > 0);
    hops__xsum_add(&s, -DBL_MAX);
    assert_true(hops__xsum_round(&s) == DBL_MAX); /* exact again after the overflow */

    memset(&s, 0, sizeof s);
    assert_true(hops__xsum_round(&s) == 0.0);
    hops__xsum_add(&s, -2.5);
    assert_true(hops__xsum_round(&s) == -2.5);

    /* Ties round to even: 2^53 + 1 is halfway between 2^53 and 2^53 + 2. */
    memset(&s, 0, sizeof s);
    hops__xsum_add(&s, 9007199254740992.0);
    hops__xsum_add(&s, 1.0);
    assert_true(hops__xsum_round(&s) == 9007199254740992.0);
    hops__xsum_add(&s, 1.0);
    hops__xsum_add(&s, 1.0);
    assert_true(hops__xsum_round(&s) == 9007199254740996.0); /* 2^53 + 3 -> + 4 */
}

/* Sums of multiples of 2^-20 below 2^40 are exact in int64: the reference. */
static void test_xsum_random_matches_integer_sum(void **state)
{
    (void)state;
    for (int trial = 0; trial < 50; trial++) {
        hops_xsum whole, parts[7];
        memset(&whole, 0, sizeof whole);
        memset(parts, 0, sizeof parts);
        int64_t ref = 0;
        int n = 1 + (int)(rnd() % 20000);
        for (int i = 0; i < n; i++) {
            int64_t k = (int64_t)(rnd() % (1ULL << 40)) - (int64_t)(1ULL << 39);
            if (trial % 2)
                k >>= rnd() % 40; /* mixed magnitudes */
            double x = ldexp((double)k, -20);
            ref += k;
            hops__xsum_add(&whole, x);
            hops__xsum_add(&parts[rnd() % 7], x);
        }
        double want = ldexp((double)ref, -20);
        assert_true(hops__xsum_round(&whole) == want);
        hops_xsum merged;
        memset(&merged, 0, sizeof merged);
        for (int p = 6; p >= 0; p--)
            hops__xsum_merge(&merged, &parts[p]);
        assert_true(hops__xsum_round(&merged) == want);

        hops_wr w = {HOPS_BUF_INIT, 0};
        hops__xsum_write(&w, &whole);
        hops_rd r = {(const unsigned char *)w.b.data, w.b.len, 0, 0};
        hops_xsum back;
        hops__xsum_read(&r, &back);
        assert_false(r.bad);
        assert_true(hops__xsum_round(&back) == want);
        hops__buf_free(&w.b);
    }
}

/* The order and split of a sum of arbitrary doubles never changes it. */
static void test_xsum_order_independent(void **state)
{
    (void)state;
    enum { N = 5000 };
    static double v[N];
    for (int i = 0; i < N; i++)
        v[i] = rnd_normal() * pow(10, (double)(rnd() % 40) - 20);
    hops_xsum a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    for (int i = 0; i < N; i++)
        hops__xsum_add(&a, v[i]);
    for (int i = N - 1; i >= 0; i--)
        hops__xsum_add(&b, v[i]);
    double x = hops__xsum_round(&a), y = hops__xsum_round(&b);
    assert_memory_equal(&x, &y, sizeof x);
}

/* A written sum reads back to the same value; a state whose digits could
 * not come from a sum is refused: a low digit out of 32 bits, or a top digit
 * far beyond what 2^54 values give (INT64_MIN once made the round's negation
 * overflow; the stats-state fuzzer found it). */
static void test_xsum_read_checks(void **state)
{
    (void)state;
    hops_xsum a, b;
    memset(&a, 0, sizeof a);
    for (int i = 0; i < 1000; i++)
        hops__xsum_add(&a, rnd_normal() * 1e300);
    hops__xsum_add(&a, -1e-300);
    hops__xsum_carry(&a);
    hops_wr w = {HOPS_BUF_INIT, 0};
    hops__xsum_write(&w, &a);
    assert_false(w.failed);
    hops_rd r = {(const unsigned char *)w.b.data, w.b.len, 0, 0};
    hops__xsum_read(&r, &b);
    assert_false(r.bad);
    double x = hops__xsum_round(&a), y = hops__xsum_round(&b);
    assert_memory_equal(&x, &y, sizeof x);
    const int64_t bad_top[] = {INT64_MIN, INT64_MAX, ((int64_t)1 << 40) + 1};
    for (size_t k = 0; k < sizeof bad_top / sizeof *bad_top; k++) {
        memcpy(w.b.data + 8 * (HOPS_XSUM_DIGITS - 1), &bad_top[k], 8);
        hops_rd t = {(const unsigned char *)w.b.data, w.b.len, 0, 0};
        hops__xsum_read(&t, &b);
        assert_true(t.bad);
    }
    int64_t low = (int64_t)1 << 32; /* a low digit that was not carried */
    memset(w.b.data + 8 * (HOPS_XSUM_DIGITS - 1), 0, 8);
    memcpy(w.b.data + 8 * 3, &low, 8);
    hops_rd t = {(const unsigned char *)w.b.data, w.b.len, 0, 0};
    hops__xsum_read(&t, &b);
    assert_true(t.bad);
    hops__buf_free(&w.b);
}

/* ---- KLL ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The worst normalized rank error of the sketch's quantiles on sorted data. */
static double worst_rank_error(const hops_kll *s, const double *sorted, size_t n)
{
    hops_kll_view v;
    double worst = 0;
    assert_int_equal(hops__kll_view(s, &v), 0);
    for (int i = 1; i < 100; i++) {
        double q = i / 100.0, x = hops__kll_quantile(&v, q);
        size_t lo = 0, hi = n; /* rank range of x: [#< x, #<= x] */
        size_t a = 0, b = n;
        while (a < b) {
            size_t m = (a + b) / 2;
            if (sorted[m] < x)
                a = m + 1;
            else
                b = m;
        }
        lo = a;
        b = n;
        while (a < b) {
            size_t m = (a + b) / 2;
            if (sorted[m] <= x)
                a = m + 1;
            else
                b = m;
        }
        hi = a;
        double target = q * (double)n, err = 0;
        if (target < (double)lo)
            err = (double)lo - target;
        else if (target > (double)hi)
            err = target - (double)hi;
        err /= (double)n;
        worst = err > worst ? err : worst;
    }
    hops__kll_view_free(&v);
    return worst;
}

/* N values of test distribution DIST (0 .. KLL_DISTS - 1). */
#define KLL_DISTS 6
static void kll_test_data(double *data, int n, int dist)
{
    for (int i = 0; i < n; i++) {
        switch (dist) {
        case 0:
            data[i] = rnd01();
            break;
        case 1:
            data[i] = rnd_normal();
            break;
        case 2:
            data[i] = exp(rnd_normal() * 3);
            break; /* heavy tail */
        case 3:
            data[i] = (double)i;
            break; /* sorted input */
        case 4:
            data[i] = (double)(rnd() % 20);
            break; /* heavy ties */
        default: {
            /* Mostly 1.0 plus noise in the low 16 bits, a few spread
             * wide: keys that tie in their high bytes, so the sort's
             * high-bytes-first shortcut has to give up and do it all. */
            uint64_t u;
            double one = 1.0;
            memcpy(&u, &one, sizeof u);
            u += rnd() % 65536;
            memcpy(&data[i], &u, sizeof u);
            if (rnd() % 100 == 0)
                data[i] = rnd_normal() * 1e6;
            break;
        }
        }
    }
}

/* Items the sketch holds: bounded, whatever n. */
static size_t kll_held(const hops_kll *s)
{
    size_t held = s->samp.len;
    for (uint32_t h = 0; h < s->n_levels; h++)
        held += s->lv[h].len;
    return held;
}

static void test_kll_accuracy(void **state)
{
    (void)state;
    enum { N = 1000000 };
    double *data = malloc(N * sizeof *data), *sorted = malloc(N * sizeof *sorted);
    assert_non_null(data);
    assert_non_null(sorted);
    for (int dist = 0; dist < KLL_DISTS; dist++) {
        kll_test_data(data, N, dist);
        hops_kll s;
        hops__kll_init(&s, (uint64_t)dist + 1);
        for (int i = 0; i < N; i++)
            assert_int_equal(hops__kll_add(&s, data[i]), 0);
        memcpy(sorted, data, N * sizeof *data);
        qsort(sorted, N, sizeof *sorted, cmp_double);
        double eps = hops__kll_rank_error(&s), worst = worst_rank_error(&s, sorted, N);
        assert_true(eps > 0.004 && eps < 0.01);
        if (worst > eps)
            fail_msg("distribution %d: rank error %.5f beyond the stated %.5f", dist, worst, eps);
        assert_true(s.n == N);
        assert_true(kll_held(&s) < 4 * HOPS_KLL_K + HOPS_KLL_BUF);
        hops__kll_free(&s);
    }
    free(data);
    free(sorted);
}

/* The sampler below the compactors: the first values exact, then blocks of
 * 2, 4, 8, 16 as the stream doubles (the schedule `hops data stats` uses,
 * earlier, so the sampler's share of the error is larger), in
 * batches of uneven lengths so every batch leaves a remainder. The weights
 * still sum to n, the stated error grows by a little and holds, and only a
 * fraction of the values is ever sorted. */
static void test_kll_sampler(void **state)
{
    (void)state;
    enum { N = 1000000 };
    double *data = malloc(N * sizeof *data), *sorted = malloc(N * sizeof *sorted);
    assert_non_null(data);
    assert_non_null(sorted);
    for (int dist = 0; dist < KLL_DISTS; dist++) {
        kll_test_data(data, N, dist);
        hops_kll s, plain;
        hops__kll_init(&s, (uint64_t)dist + 11);
        hops__kll_init(&plain, (uint64_t)dist + 11);
        assert_int_equal(hops__kll_add_n(&plain, data, N), 0);
        uint32_t pos = 0, batch = 0;
        while (pos < N) {
            uint32_t len = 200 + (uint32_t)(batch++ * 37 % 57), h = 0;
            if (len > N - pos)
                len = N - pos;
            for (uint32_t from = N / 16; h < 4 && pos >= from; from *= 2)
                h++;
            assert_int_equal(hops__kll_add_sampled(&s, data + pos, len, h), 0);
            pos += len;
        }
        assert_true(s.n == N);
        assert_true(s.samp_w2 > 0 && s.compacted);
        hops_kll_view v;
        assert_int_equal(hops__kll_view(&s, &v), 0);
        assert_true(v.n > 0 && v.cum[v.n - 1] == N); /* the weights sum to n */
        hops__kll_view_free(&v);
        memcpy(sorted, data, N * sizeof *data);
        qsort(sorted, N, sizeof *sorted, cmp_double);
        double eps = hops__kll_rank_error(&s), eps0 = hops__kll_rank_error(&plain);
        double worst = worst_rank_error(&s, sorted, N);
        assert_true(eps > eps0 && eps < 1.3 * eps0);
        if (worst > eps)
            fail_msg("distribution %d: rank error %.5f beyond the stated %.5f", dist, worst, eps);
        assert_true(kll_held(&s) < 4 * HOPS_KLL_K + 2 * HOPS_KLL_BUF);
        hops__kll_free(&s);
        hops__kll_free(&plain);
    }
    /* One value in 2^16 from the start: the sampler's share dominates the
     * stated error, which still holds. */
    kll_test_data(data, N, 1);
    hops_kll s;
    hops__kll_init(&s, 5);
    for (uint32_t pos = 0; pos < N; pos += 100000)
        assert_int_equal(hops__kll_add_sampled(&s, data + pos, 100000, 16), 0);
    memcpy(sorted, data, N * sizeof *data);
    qsort(sorted, N, sizeof *sorted, cmp_double);
    double eps = hops__kll_rank_error(&s);
    assert_true(eps > 0.1);
    assert_true(worst_rank_error(&s, sorted, N) <= eps);
    assert_int_equal(hops__kll_add_sampled(&s, data, 1, HOPS_KLL_SAMPLE_MAX + 1), -1);
    hops__kll_free(&s);
    free(data);
    free(sorted);
}

/* Write S, read it back: the same quantiles; every truncation refused. */
static void check_kll_roundtrip(const hops_kll *s)
{
    hops_wr w = {HOPS_BUF_INIT, 0};
    hops__kll_write(&w, s);
    assert_false(w.failed);
    hops_rd r = {(const unsigned char *)w.b.data, w.b.len, 0, 0};
    hops_kll back;
    assert_int_equal(hops__kll_read(&r, &back), 0);
    assert_int_equal(r.pos, w.b.len);
    assert_true(back.n == s->n && back.samp_w2 == s->samp_w2);
    assert_true(hops__kll_rank_error(&back) == hops__kll_rank_error(s));
    hops_kll_view v1, v2;
    assert_int_equal(hops__kll_view(s, &v1), 0);
    assert_int_equal(hops__kll_view(&back, &v2), 0);
    for (int i = 0; i <= 100; i++)
        assert_true(hops__kll_quantile(&v1, i / 100.0) == hops__kll_quantile(&v2, i / 100.0));
    hops__kll_view_free(&v1);
    hops__kll_view_free(&v2);
    /* A damaged state is refused, not trusted: truncated, or a level out of order. */
    for (size_t cut = 0; cut < w.b.len; cut += 97) {
        hops_rd t = {(const unsigned char *)w.b.data, cut, 0, 0};
        hops_kll bad;
        assert_int_equal(hops__kll_read(&t, &bad), -1);
    }
    hops__kll_free(&back);
    hops__buf_free(&w.b);
}

/* Parts merged in order hold what one sketch of the whole would, within the
 * stated error; some parts went through the sampler (blocks of 2 or 4), one
 * still has sampled items waiting in its buffer when it is merged and
 * written. */
static void test_kll_merge_and_roundtrip(void **state)
{
    (void)state;
    enum { N = 300000, PARTS = 37 };
    double *data = malloc(N * sizeof *data), *sorted = malloc(N * sizeof *sorted);
    hops_kll parts[PARTS], all, merged;
    assert_non_null(data);
    assert_non_null(sorted);
    hops__kll_init(&all, 7);
    hops__kll_init(&merged, 8);
    for (int p = 0; p < PARTS; p++)
        hops__kll_init(&parts[p], 100 + (uint64_t)p);
    for (int i = 0; i < N; i++) {
        data[i] = rnd_normal() * 10 + 3;
        assert_int_equal(hops__kll_add(&all, data[i]), 0);
    }
    for (int p = 0; p < PARTS; p++) {
        uint32_t from = (uint32_t)((size_t)p * N / PARTS), to = (uint32_t)((size_t)(p + 1) * N / PARTS);
        for (uint32_t i = from; i < to; i += 256)
            assert_int_equal(hops__kll_add_sampled(&parts[p], data + i, to - i < 256 ? to - i : 256,
                                                   (unsigned)p % 3),
                             0);
    }
    assert_true(parts[1].samp.len > 0 && parts[1].samp_h == 1);
    for (int p = 0; p < PARTS; p++)
        assert_int_equal(hops__kll_merge(&merged, &parts[p]), 0);
    memcpy(sorted, data, N * sizeof *data);
    qsort(sorted, N, sizeof *sorted, cmp_double);
    assert_true(merged.n == N && merged.samp_w2 > 0);
    double eps = hops__kll_rank_error(&merged);
    assert_true(worst_rank_error(&all, sorted, N) <= hops__kll_rank_error(&all));
    assert_true(worst_rank_error(&merged, sorted, N) <= eps);
    check_kll_roundtrip(&merged);
    check_kll_roundtrip(&parts[1]);
    for (int p = 0; p < PARTS; p++)
        hops__kll_free(&parts[p]);
    hops__kll_free(&all);
    hops__kll_free(&merged);
    free(data);
    free(sorted);
}

/* Below the buffer size nothing is compacted: quantiles are numpy's linear
 * interpolation and ranks are exact counts. */
static void test_kll_exact_small(void **state)
{
    (void)state;
    double v[] = {5, 1, 4, 2, 3, 10};
    hops_kll s;
    hops_kll_view view;
    hops__kll_init(&s, 1);
    for (size_t i = 0; i < 6; i++)
        hops__kll_add(&s, v[i]);
    assert_true(hops__kll_rank_error(&s) == 0);
    assert_int_equal(hops__kll_view(&s, &view), 0);
    assert_true(view.exact);
    assert_true(hops__kll_quantile(&view, 0.5) == 3.5);
    assert_true(hops__kll_quantile(&view, 0.0) == 1);
    assert_true(hops__kll_quantile(&view, 1.0) == 10);
    assert_true(fabs(hops__kll_quantile(&view, 0.9) - 7.5) < 1e-12); /* between 5 and 10 */
    assert_int_equal(hops__kll_rank(&view, 4, 0), 3);
    assert_int_equal(hops__kll_rank(&view, 4, 1), 4);
    assert_int_equal(hops__kll_rank(&view, 100, 1), 6);
    hops__kll_view_free(&view);
    hops__kll_free(&s);

    hops__kll_init(&s, 1);
    assert_int_equal(hops__kll_view(&s, &view), 0);
    assert_true(isnan(hops__kll_quantile(&view, 0.5)));
    hops__kll_view_free(&view);
    hops__kll_free(&s);
}

/* The order level 0 is sorted in: by the bits as an order-preserving key,
 * so -0.0 comes before +0.0 (the sketch's to_key, written out again). */
static uint64_t level0_key(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return (u >> 63) ? ~u : u | (1ULL << 63);
}

static int cmp_level0(const void *a, const void *b)
{
    uint64_t x = level0_key(*(const double *)a), y = level0_key(*(const double *)b);
    return (x > y) - (x < y);
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Fill level 0 with X[0..LEN) (its capacity lowered to LEN, so any length
 * can be sorted) and flush it once: it is sorted and every other item, from
 * a coin-picked start, goes up to level 1; the largest stays behind when LEN
 * is odd. Seeds are tried until both starts have been seen, so level 1 has
 * shown every position of the sorted order; each must equal qsort's, bit for
 * bit. */
static void check_level0_sort(const double *x, uint32_t len)
{
    double *ref = malloc((len ? len : 1) * sizeof *ref);
    assert_non_null(ref);
    memcpy(ref, x, len * sizeof *ref);
    qsort(ref, len, sizeof *ref, cmp_level0);
    int seen[2] = {0, 0};
    uint32_t half = len / 2;
    for (uint64_t seed = 1; seed <= 64 && !(seen[0] && seen[1]); seed++) {
        hops_kll s;
        hops__kll_init(&s, seed);
        s.k = 1u << 20; /* level 1 takes all it gets: no cascade */
        assert_int_equal(hops__kll_flush(&s), 0);
        s.lv[0].cap = len; /* the first flush allocated HOPS_KLL_BUF */
        for (uint32_t i = 0; i < len; i++)
            assert_int_equal(hops__kll_add(&s, x[i]), 0);
        assert_int_equal(hops__kll_flush(&s), 0);
        assert_int_equal(s.lv[0].len, len & 1);
        if (len & 1)
            assert_true(same_bits(s.lv[0].v[0], ref[len - 1]));
        if (half == 0) {
            hops__kll_free(&s);
            break;
        }
        assert_int_equal(s.lv[1].len, half);
        for (int off = 0; off < 2; off++) {
            int match = 1;
            for (uint32_t i = 0; i < half && match; i++)
                match = same_bits(s.lv[1].v[i], ref[2 * i + (uint32_t)off]);
            seen[off] |= match;
        }
        assert_true(seen[0] || seen[1]); /* this seed's start matched */
        hops__kll_free(&s);
    }
    if (half > 0)
        assert_true(seen[0] && seen[1]);
    free(ref);
}

/* Level 0's radix sort against qsort on inputs meant to break it: many
 * magnitudes and both signs, signed zeros, ties, values that differ only in
 * their lowest bits (the exact passes; with one far value, the insertion
 * finish giving up and the exact fallback), few distinct values, runs. */
static void test_kll_level0_sort(void **state)
{
    (void)state;
    static const uint32_t lens[] = {0, 1, 2, 3, 5, 17, 1001, 4095, HOPS_KLL_BUF};
    double *x = malloc(HOPS_KLL_BUF * sizeof *x);
    assert_non_null(x);
    for (int kind = 0; kind < 10; kind++)
        for (size_t t = 0; t < sizeof lens / sizeof lens[0]; t++) {
            uint32_t len = lens[t];
            for (uint32_t i = 0; i < len; i++) {
                uint64_t r = rnd();
                double m = 1.0 + (double)(r >> 12) / 4503599627370496.0; /* [1, 2) */
                switch (kind) {
                case 0: /* every magnitude, both signs, subnormals and zeros */
                    x[i] = ldexp(r & 1 ? -m : m, (int)(rnd() % 2100) - 1075);
                    break;
                case 1: /* signed zeros among tiny numbers of both signs */
                    x[i] = (double[]){0.0, -0.0, DBL_TRUE_MIN, -DBL_TRUE_MIN, 1.0, -1.0}[r % 6];
                    break;
                case 2: /* all equal */
                    x[i] = -3.25;
                    break;
                case 3: /* only the lowest 20 bits differ */
                    x[i] = 1.0 + (double)(r % (1u << 20)) * DBL_EPSILON;
                    break;
                case 4: /* the same, and one value far off: ties in the high bits */
                    x[i] = i == len / 2 ? -1e300 : 1.0 + (double)(r % (1u << 20)) * DBL_EPSILON;
                    break;
                case 5: /* half low-bit ties, half spread */
                    x[i] = r & 1 ? rnd_normal() : 7.0 + (double)(r % 64) * DBL_EPSILON;
                    break;
                case 6: /* normal, rounded to 6 digits, as a CSV gives them */
                    x[i] = round(rnd_normal() * 1e5) / 1e5;
                    break;
                case 7: /* two values, a label */
                    x[i] = (double)(r & 1);
                    break;
                case 8: /* descending integers */
                    x[i] = (double)(len - i) * 1000.0;
                    break;
                default: /* ascending, negative to positive */
                    x[i] = ((double)i - len / 2.0) * 0.37;
                    break;
                }
            }
            check_level0_sort(x, len);
        }
    free(x);
}

/* ---- HyperLogLog ---- */

static void test_hll_accuracy_and_merge(void **state)
{
    (void)state;
    static const int sizes[] = {10, 1000, 20000, 300000, 3000000};
    double se = hops__hll_std_error();
    assert_true(fabs(se - 0.008125) < 1e-9);
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        hops_hll *all = calloc(1, sizeof *all), *a = calloc(1, sizeof *a),
                 *b = calloc(1, sizeof *b);
        assert_non_null(all);
        assert_non_null(a);
        assert_non_null(b);
        for (int i = 0; i < sizes[t]; i++) {
            char key[32];
            int n = snprintf(key, sizeof key, "v%zu-%d", t, i);
            uint64_t h = hops__hash64(key, (size_t)n, 0);
            hops__hll_add(all, h);
            hops__hll_add(i % 3 ? a : b, h);
            hops__hll_add(a, h * (i % 2)); /* duplicates (and 0) change nothing much */
        }
        hops__hll_add(b, hops__hash64("v0-0", 4, 0));
        double est = hops__hll_estimate(all), n = sizes[t];
        if (fabs(est - n) > 3 * se * n + 1)
            fail_msg("n=%d: estimate %.1f beyond 3 standard errors", sizes[t], est);
        /* Merge is a register max: the union sketch exactly. */
        hops_hll *u = calloc(1, sizeof *u);
        assert_non_null(u);
        for (int i = 0; i < sizes[t]; i++) {
            char key[32];
            int k = snprintf(key, sizeof key, "v%zu-%d", t, i);
            hops__hll_add(u, hops__hash64(key, (size_t)k, 0));
        }
        hops__hll_add(u, 0);
        hops__hll_add(u, hops__hash64("v0-0", 4, 0));
        hops__hll_merge(a, b);
        assert_memory_equal(a->reg, u->reg, HOPS_HLL_M);
        free(all);
        free(a);
        free(b);
        free(u);
    }
}

static void test_hash_spreads_bits(void **state)
{
    (void)state;
    /* Every output bit flips for about half of one-bit input changes. */
    int flips[64] = {0};
    const int trials = 4000;
    for (int t = 0; t < trials; t++) {
        char key[24];
        int n = snprintf(key, sizeof key, "%d", t * 7919);
        uint64_t h1 = hops__hash64(key, (size_t)n, 0);
        key[t % n] ^= (char)(1 << (t % 7));
        uint64_t d = h1 ^ hops__hash64(key, (size_t)n, 0);
        for (int b = 0; b < 64; b++)
            flips[b] += (int)(d >> b & 1);
    }
    for (int b = 0; b < 64; b++)
        assert_true(flips[b] > trials * 0.4 && flips[b] < trials * 0.6);
    /* Every length path, and no reads past the end (ASan). */
    char buf[200];
    for (int i = 0; i < 200; i++)
        buf[i] = (char)i;
    for (size_t len = 0; len <= 200; len++) {
        char *copy = malloc(len ? len : 1);
        memcpy(copy, buf, len);
        assert_true(hops__hash64(copy, len, 0) == hops__hash64(buf, len, 0));
        if (len)
            assert_true(hops__hash64(copy, len, 0) != hops__hash64(buf, len - 1, 0));
        free(copy);
    }
}

/* ---- value counts ---- */

static void add_str(hops_freq *f, const char *s)
{
    assert_int_equal(hops__freq_add(f, s, strlen(s), hops__hash64(s, strlen(s), 0)), 0);
}

static uint64_t count_of(const hops_freq *f, const char *s)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(hops__freq_text(f, &f->e[i]), s) == 0)
            return f->e[i].count;
    return 0;
}

static void test_freq_exact(void **state)
{
    (void)state;
    hops_freq f, a, b;
    hops__freq_init(&f, 100, 10);
    hops__freq_init(&a, 100, 10);
    hops__freq_init(&b, 100, 10);
    for (int i = 0; i < 5000; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", (i * 37) % 60);
        add_str(&f, key);
        add_str(i < 1234 ? &a : &b, key);
    }
    add_str(&f, ""); /* the empty string is a value too */
    add_str(&b, "");
    double err;
    assert_true(f.exact);
    assert_true(hops__freq_distinct(&f, &err) == 61 && err == 0);
    assert_true(count_of(&f, "k0") == 84 && count_of(&f, "k59") == 83 && count_of(&f, "") == 1);
    assert_int_equal(hops__freq_merge(&a, &b), 0);
    assert_true(a.exact && a.n == 61);
    for (size_t i = 0; i < f.n; i++)
        assert_true(count_of(&a, hops__freq_text(&f, &f.e[i])) == f.e[i].count);
    const hops_freq_entry **e;
    assert_int_equal(hops__freq_sorted(&a, &e), 0);
    assert_string_equal(hops__freq_text(&a, e[0]), "k0"); /* 84, the most */
    assert_true(e[60]->count == 1);
    for (size_t i = 1; i < a.n; i++)
        assert_true(e[i - 1]->count >= e[i]->count);
    free(e);
    hops__freq_free(&f);
    hops__freq_free(&a);
    hops__freq_free(&b);
}

/* Past the exact limit: heavy hitters survive with counts at most ERR low,
 * ERR <= n / (keep + 1), and the distinct count comes from the HLL. */
static void test_freq_heavy_hitters(void **state)
{
    (void)state;
    enum { N = 400000, PARTS = 9 };
    hops_freq whole, parts[PARTS], merged;
    hops__freq_init(&whole, 1000, 64);
    hops__freq_init(&merged, 1000, 64);
    for (int p = 0; p < PARTS; p++)
        hops__freq_init(&parts[p], 500, 32);
    uint64_t truth[5] = {0};
    for (int i = 0; i < N; i++) {
        char key[24];
        uint64_t r = rnd() % 100;
        if (r < 20) { /* five values with 4% each */
            snprintf(key, sizeof key, "heavy%d", (int)(r % 5));
            truth[r % 5]++;
        } else
            snprintf(key, sizeof key, "u%d", i);
        add_str(&whole, key);
        add_str(&parts[(size_t)i * PARTS / N], key);
    }
    for (int p = 0; p < PARTS; p++)
        assert_int_equal(hops__freq_merge(&merged, &parts[p]), 0);
    hops_freq *fs[] = {&whole, &merged};
    for (int k = 0; k < 2; k++) {
        hops_freq *f = fs[k];
        assert_false(f->exact);
        assert_true(f->err <= N / (f->keep + 1));
        assert_true(f->n <= 2 * f->keep);
        for (int h = 0; h < 5; h++) {
            char key[24];
            snprintf(key, sizeof key, "heavy%d", h);
            uint64_t c = count_of(f, key);
            assert_true(c <= truth[h] && c + f->err >= truth[h]);
        }
        double err, d = hops__freq_distinct(f, &err), want = N * 0.8 + 5;
        assert_true(err > 0 && fabs(d - want) < 3 * err * want);

        hops_wr w = {HOPS_BUF_INIT, 0};
        hops__freq_write(&w, f);
        hops_rd r = {(const unsigned char *)w.b.data, w.b.len, 0, 0};
        hops_freq back;
        assert_int_equal(hops__freq_read(&r, &back), 0);
        assert_int_equal(r.pos, w.b.len);
        assert_true(back.n == f->n && back.err == f->err && !back.exact);
        for (size_t i = 0; i < f->n; i++)
            assert_true(count_of(&back, hops__freq_text(f, &f->e[i])) == f->e[i].count);
        double e2;
        assert_true(hops__freq_distinct(&back, &e2) == d);
        for (size_t cut = 0; cut < w.b.len; cut += 1013) {
            hops_rd t = {(const unsigned char *)w.b.data, cut, 0, 0};
            hops_freq bad;
            assert_int_equal(hops__freq_read(&t, &bad), -1);
        }
        hops__freq_free(&back);
        hops__buf_free(&w.b);
    }
    hops__freq_free(&whole);
    hops__freq_free(&merged);
    for (int p = 0; p < PARTS; p++)
        hops__freq_free(&parts[p]);
}

/* Counting stopped: the distinct count goes on (HLL, over every value seen
 * before and after), entries are gone; merging either way keeps it stopped
 * and covers both sides' values; the state survives a round trip and a
 * damaged one is refused. */
static void test_freq_stop_counting(void **state)
{
    (void)state;
    enum { N = 50000 };
    hops_freq a, b, c, d;
    hops__freq_init(&a, 100, 10);
    hops__freq_init(&b, 100, 10);
    hops__freq_init(&c, 100, 10);
    hops__freq_init(&d, 100, 10);
    char key[24];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "%d.5", i);
        add_str(i < N / 2 ? &a : &b, key);
        if (i == 50)
            assert_int_equal(hops__freq_stop_counting(&a), 0);
    }
    for (int i = 0; i < 30; i++) { /* exact, and values of its own */
        snprintf(key, sizeof key, "x%d", i);
        add_str(&c, key);
    }
    assert_true(a.hll_only && !a.exact && a.n == 0 && a.err == 0);
    assert_int_equal(hops__freq_stop_counting(&a), 0); /* idempotent */
    double err, got = hops__freq_distinct(&a, &err);
    assert_true(err > 0 && fabs(got - N / 2) < 3 * err * N / 2);

    assert_int_equal(hops__freq_merge(&c, &a), 0); /* exact <- stopped */
    assert_true(c.hll_only && c.n == 0);
    got = hops__freq_distinct(&c, &err);
    assert_true(fabs(got - (N / 2 + 30)) < 3 * err * (N / 2 + 30));
    assert_int_equal(hops__freq_merge(&b, &c), 0); /* Misra-Gries <- stopped */
    assert_true(b.hll_only && b.n == 0);
    got = hops__freq_distinct(&b, &err);
    assert_true(fabs(got - (N + 30)) < 3 * err * (N + 30));
    add_str(&d, "y");
    assert_int_equal(hops__freq_merge(&b, &d), 0); /* stopped <- exact */
    assert_true(b.hll_only && b.n == 0);

    hops_wr w = {HOPS_BUF_INIT, 0};
    hops__freq_write(&w, &b);
    hops_rd r = {(const unsigned char *)w.b.data, w.b.len, 0, 0};
    hops_freq back;
    assert_int_equal(hops__freq_read(&r, &back), 0);
    assert_true(back.hll_only && !back.exact && back.n == 0);
    double e2;
    assert_true(hops__freq_distinct(&back, &e2) == hops__freq_distinct(&b, &err));
    hops__freq_free(&back);
    /* A state claiming to be stopped and exact at once is refused. */
    memset(w.b.data + 16, 1, 1); /* the exact flag, after exact_limit and keep */
    hops_rd bad = {(const unsigned char *)w.b.data, w.b.len, 0, 0};
    assert_int_equal(hops__freq_read(&bad, &back), -1);
    hops__buf_free(&w.b);
    hops__freq_free(&a);
    hops__freq_free(&b);
    hops__freq_free(&c);
    hops__freq_free(&d);
}

/* An exact table merged with an approximate one: the distinct count still
 * covers the exact side's values. */
static void test_freq_mixed_merge(void **state)
{
    (void)state;
    hops_freq a, b;
    hops__freq_init(&a, 100, 10);
    hops__freq_init(&b, 100, 10);
    for (int i = 0; i < 50; i++) {
        char key[16];
        snprintf(key, sizeof key, "a%d", i);
        add_str(&a, key);
    }
    for (int i = 0; i < 5000; i++) {
        char key[16];
        snprintf(key, sizeof key, "b%d", i);
        add_str(&b, key);
    }
    assert_true(a.exact && !b.exact);
    assert_int_equal(hops__freq_merge(&a, &b), 0);
    double err, d = hops__freq_distinct(&a, &err);
    assert_false(a.exact);
    assert_true(fabs(d - 5050) < 3 * err * 5050);
    hops__freq_free(&a);
    hops__freq_free(&b);
}

/* The hash is part of every saved state (HLL registers, value tables):
 * fixed values, from wyhash's construction, for the short inline path and
 * the general one. */
static void test_hash64_golden(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        uint64_t h;
    } golden[] = {
        {"", 0x0409638ee2bde459ULL},
        {"a", 0x28d2053309d28531ULL},
        {"ab", 0xbc9ce12eaf0083ecULL},
        {"abc", 0x02a4f1d7cb516c72ULL},
        {"abcd", 0x48dfe2b09ab52113ULL},
        {"0.304717", 0x1e8cbfedc786609dULL},
        {"-94.2822", 0x7c4f08b247df78e2ULL},
        {"hello world 1234", 0xda1f137d608fcf40ULL},
        {"seventeen chars!!", 0xd6f57e2e0a59ed06ULL},
        {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 0x7010ab844f042b35ULL},
    };
    for (size_t i = 0; i < sizeof golden / sizeof golden[0]; i++) {
        size_t len = strlen(golden[i].s);
        assert_true(hops__hash64(golden[i].s, len, 0) == golden[i].h);
        if (len <= 16)
            assert_true(hops__hash64_short(golden[i].s, len) == golden[i].h);
    }
    assert_true(hops__hash64("abc", 3, 7) == 0xa3fd2b296f6c4e81ULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash64_golden),
        cmocka_unit_test(test_parse_double_matches_strtod),
        cmocka_unit_test(test_parse_double_rejects),
        cmocka_unit_test(test_parse_int64),
        cmocka_unit_test(test_parse_number_matches_reference),
        cmocka_unit_test(test_xsum_exact),
        cmocka_unit_test(test_xsum_random_matches_integer_sum),
        cmocka_unit_test(test_xsum_order_independent),
        cmocka_unit_test(test_xsum_read_checks),
        cmocka_unit_test(test_kll_accuracy),
        cmocka_unit_test(test_kll_sampler),
        cmocka_unit_test(test_kll_merge_and_roundtrip),
        cmocka_unit_test(test_kll_exact_small),
        cmocka_unit_test(test_kll_level0_sort),
        cmocka_unit_test(test_hll_accuracy_and_merge),
        cmocka_unit_test(test_hash_spreads_bits),
        cmocka_unit_test(test_freq_exact),
        cmocka_unit_test(test_freq_heavy_hitters),
        cmocka_unit_test(test_freq_mixed_merge),
        cmocka_unit_test(test_freq_stop_counting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
