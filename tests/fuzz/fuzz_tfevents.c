/* Fuzz the TensorBoard event writer (src/run/tfevents.h) with arbitrary tags,
 * steps, wall times and values, then read the file back with a reader written
 * here from the format description: TFRecord framing with masked CRC-32C
 * (with a table made here from the polynomial, not the library's), and the
 * Event / Summary / Value protobufs field by field.
 *
 * The input is a sequence of scalars, each
 *   flags:1 step:8 wall_time:8 value:4 tag_len:1 tag:tag_len   (little-endian)
 * where a short input ends the sequence with zeros. Flags:
 *   bits 0, 6  both set: make the tag long, repeating it to 65533 +
 *              ((flags >> 1) & 3) bytes, around HOPS_TFEVENTS_MAX_TAG (at most
 *              LONG_TAGS per input: they are slow);
 *   bit 5      hops__tfevents_flush after this scalar.
 * A tag is cut at its first NUL (the API takes C strings). The writer must
 * accept exactly the tags that are valid UTF-8 of at most 65535 bytes (checked
 * against a decoder here), and the file must hold the file_version record and
 * then one record per accepted scalar with the same tag, step (0 left out),
 * wall time and value bits.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "run/tfevents.h"

#include "fuzz_util.h"

#define MAX_SCALARS 64
#define LONG_TAGS 1

typedef struct {
    char *tag;
    size_t tag_len;
    int64_t step;
    double wall;
    float value;
} scalar;

static char *workdir;

static void cleanup(void)
{
    if (workdir)
        hops__rm_rf(workdir);
    free(workdir);
    workdir = NULL;
}

/* CRC-32C from its definition (reflected polynomial 0x82F63B78): a table
 * made here bit by bit, not the library's. */
static uint32_t crc_table[256];

static void crc_table_init(void)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t crc = b;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
        crc_table[b] = crc;
    }
}

FUZZ_NO_COVERAGE static uint32_t crc32c_ref(const unsigned char *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xffu] ^ (crc >> 8);
    return crc ^ 0xffffffffu;
}

static uint32_t masked(const unsigned char *p, size_t n)
{
    uint32_t crc = crc32c_ref(p, n);
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

/* DST[0..N) filled with copies of SRC[0..LEN) ('a' when LEN is 0). */
static void repeat(char *dst, size_t n, const char *src, size_t len)
{
    size_t done;
    if (n == 0)
        return;
    if (len == 0) {
        memset(dst, 'a', n);
        return;
    }
    done = len < n ? len : n;
    memcpy(dst, src, done);
    while (done < n) { /* double what is there */
        size_t k = done < n - done ? done : n - done;
        memcpy(dst + done, dst, k);
        done += k;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_default_artifact_prefix(argc, argv);
    FUZZ_CHECK(hops__crc32c("123456789", 9) == 0xe3069283u, "CRC-32C test vector");
    crc_table_init();
    FUZZ_CHECK(crc32c_ref((const unsigned char *)"123456789", 9) == 0xe3069283u,
               "reference CRC-32C test vector");
    workdir = fuzz_tempdir("tfevents");
    atexit(cleanup);
    return 0;
}

/* ---- reading the file back ---- */

FUZZ_NO_COVERAGE static uint64_t le(const unsigned char *p, int nbytes)
{
    uint64_t v = 0;
    for (int i = nbytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* A varint at *P (before END); -1 when cut or longer than 10 bytes. */
static int varint(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*p >= end)
            return -1;
        unsigned char b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* One protobuf field at *P: its number and wire type, the value (varint or
 * fixed) in *V, or its bytes in *BYTES / *BLEN for wire type 2. */
static void field(const unsigned char **p, const unsigned char *end, unsigned *num, unsigned *wt,
                  uint64_t *v, const unsigned char **bytes, size_t *blen)
{
    uint64_t key, len;
    FUZZ_CHECK(varint(p, end, &key) == 0, "bad field key");
    *num = (unsigned)(key >> 3);
    *wt = (unsigned)(key & 7);
    switch (*wt) {
    case 0:
        FUZZ_CHECK(varint(p, end, v) == 0, "bad varint in field %u", *num);
        break;
    case 1:
        FUZZ_CHECK(end - *p >= 8, "cut fixed64 in field %u", *num);
        *v = le(*p, 8);
        *p += 8;
        break;
    case 5:
        FUZZ_CHECK(end - *p >= 4, "cut fixed32 in field %u", *num);
        *v = le(*p, 4);
        *p += 4;
        break;
    case 2:
        FUZZ_CHECK(varint(p, end, &len) == 0 && len <= (uint64_t)(end - *p),
                   "bad length in field %u", *num);
        *bytes = *p;
        *blen = (size_t)len;
        *p += len;
        break;
    default:
        FUZZ_CHECK(0, "wire type %u in field %u", *wt, *num);
    }
}

static void check_bits(const void *got, const void *want, size_t n, int nan_got, int nan_want,
                       const char *what)
{
    if (nan_got && nan_want)
        return; /* any NaN will do */
    FUZZ_CHECK(memcmp(got, want, n) == 0, "%s differs", what);
}

static void check_event(const unsigned char *p, size_t n, const scalar *want)
{
    const unsigned char *end = p + n, *bytes = NULL;
    size_t blen = 0;
    unsigned num, wt;
    uint64_t v = 0;
    int seen_wall = 0, seen_step = 0, seen_version = 0, seen_summary = 0;
    const unsigned char *summary = NULL;
    size_t summary_len = 0;

    while (p < end) {
        field(&p, end, &num, &wt, &v, &bytes, &blen);
        if (num == 1 && wt == 1) {
            seen_wall++;
            if (want) {
                double d;
                memcpy(&d, &v, sizeof d);
                check_bits(&d, &want->wall, sizeof d, isnan(d), isnan(want->wall), "wall_time");
            }
        } else if (num == 2 && wt == 0) {
            seen_step++;
            FUZZ_CHECK(want && (int64_t)v == want->step && want->step != 0,
                       "step %lld, want %lld", (long long)v, want ? (long long)want->step : 0LL);
        } else if (num == 3 && wt == 2) {
            seen_version++;
            FUZZ_CHECK(!want && blen == 13 && memcmp(bytes, "brain.Event:2", 13) == 0,
                       "bad file_version");
        } else if (num == 5 && wt == 2) {
            seen_summary++;
            summary = bytes;
            summary_len = blen;
        } else {
            FUZZ_CHECK(0, "unexpected Event field %u (wire type %u)", num, wt);
        }
    }
    FUZZ_CHECK(seen_wall == 1, "Event has %d wall_time fields", seen_wall);
    if (!want) {
        FUZZ_CHECK(seen_version == 1 && !seen_summary && !seen_step, "bad first record");
        return;
    }
    FUZZ_CHECK(seen_step == (want->step != 0), "step field present: %d", seen_step);
    FUZZ_CHECK(seen_summary == 1 && !seen_version, "Event has %d summaries", seen_summary);

    /* Summary { repeated Value value = 1 }: exactly one. */
    const unsigned char *value = NULL;
    size_t value_len = 0;
    int n_values = 0;
    p = summary;
    end = summary + summary_len;
    while (p < end) {
        field(&p, end, &num, &wt, &v, &bytes, &blen);
        FUZZ_CHECK(num == 1 && wt == 2, "unexpected Summary field %u", num);
        n_values++;
        value = bytes;
        value_len = blen;
    }
    FUZZ_CHECK(n_values == 1, "Summary has %d values", n_values);

    /* Value { string tag = 1; float simple_value = 2 } */
    int seen_tag = 0, seen_value = 0;
    p = value;
    end = value + value_len;
    while (p < end) {
        field(&p, end, &num, &wt, &v, &bytes, &blen);
        if (num == 1 && wt == 2) {
            seen_tag++;
            FUZZ_CHECK(blen == want->tag_len && memcmp(bytes, want->tag, blen) == 0,
                       "tag differs (%zu bytes, want %zu)", blen, want->tag_len);
        } else if (num == 2 && wt == 5) {
            float f;
            uint32_t bits = (uint32_t)v;
            seen_value++;
            memcpy(&f, &bits, sizeof f);
            check_bits(&f, &want->value, sizeof f, isnan(f), isnan(want->value), "simple_value");
        } else {
            FUZZ_CHECK(0, "unexpected Value field %u (wire type %u)", num, wt);
        }
    }
    FUZZ_CHECK(seen_tag == 1 && seen_value == 1, "Value has %d tags, %d values", seen_tag,
               seen_value);
}

/* Returns the file's size. */
static size_t check_file(const char *path, const scalar *want, size_t n_want)
{
    char *buf = NULL;
    size_t len = 0, off = 0, rec = 0;
    hops_status rc = hops__read_file(path, &buf, &len);
    FUZZ_CHECK(rc == HOPS_OK, "cannot read the event file: %s", hops_last_error());
    const unsigned char *u = (const unsigned char *)buf;
    while (off < len) {
        FUZZ_CHECK(len - off >= 12, "record %zu: cut header", rec);
        uint64_t n = le(u + off, 8);
        FUZZ_CHECK(le(u + off + 8, 4) == masked(u + off, 8), "record %zu: bad length CRC", rec);
        FUZZ_CHECK(n <= len - off - 12 && len - off - 12 - n >= 4, "record %zu: cut data", rec);
        FUZZ_CHECK(le(u + off + 12 + n, 4) == masked(u + off + 12, (size_t)n),
                   "record %zu: bad data CRC", rec);
        FUZZ_CHECK(rec <= n_want, "more records than scalars");
        check_event(u + off + 12, (size_t)n, rec ? &want[rec - 1] : NULL);
        off += 16 + (size_t)n;
        rec++;
    }
    FUZZ_CHECK(rec == n_want + 1, "%zu records, want %zu", rec, n_want + 1);
    free(buf);
    return len;
}

/* Take N bytes (zeros past the end). */
static void take(const uint8_t **data, size_t *size, void *out, size_t n)
{
    size_t k = n < *size ? n : *size;
    memset(out, 0, n);
    if (k)
        memcpy(out, *data, k);
    *data += k;
    *size -= k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scalar ok[MAX_SCALARS];
    size_t n_ok = 0, n = 0;
    int long_tags = 0;
    hops_tfevents *w = NULL;
    hops_status rc;
    char *path;
    struct stat st;
    size_t file_len;

    /* The CRC against the reference, on the raw input. */
    FUZZ_CHECK(hops__crc32c(data, size) == crc32c_ref(data, size), "CRC-32C differs");

    rc = hops__tfevents_open(&w, workdir);
    FUZZ_CHECK(rc == HOPS_OK && w, "hops__tfevents_open: %s", hops_last_error());
    path = hops__strdup(hops__tfevents_path(w));
    FUZZ_CHECK(path, "out of memory");

    while (size > 0 && n < MAX_SCALARS) {
        unsigned char flags, tag_len;
        uint64_t step;
        double wall;
        float value;
        char *tag;
        size_t len;
        take(&data, &size, &flags, 1);
        take(&data, &size, &step, 8);
        take(&data, &size, &wall, 8);
        take(&data, &size, &value, 4);
        take(&data, &size, &tag_len, 1);
        len = tag_len < size ? tag_len : size;
        tag = fuzz_cstr(data, len);
        data += len;
        size -= len;
        len = strlen(tag);
        if ((flags & 0x41) == 0x41 && long_tags < LONG_TAGS) {
            size_t want = 65533 + ((flags >> 1) & 3u);
            char *big = malloc(want + 1);
            FUZZ_CHECK(big, "out of memory");
            repeat(big, want, tag, len);
            big[want] = '\0';
            free(tag);
            tag = big;
            len = want;
            long_tags++;
        }
        int valid = len <= HOPS_TFEVENTS_MAX_TAG && utf8_ok((const unsigned char *)tag, len);
        hops_error_clear();
        rc = hops__tfevents_scalar(w, tag, (int64_t)step, wall, value);
        if (valid) {
            FUZZ_CHECK(rc == HOPS_OK, "a valid tag of %zu bytes was refused: %s: %s", len,
                       hops_err_name(rc), hops_last_error());
            ok[n_ok++] = (scalar){tag, len, (int64_t)step, wall, value};
        } else {
            FUZZ_CHECK(rc == HOPS_EINVAL, "a bad tag of %zu bytes got %s", len, hops_err_name(rc));
            FUZZ_CHECK(hops_last_error()[0] != '\0', "HOPS_EINVAL without a reason");
            free(tag);
        }
        if (flags & 0x20) {
            rc = hops__tfevents_flush(w);
            FUZZ_CHECK(rc == HOPS_OK, "hops__tfevents_flush: %s", hops_last_error());
        }
        n++;
    }
    rc = hops__tfevents_flush(w);
    FUZZ_CHECK(rc == HOPS_OK, "hops__tfevents_flush: %s", hops_last_error());
    file_len = check_file(path, ok, n_ok);
    hops__tfevents_close(w);
    FUZZ_CHECK(stat(path, &st) == 0 && (size_t)st.st_size == file_len, "close changed the file");
    unlink(path);
    free(path);
    for (size_t i = 0; i < n_ok; i++)
        free(ok[i].tag);
    return 0;
}
