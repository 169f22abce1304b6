/* The data reader: CSV (RFC 4180) and JSON Lines, plain or gzip, streamed in
 * chunks that end on record boundaries and parsed on several threads.
 *
 * The calling thread reads the file and cuts it into chunks (quote-aware for
 * CSV: a newline inside a quoted field never ends a chunk); parser threads
 * turn chunks into records and hand them to the caller's callbacks; the
 * calling thread then merges chunk results strictly in file order. Chunk
 * boundaries depend only on the bytes and the chunk size, never on timing, so
 * results are the same for any thread count. Memory is bounded by
 * (2 x threads + 1) chunks plus the longest record.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "data_internal.h"

#define DEFAULT_CHUNK (4u << 20)
#define MIN_CHUNK 64u
#define JSONL_SAMPLE_LINES 1000

/* ---- byte sources: a plain file (optionally a byte range) or gzip ---- */

typedef struct {
    int fd;
    gzFile gz;
    uint64_t pos, end; /* plain files: read [pos, end) */
    int limited;
} source;

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static hops_status source_open(source *s, const char *path)
{
    unsigned char magic[2];
    memset(s, 0, sizeof *s);
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0)
        return hops__error(errno == ENOENT ? HOPS_ENOTFOUND : HOPS_EIO, "%s: %s", path,
                           errno == ENOENT ? "no such file" : strerror(errno));
    struct stat st;
    if (fstat(s->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(s->fd);
        return hops__error(HOPS_EINVAL, "%s: is a directory, not a data file", path);
    }
    if (pread(s->fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        int fd2 = dup(s->fd);
        close(s->fd);
        s->fd = -1;
        s->gz = fd2 >= 0 ? gzdopen(fd2, "rb") : NULL;
        if (!s->gz) {
            if (fd2 >= 0)
                close(fd2);
            return hops__error(HOPS_EIO, "%s: cannot open as gzip", path);
        }
        gzbuffer(s->gz, 1u << 17);
    }
    return HOPS_OK;
}

static ssize_t source_read(source *s, char *buf, size_t n)
{
    if (s->gz) {
        int r = gzread(s->gz, buf, n > (1u << 30) ? (1u << 30) : (unsigned)n);
        return r < 0 ? -1 : r;
    }
    if (s->limited) {
        if (s->pos >= s->end)
            return 0;
        if (n > s->end - s->pos)
            n = (size_t)(s->end - s->pos);
    }
    for (;;) {
        ssize_t r = s->limited ? pread(s->fd, buf, n, (off_t)s->pos) : read(s->fd, buf, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r > 0)
            s->pos += (uint64_t)r;
        return r;
    }
}

static void source_close(source *s)
{
    if (s->gz)
        gzclose(s->gz);
    if (s->fd >= 0)
        close(s->fd);
    s->gz = NULL;
    s->fd = -1;
}

/* ---- numbers ---- */

int hops__field_int64(const hops_field *f, int64_t *out)
{
    const char *p = f->ptr, *end = f->ptr + f->len;
    int neg = 0;
    uint64_t v = 0;
    if (f->is_null || f->len == 0 || f->len > 20)
        return 0;
    if (*p == '-' || *p == '+') {
        neg = *p == '-';
        if (++p == end)
            return 0;
    }
    for (; p < end; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return 0;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
}

static const double pow10_table[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int hops__field_double(const hops_field *f, double *out)
{
    const char *p = f->ptr, *end = f->ptr + f->len;
    char buf[128], *e;
    if (f->is_null || f->len == 0)
        return 0;
    /* Fast path, exact: at most 15 significant digits and a small decimal
     * exponent, where one correctly rounded division gives the same double
     * as strtod (Clinger's fast path). */
    {
        const char *q = p;
        int neg = 0, digits = 0, frac = 0, seen_dot = 0, any_digit = 0;
        uint64_t mant = 0;
        if (*q == '-' || *q == '+')
            neg = *q++ == '-';
        for (; q < end; q++) {
            if (*q >= '0' && *q <= '9') {
                any_digit = 1;
                if (digits < 19)
                    mant = mant * 10 + (uint64_t)(*q - '0');
                if (mant || digits)
                    digits++;
                if (seen_dot)
                    frac++;
            } else if (*q == '.' && !seen_dot) {
                seen_dot = 1;
            } else
                break;
        }
        if (q == end && any_digit && digits <= 15 && frac <= 22) {
            double v = (double)mant;
            if (frac)
                v /= pow10_table[frac];
            *out = neg ? -v : v;
            return 1;
        }
    }
    if (f->len >= sizeof buf)
        return 0;
    memcpy(buf, p, f->len);
    buf[f->len] = '\0';
    /* Only decimal notation: no hex, no nan/inf words, no spaces. */
    for (size_t i = 0; i < f->len; i++) {
        char c = buf[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+'))
            return 0;
    }
    errno = 0;
    double v = strtod(buf, &e);
    if (e != buf + f->len || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

/* ---- table info ---- */

void hops__table_info_free(hops_table_info *info)
{
    if (!info)
        return;
    for (size_t i = 0; i < info->n_columns; i++)
        free(info->columns[i]);
    free(info->columns);
    free(info->path);
    free(info->header_raw);
    memset(info, 0, sizeof *info);
}

hops_status hops__record_check(const hops_table_info *info, const hops_record *rec)
{
    if (rec->n_fields == info->n_columns)
        return HOPS_OK;
    return hops__error(HOPS_EPARSE, "%s:%llu: expected %zu fields, found %zu", info->path,
                       (unsigned long long)rec->line, info->n_columns, rec->n_fields);
}

static hops_data_format pick_format(const char *path, const hops_read_options *o)
{
    if (o && o->format != HOPS_FORMAT_AUTO)
        return o->format;
    if (ends_with(path, ".jsonl") || ends_with(path, ".ndjson") || ends_with(path, ".jsonl.gz") ||
        ends_with(path, ".ndjson.gz") || ends_with(path, ".json") || ends_with(path, ".json.gz"))
        return HOPS_FORMAT_JSONL;
    return HOPS_FORMAT_CSV;
}

/* ---- parsing one chunk ---- */

typedef struct {
    const hops_table_info *info;
    const hops_scan_cb *cb;
    hops_field *fields;
    size_t cap_fields;
    hops_buf scratch;     /* unescaped CSV fields, JSONL values */
    int generic_csv;      /* HOPS_CSV_GENERIC=1 (tests): never the quote-free fast path */
} parser;

typedef struct {
    char *buf;
    size_t len, cap;
    uint64_t first_line;  /* line number of buf[0]; 0: unknown (byte ranges) */
    void *state;
    hops_status status;
    char *error;          /* message of a failed chunk */
    int done;
    int known_plain;      /* 1: checked, no '"' in buf (0: unknown) */
    int known_ascii;      /* 1: checked, every byte ASCII and not NUL (0: unknown) */
    int mapped;           /* buf points into the file's mapping (not owned) */
} chunk;

static hops_status chunk_error(const parser *ps, uint64_t line, size_t col, const char *what)
{
    if (line)
        return hops__error(HOPS_EPARSE, "%s:%llu:%zu: %s", ps->info->path, (unsigned long long)line,
                           col, what);
    return hops__error(HOPS_EPARSE, "%s: %s", ps->info->path, what);
}

/* Find the first NUL byte or invalid UTF-8 in the chunk: *BAD_OFF gets its
 * offset (SIZE_MAX when the text is clean). With REPORT, also set the error
 * message naming its line and byte column and return HOPS_EPARSE. The parsers
 * report it only when they reach it, so that the first error in the file is
 * the one reported, however the file was cut into chunks. */
static hops_status check_text(const parser *ps, const chunk *c, size_t *bad_off, int report)
{
    *bad_off = SIZE_MAX;
    const unsigned char *s = (const unsigned char *)c->buf, *end = s + c->len, *p = s;
    while (p < end) {
#if defined(__SSE2__)
        /* 64 bytes at a time while they are plain ASCII without NUL. */
        while (end - p >= 64) {
            const __m128i zero = _mm_setzero_si128();
            __m128i x0 = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
            __m128i x2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
            __m128i x3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
            __m128i any = _mm_or_si128(_mm_or_si128(x0, x1), _mm_or_si128(x2, x3));
            __m128i low = _mm_min_epu8(_mm_min_epu8(x0, x1), _mm_min_epu8(x2, x3));
            if (_mm_movemask_epi8(any) | _mm_movemask_epi8(_mm_cmpeq_epi8(low, zero)))
                break;
            p += 64;
        }
#endif
        /* Eight bytes at a time while they are plain ASCII without NUL. */
        while (end - p >= 8) {
            uint64_t v;
            memcpy(&v, p, 8);
            if ((v & 0x8080808080808080ull) || ((v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull))
                break;
            p += 8;
        }
        if (p >= end)
            break;
        unsigned char b = *p;
        size_t need = 0;
        if (b == 0) {
            need = (size_t)-1;
        } else if (b < 0x80) {
            p++;
            continue;
        } else if (b >= 0xc2 && b <= 0xdf)
            need = 1;
        else if (b >= 0xe0 && b <= 0xef)
            need = 2;
        else if (b >= 0xf0 && b <= 0xf4)
            need = 3;
        else
            need = (size_t)-2;
        int ok = need < 4 && (size_t)(end - p) > need;
        for (size_t k = 1; ok && k <= need; k++)
            ok = (p[k] & 0xc0) == 0x80;
        if (ok && need == 2) /* no overlongs, no surrogates */
            ok = !(b == 0xe0 && p[1] < 0xa0) && !(b == 0xed && p[1] > 0x9f);
        if (ok && need == 3)
            ok = !(b == 0xf0 && p[1] < 0x90) && !(b == 0xf4 && p[1] > 0x8f);
        if (!ok) {
            *bad_off = (size_t)(p - s);
            if (!report)
                return HOPS_OK;
            uint64_t line = c->first_line;
            const unsigned char *ls = s;
            for (const unsigned char *q = s; q < p; q++)
                if (*q == '\n') {
                    line += c->first_line ? 1 : 0;
                    ls = q + 1;
                }
            return chunk_error(ps, line, (size_t)(p - ls) + 1,
                               b == 0 ? "binary data (a NUL byte); is this a text file?"
                                      : "invalid UTF-8");
        }
        p += need + 1;
    }
    return HOPS_OK;
}

static hops_status push_field(parser *ps, size_t n, hops_field f)
{
    if (n >= ps->cap_fields) {
        size_t cap = ps->cap_fields ? ps->cap_fields * 2 : 64;
        while (cap <= n)
            cap *= 2;
        hops_field *nf = realloc(ps->fields, cap * sizeof *nf);
        if (!nf)
            return hops__error(HOPS_ENOMEM, "out of memory");
        ps->fields = nf;
        ps->cap_fields = cap;
    }
    ps->fields[n] = f;
    return HOPS_OK;
}

/* The first DELIM or '\n' in [P, END), or END: eight bytes at a time (SWAR,
 * the zero-byte test of Mycroft), since fields are short and many. */
static inline const char *field_end(const char *p, const char *end, char delim)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    const uint64_t dmask = ones * (unsigned char)delim, nmask = ones * (unsigned char)'\n';
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - p >= 8) {
        uint64_t x, a, b;
        memcpy(&x, p, 8);
        a = x ^ dmask;
        b = x ^ nmask;
        /* The lowest flagged byte is exact (false flags only follow it). */
        uint64_t hit = ((a - ones) & ~a & highs) | ((b - ones) & ~b & highs);
        if (hit)
            return p + (__builtin_ctzll(hit) >> 3);
        p += 8;
    }
#else
    (void)ones, (void)highs, (void)dmask, (void)nmask;
#endif
    while (p < end && *p != delim && *p != '\n')
        p++;
    return p;
}

/* Parse one CSV record at *P (before END). On success *P is past the record's
 * line ending, *N the field count, *LINES the newlines consumed. Fields that
 * needed unescaping point into the scratch buffer (reset per record). */
static hops_status csv_record(parser *ps, const char **pp, const char *end, uint64_t line,
                              size_t *n_out, uint64_t *lines, const char **raw_end,
                              const char **err_at)
{
    const char *p = *pp, *line_start = *pp;
    char delim = ps->info->delimiter;
    size_t n = 0;
    uint64_t nl = 0;
    hops_status rc;
    ps->scratch.len = 0;
    /* Offsets into scratch, fixed up once the record is complete (it may move). */
    for (;;) {
        hops_field f = {p, 0, 0, 0};
        if (p < end && *p == '"') {
            const char *start = ++p;
            int escaped = 0;
            size_t soff = ps->scratch.len;
            for (;;) {
                const char *q = memchr(p, '"', (size_t)(end - p));
                if (!q) {
                    *err_at = end;
                    return chunk_error(ps, line, (size_t)(start - line_start),
                                       "unterminated quoted field (the quote opens here)");
                }
                for (const char *r = p; r < q; r++)
                    if (*r == '\n')
                        nl++;
                if (q + 1 < end && q[1] == '"') { /* a doubled quote */
                    if (!escaped) {
                        hops__buf_put(&ps->scratch, start, (size_t)(q - start) + 1);
                        escaped = 1;
                    } else
                        hops__buf_put(&ps->scratch, p, (size_t)(q - p) + 1);
                    p = q + 2;
                    continue;
                }
                if (escaped) {
                    hops__buf_put(&ps->scratch, p, (size_t)(q - p));
                    f.ptr = (const char *)(uintptr_t)soff; /* fixed up below */
                    f.len = ps->scratch.len - soff;
                    f.is_null = -1; /* marker: points into scratch */
                } else {
                    f.ptr = start;
                    f.len = (size_t)(q - start);
                }
                p = q + 1;
                break;
            }
            f.quoted = 1;
            *err_at = p;
            if (p < end && *p != delim && *p != '\n' && !(*p == '\r' && (p + 1 == end || p[1] == '\n')))
                return chunk_error(ps, line + nl, (size_t)(p - line_start) + 1,
                                   "unexpected character after a closing quote (a quote inside "
                                   "a quoted field is written \"\")");
        } else {
            const char *start = p;
            p = field_end(p, end, delim);
            size_t len = (size_t)(p - start);
            if ((p == end || *p == '\n') && len && start[len - 1] == '\r')
                len--;
            f.ptr = start;
            f.len = len;
            f.is_null = len == 0;
        }
        if ((rc = push_field(ps, n++, f)) != HOPS_OK)
            return rc;
        if (p < end && *p == delim) {
            p++;
            continue;
        }
        /* End of record: at '\n', "\r\n" or the end of the chunk. */
        const char *re = p;
        if (re > *pp && re[-1] == '\r' && re < end && *re == '\n')
            re--;
        if (p < end && *p == '\r')
            p++;
        *raw_end = re;
        if (p < end && *p == '\n') {
            p++;
            nl++;
        }
        break;
    }
    for (size_t i = 0; i < n; i++)
        if (ps->fields[i].is_null == -1) {
            ps->fields[i].ptr = ps->scratch.data + (uintptr_t)ps->fields[i].ptr;
            ps->fields[i].is_null = 0;
        }
    *pp = p;
    *n_out = n;
    *lines = nl;
    return HOPS_OK;
}

/* The UTF-8 error at BAD_OFF, when it comes before offset AT in chunk C. */
static hops_status text_error_before(const parser *ps, const chunk *c, size_t bad_off, size_t at)
{
    size_t off;
    if (bad_off == SIZE_MAX || bad_off >= at)
        return HOPS_OK;
    return check_text(ps, c, &off, 1);
}

/* Bit i of the result is set when P[i] is DELIM or '\n', for the 64 bytes
 * at P. */
static inline uint64_t structural_mask(const char *p, char delim)
{
#if defined(__SSE2__)
    const __m128i d = _mm_set1_epi8(delim), nl = _mm_set1_epi8('\n');
    uint64_t m = 0;
    for (int k = 0; k < 4; k++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(x, d), _mm_cmpeq_epi8(x, nl));
        m |= (uint64_t)(uint32_t)_mm_movemask_epi8(hit) << (16 * k);
    }
    return m;
#else
    uint64_t m = 0;
    for (int i = 0; i < 64; i++)
        m |= (uint64_t)(p[i] == delim || p[i] == '\n') << i;
    return m;
#endif
}

/* Emit the record whose fields are PS->fields[0, N), which began at RSTART
 * and ends at the newline Q (or the chunk's end when Q == END). */
static inline hops_status plain_record(parser *ps, chunk *c, size_t n, const char *rstart,
                                       const char *q, const char *end, uint64_t line)
{
    hops_field *last = &ps->fields[n - 1];
    const char *raw_end = q;
    if (last->len && last->ptr[last->len - 1] == '\r') { /* CRLF, or a lone CR at the end */
        last->len--;
        last->is_null = last->len == 0;
        if (q < end)
            raw_end--;
    }
    hops_record rec = {ps->fields, n, line, rstart, (size_t)(raw_end - rstart),
                       (size_t)((q < end ? q + 1 : q) - raw_end)};
    return ps->cb->record(ps->cb->ud, c->state, &rec);
}

/* The common case, a chunk without a quote character: no field needs
 * unescaping and no newline is inside a field, so the records follow from
 * where the delimiters and newlines are. Finds those 64 bytes at a time and
 * walks the bits. Records, errors and line numbers are exactly those of
 * csv_record (tests and the reader fuzzer compare both; HOPS_CSV_GENERIC=1
 * turns this path off). */
static hops_status parse_csv_plain(parser *ps, chunk *c)
{
    const char *buf = c->buf, *end = buf + c->len;
    const char delim = ps->info->delimiter;
    uint64_t line = c->first_line;
    const char *rstart = buf, *fstart = buf;
    size_t n = 0;
    hops_status rc;
    if (ps->cap_fields < 64 && push_field(ps, 63, (hops_field){0}) != HOPS_OK)
        return HOPS_ENOMEM;
    char tail[64];
    for (size_t base = 0; base < c->len; base += 64) {
        uint64_t m;
        if (c->len - base >= 64)
            m = structural_mask(buf + base, delim);
        else { /* the last partial block, padded with bytes that match nothing */
            memset(tail, delim == 'x' ? 'y' : 'x', sizeof tail);
            memcpy(tail, buf + base, c->len - base);
            m = structural_mask(tail, delim);
        }
        while (m) {
            const char *q = buf + base + (size_t)__builtin_ctzll(m);
            m &= m - 1;
            if (n >= ps->cap_fields && push_field(ps, n, (hops_field){0}) != HOPS_OK)
                return HOPS_ENOMEM;
            size_t len = (size_t)(q - fstart);
            ps->fields[n++] = (hops_field){fstart, len, 0, len == 0};
            fstart = q + 1;
            if (*q == delim)
                continue;
            /* A newline: a record ends, unless the line is blank. */
            if (n == 1 && (len == 0 || (len == 1 && *rstart == '\r')))
                rc = HOPS_OK;
            else
                rc = plain_record(ps, c, n, rstart, q, end, line);
            if (rc != HOPS_OK)
                return rc;
            n = 0;
            rstart = fstart;
            line += line ? 1 : 0;
        }
    }
    if (rstart < end) { /* the chunk's last record has no line ending */
        if (n >= ps->cap_fields && push_field(ps, n, (hops_field){0}) != HOPS_OK)
            return HOPS_ENOMEM;
        size_t len = (size_t)(end - fstart);
        ps->fields[n++] = (hops_field){fstart, len, 0, len == 0};
        return plain_record(ps, c, n, rstart, end, end, line);
    }
    return HOPS_OK;
}

static hops_status parse_csv_chunk(parser *ps, chunk *c, size_t bad_off)
{
    if (!ps->generic_csv && bad_off == SIZE_MAX && ps->info->delimiter != '\r' &&
        ps->info->delimiter != '"' && (c->known_plain || !memchr(c->buf, '"', c->len)))
        return parse_csv_plain(ps, c);
    const char *p = c->buf, *end = c->buf + c->len;
    uint64_t line = c->first_line;
    hops_status rc;
    while (p < end) {
        const char *start = p, *raw_end = p;
        size_t n;
        uint64_t lines;
        if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) { /* a blank line */
            p += *p == '\r' ? 2 : 1;
            line += line ? 1 : 0;
            continue;
        }
        const char *err_at = end;
        if ((rc = csv_record(ps, &p, end, line, &n, &lines, &raw_end, &err_at)) != HOPS_OK) {
            hops_status t = text_error_before(ps, c, bad_off, (size_t)(err_at - c->buf));
            return t != HOPS_OK ? t : rc;
        }
        if ((rc = text_error_before(ps, c, bad_off, (size_t)(p - c->buf))) != HOPS_OK)
            return rc;
        hops_record rec = {ps->fields, n, line, start, (size_t)(raw_end - start),
                           (size_t)(p - raw_end)};
        if ((rc = ps->cb->record(ps->cb->ud, c->state, &rec)) != HOPS_OK)
            return rc;
        if (line)
            line += lines;
    }
    return HOPS_OK;
}

/* A JSON value as field text. Offsets into scratch are fixed up by the caller. */
static void json_field(parser *ps, json_t *v, hops_field *f)
{
    char num[64];
    memset(f, 0, sizeof *f);
    if (!v || json_is_null(v)) {
        f->is_null = 1;
        f->ptr = "";
        return;
    }
    if (json_is_string(v)) {
        f->ptr = json_string_value(v);
        f->len = json_string_length(v);
        f->quoted = 1;
        return;
    }
    size_t off = ps->scratch.len;
    if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        hops__buf_puts(&ps->scratch, num);
    } else if (json_is_real(v)) {
        snprintf(num, sizeof num, "%.17g", json_real_value(v));
        hops__buf_puts(&ps->scratch, num);
    } else if (json_is_boolean(v)) {
        hops__buf_puts(&ps->scratch, json_is_true(v) ? "true" : "false");
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        hops__buf_puts(&ps->scratch, s ? s : "");
        free(s);
    }
    f->ptr = (const char *)(uintptr_t)off;
    f->len = ps->scratch.len - off;
    f->is_null = -1; /* marker: points into scratch */
}

static hops_status parse_jsonl_chunk(parser *ps, chunk *c, size_t bad_off)
{
    const char *p = c->buf, *end = c->buf + c->len;
    uint64_t line = c->first_line;
    size_t ncol = ps->info->n_columns;
    hops_status rc = HOPS_OK;
    if (ncol > ps->cap_fields && push_field(ps, ncol - 1, (hops_field){0}) != HOPS_OK)
        return HOPS_ENOMEM;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end, *ls = p;
        size_t len = (size_t)(le - ls);
        if (len && ls[len - 1] == '\r')
            len--;
        p = nl ? nl + 1 : end;
        size_t blank = 0;
        while (blank < len && (ls[blank] == ' ' || ls[blank] == '\t'))
            blank++;
        if (blank == len) {
            line += line ? 1 : 0;
            continue;
        }
        if ((rc = text_error_before(ps, c, bad_off, (size_t)(p - c->buf))) != HOPS_OK)
            return rc;
        json_error_t je;
        json_t *obj = json_loadb(ls, len, 0, &je);
        if (!obj || !json_is_object(obj)) {
            char what[256];
            snprintf(what, sizeof what, "%s", obj ? "a JSON Lines record must be a JSON object"
                                                  : je.text);
            json_decref(obj);
            return chunk_error(ps, line, obj ? 1 : (size_t)je.column, what);
        }
        ps->scratch.len = 0;
        for (size_t i = 0; i < ncol; i++)
            json_field(ps, json_object_get(obj, ps->info->columns[i]), &ps->fields[i]);
        for (size_t i = 0; i < ncol; i++)
            if (ps->fields[i].is_null == -1) {
                ps->fields[i].ptr = ps->scratch.data + (uintptr_t)ps->fields[i].ptr;
                ps->fields[i].is_null = 0;
            }
        hops_record rec = {ps->fields, ncol, line, ls, len, (size_t)((nl ? nl + 1 : end) - (ls + len))};
        rc = ps->cb->record(ps->cb->ud, c->state, &rec);
        json_decref(obj);
        if (rc != HOPS_OK)
            return rc;
        line += line ? 1 : 0;
    }
    return HOPS_OK;
}

static void parse_chunk(parser *ps, chunk *c)
{
    hops_status rc;
    c->state = ps->cb->chunk_begin ? ps->cb->chunk_begin(ps->cb->ud) : NULL;
    size_t bad_off = SIZE_MAX;
    rc = c->known_ascii ? HOPS_OK : check_text(ps, c, &bad_off, 0);
    if (rc == HOPS_OK)
        rc = ps->info->format == HOPS_FORMAT_JSONL ? parse_jsonl_chunk(ps, c, bad_off)
                                                   : parse_csv_chunk(ps, c, bad_off);
    if (rc == HOPS_OK) /* bad bytes in blank lines or past the last record */
        rc = text_error_before(ps, c, bad_off, c->len);
    if (rc == HOPS_OK && ps->cb->chunk_finish)
        rc = ps->cb->chunk_finish(ps->cb->ud, c->state);
    c->status = rc;
    if (rc != HOPS_OK)
        c->error = hops__strdup(hops_last_error());
}

/* ---- cutting the stream into chunks ---- */

/* The end of the last complete record in BUF[0, LEN): one past its '\n';
 * 0 when there is none. CSV quotes are tracked exactly as the parser does. */
static size_t last_boundary(const char *buf, size_t len, hops_data_format fmt, char delim,
                            int has_quote)
{
    if (fmt == HOPS_FORMAT_JSONL || !has_quote) {
        const char *nl = memrchr(buf, '\n', len);
        return nl ? (size_t)(nl - buf) + 1 : 0;
    }
    size_t last = 0;
    int field_start = 1, in_quotes = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = buf[i];
        if (in_quotes) {
            if (ch == '"') {
                if (i + 1 < len && buf[i + 1] == '"')
                    i++;
                else
                    in_quotes = 0;
            }
            continue;
        }
        if (ch == '"' && field_start) {
            in_quotes = 1;
            field_start = 0;
        } else if (ch == '\n') {
            last = i + 1;
            field_start = 1;
        } else
            field_start = ch == delim;
    }
    return last;
}

/* One pass over BUF[0, LEN) for what the calling thread needs to know of
 * a chunk before it goes to a parser: its newlines (returned), whether it
 * holds a '"' (*QUOTE), and whether it is plain ASCII without NUL (*ASCII:
 * then the parser can skip its own UTF-8 check). */
static uint64_t scan_bytes(const char *buf, size_t len, int *quote, int *ascii)
{
    uint64_t n = 0;
    const char *p = buf, *end = buf + len;
    int q = 0, high = 0;
#if defined(__SSE2__)
    const __m128i nl = _mm_set1_epi8('\n'), dq = _mm_set1_epi8('"'), zero = _mm_setzero_si128();
    __m128i qs = zero, bits = zero, nuls = zero;
    while (end - p >= 16) {
        __m128i acc = zero; /* per-byte newline counts, summed before they can wrap */
        for (int k = 0; k < 255 && end - p >= 16; k++, p += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(x, nl));
            qs = _mm_or_si128(qs, _mm_cmpeq_epi8(x, dq));
            bits = _mm_or_si128(bits, x);
            nuls = _mm_or_si128(nuls, _mm_cmpeq_epi8(x, zero));
        }
        __m128i sums = _mm_sad_epu8(acc, zero);
        n += (uint64_t)_mm_cvtsi128_si32(sums) + (uint64_t)_mm_extract_epi16(sums, 4);
    }
    q = _mm_movemask_epi8(qs) != 0;
    high = (_mm_movemask_epi8(bits) | _mm_movemask_epi8(nuls)) != 0;
#endif
    for (; p < end; p++) {
        unsigned char b = (unsigned char)*p;
        n += b == '\n';
        q |= b == '"';
        high |= b == 0 || b >= 0x80;
    }
    *quote = q;
    *ascii = !high;
    return n;
}

static uint64_t count_lines(const char *buf, size_t len)
{
    uint64_t n = 0;
    const char *p = buf, *end = buf + len;
#if defined(__SSE2__)
    /* 16 bytes at a time: per-byte counters (a match is -1, subtracted), summed
     * before they can wrap. */
    const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
    while (end - p >= 16) {
        __m128i acc = zero;
        for (int k = 0; k < 255 && end - p >= 16; k++, p += 16)
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), nl));
        __m128i sums = _mm_sad_epu8(acc, zero);
        n += (uint64_t)_mm_cvtsi128_si32(sums) + (uint64_t)_mm_extract_epi16(sums, 4);
    }
#endif
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

/* ---- the worker pool ---- */

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    chunk **queue;         /* chunks waiting for a parser */
    size_t q_head, q_len, q_cap;
    int stop;
    const hops_table_info *info;
    const hops_scan_cb *cb;
    int generic_csv;
} pool;

static void *worker_main(void *arg)
{
    pool *pl = arg;
    parser ps = {pl->info, pl->cb, NULL, 0, HOPS_BUF_INIT, pl->generic_csv};
    pthread_mutex_lock(&pl->lock);
    for (;;) {
        while (!pl->stop && pl->q_len == 0)
            pthread_cond_wait(&pl->work, &pl->lock);
        if (pl->q_len == 0 && pl->stop)
            break;
        chunk *c = pl->queue[pl->q_head];
        pl->q_head = (pl->q_head + 1) % pl->q_cap;
        pl->q_len--;
        pthread_mutex_unlock(&pl->lock);
        parse_chunk(&ps, c);
        pthread_mutex_lock(&pl->lock);
        c->done = 1;
        pthread_cond_broadcast(&pl->done);
    }
    pthread_mutex_unlock(&pl->lock);
    free(ps.fields);
    hops__buf_free(&ps.scratch);
    return NULL;
}

static int cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* A plain file's data bytes [*BEGIN, *END) in memory, to cut chunks from
 * without copying them (read() copies every byte, a few percent of a scan):
 * the whole file mapped read-only; NULL to read it instead (gzip, pipes,
 * empty files, HOPS_NO_MMAP=1, a failed mmap). PREFIX_LEN bytes past the
 * header were read already; the data starts there. (As with any mapped
 * file, truncating the file while it is being scanned ends the process with
 * SIGBUS; hops' own datasets are immutable copies.) */
static const char *map_source(source *src, size_t prefix_len, uint64_t *begin, uint64_t *end,
                              size_t *map_len)
{
    struct stat st;
    const char *env = getenv("HOPS_NO_MMAP");
    if (src->gz || (env && strcmp(env, "1") == 0) || fstat(src->fd, &st) != 0 ||
        !S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > SIZE_MAX)
        return NULL;
    uint64_t size = (uint64_t)st.st_size, b, e;
    if (src->limited) {
        b = src->pos;
        e = src->end < size ? src->end : size;
    } else {
        off_t at = lseek(src->fd, 0, SEEK_CUR);
        if (at < 0 || (uint64_t)at < prefix_len || (uint64_t)at > size)
            return NULL;
        b = (uint64_t)at - prefix_len;
        e = size;
    }
    if (b >= e)
        return NULL;
    void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, src->fd, 0);
    if (m == MAP_FAILED)
        return NULL;
    madvise(m, (size_t)size, MADV_SEQUENTIAL);
    *begin = b;
    *end = e;
    *map_len = (size_t)size;
    return m;
}

/* Drop a merged mapped chunk's pages from this process (they stay in the
 * page cache; a page shared with the next chunk is just mapped again), so
 * that memory stays at a few chunks however large the file. */
static void unmap_chunk_pages(const chunk *c, const char *map)
{
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t mask = (uintptr_t)(page > 0 ? page : 4096) - 1;
    uintptr_t from = (uintptr_t)c->buf & ~mask, to = ((uintptr_t)c->buf + c->len) & ~mask;
    if (from < (uintptr_t)map)
        from = (uintptr_t)map;
    if (to > from)
        madvise((void *)from, to - from, MADV_DONTNEED);
}

/* Read SRC to the end, cutting chunks and running them through the callbacks.
 * PREFIX (may be empty) is data already read past the header. */
static hops_status run_scan(source *src, const hops_read_options *o, const hops_table_info *info,
                            const hops_scan_cb *cb, const char *prefix, size_t prefix_len,
                            uint64_t first_line)
{
    size_t chunk_size = o && o->chunk_size ? o->chunk_size : DEFAULT_CHUNK;
    int threads = o && o->threads > 0 ? o->threads : cpu_count();
    const char *env_chunk = getenv("HOPS_CHUNK_SIZE"); /* tests: tiny chunks, same results */
    if (env_chunk && atol(env_chunk) > 0)
        chunk_size = (size_t)atol(env_chunk);
    if (chunk_size < MIN_CHUNK)
        chunk_size = MIN_CHUNK;
    if (threads > 256)
        threads = 256;
    size_t ring = threads > 1 ? (size_t)threads * 2 : 1;
    chunk *slots = calloc(ring, sizeof *slots);
    pthread_t *tids = NULL;
    pool pl;
    hops_status rc = HOPS_OK, merge_rc = HOPS_OK;
    char *first_error = NULL;
    const char *env_generic = getenv("HOPS_CSV_GENERIC"); /* tests: the fast path's twin */
    int generic_csv = env_generic && strcmp(env_generic, "1") == 0;
    parser inline_ps = {info, cb, NULL, 0, HOPS_BUF_INIT, generic_csv};
    hops_buf carry = HOPS_BUF_INIT;
    uint64_t line = first_line, made = 0, merged = 0;
    int eof = 0, started = 0;

    if (!slots)
        return hops__error(HOPS_ENOMEM, "out of memory");
    memset(&pl, 0, sizeof pl);
    if (threads > 1) {
        pl.info = info;
        pl.cb = cb;
        pl.generic_csv = generic_csv;
        pl.q_cap = ring;
        pl.queue = calloc(ring, sizeof *pl.queue);
        tids = calloc((size_t)threads, sizeof *tids);
        if (!pl.queue || !tids) {
            free(pl.queue);
            free(tids);
            free(slots);
            return hops__error(HOPS_ENOMEM, "out of memory");
        }
        pthread_mutex_init(&pl.lock, NULL);
        pthread_cond_init(&pl.work, NULL);
        pthread_cond_init(&pl.done, NULL);
        for (int i = 0; i < threads; i++)
            if (pthread_create(&tids[i], NULL, worker_main, &pl) == 0)
                started++;
        if (started == 0)
            threads = 1;
    }
    uint64_t map_pos = 0, map_end = 0;
    size_t map_len = 0;
    const char *map = map_source(src, prefix_len, &map_pos, &map_end, &map_len);
    if (prefix_len && !map)
        hops__buf_put(&carry, prefix, prefix_len);

    while (!eof || carry.len > 0) {
        /* Merge finished chunks in order while the ring is full (or at the end). */
        while (made > merged && (made - merged >= ring || (eof && carry.len == 0))) {
            chunk *c = &slots[merged % ring];
            if (threads > 1) {
                pthread_mutex_lock(&pl.lock);
                while (!c->done)
                    pthread_cond_wait(&pl.done, &pl.lock);
                pthread_mutex_unlock(&pl.lock);
            }
            if (c->status != HOPS_OK && !first_error && merge_rc == HOPS_OK) {
                rc = c->status;
                first_error = c->error;
                c->error = NULL;
            }
            free(c->error);
            c->error = NULL;
            if (cb->chunk_end) {
                hops_status m = cb->chunk_end(cb->ud, c->state);
                if (m != HOPS_OK && merge_rc == HOPS_OK && !first_error) {
                    merge_rc = m;
                    first_error = hops__strdup(hops_last_error());
                }
            }
            c->state = NULL;
            if (c->mapped)
                unmap_chunk_pages(c, map);
            merged++;
        }
        if (first_error) /* stop reading: the result is decided */
            break;
        if (eof && carry.len == 0)
            break;
        chunk *c = &slots[made % ring];
        int quote, ascii;
        uint64_t lines_in;
        if (map) { /* a view of the mapping, up to its last record boundary */
            uint64_t avail = map_end - map_pos;
            size_t len = avail < chunk_size ? (size_t)avail : chunk_size;
            lines_in = scan_bytes(map + map_pos, len, &quote, &ascii);
            size_t cut = len == avail ? len
                                      : last_boundary(map + map_pos, len, info->format,
                                                      info->delimiter, quote);
            if (cut == 0) { /* one record longer than the chunk: look further */
                if (chunk_size > ((size_t)1 << 31)) {
                    rc = hops__error(HOPS_EPARSE, "%s:%llu: a record over 2 GiB (an "
                                                  "unterminated quote?)",
                                     info->path, (unsigned long long)line);
                    break;
                }
                chunk_size *= 2;
                continue;
            }
            if (line && cut < len)
                lines_in -= count_lines(map + map_pos + cut, len - cut);
            if (!c->mapped)
                free(c->buf);
            c->buf = (char *)(uintptr_t)(map + map_pos);
            c->cap = 0;
            c->mapped = 1;
            c->len = cut;
            map_pos += cut;
            eof = map_pos == map_end;
            goto queue;
        }
        /* Fill a chunk: the carried-over bytes, then read up to CHUNK_SIZE. */
        size_t want = carry.len > chunk_size ? carry.len + chunk_size : chunk_size;
        if (c->cap < want + 1) {
            char *nb = realloc(c->buf, want + 1);
            if (!nb) {
                rc = hops__error(HOPS_ENOMEM, "out of memory");
                break;
            }
            c->buf = nb;
            c->cap = want + 1;
        }
        memcpy(c->buf, carry.data ? carry.data : "", carry.len);
        c->len = carry.len;
        carry.len = 0;
        while (!eof && c->len < want) {
            ssize_t r = source_read(src, c->buf + c->len, want - c->len);
            if (r < 0) {
                rc = hops__error(HOPS_EIO, "%s: read error: %s", info->path,
                                 src->gz ? "corrupt gzip data" : strerror(errno));
                break;
            }
            if (r == 0)
                eof = 1;
            c->len += (size_t)r;
        }
        if (rc != HOPS_OK)
            break;
        lines_in = scan_bytes(c->buf, c->len, &quote, &ascii);
        size_t cut = eof ? c->len
                         : last_boundary(c->buf, c->len, info->format, info->delimiter, quote);
        if (cut == 0) { /* one record longer than the chunk: read on */
            hops__buf_put(&carry, c->buf, c->len);
            if (carry.len > ((size_t)1 << 31)) {
                rc = hops__error(HOPS_EPARSE, "%s:%llu: a record over 2 GiB (an unterminated "
                                              "quote?)", info->path, (unsigned long long)line);
                break;
            }
            chunk_size *= 2;
            continue;
        }
        if (cut < c->len) {
            hops__buf_put(&carry, c->buf + cut, c->len - cut);
            if (line)
                lines_in -= count_lines(c->buf + cut, c->len - cut);
        }
        c->len = cut;
    queue:
        c->first_line = line;
        c->status = HOPS_OK;
        c->done = 0;
        c->known_plain = !quote; /* (of the bytes before the cut too) */
        c->known_ascii = ascii;
        if (line)
            line += lines_in;
        made++;
        if (threads > 1) {
            pthread_mutex_lock(&pl.lock);
            pl.queue[(pl.q_head + pl.q_len) % pl.q_cap] = c;
            pl.q_len++;
            pthread_cond_signal(&pl.work);
            pthread_mutex_unlock(&pl.lock);
        } else {
            parse_chunk(&inline_ps, c);
            c->done = 1;
        }
    }
    /* Let the parsers finish what they hold, and free those states. */
    if (threads > 1) {
        pthread_mutex_lock(&pl.lock);
        pl.stop = 1;
        pthread_cond_broadcast(&pl.work);
        pthread_mutex_unlock(&pl.lock);
        for (int i = 0; i < started; i++)
            pthread_join(tids[i], NULL);
    }
    while (made > merged) {
        chunk *c = &slots[merged % ring];
        if (c->status != HOPS_OK && !first_error) {
            rc = c->status;
            first_error = c->error;
            c->error = NULL;
        }
        if (cb->chunk_end)
            cb->chunk_end(cb->ud, c->state);
        c->state = NULL;
        free(c->error);
        c->error = NULL;
        merged++;
    }
    for (size_t i = 0; i < ring; i++) {
        if (!slots[i].mapped)
            free(slots[i].buf);
        free(slots[i].error);
    }
    if (map)
        munmap((void *)(uintptr_t)map, map_len);
    free(slots);
    if (threads > 1) {
        pthread_mutex_destroy(&pl.lock);
        pthread_cond_destroy(&pl.work);
        pthread_cond_destroy(&pl.done);
        free(pl.queue);
    }
    free(tids);
    free(inline_ps.fields);
    hops__buf_free(&inline_ps.scratch);
    hops__buf_free(&carry);
    if (merge_rc != HOPS_OK && rc == HOPS_OK)
        rc = merge_rc;
    if (first_error) {
        hops__error(rc, "%s", first_error);
        free(first_error);
    }
    return rc;
}

/* ---- opening: header or key sample ---- */

/* Read the first bytes of the file: the CSV header record (quote-aware), or a
 * sample of JSONL lines for their keys. *CONSUMED gets how many bytes of HEAD
 * the header took (0 for JSONL), *LINES its line count. */
static hops_status read_head(const char *path, const hops_read_options *o, hops_table_info *info,
                             source *src, hops_buf *head, size_t *consumed, uint64_t *lines)
{
    char block[65536];
    size_t bom = 0;
    int eof = 0;
    *consumed = 0;
    *lines = 0;
    info->path = hops__strdup(path);
    info->format = pick_format(path, o);
    info->delimiter = o && o->delimiter ? o->delimiter : ',';
    info->has_header = info->format == HOPS_FORMAT_CSV && !(o && o->no_header);
    /* Enough to hold the header record, or JSONL_SAMPLE_LINES lines. */
    for (;;) {
        size_t boundary = 0;
        if (head->len) {
            if (info->format == HOPS_FORMAT_JSONL) {
                if (count_lines(head->data, head->len) >= JSONL_SAMPLE_LINES || head->len > (8u << 20))
                    break;
            } else {
                boundary = last_boundary(head->data, head->len, info->format, info->delimiter,
                                         memchr(head->data, '"', head->len) != NULL);
                if (boundary)
                    break;
            }
        }
        if (eof)
            break;
        ssize_t r = source_read(src, block, sizeof block);
        if (r < 0)
            return hops__error(HOPS_EIO, "%s: read error", path);
        if (r == 0)
            eof = 1;
        else
            hops__buf_put(head, block, (size_t)r);
    }
    if (head->len >= 3 && memcmp(head->data, "\xef\xbb\xbf", 3) == 0)
        bom = 3;
    if (head->len == bom)
        return hops__error(HOPS_EPARSE, "%s: the file is empty", path);

    parser ps = {info, NULL, NULL, 0, HOPS_BUF_INIT, 0};
    hops_status rc = HOPS_OK;
    if (info->format == HOPS_FORMAT_CSV) {
        const char *p = head->data + bom, *raw_end = p, *end = head->data + head->len;
        size_t n;
        uint64_t nl;
        chunk c = {(char *)p, (size_t)(end - p), 0, 1, NULL, 0, NULL, 0, 0, 0, 0};
        c.first_line = 1;
        size_t bad_off;
        check_text(&ps, &c, &bad_off, 0);
        while (p < end && (*p == '\n' || *p == '\r')) /* blank lines before the header */
            p++;
        const char *start = p;
        const char *err_at = end;
        rc = csv_record(&ps, &p, end, 1, &n, &nl, &raw_end, &err_at);
        if (rc != HOPS_OK) {
            hops_status t = text_error_before(&ps, &c, bad_off, (size_t)(err_at - c.buf));
            rc = t != HOPS_OK ? t : rc;
            goto out;
        }
        if ((rc = text_error_before(&ps, &c, bad_off, (size_t)(p - c.buf))) != HOPS_OK)
            goto out;
        info->n_columns = n;
        info->columns = calloc(n ? n : 1, sizeof *info->columns);
        for (size_t i = 0; i < n; i++) {
            if (info->has_header) {
                info->columns[i] = hops__strndup(ps.fields[i].ptr, ps.fields[i].len);
                if (ps.fields[i].len == 0) {
                    free(info->columns[i]);
                    info->columns[i] = hops__aprintf("c%zu", i + 1);
                }
            } else
                info->columns[i] = hops__aprintf("c%zu", i + 1);
        }
        if (info->has_header) {
            info->header_raw = hops__strndup(start, (size_t)(raw_end - start));
            *consumed = (size_t)(p - head->data);
            *lines = count_lines(head->data, *consumed);
        } else
            *consumed = bom;
        /* Duplicate names would make columns unreachable by name. */
        for (size_t i = 0; i < n && info->has_header; i++)
            for (size_t k = 0; k < i; k++)
                if (strcmp(info->columns[i], info->columns[k]) == 0) {
                    rc = hops__error(HOPS_EPARSE, "%s:1: column name '%s' appears twice (columns "
                                                  "%zu and %zu)", path, info->columns[i], k + 1, i + 1);
                    goto out;
                }
    } else {
        /* JSONL: the keys of the sampled lines, in order of first appearance. */
        json_t *seen = json_object();
        const char *p = head->data + bom, *end = head->data + head->len;
        uint64_t line = 1;
        size_t cap = 0;
        while (p < end && line <= JSONL_SAMPLE_LINES) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *le = nl ? nl : end;
            if (!nl && !eof)
                break; /* a partial last line: the scan will parse it */
            json_t *obj = json_loadb(p, (size_t)(le - p), 0, NULL);
            const char *k;
            json_t *v;
            if (json_is_object(obj))
                json_object_foreach(obj, k, v) {
                    if (json_object_get(seen, k))
                        continue;
                    json_object_set_new(seen, k, json_true());
                    if (info->n_columns == cap) {
                        cap = cap ? cap * 2 : 16;
                        char **nc = realloc(info->columns, cap * sizeof *nc);
                        if (!nc) {
                            json_decref(obj);
                            json_decref(seen);
                            rc = hops__error(HOPS_ENOMEM, "out of memory");
                            goto out;
                        }
                        info->columns = nc;
                    }
                    info->columns[info->n_columns++] = hops__strdup(k);
                }
            json_decref(obj);
            p = nl ? nl + 1 : end;
            line++;
        }
        json_decref(seen);
        *consumed = bom;
    }
out:
    free(ps.fields);
    hops__buf_free(&ps.scratch);
    return rc;
}

hops_status hops__table_open(const char *path, const hops_read_options *o, hops_table_info *info)
{
    source src;
    hops_buf head = HOPS_BUF_INIT;
    size_t consumed;
    uint64_t lines;
    hops_status rc;
    memset(info, 0, sizeof *info);
    if ((rc = source_open(&src, path)) != HOPS_OK)
        return rc;
    rc = read_head(path, o, info, &src, &head, &consumed, &lines);
    source_close(&src);
    hops__buf_free(&head);
    if (rc != HOPS_OK)
        hops__table_info_free(info);
    return rc;
}

hops_status hops__data_scan(const char *path, const hops_read_options *o, hops_table_info *info_out,
                            const hops_scan_cb *cb)
{
    hops_table_info local, *info = info_out ? info_out : &local;
    source src;
    hops_buf head = HOPS_BUF_INIT;
    size_t consumed;
    uint64_t lines;
    hops_status rc;
    memset(info, 0, sizeof *info);
    if (o && o->version != HOPS_READ_OPTIONS_VERSION)
        return hops__error(HOPS_EVERSION, "hops_read_options: unknown version");
    if ((rc = source_open(&src, path)) != HOPS_OK)
        return rc;
    rc = read_head(path, o, info, &src, &head, &consumed, &lines);
    if (rc == HOPS_OK)
        rc = run_scan(&src, o, info, cb, head.data + consumed, head.len - consumed, lines + 1);
    source_close(&src);
    hops__buf_free(&head);
    if (!info_out)
        hops__table_info_free(info);
    return rc;
}

hops_status hops__data_scan_range(const char *path, const hops_read_options *o, uint64_t begin,
                                  uint64_t end, hops_table_info *info_out, const hops_scan_cb *cb)
{
    hops_table_info local, *info = info_out ? info_out : &local;
    source src;
    hops_buf head = HOPS_BUF_INIT;
    size_t consumed;
    uint64_t lines, data_start, start, stop;
    struct stat st;
    hops_status rc;
    memset(info, 0, sizeof *info);
    if ((rc = source_open(&src, path)) != HOPS_OK)
        return rc;
    if (src.gz) {
        source_close(&src);
        return hops__error(HOPS_EINVAL, "%s: a gzip file cannot be split by byte ranges", path);
    }
    rc = read_head(path, o, info, &src, &head, &consumed, &lines);
    hops__buf_free(&head);
    if (rc != HOPS_OK)
        goto out;
    fstat(src.fd, &st);
    data_start = consumed;
    /* A record belongs to the range its first byte is in: start after the first
     * newline at or after BEGIN-1, stop after the first newline at or after END-1.
     * (Ranges assume no newlines inside quoted fields.) */
    uint64_t size = (uint64_t)st.st_size;
    if (end > size)
        end = size;
    start = begin <= data_start ? data_start : begin;
    stop = end;
    char buf[4096];
    if (begin > data_start) {
        uint64_t pos = begin - 1;
        for (;;) {
            ssize_t r = pread(src.fd, buf, sizeof buf, (off_t)pos);
            if (r <= 0) {
                start = size;
                break;
            }
            char *nl = memchr(buf, '\n', (size_t)r);
            if (nl) {
                start = pos + (uint64_t)(nl - buf) + 1;
                break;
            }
            pos += (uint64_t)r;
        }
    }
    if (end > 0 && end < size) {
        uint64_t pos = end - 1;
        stop = size;
        for (;;) {
            ssize_t r = pread(src.fd, buf, sizeof buf, (off_t)pos);
            if (r <= 0)
                break;
            char *nl = memchr(buf, '\n', (size_t)r);
            if (nl) {
                stop = pos + (uint64_t)(nl - buf) + 1;
                break;
            }
            pos += (uint64_t)r;
        }
    }
    if (start >= stop)
        goto out; /* an empty range */
    src.limited = 1;
    src.pos = start;
    src.end = stop;
    rc = run_scan(&src, o, info, cb, "", 0, begin <= data_start ? lines + 1 : 0);
out:
    source_close(&src);
    if (!info_out)
        hops__table_info_free(info);
    return rc;
}
