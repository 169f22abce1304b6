/* libFuzzer target: the CSV and JSON Lines readers (src/data/reader.c).
 *
 * The first input byte picks the options (format, delimiter, header); the rest
 * is the file, served from a memfd. Properties checked besides "no crash, no
 * leak, no UB": a scan either succeeds or fails with HOPS_EPARSE/HOPS_EIO and a
 * message naming the file; and the records are identical for one thread with
 * tiny chunks and three threads with other chunks (the reader's promise that
 * results never depend on the thread count or chunk size), and so is the
 * error when there is one. The scan with one thread is repeated with
 * HOPS_CSV_GENERIC=1 and HOPS_NO_MMAP=1, which turn off the quote-free fast
 * path and the file mapping: both ways must give the same records and
 * errors. */

#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "data/data_internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_default_artifact_prefix(argc, argv);
    return 0;
}

typedef struct {
    hops_buf out;
} dump;

static void *dump_begin(void *ud)
{
    (void)ud;
    return calloc(1, sizeof(dump));
}

static hops_status dump_record(void *ud, void *cs, const hops_record *r)
{
    dump *d = cs;
    (void)ud;
    FUZZ_CHECK(r->raw_len <= (1u << 30), "raw length");
    hops__buf_printf(&d->out, "%llu:%zu:", (unsigned long long)r->line, r->n_fields);
    for (size_t i = 0; i < r->n_fields; i++) {
        const hops_field *f = &r->fields[i];
        double v;
        int64_t n;
        if (f->is_null)
            hops__buf_puts(&d->out, "<N>");
        else
            hops__buf_put(&d->out, f->ptr, f->len);
        hops__field_double(f, &v);
        hops__field_int64(f, &n);
        hops__buf_put(&d->out, "\x1f", 1);
    }
    hops__buf_put(&d->out, r->raw, r->raw_len);
    hops__buf_put(&d->out, "\n", 1);
    return HOPS_OK;
}

static hops_status dump_end(void *ud, void *cs)
{
    hops_buf *all = ud;
    dump *d = cs;
    if (!d)
        return HOPS_OK;
    if (d->out.len)
        hops__buf_put(all, d->out.data, d->out.len);
    hops__buf_free(&d->out);
    free(d);
    return HOPS_OK;
}

static char *scan(const char *path, const hops_read_options *o, hops_status *rc, char **err)
{
    hops_buf all = HOPS_BUF_INIT;
    hops_scan_cb cb = {&all, dump_begin, dump_record, dump_end, NULL};
    hops_table_info info;
    *rc = hops__data_scan(path, o, &info, &cb);
    *err = *rc == HOPS_OK ? NULL : hops__strdup(hops_last_error());
    if (*rc == HOPS_OK) {
        hops__buf_printf(&all, "columns=%zu", info.n_columns);
        for (size_t i = 0; i < info.n_columns; i++)
            hops__buf_printf(&all, "|%s", info.columns[i]);
    }
    hops__table_info_free(&info);
    return hops__buf_detach(&all);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned char opt = data[0];
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    FUZZ_CHECK(fd >= 0, "memfd_create");
    FUZZ_CHECK(write(fd, data + 1, size - 1) == (ssize_t)(size - 1), "write");
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    hops_read_options a = HOPS_READ_OPTIONS_INIT, b = HOPS_READ_OPTIONS_INIT;
    a.format = b.format = (opt & 1) ? HOPS_FORMAT_JSONL : HOPS_FORMAT_CSV;
    a.delimiter = b.delimiter = (opt & 2) ? ';' : (opt & 4) ? '\t' : ',';
    a.no_header = b.no_header = (opt & 8) != 0;
    a.threads = 1;
    a.chunk_size = 64 + (opt >> 4);
    b.threads = 3;
    b.chunk_size = 200 + (size_t)(opt >> 4) * 7;

    hops_status ra, rb;
    char *ea, *eb;
    char *da = scan(path, &a, &ra, &ea);
    char *db = scan(path, &b, &rb, &eb);
    hops_status rg;
    char *eg;
    setenv("HOPS_CSV_GENERIC", "1", 1);
    setenv("HOPS_NO_MMAP", "1", 1);
    char *dg = scan(path, &a, &rg, &eg);
    unsetenv("HOPS_CSV_GENERIC");
    unsetenv("HOPS_NO_MMAP");
    FUZZ_CHECK(ra == rg, "status %d with the fast path, %d without", ra, rg);
    if (ra == HOPS_OK)
        FUZZ_CHECK(strcmp(da, dg) == 0, "records differ with and without the fast path");
    else
        FUZZ_CHECK(strcmp(ea, eg) == 0, "errors differ: '%s' vs '%s' (generic)", ea, eg);
    free(dg);
    free(eg);
    FUZZ_CHECK(ra == rb, "status %d with 1 thread, %d with 3", ra, rb);
    if (ra == HOPS_OK)
        FUZZ_CHECK(strcmp(da, db) == 0, "records differ between thread counts");
    else {
        FUZZ_CHECK(ra == HOPS_EPARSE || ra == HOPS_EIO || ra == HOPS_ENOMEM, "status %d", ra);
        FUZZ_CHECK(strstr(ea, path) != NULL, "error does not name the file: %s", ea);
        FUZZ_CHECK(strcmp(ea, eb) == 0, "errors differ: '%s' vs '%s'", ea, eb);
    }
    free(da);
    free(db);
    free(ea);
    free(eb);
    close(fd);
    return 0;
}
