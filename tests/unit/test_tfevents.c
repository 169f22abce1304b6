/* Tests for src/run/tfevents.c: CRC-32C vectors, and files read back record
 * by record with an independent little TFRecord/protobuf reader. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"
#include "run/tfevents.h"

/* ---- a reader, written from the format description, not the writer ---- */

typedef struct {
    const unsigned char *data;   /* the Event bytes, inside the file buffer */
    size_t len;
} record;

typedef struct {
    int has_wall_time, has_step, has_file_version, has_summary;
    double wall_time;
    int64_t step;
    size_t step_bytes;           /* bytes the step varint took */
    char file_version[64];
    int n_values;                /* Summary.value entries seen */
    char tag[HOPS_TFEVENTS_MAX_TAG + 1];
    int has_simple_value;
    float simple_value;
} event;

static uint64_t get_le(const unsigned char *p, int nbytes)
{
    uint64_t v = 0;
    for (int i = nbytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Check the framing and both CRCs of every record in FILE[0..N); fill RECS.
 * Returns the record count. */
static size_t read_records(const unsigned char *file, size_t n, record *recs, size_t max)
{
    size_t off = 0, count = 0;
    while (off < n) {
        uint64_t len;
        assert_true(n - off >= 12);
        len = get_le(file + off, 8);
        assert_int_equal(get_le(file + off + 8, 4), hops__crc32c_masked(file + off, 8));
        assert_true(len <= n - off - 16);
        assert_int_equal(get_le(file + off + 12 + len, 4), hops__crc32c_masked(file + off + 12, len));
        assert_true(count < max);
        recs[count].data = file + off + 12;
        recs[count].len = (size_t)len;
        count++;
        off += 16 + (size_t)len;
    }
    assert_int_equal(off, n);
    return count;
}

static uint64_t get_varint(const unsigned char **p, const unsigned char *end, size_t *nbytes)
{
    uint64_t v = 0;
    int shift = 0;
    size_t k = 0;
    for (;;) {
        unsigned char b;
        assert_true(*p < end);
        assert_true(shift < 64);
        b = *(*p)++;
        k++;
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    if (nbytes)
        *nbytes = k;
    return v;
}

/* A length-delimited payload at *P; returns its start, moves *P past it. */
static const unsigned char *get_bytes(const unsigned char **p, const unsigned char *end, size_t *len)
{
    const unsigned char *start;
    *len = (size_t)get_varint(p, end, NULL);
    assert_true(*len <= (size_t)(end - *p));
    start = *p;
    *p += *len;
    return start;
}

static void decode_value(event *e, const unsigned char *p, const unsigned char *end)
{
    while (p < end) {
        uint64_t key = get_varint(&p, end, NULL);
        if (key == ((1 << 3) | 2)) {
            size_t len;
            const unsigned char *s = get_bytes(&p, end, &len);
            assert_true(len < sizeof e->tag);
            memcpy(e->tag, s, len);
            e->tag[len] = '\0';
        } else if (key == ((2 << 3) | 5)) {
            uint32_t bits;
            assert_true(end - p >= 4);
            bits = (uint32_t)get_le(p, 4);
            memcpy(&e->simple_value, &bits, sizeof bits);
            e->has_simple_value = 1;
            p += 4;
        } else
            fail_msg("unexpected Summary.Value key %llu", (unsigned long long)key);
    }
}

static void decode_event(const record *r, event *e)
{
    const unsigned char *p = r->data, *end = r->data + r->len;
    memset(e, 0, sizeof *e);
    while (p < end) {
        uint64_t key = get_varint(&p, end, NULL);
        size_t len;
        const unsigned char *s;
        switch (key) {
        case (1 << 3) | 1: {
            uint64_t bits;
            assert_true(end - p >= 8);
            bits = get_le(p, 8);
            memcpy(&e->wall_time, &bits, sizeof bits);
            e->has_wall_time = 1;
            p += 8;
            break;
        }
        case (2 << 3) | 0:
            e->step = (int64_t)get_varint(&p, end, &e->step_bytes);
            e->has_step = 1;
            break;
        case (3 << 3) | 2:
            s = get_bytes(&p, end, &len);
            assert_true(len < sizeof e->file_version);
            memcpy(e->file_version, s, len);
            e->file_version[len] = '\0';
            e->has_file_version = 1;
            break;
        case (5 << 3) | 2: {
            const unsigned char *q, *summary_end;
            s = get_bytes(&p, end, &len);
            e->has_summary = 1;
            q = s;
            summary_end = s + len;
            while (q < summary_end) {
                assert_int_equal(get_varint(&q, summary_end, NULL), (1 << 3) | 2);
                s = get_bytes(&q, summary_end, &len);
                decode_value(e, s, s + len);
                e->n_values++;
            }
            break;
        }
        default:
            fail_msg("unexpected Event key %llu", (unsigned long long)key);
        }
    }
}

/* Read PATH and check all its records; *n_out records in *recs_out (malloc'd),
 * the file bytes in *file_out (owned by the caller). */
static void load(const char *path, char **file_out, record **recs_out, size_t *n_out)
{
    size_t len;
    record *recs;
    assert_int_equal(hops__read_file(path, file_out, &len), HOPS_OK);
    recs = calloc(len / 16 + 1, sizeof *recs);
    assert_non_null(recs);
    *n_out = read_records((const unsigned char *)*file_out, len, recs, len / 16 + 1);
    *recs_out = recs;
}

static off_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static void assert_first_record(const record *r)
{
    event e;
    decode_event(r, &e);
    assert_true(e.has_file_version);
    assert_string_equal(e.file_version, "brain.Event:2");
    assert_true(e.has_wall_time);
    assert_true(e.wall_time > 1.0e9);
    assert_false(e.has_summary);
}

/* ---- fixtures: a fresh temporary directory per test ---- */

static int setup_dir(void **state)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = hops__aprintf("%s/hops_test_tfevents_XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!dir || !mkdtemp(dir)) {
        free(dir);
        return -1;
    }
    *state = dir;
    return 0;
}

static int teardown_dir(void **state)
{
    hops__rm_rf(*state);
    free(*state);
    return 0;
}

/* ---- tests ---- */

static void test_crc32c_vectors(void **state)
{
    unsigned char zeros[32] = {0}, ones[32], inc[32];
    (void)state;
    memset(ones, 0xff, sizeof ones);
    for (int i = 0; i < 32; i++)
        inc[i] = (unsigned char)i;
    assert_int_equal(hops__crc32c("123456789", 9), 0xE3069283u);
    assert_int_equal(hops__crc32c(zeros, sizeof zeros), 0x8A9136AAu);
    /* RFC 3720, appendix B.4 */
    assert_int_equal(hops__crc32c(ones, sizeof ones), 0x62A8AB43u);
    assert_int_equal(hops__crc32c(inc, sizeof inc), 0x46DD794Eu);
    assert_int_equal(hops__crc32c(NULL, 0), 0u);
}

static void test_crc32c_masked(void **state)
{
    unsigned char zeros[8] = {0};
    uint32_t crc = 0xE3069283u;
    (void)state;
    assert_int_equal(hops__crc32c_masked("123456789", 9),
                     (uint32_t)(((crc >> 15) | (crc << 17)) + 0xa282ead8u));
    assert_int_equal(hops__crc32c_masked("123456789", 9), 0xC78AB0E5u);
    /* the length CRC of an empty record */
    assert_int_equal(hops__crc32c_masked(zeros, sizeof zeros), 0x07980329u);
}

static void test_scalars_round_trip(void **state)
{
    static const struct {
        const char *tag;
        int64_t step;
        double wall_time;
        float value;
    } want[] = {
        {"loss", 0, 1700000000.25, 0.5f},
        {"loss", 1, 1700000001.5, 0.25f},
        {"train/accuracy", 7, 1700000002.0, 0.875f},
        {"neg", -1, 1700000003.0, -3.5f},
        {"min", INT64_MIN, 1700000004.0, 1e-30f},
        {"max", INT64_MAX, 1700000005.0, 3e38f},
        {"inf", 300, 1700000006.0, INFINITY},
        {"\xc3\xa9t\xc3\xa9/\xe6\x90\x8d\xe5\xa4\xb1", 2, 1700000007.0, 1.0f},  /* "été/損失" */
        {"", 3, 1700000008.0, 2.0f},
    };
    const char *dir = *state;
    char *sub = hops__aprintf("%s/a/b/c", dir), *file;
    hops_tfevents *w;
    record *recs;
    size_t n;
    const char *path, *base;
    event e;

    assert_int_equal(hops__tfevents_open(&w, sub), HOPS_OK);
    path = hops__tfevents_path(w);
    assert_memory_equal(path, sub, strlen(sub));
    base = strrchr(path, '/') + 1;
    assert_int_equal(base - path, (ptrdiff_t)strlen(sub) + 1);
    assert_memory_equal(base, "events.out.tfevents.", 20);
    for (int i = 20; i < 30; i++)
        assert_true(base[i] >= '0' && base[i] <= '9');
    assert_int_equal(base[30], '.');
    assert_true(base[31] != '\0');

    for (size_t i = 0; i < HOPS_ARRAY_LEN(want); i++)
        assert_int_equal(hops__tfevents_scalar(w, want[i].tag, want[i].step, want[i].wall_time,
                                               want[i].value), HOPS_OK);
    assert_int_equal(hops__tfevents_scalar(w, "nan", 4, 1700000009.0, NAN), HOPS_OK);
    path = hops__strdup(path);   /* the writer's copy goes with it */
    hops__tfevents_close(w);

    load(path, &file, &recs, &n);
    assert_int_equal(n, 1 + HOPS_ARRAY_LEN(want) + 1);
    assert_first_record(&recs[0]);
    for (size_t i = 0; i < HOPS_ARRAY_LEN(want); i++) {
        decode_event(&recs[1 + i], &e);
        assert_false(e.has_file_version);
        assert_true(e.has_wall_time && e.has_summary);
        assert_int_equal(e.has_step, want[i].step != 0);   /* proto3 leaves out 0 */
        assert_int_equal(e.n_values, 1);
        assert_string_equal(e.tag, want[i].tag);
        assert_true(e.step == want[i].step);
        assert_true(e.wall_time == want[i].wall_time);
        assert_true(e.has_simple_value);
        assert_memory_equal(&e.simple_value, &want[i].value, sizeof(float));
        /* two's complement varints: every negative step takes 10 bytes */
        if (want[i].step < 0)
            assert_int_equal(e.step_bytes, 10);
        if (want[i].step == INT64_MAX)
            assert_int_equal(e.step_bytes, 9);
    }
    decode_event(&recs[n - 1], &e);
    assert_string_equal(e.tag, "nan");
    assert_true(isnan(e.simple_value));
    free(file);
    free(recs);
    free((char *)path);
    free(sub);
}

/* Records stay in memory until flush, close, or 64 KiB of them. */
static void test_buffering(void **state)
{
    hops_tfevents *w;
    char *path, *file;
    record *recs;
    size_t n;
    off_t first, size;
    int i;

    assert_int_equal(hops__tfevents_open(&w, *state), HOPS_OK);
    path = hops__strdup(hops__tfevents_path(w));
    first = file_size(path);
    assert_true(first > 16);   /* the file_version record is on disk at once */

    assert_int_equal(hops__tfevents_scalar(w, "x", 1, 1.0, 1.0f), HOPS_OK);
    assert_int_equal(file_size(path), first);
    assert_int_equal(hops__tfevents_flush(w), HOPS_OK);
    size = file_size(path);
    assert_true(size > first);
    assert_int_equal(hops__tfevents_flush(w), HOPS_OK);   /* nothing buffered: no-op */
    assert_int_equal(file_size(path), size);

    /* Each record is well under 100 bytes; a full buffer goes out by itself. */
    for (i = 0; file_size(path) == size; i++) {
        assert_true(i < 65536);
        assert_int_equal(hops__tfevents_scalar(w, "loss/train", i, 2.0 + i, (float)i), HOPS_OK);
    }
    assert_true(i > 65536 / 100);
    assert_true(file_size(path) - size >= 65536);
    hops__tfevents_close(w);

    load(path, &file, &recs, &n);
    assert_int_equal(n, 2 + (size_t)i);
    for (size_t k = 2; k < n; k++) {
        event e;
        decode_event(&recs[k], &e);
        assert_true(e.step == (int64_t)(k - 2));
        assert_true(e.simple_value == (float)(k - 2));
    }
    free(file);
    free(recs);
    free(path);
}

/* The longest tag allowed makes a record larger than the buffer. */
static void test_long_tag(void **state)
{
    hops_tfevents *w;
    char *tag = malloc(HOPS_TFEVENTS_MAX_TAG + 2), *path, *file;
    record *recs;
    size_t n;
    event e;
    assert_non_null(tag);
    memset(tag, 'a', HOPS_TFEVENTS_MAX_TAG + 1);
    tag[HOPS_TFEVENTS_MAX_TAG + 1] = '\0';

    assert_int_equal(hops__tfevents_open(&w, *state), HOPS_OK);
    path = hops__strdup(hops__tfevents_path(w));
    assert_int_equal(hops__tfevents_scalar(w, tag, 1, 1.0, 1.0f), HOPS_EINVAL);
    tag[HOPS_TFEVENTS_MAX_TAG] = '\0';
    assert_int_equal(hops__tfevents_scalar(w, tag, 2, 2.0, 2.0f), HOPS_OK);
    hops__tfevents_close(w);

    load(path, &file, &recs, &n);
    assert_int_equal(n, 2);
    decode_event(&recs[1], &e);
    assert_int_equal(strlen(e.tag), HOPS_TFEVENTS_MAX_TAG);
    assert_true(e.step == 2);
    free(file);
    free(recs);
    free(path);
    free(tag);
}

static void test_bad_tags(void **state)
{
    static const char *const bad[] = {
        "\xff",                 /* never in UTF-8 */
        "a\x80",                /* stray continuation byte */
        "\xc0\xaf",             /* overlong '/' */
        "\xe0\x80\xaf",         /* overlong */
        "\xed\xa0\x80",         /* surrogate U+D800 */
        "\xf4\x90\x80\x80",     /* past U+10FFFF */
        "\xe6\x90",             /* truncated */
    };
    hops_tfevents *w;
    char *path, *file;
    record *recs;
    size_t n;
    assert_int_equal(hops__tfevents_open(&w, *state), HOPS_OK);
    path = hops__strdup(hops__tfevents_path(w));
    assert_int_equal(hops__tfevents_scalar(w, NULL, 1, 1.0, 1.0f), HOPS_EINVAL);
    for (size_t i = 0; i < HOPS_ARRAY_LEN(bad); i++)
        assert_int_equal(hops__tfevents_scalar(w, bad[i], 1, 1.0, 1.0f), HOPS_EINVAL);
    assert_non_null(strstr(hops_last_error(), "UTF-8"));
    assert_int_equal(hops__tfevents_scalar(w, "\xf0\x9f\x93\x88 ok", 1, 1.0, 1.0f), HOPS_OK);
    hops__tfevents_close(w);
    load(path, &file, &recs, &n);
    assert_int_equal(n, 2);   /* the rejected ones left nothing behind */
    free(file);
    free(recs);
    free(path);
}

/* Two writers in one directory in the same second get different files. */
static void test_name_taken(void **state)
{
    hops_tfevents *a, *b, *c;
    assert_int_equal(hops__tfevents_open(&a, *state), HOPS_OK);
    assert_int_equal(hops__tfevents_open(&b, *state), HOPS_OK);
    assert_int_equal(hops__tfevents_open(&c, *state), HOPS_OK);
    assert_string_not_equal(hops__tfevents_path(a), hops__tfevents_path(b));
    assert_string_not_equal(hops__tfevents_path(b), hops__tfevents_path(c));
    assert_string_not_equal(hops__tfevents_path(a), hops__tfevents_path(c));
    assert_true(file_size(hops__tfevents_path(a)) > 16);
    assert_true(file_size(hops__tfevents_path(b)) > 16);
    hops__tfevents_close(a);
    hops__tfevents_close(b);
    hops__tfevents_close(c);
}

/* A failing write (here EFBIG from RLIMIT_FSIZE) breaks the writer for good. */
static void test_write_error(void **state)
{
    hops_tfevents *w;
    struct rlimit old, lim;
    void (*old_handler)(int);
    hops_status rc = HOPS_OK;
    int i;

    assert_int_equal(hops__tfevents_open(&w, *state), HOPS_OK);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    old_handler = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 4096;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);

    for (i = 0; i < 100000 && rc == HOPS_OK; i++)
        rc = hops__tfevents_scalar(w, "loss", i, 1.0, 1.0f);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_handler);

    assert_int_equal(rc, HOPS_EIO);
    assert_non_null(strstr(hops_last_error(), "cannot write '"));
    assert_non_null(strstr(hops_last_error(), strerror(EFBIG)));
    hops_error_clear();
    assert_int_equal(hops__tfevents_scalar(w, "loss", i, 1.0, 1.0f), HOPS_EIO);
    assert_non_null(strstr(hops_last_error(), strerror(EFBIG)));
    assert_int_equal(hops__tfevents_flush(w), HOPS_EIO);
    hops__tfevents_close(w);
}

static void test_open_errors(void **state)
{
    const char *dir = *state;
    char *regular = hops__aprintf("%s/plain", dir), *under = hops__aprintf("%s/plain/sub", dir);
    hops_tfevents *w = (hops_tfevents *)&w;   /* not NULL: open must reset it */
    FILE *f = fopen(regular, "w");
    assert_non_null(f);
    fclose(f);

    assert_int_equal(hops__tfevents_open(&w, ""), HOPS_EINVAL);
    assert_null(w);
    assert_int_equal(hops__tfevents_open(&w, NULL), HOPS_EINVAL);
    assert_int_equal(hops__tfevents_open(&w, regular), HOPS_EIO);
    assert_null(w);
    assert_int_equal(hops__tfevents_open(&w, under), HOPS_EIO);
    assert_null(w);
    hops__tfevents_close(NULL);
    free(regular);
    free(under);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_vectors),
        cmocka_unit_test(test_crc32c_masked),
        cmocka_unit_test_setup_teardown(test_scalars_round_trip, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_buffering, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_long_tag, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_bad_tags, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_name_taken, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_write_error, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_open_errors, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
