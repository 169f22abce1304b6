/* TensorBoard event files: TFRecord framing around hand-encoded Event protobufs.
 *
 * Wire format of one record (all integers little-endian):
 *     uint64 length | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)
 * and of the Event in DATA (tensorflow/core/util/event.proto):
 *     Event   { double wall_time = 1; int64 step = 2;
 *               oneof what { string file_version = 3; Summary summary = 5; } }
 *     Summary { repeated Value value = 1; }
 *     Value   { string tag = 1; oneof value { float simple_value = 2; } }
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "tfevents.h"

#define TFEVENTS_BUF_SIZE 65536        /* flush once this much is buffered */
#define TFEVENTS_MAX_SUFFIX 1000       /* ".1" .. ".999" when the name is taken */
#define RECORD_OVERHEAD 16             /* length, its CRC, the data's CRC */
#define FILE_VERSION "brain.Event:2"

/* Protobuf keys: (field number << 3) | wire type. */
enum {
    KEY_EVENT_WALL_TIME = (1 << 3) | 1,     /* fixed64 */
    KEY_EVENT_STEP = (2 << 3) | 0,          /* varint */
    KEY_EVENT_FILE_VERSION = (3 << 3) | 2,  /* length-delimited */
    KEY_EVENT_SUMMARY = (5 << 3) | 2,
    KEY_SUMMARY_VALUE = (1 << 3) | 2,
    KEY_VALUE_TAG = (1 << 3) | 2,
    KEY_VALUE_SIMPLE_VALUE = (2 << 3) | 5,  /* fixed32 */
};

struct hops_tfevents {
    int fd;
    char *path;              /* owned */
    hops_buf buf;            /* framed records not yet written */
    int write_errno;         /* 0, or the errno of the write that broke this writer */
};

/* ---- CRC-32C ---- */

/* CRC-32C of each byte value, reflected polynomial 0x82F63B78. */
static const uint32_t crc32c_table[256] = {
    0x00000000u, 0xf26b8303u, 0xe13b70f7u, 0x1350f3f4u, 0xc79a971fu, 0x35f1141cu,
    0x26a1e7e8u, 0xd4ca64ebu, 0x8ad958cfu, 0x78b2dbccu, 0x6be22838u, 0x9989ab3bu,
    0x4d43cfd0u, 0xbf284cd3u, 0xac78bf27u, 0x5e133c24u, 0x105ec76fu, 0xe235446cu,
    0xf165b798u, 0x030e349bu, 0xd7c45070u, 0x25afd373u, 0x36ff2087u, 0xc494a384u,
    0x9a879fa0u, 0x68ec1ca3u, 0x7bbcef57u, 0x89d76c54u, 0x5d1d08bfu, 0xaf768bbcu,
    0xbc267848u, 0x4e4dfb4bu, 0x20bd8edeu, 0xd2d60dddu, 0xc186fe29u, 0x33ed7d2au,
    0xe72719c1u, 0x154c9ac2u, 0x061c6936u, 0xf477ea35u, 0xaa64d611u, 0x580f5512u,
    0x4b5fa6e6u, 0xb93425e5u, 0x6dfe410eu, 0x9f95c20du, 0x8cc531f9u, 0x7eaeb2fau,
    0x30e349b1u, 0xc288cab2u, 0xd1d83946u, 0x23b3ba45u, 0xf779deaeu, 0x05125dadu,
    0x1642ae59u, 0xe4292d5au, 0xba3a117eu, 0x4851927du, 0x5b016189u, 0xa96ae28au,
    0x7da08661u, 0x8fcb0562u, 0x9c9bf696u, 0x6ef07595u, 0x417b1dbcu, 0xb3109ebfu,
    0xa0406d4bu, 0x522bee48u, 0x86e18aa3u, 0x748a09a0u, 0x67dafa54u, 0x95b17957u,
    0xcba24573u, 0x39c9c670u, 0x2a993584u, 0xd8f2b687u, 0x0c38d26cu, 0xfe53516fu,
    0xed03a29bu, 0x1f682198u, 0x5125dad3u, 0xa34e59d0u, 0xb01eaa24u, 0x42752927u,
    0x96bf4dccu, 0x64d4cecfu, 0x77843d3bu, 0x85efbe38u, 0xdbfc821cu, 0x2997011fu,
    0x3ac7f2ebu, 0xc8ac71e8u, 0x1c661503u, 0xee0d9600u, 0xfd5d65f4u, 0x0f36e6f7u,
    0x61c69362u, 0x93ad1061u, 0x80fde395u, 0x72966096u, 0xa65c047du, 0x5437877eu,
    0x4767748au, 0xb50cf789u, 0xeb1fcbadu, 0x197448aeu, 0x0a24bb5au, 0xf84f3859u,
    0x2c855cb2u, 0xdeeedfb1u, 0xcdbe2c45u, 0x3fd5af46u, 0x7198540du, 0x83f3d70eu,
    0x90a324fau, 0x62c8a7f9u, 0xb602c312u, 0x44694011u, 0x5739b3e5u, 0xa55230e6u,
    0xfb410cc2u, 0x092a8fc1u, 0x1a7a7c35u, 0xe811ff36u, 0x3cdb9bddu, 0xceb018deu,
    0xdde0eb2au, 0x2f8b6829u, 0x82f63b78u, 0x709db87bu, 0x63cd4b8fu, 0x91a6c88cu,
    0x456cac67u, 0xb7072f64u, 0xa457dc90u, 0x563c5f93u, 0x082f63b7u, 0xfa44e0b4u,
    0xe9141340u, 0x1b7f9043u, 0xcfb5f4a8u, 0x3dde77abu, 0x2e8e845fu, 0xdce5075cu,
    0x92a8fc17u, 0x60c37f14u, 0x73938ce0u, 0x81f80fe3u, 0x55326b08u, 0xa759e80bu,
    0xb4091bffu, 0x466298fcu, 0x1871a4d8u, 0xea1a27dbu, 0xf94ad42fu, 0x0b21572cu,
    0xdfeb33c7u, 0x2d80b0c4u, 0x3ed04330u, 0xccbbc033u, 0xa24bb5a6u, 0x502036a5u,
    0x4370c551u, 0xb11b4652u, 0x65d122b9u, 0x97baa1bau, 0x84ea524eu, 0x7681d14du,
    0x2892ed69u, 0xdaf96e6au, 0xc9a99d9eu, 0x3bc21e9du, 0xef087a76u, 0x1d63f975u,
    0x0e330a81u, 0xfc588982u, 0xb21572c9u, 0x407ef1cau, 0x532e023eu, 0xa145813du,
    0x758fe5d6u, 0x87e466d5u, 0x94b49521u, 0x66df1622u, 0x38cc2a06u, 0xcaa7a905u,
    0xd9f75af1u, 0x2b9cd9f2u, 0xff56bd19u, 0x0d3d3e1au, 0x1e6dcdeeu, 0xec064eedu,
    0xc38d26c4u, 0x31e6a5c7u, 0x22b65633u, 0xd0ddd530u, 0x0417b1dbu, 0xf67c32d8u,
    0xe52cc12cu, 0x1747422fu, 0x49547e0bu, 0xbb3ffd08u, 0xa86f0efcu, 0x5a048dffu,
    0x8ecee914u, 0x7ca56a17u, 0x6ff599e3u, 0x9d9e1ae0u, 0xd3d3e1abu, 0x21b862a8u,
    0x32e8915cu, 0xc083125fu, 0x144976b4u, 0xe622f5b7u, 0xf5720643u, 0x07198540u,
    0x590ab964u, 0xab613a67u, 0xb831c993u, 0x4a5a4a90u, 0x9e902e7bu, 0x6cfbad78u,
    0x7fab5e8cu, 0x8dc0dd8fu, 0xe330a81au, 0x115b2b19u, 0x020bd8edu, 0xf0605beeu,
    0x24aa3f05u, 0xd6c1bc06u, 0xc5914ff2u, 0x37faccf1u, 0x69e9f0d5u, 0x9b8273d6u,
    0x88d28022u, 0x7ab90321u, 0xae7367cau, 0x5c18e4c9u, 0x4f48173du, 0xbd23943eu,
    0xf36e6f75u, 0x0105ec76u, 0x12551f82u, 0xe03e9c81u, 0x34f4f86au, 0xc69f7b69u,
    0xd5cf889du, 0x27a40b9eu, 0x79b737bau, 0x8bdcb4b9u, 0x988c474du, 0x6ae7c44eu,
    0xbe2da0a5u, 0x4c4623a6u, 0x5f16d052u, 0xad7d5351u,
};

uint32_t hops__crc32c(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint32_t crc = 0xffffffffu;
    while (n--)
        crc = crc32c_table[(crc ^ *p++) & 0xffu] ^ (crc >> 8);
    return crc ^ 0xffffffffu;
}

uint32_t hops__crc32c_masked(const void *data, size_t n)
{
    uint32_t crc = hops__crc32c(data, n);
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

/* ---- protobuf encoding into a sized byte array ---- */

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static unsigned char *put_varint(unsigned char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

static unsigned char *put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static unsigned char *put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static unsigned char *put_double(unsigned char *p, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return put_le64(p, bits);
}

static unsigned char *put_float(unsigned char *p, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return put_le32(p, bits);
}

/* KEY, then the length of BYTES[0..N), then the bytes. */
static unsigned char *put_bytes_field(unsigned char *p, unsigned key, const void *bytes, size_t n)
{
    *p++ = (unsigned char)key;
    p = put_varint(p, n);
    if (n)
        memcpy(p, bytes, n);
    return p + n;
}

/* Size of a length-delimited field (one-byte key) whose payload is N bytes. */
static size_t bytes_field_size(size_t n) { return 1 + varint_size(n) + n; }

/* ---- records ---- */

/* Reserve room for a record whose Event is EVENT_LEN bytes at the end of
 * W's buffer; returns where the Event goes, NULL when out of memory. */
static unsigned char *record_begin(hops_tfevents *w, size_t event_len)
{
    if (hops__buf_grow(&w->buf, event_len + RECORD_OVERHEAD) != 0)
        return NULL;
    return (unsigned char *)w->buf.data + w->buf.len + 12;
}

/* Frame the EVENT_LEN bytes written after record_begin and keep them. */
static void record_end(hops_tfevents *w, size_t event_len)
{
    unsigned char *rec = (unsigned char *)w->buf.data + w->buf.len;
    put_le64(rec, event_len);
    put_le32(rec + 8, hops__crc32c_masked(rec, 8));
    put_le32(rec + 12 + event_len, hops__crc32c_masked(rec + 12, event_len));
    w->buf.len += event_len + RECORD_OVERHEAD;
    w->buf.data[w->buf.len] = '\0';   /* hops_buf's invariant */
}

static hops_status append_file_version(hops_tfevents *w, double wall_time)
{
    size_t vlen = sizeof FILE_VERSION - 1;
    size_t event_len = 1 + 8 + bytes_field_size(vlen);
    unsigned char *p = record_begin(w, event_len), *start = p;
    if (!p)
        return hops__error(HOPS_ENOMEM, "out of memory");
    *p++ = KEY_EVENT_WALL_TIME;
    p = put_double(p, wall_time);
    p = put_bytes_field(p, KEY_EVENT_FILE_VERSION, FILE_VERSION, vlen);
    assert((size_t)(p - start) == event_len);
    (void)start;
    record_end(w, event_len);
    return HOPS_OK;
}

static hops_status append_scalar(hops_tfevents *w, const char *tag, size_t tag_len, int64_t step,
                                 double wall_time, float value)
{
    size_t value_len = bytes_field_size(tag_len) + 1 + 4;
    size_t summary_len = bytes_field_size(value_len);
    /* proto3 leaves out a step of 0, as TensorFlow's writer does; the bytes
     * then match protobuf's own serialization exactly. */
    size_t step_len = step ? 1 + varint_size((uint64_t)step) : 0;
    size_t event_len = 1 + 8 + step_len + bytes_field_size(summary_len);
    unsigned char *p = record_begin(w, event_len), *start = p;
    if (!p)
        return hops__error(HOPS_ENOMEM, "out of memory");
    *p++ = KEY_EVENT_WALL_TIME;
    p = put_double(p, wall_time);
    if (step) {
        *p++ = KEY_EVENT_STEP;
        p = put_varint(p, (uint64_t)step);   /* two's complement: negatives take 10 bytes */
    }
    *p++ = KEY_EVENT_SUMMARY;
    p = put_varint(p, summary_len);
    *p++ = KEY_SUMMARY_VALUE;
    p = put_varint(p, value_len);
    p = put_bytes_field(p, KEY_VALUE_TAG, tag, tag_len);
    *p++ = KEY_VALUE_SIMPLE_VALUE;
    p = put_float(p, value);
    assert((size_t)(p - start) == event_len);
    (void)start;
    record_end(w, event_len);
    return HOPS_OK;
}

/* 1 when S[0..N) is well-formed UTF-8 (no overlongs, surrogates or code
 * points past U+10FFFF), as protobuf requires of string fields. */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned lo = 0x80, hi = 0xbf;   /* range of the second byte */
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            len = 2;
        else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (c == 0xe0)
                lo = 0xa0;      /* overlong */
            else if (c == 0xed)
                hi = 0x9f;      /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (c == 0xf0)
                lo = 0x90;      /* overlong */
            else if (c == 0xf4)
                hi = 0x8f;      /* past U+10FFFF */
        } else
            return 0;
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return 0;
        i += len;
    }
    return 1;
}

/* ---- the writer ---- */

static hops_status broken(const hops_tfevents *w)
{
    return hops__error(HOPS_EIO, "cannot write '%s': %s", w->path, strerror(w->write_errno));
}

hops_status hops__tfevents_flush(hops_tfevents *w)
{
    if (w->write_errno)
        return broken(w);
    if (w->buf.len == 0)
        return HOPS_OK;
    if (hops__write_all(w->fd, w->buf.data, w->buf.len) != 0) {
        /* Part of the buffer may be in the file, so nothing more can be
         * appended that a reader would trust: drop it and stay broken. */
        w->write_errno = errno ? errno : EIO;
        w->buf.len = 0;
        return broken(w);
    }
    w->buf.len = 0;
    return HOPS_OK;
}

hops_status hops__tfevents_scalar(hops_tfevents *w, const char *tag, int64_t step, double wall_time,
                                  float value)
{
    size_t tag_len;
    hops_status rc;
    if (w->write_errno)
        return broken(w);
    if (!tag)
        return hops__error(HOPS_EINVAL, "tfevents: tag is NULL");
    tag_len = strlen(tag);
    if (tag_len > HOPS_TFEVENTS_MAX_TAG)
        return hops__error(HOPS_EINVAL, "tfevents: tag longer than %d bytes", HOPS_TFEVENTS_MAX_TAG);
    if (!utf8_valid((const unsigned char *)tag, tag_len))
        return hops__error(HOPS_EINVAL, "tfevents: tag '%s' is not valid UTF-8", tag);
    rc = append_scalar(w, tag, tag_len, step, wall_time, value);
    if (rc == HOPS_OK && w->buf.len >= TFEVENTS_BUF_SIZE)
        rc = hops__tfevents_flush(w);
    return rc;
}

/* The host name for the file name: never empty, never containing '/'. */
static void file_hostname(char *out, size_t n)
{
    if (gethostname(out, n) != 0 || out[0] == '\0')
        hops__strlcpy(out, "localhost", n);
    out[n - 1] = '\0';   /* gethostname need not terminate a truncated name */
    for (char *p = out; *p; p++)
        if (*p == '/')
            *p = '_';
}

/* Create a new event file in DIR; sets W->path and W->fd. */
static hops_status create_file(hops_tfevents *w, const char *dir, long long secs)
{
    char host[256];
    size_t dlen = strlen(dir);
    const char *sep = dir[dlen - 1] == '/' ? "" : "/";
    file_hostname(host, sizeof host);
    for (int i = 0; i < TFEVENTS_MAX_SUFFIX; i++) {
        char suffix[16] = "";
        if (i > 0)
            snprintf(suffix, sizeof suffix, ".%d", i);
        w->path = hops__aprintf("%s%sevents.out.tfevents.%010lld.%s%s", dir, sep, secs, host, suffix);
        if (!w->path)
            return hops__error(HOPS_ENOMEM, "out of memory");
        w->fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (w->fd >= 0)
            return HOPS_OK;
        if (errno != EEXIST)
            return hops__error(HOPS_EIO, "cannot create '%s': %s", w->path, strerror(errno));
        free(w->path);
        w->path = NULL;
    }
    return hops__error(HOPS_EIO, "cannot create an event file in '%s': too many with time %lld",
                       dir, secs);
}

hops_status hops__tfevents_open(hops_tfevents **out, const char *dir)
{
    hops_tfevents *w;
    double now = hops__wall_time();
    hops_status rc;
    *out = NULL;
    if (!dir || !dir[0])
        return hops__error(HOPS_EINVAL, "tfevents: no directory given");
    rc = hops__mkdir_p(dir, 0777);
    if (rc != HOPS_OK)
        return rc;
    w = calloc(1, sizeof *w);
    if (!w)
        return hops__error(HOPS_ENOMEM, "out of memory");
    w->fd = -1;
    rc = create_file(w, dir, (long long)now);
    if (rc == HOPS_OK)
        rc = append_file_version(w, now);
    if (rc == HOPS_OK)
        rc = hops__tfevents_flush(w);
    if (rc != HOPS_OK)
        goto fail;
    *out = w;
    return HOPS_OK;
fail:
    if (w->fd >= 0) {
        close(w->fd);
        unlink(w->path);
    }
    free(w->path);
    hops__buf_free(&w->buf);
    free(w);
    return rc;
}

void hops__tfevents_close(hops_tfevents *w)
{
    if (!w)
        return;
    (void)hops__tfevents_flush(w);
    close(w->fd);
    free(w->path);
    hops__buf_free(&w->buf);
    free(w);
}

const char *hops__tfevents_path(const hops_tfevents *w) { return w->path; }
