/* Versioned datasets: copy and hash in one pass, describe the table, then
 * one transaction per version.
 *
 * On disk a version is .hops/datasets/NAME/VERSION/FILE_NAME (mode 0444). An
 * add builds it in a private staging folder, .hops/datasets/.staging/
 * PID-START-ID/, on the same file system, and renames that folder into place
 * while it holds the database's write lock, just before it commits the row.
 * So a version listed in hops.db always has its file, and what a crash can
 * leave behind is either a staging folder of a dead process (swept by the
 * next add) or a version folder with no row (removed by the next add of that
 * name, which takes the same version number under the same lock).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "data_internal.h"
#include "hops/dataset.h"
#include "hops/schema.h"
#include "meta/meta.h"

#define COPY_CHUNK (1u << 20)
#define MAX_LISTED 20      /* names or versions listed in a "not found" message */
#define MAX_ANCESTRY 10000 /* a guard; lineage cannot loop (sources exist first) */

/* rm -rf PATH on a failure path, keeping this thread's last error. */
static void remove_quietly(const char *path)
{
    char *saved = hops__strdup(hops_last_error());
    hops__rm_rf(path);
    if (saved && *saved)
        hops__error(HOPS_ERROR, "%s", saved);
    else
        hops_error_clear();
    free(saved);
}

/* ---- lookups ---- */

/* *ID_OUT: the datasets row of NAME, 0 when there is none. */
static hops_status dataset_id(hops_project *p, const char *name, int64_t *id_out)
{
    sqlite3_stmt *st;
    hops_status rc = hops__db_prepare(p->db, "SELECT id FROM datasets WHERE name = ?1", &st);
    int src;
    *id_out = 0;
    if (rc != HOPS_OK)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *id_out = sqlite3_column_int64(st, 0);
    else if (src != SQLITE_DONE)
        rc = hops__db_error(p->db, src, "dataset lookup");
    sqlite3_finalize(st);
    return rc;
}

/* Append the first column of every row of SQL (bound to ID when ID > 0) to
 * B as "a, b, c", the last MAX_LISTED of them when there are more. */
static void list_column(hops_project *p, const char *sql, int64_t id, hops_buf *b)
{
    sqlite3_stmt *st;
    int64_t total = 0, skip;
    if (hops__db_prepare(p->db, sql, &st) != HOPS_OK)
        return;
    if (id > 0)
        sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW)
        total++;
    sqlite3_reset(st);
    skip = total > MAX_LISTED ? total - MAX_LISTED : 0;
    if (skip)
        hops__buf_printf(b, "(%" PRId64 " more), ", skip);
    for (int64_t i = 0; sqlite3_step(st) == SQLITE_ROW; i++)
        if (i >= skip)
            hops__buf_printf(b, "%s%s", i > skip ? ", " : "",
                             (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

static hops_status unknown_name(hops_project *p, const char *name)
{
    hops_buf b = HOPS_BUF_INIT;
    hops_status rc;
    list_column(p, "SELECT name FROM datasets ORDER BY name", 0, &b);
    if (b.len)
        rc = hops__error(HOPS_ENOTFOUND, "no dataset '%s' in this project; datasets: %s", name,
                         b.data);
    else
        rc = hops__error(HOPS_ENOTFOUND,
                         "no dataset '%s': this project has no datasets yet; add one with "
                         "`hops dataset add FILE --name %s`",
                         name, name);
    hops__buf_free(&b);
    return rc;
}

static hops_status unknown_version(hops_project *p, int64_t ds, const char *name, int64_t v)
{
    hops_buf b = HOPS_BUF_INIT;
    hops_status rc;
    list_column(p, "SELECT version FROM dataset_versions WHERE dataset_id = ?1 ORDER BY version",
                ds, &b);
    rc = hops__error(HOPS_ENOTFOUND, "dataset '%s' has no version %" PRId64 "; its versions: %s",
                     name, v, b.len ? b.data : "none");
    hops__buf_free(&b);
    return rc;
}

/* *VID_OUT: the dataset_versions row SPEC names. */
static hops_status find_version(hops_project *p, const char *spec, int64_t *vid_out)
{
    char *name = NULL;
    int64_t version, ds;
    sqlite3_stmt *st = NULL;
    int src;
    hops_status rc = hops__parse_name_spec("dataset", spec, &name, &version);
    *vid_out = 0;
    if (rc != HOPS_OK)
        return rc;
    if ((rc = dataset_id(p, name, &ds)) != HOPS_OK)
        goto out;
    if (!ds) {
        rc = unknown_name(p, name);
        goto out;
    }
    rc = hops__db_prepare(p->db,
                          version ? "SELECT id FROM dataset_versions WHERE dataset_id = ?1 "
                                    "AND version = ?2"
                                  : "SELECT id FROM dataset_versions WHERE dataset_id = ?1 "
                                    "ORDER BY version DESC LIMIT 1",
                          &st);
    if (rc != HOPS_OK)
        goto out;
    sqlite3_bind_int64(st, 1, ds);
    if (version)
        sqlite3_bind_int64(st, 2, version);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *vid_out = sqlite3_column_int64(st, 0);
    else if (src == SQLITE_DONE)
        rc = version ? unknown_version(p, ds, name, version) : unknown_name(p, name);
    else
        rc = hops__db_error(p->db, src, "dataset lookup");
out:
    sqlite3_finalize(st);
    free(name);
    return rc;
}

/* ---- JSON of a version ---- */

#define VERSION_COLUMNS                                                                            \
    "v.id, d.name, v.version, v.file_name, v.source_path, v.description, v.sha256, v.size, "       \
    "v.rows, v.columns, v.format, v.read_options, v.schema, v.created, v.source_version_id, "      \
    "v.transform, (SELECT max(version) FROM dataset_versions WHERE dataset_id = d.id)"
#define VERSION_FROM " FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id "

/* A JSON string, or null for NULL or text that is not UTF-8 (a path). */
static json_t *string_or_null(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

static json_t *text_or_null(sqlite3_stmt *st, int col)
{
    return string_or_null((const char *)sqlite3_column_text(st, col));
}

/* Parse stored JSON text; null when absent (or, which cannot happen, bad). */
static json_t *stored_json(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    json_t *j = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
    return j ? j : json_null();
}

static json_t *spec_json(const char *name, int64_t version)
{
    char *s = hops__aprintf("%s:%" PRId64, name, version);
    json_t *j = s ? json_string(s) : json_null();
    free(s);
    return j;
}

/* Lineage of a version made from row SOURCE: {"source", "source_sha256",
 * "transform"} and the ancestry, nearest first. */
static void add_lineage(hops_project *p, json_t *doc, int64_t source, json_t *transform)
{
    sqlite3_stmt *st;
    json_t *ancestry = json_array(), *lineage = NULL;
    if (hops__db_prepare(p->db,
                         "SELECT d.name, v.version, v.sha256, v.source_version_id" VERSION_FROM
                         "WHERE v.id = ?1",
                         &st) != HOPS_OK) {
        json_decref(transform);
        json_decref(ancestry);
        return;
    }
    for (int depth = 0; source && depth < MAX_ANCESTRY; depth++) {
        sqlite3_bind_int64(st, 1, source);
        if (sqlite3_step(st) != SQLITE_ROW)
            break;
        json_t *spec =
            spec_json((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1));
        if (depth == 0) {
            lineage = json_object();
            json_object_set(lineage, "source", spec);
            json_object_set_new(lineage, "source_sha256", text_or_null(st, 2));
            json_object_set(lineage, "transform", transform);
        }
        json_array_append_new(ancestry, spec);
        source = sqlite3_column_type(st, 3) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 3);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    json_decref(transform);
    json_object_set_new(doc, "lineage", lineage ? lineage : json_null());
    json_object_set_new(doc, "ancestry", ancestry);
}

static void add_derived(hops_project *p, json_t *doc, int64_t vid)
{
    sqlite3_stmt *st;
    json_t *derived = json_array();
    if (hops__db_prepare(p->db,
                         "SELECT d.name, v.version" VERSION_FROM
                         "WHERE v.source_version_id = ?1 ORDER BY d.name, v.version",
                         &st) == HOPS_OK) {
        sqlite3_bind_int64(st, 1, vid);
        while (sqlite3_step(st) == SQLITE_ROW)
            json_array_append_new(derived, spec_json((const char *)sqlite3_column_text(st, 0),
                                                     sqlite3_column_int64(st, 1)));
        sqlite3_finalize(st);
    }
    json_object_set_new(doc, "derived", derived);
}

/* The document of the version in ST's current row (VERSION_COLUMNS). FULL
 * adds the schema, the ancestry and the derived versions. */
static json_t *version_doc(hops_project *p, sqlite3_stmt *st, int full)
{
    json_t *doc = json_object();
    const char *name = (const char *)sqlite3_column_text(st, 1);
    int64_t version = sqlite3_column_int64(st, 2);
    const char *file_name = (const char *)sqlite3_column_text(st, 3);
    char *path =
        hops__aprintf("%s/datasets/%s/%" PRId64 "/%s", p->hops_dir, name, version, file_name);
    json_t *transform = stored_json(st, 15);
    int64_t source = sqlite3_column_type(st, 14) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 14);

    json_object_set_new(doc, "name", string_or_null(name));
    json_object_set_new(doc, "version", json_integer(version));
    json_object_set_new(doc, "spec", spec_json(name, version));
    json_object_set_new(doc, "latest", json_integer(sqlite3_column_int64(st, 16)));
    json_object_set_new(doc, "description", text_or_null(st, 5));
    json_object_set_new(doc, "path", string_or_null(path));
    json_object_set_new(doc, "file_name", string_or_null(file_name));
    json_object_set_new(doc, "source_path", text_or_null(st, 4));
    json_object_set_new(doc, "sha256", text_or_null(st, 6));
    json_object_set_new(doc, "size", json_integer(sqlite3_column_int64(st, 7)));
    json_object_set_new(doc, "rows", json_integer(sqlite3_column_int64(st, 8)));
    json_object_set_new(doc, "columns", stored_json(st, 9));
    json_object_set_new(doc, "format", text_or_null(st, 10));
    json_object_set_new(doc, "read_options", stored_json(st, 11));
    if (full)
        json_object_set_new(doc, "schema", stored_json(st, 12));
    json_object_set_new(doc, "created", json_real(sqlite3_column_double(st, 13)));
    if (source) {
        add_lineage(p, doc, source, transform);
    } else {
        json_decref(transform);
        json_object_set_new(doc, "lineage", json_null());
        json_object_set_new(doc, "ancestry", json_array());
    }
    if (full)
        add_derived(p, doc, sqlite3_column_int64(st, 0));
    free(path);
    return doc;
}

/* The full document of version row VID. */
static hops_status load_version(hops_project *p, int64_t vid, json_t **out)
{
    sqlite3_stmt *st;
    int src;
    hops_status rc =
        hops__db_prepare(p->db, "SELECT " VERSION_COLUMNS VERSION_FROM "WHERE v.id = ?1", &st);
    *out = NULL;
    if (rc != HOPS_OK)
        return rc;
    sqlite3_bind_int64(st, 1, vid);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *out = version_doc(p, st, 1);
    else
        rc = src == SQLITE_DONE
                 ? hops__error(HOPS_ENOTFOUND, "dataset version row %" PRId64 " vanished", vid)
                 : hops__db_error(p->db, src, "dataset version");
    sqlite3_finalize(st);
    return rc;
}

static hops_status dump(json_t *doc, char **out)
{
    *out = hops__json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return *out ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}

/* ---- queries ---- */

hops_status hops_dataset_resolve(hops_project *p, const char *spec, char **path_out)
{
    int64_t vid;
    sqlite3_stmt *st = NULL;
    char *path = NULL;
    int src;
    hops_status rc;
    *path_out = NULL;
    if ((rc = find_version(p, spec, &vid)) != HOPS_OK)
        return rc;
    if ((rc = hops__db_prepare(
             p->db, "SELECT d.name, v.version, v.file_name" VERSION_FROM "WHERE v.id = ?1", &st)) !=
        HOPS_OK)
        return rc;
    sqlite3_bind_int64(st, 1, vid);
    if ((src = sqlite3_step(st)) != SQLITE_ROW) {
        rc = hops__db_error(p->db, src, "dataset version");
        goto out;
    }
    const char *name = (const char *)sqlite3_column_text(st, 0);
    int64_t version = sqlite3_column_int64(st, 1);
    path = hops__aprintf("%s/datasets/%s/%" PRId64 "/%s", p->hops_dir, name, version,
                         (const char *)sqlite3_column_text(st, 2));
    if (!path)
        rc = hops__error(HOPS_ENOMEM, "out of memory");
    else if (!hops__is_file(path))
        rc = hops__error(HOPS_ECORRUPT,
                         "dataset %s:%" PRId64 ": its stored file %s is missing; the project's "
                         "files were changed outside hops",
                         name, version, path);
    else {
        *path_out = path;
        path = NULL;
    }
out:
    sqlite3_finalize(st);
    free(path);
    return rc;
}

hops_status hops_dataset_pin(hops_project *p, const char *spec, char **spec_out)
{
    int64_t vid;
    sqlite3_stmt *st = NULL;
    int src;
    hops_status rc;
    *spec_out = NULL;
    if ((rc = find_version(p, spec, &vid)) != HOPS_OK)
        return rc;
    if ((rc = hops__db_prepare(p->db, "SELECT d.name, v.version" VERSION_FROM "WHERE v.id = ?1",
                               &st)) != HOPS_OK)
        return rc;
    sqlite3_bind_int64(st, 1, vid);
    if ((src = sqlite3_step(st)) != SQLITE_ROW)
        rc = hops__db_error(p->db, src, "dataset version");
    else if (!(*spec_out = hops__aprintf("%s:%" PRId64, (const char *)sqlite3_column_text(st, 0),
                                         (int64_t)sqlite3_column_int64(st, 1))))
        rc = hops__error(HOPS_ENOMEM, "out of memory");
    sqlite3_finalize(st);
    return rc;
}

hops_status hops_dataset_show_json(hops_project *p, const char *spec, char **out_json)
{
    int64_t vid;
    json_t *doc;
    hops_status rc;
    *out_json = NULL;
    if ((rc = find_version(p, spec, &vid)) != HOPS_OK ||
        (rc = load_version(p, vid, &doc)) != HOPS_OK)
        return rc;
    return dump(doc, out_json);
}

hops_status hops_dataset_versions_json(hops_project *p, const char *name, char **out_json)
{
    int64_t ds;
    sqlite3_stmt *st;
    json_t *arr;
    int src;
    hops_status rc;
    *out_json = NULL;
    if ((rc = hops__check_name("dataset name", name)) != HOPS_OK ||
        (rc = dataset_id(p, name, &ds)) != HOPS_OK)
        return rc;
    if (!ds)
        return unknown_name(p, name);
    rc = hops__db_prepare(
        p->db, "SELECT " VERSION_COLUMNS VERSION_FROM "WHERE v.dataset_id = ?1 ORDER BY v.version",
        &st);
    if (rc != HOPS_OK)
        return rc;
    sqlite3_bind_int64(st, 1, ds);
    arr = json_array();
    while ((src = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, version_doc(p, st, 0));
    if (src != SQLITE_DONE)
        rc = hops__db_error(p->db, src, "dataset versions");
    sqlite3_finalize(st);
    if (rc != HOPS_OK) {
        json_decref(arr);
        return rc;
    }
    return dump(arr, out_json);
}

hops_status hops_dataset_list_json(hops_project *p, char **out_json)
{
    sqlite3_stmt *st;
    json_t *arr;
    int src;
    hops_status rc = hops__db_prepare(
        p->db,
        "SELECT d.name, v.version, (SELECT count(*) FROM dataset_versions c WHERE "
        "c.dataset_id = d.id), v.rows, v.size, v.sha256, v.created, v.description "
        "FROM datasets d JOIN dataset_versions v ON v.dataset_id = d.id AND v.version = "
        "(SELECT max(version) FROM dataset_versions m WHERE m.dataset_id = d.id) "
        "ORDER BY d.name",
        &st);
    *out_json = NULL;
    if (rc != HOPS_OK)
        return rc;
    arr = json_array();
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "name", text_or_null(st, 0));
        json_object_set_new(o, "latest", json_integer(sqlite3_column_int64(st, 1)));
        json_object_set_new(o, "versions", json_integer(sqlite3_column_int64(st, 2)));
        json_object_set_new(o, "rows", json_integer(sqlite3_column_int64(st, 3)));
        json_object_set_new(o, "size", json_integer(sqlite3_column_int64(st, 4)));
        json_object_set_new(o, "sha256", text_or_null(st, 5));
        json_object_set_new(o, "created", json_real(sqlite3_column_double(st, 6)));
        json_object_set_new(o, "description", text_or_null(st, 7));
        json_array_append_new(arr, o);
    }
    if (src != SQLITE_DONE)
        rc = hops__db_error(p->db, src, "dataset list");
    sqlite3_finalize(st);
    if (rc != HOPS_OK) {
        json_decref(arr);
        return rc;
    }
    return dump(arr, out_json);
}

/* ---- staging ---- */

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Remove staging folders whose process is gone (killed mid-add). A folder is
 * PID-STARTTICKS-ID; a live process with that pid and start time owns it. */
static void staging_sweep(const char *root)
{
    DIR *d = opendir(root);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        long long pid;
        unsigned long long start;
        if (sscanf(e->d_name, "%lld-%llu-", &pid, &start) != 2 || pid <= 0)
            continue;
        if (hops__proc_start_ticks((pid_t)pid) == start)
            continue;
        char *path = hops__aprintf("%s/%s", root, e->d_name);
        if (path)
            hops__rm_rf(path);
        free(path);
    }
    closedir(d);
    hops_error_clear();
}

static hops_status staging_new(hops_project *p, char **dir_out)
{
    char id[15];
    char *root = hops__aprintf("%s/datasets/.staging", p->hops_dir), *dir = NULL;
    hops_status rc;
    *dir_out = NULL;
    if (!root)
        return hops__error(HOPS_ENOMEM, "out of memory");
    if ((rc = hops__mkdir_p(root, 0755)) != HOPS_OK)
        goto out;
    staging_sweep(root);
    hops__make_id(id);
    dir =
        hops__aprintf("%s/%ld-%llu-%s", root, (long)getpid(), hops__proc_start_ticks(getpid()), id);
    if (!dir)
        rc = hops__error(HOPS_ENOMEM, "out of memory");
    else if (mkdir(dir, 0755) != 0)
        rc = hops__error(HOPS_EIO, "cannot create '%s': %s", dir, strerror(errno));
    if (rc == HOPS_OK) {
        *dir_out = dir;
        dir = NULL;
    }
out:
    free(dir);
    free(root);
    return rc;
}

/* ---- copying ---- */

/* Copy SRC_FD (SRC names it in messages) to DIR/FILE_NAME through a temp file
 * beside it, hashing as it goes: write, fsync, mode 0444, rename, fsync DIR.
 * SHA_OUT gets the SHA-256 in lowercase hex, *SIZE_OUT the bytes copied. */
static hops_status copy_hashed(int src_fd, const char *src, const char *dir, const char *file_name,
                               char sha_out[65], int64_t *size_out)
{
    char *tmp = hops__aprintf("%s/.partial", dir);
    char *dst = hops__aprintf("%s/%s", dir, file_name);
    unsigned char *buf = malloc(COPY_CHUNK);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    int64_t size = 0;
    int fd = -1;
    hops_status rc = HOPS_OK;

    if (!tmp || !dst || !buf || !md) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        rc = hops__error(HOPS_ERROR, "SHA-256 is not available from libcrypto");
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = hops__error(HOPS_EIO, "cannot create '%s': %s", tmp, strerror(errno));
        goto out;
    }
    posix_fadvise(src_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    for (;;) {
        ssize_t n = read(src_fd, buf, COPY_CHUNK);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = hops__error(HOPS_EIO, "cannot read '%s': %s", src, strerror(errno));
            goto out;
        }
        if (EVP_DigestUpdate(md, buf, (size_t)n) != 1) {
            rc = hops__error(HOPS_ERROR, "SHA-256 of '%s' failed", src);
            goto out;
        }
        if (hops__write_all(fd, buf, (size_t)n) != 0) {
            rc = hops__error(HOPS_EIO, "cannot write '%s': %s", tmp, strerror(errno));
            goto out;
        }
        size += n;
    }
    if (EVP_DigestFinal_ex(md, digest, &digest_len) != 1 || digest_len != 32) {
        rc = hops__error(HOPS_ERROR, "SHA-256 of '%s' failed", src);
        goto out;
    }
    if (fsync(fd) != 0 || fchmod(fd, 0444) != 0) {
        rc = hops__error(HOPS_EIO, "cannot write '%s': %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = hops__error(HOPS_EIO, "cannot write '%s': %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, dst) != 0) {
        rc = hops__error(HOPS_EIO, "cannot rename '%s' to '%s': %s", tmp, dst, strerror(errno));
        goto out;
    }
    fsync_dir(dir);
    for (unsigned i = 0; i < 32; i++) {
        static const char hex[] = "0123456789abcdef";
        sha_out[2 * i] = hex[digest[i] >> 4];
        sha_out[2 * i + 1] = hex[digest[i] & 15];
    }
    sha_out[64] = '\0';
    *size_out = size;
out:
    if (fd >= 0)
        close(fd);
    EVP_MD_CTX_free(md);
    free(buf);
    free(dst);
    free(tmp);
    return rc;
}

/* ---- describing the table ---- */

typedef struct {
    int64_t rows;
    json_t *columns;    /* array of names */
    const char *format; /* "csv" | "jsonl" */
    char delimiter;
    json_t *schema; /* the inferred schema */
} table_facts;

static void table_facts_free(table_facts *t)
{
    json_decref(t->columns);
    json_decref(t->schema);
    memset(t, 0, sizeof *t);
}

/* Read PATH (stored as FILE_NAME) once to infer its schema, which also gives
 * its row count and column names. Fails with the reader's message
 * (file:line:column) when it is not a well-formed table. */
static hops_status describe_table(const char *path, const char *file_name,
                                  const hops_read_options *o, table_facts *out)
{
    char *text = NULL;
    json_error_t je;
    json_t *from, *col;
    size_t i;
    hops_status rc;
    memset(out, 0, sizeof *out);
    if ((rc = hops_data_schema_infer_json(path, o, &text)) != HOPS_OK)
        return rc;
    out->schema = json_loads(text, 0, &je);
    free(text);
    from = json_object_get(out->schema, "inferred_from");
    if (!json_is_object(from) || !json_is_integer(json_object_get(from, "rows")) ||
        !json_is_array(json_object_get(out->schema, "columns"))) {
        table_facts_free(out);
        return hops__error(HOPS_ERROR, "%s: the inferred schema lacks rows or columns", path);
    }
    /* It names the file it read: the staged copy, whose path is temporary. */
    json_object_set_new(from, "file", json_string(file_name));
    out->rows = (int64_t)json_integer_value(json_object_get(from, "rows"));
    out->format = json_is_string(json_object_get(from, "format")) &&
                          strcmp(json_string_value(json_object_get(from, "format")), "jsonl") == 0
                      ? "jsonl"
                      : "csv";
    out->delimiter = o->delimiter ? o->delimiter : ',';
    out->columns = json_array();
    json_array_foreach(json_object_get(out->schema, "columns"), i, col)
        json_array_append(out->columns, json_object_get(col, "name"));
    return HOPS_OK;
}

/* ---- adding ---- */

/* The reader's messages name the staged copy; make them name FILE, the file
 * the user gave (data.csv:12:7: ...). */
static void rename_in_error(hops_status rc, const char *staged, const char *file)
{
    const char *msg = hops_last_error(), *hit;
    size_t n = strlen(staged);
    hops_buf b = HOPS_BUF_INIT;
    if (!strstr(msg, staged)) {
        hops__error_prefix(rc, "%s", file);
        return;
    }
    while ((hit = strstr(msg, staged)) != NULL) {
        hops__buf_put(&b, msg, (size_t)(hit - msg));
        hops__buf_puts(&b, file);
        msg = hit + n;
    }
    hops__buf_puts(&b, msg);
    if (b.data)
        hops__error(rc, "%s", b.data);
    hops__buf_free(&b);
}

static int is_utf8(const char *s)
{
    json_t *j = json_string(s);
    json_decref(j);
    return j != NULL;
}

/* The stored file's name: FILE's last path component. */
static hops_status base_name(const char *file, const char **out)
{
    const char *slash = strrchr(file, '/');
    const char *base = slash ? slash + 1 : file;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return hops__error(HOPS_EINVAL, "'%s' does not name a file", file);
    *out = base;
    return HOPS_OK;
}

static hops_status open_source(const char *file, int *fd_out)
{
    struct stat st;
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    *fd_out = -1;
    if (fd < 0)
        return hops__error(errno == ENOENT ? HOPS_ENOTFOUND : HOPS_EIO, "cannot open '%s': %s",
                           file, strerror(errno));
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return hops__error(HOPS_EIO, "cannot stat '%s': %s", file, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return hops__error(HOPS_EINVAL, "'%s' is %s, not a data file", file,
                           S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
    }
    *fd_out = fd;
    return HOPS_OK;
}

/* The latest version of dataset DS: *VERSION_OUT (0: none), its row and SHA. */
static hops_status latest_version(hops_project *p, int64_t ds, int64_t *version_out,
                                  int64_t *vid_out, char sha_out[65])
{
    sqlite3_stmt *st;
    int src;
    hops_status rc;
    *version_out = *vid_out = 0;
    sha_out[0] = '\0';
    if (!ds)
        return HOPS_OK;
    rc = hops__db_prepare(p->db,
                          "SELECT version, id, sha256 FROM dataset_versions WHERE dataset_id = ?1 "
                          "ORDER BY version DESC LIMIT 1",
                          &st);
    if (rc != HOPS_OK)
        return rc;
    sqlite3_bind_int64(st, 1, ds);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        *version_out = sqlite3_column_int64(st, 0);
        *vid_out = sqlite3_column_int64(st, 1);
        hops__strlcpy(sha_out, (const char *)sqlite3_column_text(st, 2), 65);
    } else if (src != SQLITE_DONE)
        rc = hops__db_error(p->db, src, "latest dataset version");
    sqlite3_finalize(st);
    return rc;
}

static char *read_options_text(const hops_read_options *o, const table_facts *t)
{
    char delim[2] = {t->delimiter, '\0'};
    json_t *j = json_object();
    char *s;
    if (strcmp(t->format, "csv") == 0) {
        json_object_set_new(j, "delimiter", json_string(delim));
        json_object_set_new(j, "no_header", json_boolean(o->no_header));
    }
    s = hops__json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    return s;
}

typedef struct {
    const char *name, *file_name, *source_path, *description, *sha256;
    int64_t size, source_vid;
    const char *transform; /* compact JSON or NULL */
    const hops_read_options *read;
    const table_facts *table;
} new_version;

/* Insert the datasets row (when DS is 0) and the version row; *VID_OUT its id. */
static hops_status insert_version(hops_project *p, int64_t ds, int64_t version,
                                  const new_version *nv, int64_t *vid_out)
{
    sqlite3_stmt *st = NULL;
    char *columns = NULL, *schema = NULL, *read_opts = NULL;
    double now = hops__wall_time();
    int src;
    hops_status rc = HOPS_OK;
    if (!ds) {
        if ((rc = hops__db_prepare(p->db,
                                   "INSERT INTO datasets(name, created) VALUES (?1, ?2) "
                                   "RETURNING id",
                                   &st)) != HOPS_OK)
            return rc;
        sqlite3_bind_text(st, 1, nv->name, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 2, now);
        src = sqlite3_step(st);
        if (src == SQLITE_ROW)
            ds = sqlite3_column_int64(st, 0);
        else
            rc = hops__db_error(p->db, src, "new dataset");
        sqlite3_finalize(st);
        st = NULL;
        if (rc != HOPS_OK)
            return rc;
    }
    columns = hops__json_dumps(nv->table->columns, JSON_COMPACT);
    schema = nv->table->schema ? hops__json_dumps(nv->table->schema, JSON_COMPACT) : NULL;
    read_opts = read_options_text(nv->read, nv->table);
    if (!columns || !read_opts || (nv->table->schema && !schema)) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    rc = hops__db_prepare(p->db,
                          "INSERT INTO dataset_versions(dataset_id, version, file_name, "
                          "source_path, description, sha256, size, rows, columns, format, "
                          "read_options, schema, created, source_version_id, transform) VALUES "
                          "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
                          "RETURNING id",
                          &st);
    if (rc != HOPS_OK)
        goto out;
    sqlite3_bind_int64(st, 1, ds);
    sqlite3_bind_int64(st, 2, version);
    hops__db_bind_text(st, 3, nv->file_name);
    hops__db_bind_text(st, 4, nv->source_path);
    hops__db_bind_text(st, 5, nv->description);
    hops__db_bind_text(st, 6, nv->sha256);
    sqlite3_bind_int64(st, 7, nv->size);
    sqlite3_bind_int64(st, 8, nv->table->rows);
    hops__db_bind_text(st, 9, columns);
    hops__db_bind_text(st, 10, nv->table->format);
    hops__db_bind_text(st, 11, read_opts);
    hops__db_bind_text(st, 12, schema);
    sqlite3_bind_double(st, 13, now);
    if (nv->source_vid)
        sqlite3_bind_int64(st, 14, nv->source_vid);
    else
        sqlite3_bind_null(st, 14);
    hops__db_bind_text(st, 15, nv->transform);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *vid_out = sqlite3_column_int64(st, 0);
    else
        rc = hops__db_error(p->db, src, "new dataset version");
out:
    sqlite3_finalize(st);
    free(columns);
    free(schema);
    free(read_opts);
    return rc;
}

/* Under the write lock: move STAGE into place as NAME/VERSION and insert its
 * rows. On failure the version folder is gone again (STAGE may be too). */
static hops_status place_version(hops_project *p, int64_t ds, int64_t version, const char *stage,
                                 const new_version *nv, int64_t *vid_out)
{
    char *name_dir = hops__aprintf("%s/datasets/%s", p->hops_dir, nv->name);
    char *vdir = hops__aprintf("%s/datasets/%s/%" PRId64, p->hops_dir, nv->name, version);
    hops_status rc = HOPS_OK;
    if (!name_dir || !vdir) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    if (!hops__is_dir(name_dir)) {
        if ((rc = hops__mkdir_p(name_dir, 0755)) != HOPS_OK)
            goto out;
        char *datasets = hops__aprintf("%s/datasets", p->hops_dir);
        if (datasets)
            fsync_dir(datasets);
        free(datasets);
    }
    /* A folder here has no row (we hold the lock and VERSION is the next
     * one): an add that died between its rename and its commit left it. */
    if ((rc = hops__rm_rf(vdir)) != HOPS_OK)
        goto out;
    if (rename(stage, vdir) != 0) {
        rc = hops__error(HOPS_EIO, "cannot move '%s' to '%s': %s", stage, vdir, strerror(errno));
        goto out;
    }
    fsync_dir(name_dir);
    if ((rc = insert_version(p, ds, version, nv, vid_out)) != HOPS_OK) {
        remove_quietly(vdir);
        rmdir(name_dir); /* only when empty: this was the name's first version */
    }
out:
    free(vdir);
    free(name_dir);
    return rc;
}

/* After a failed commit (which rolled back and let go of the lock): remove
 * the folder of NAME's VERSION if, under the lock again, it still has no
 * row. Another add may have taken that number meanwhile; if the lock cannot
 * be had, the folder stays for the next add of NAME to sweep. */
static void remove_uncommitted(hops_project *p, int64_t ds, const char *name, int64_t version)
{
    char *saved = hops__strdup(hops_last_error());
    int64_t now_ds = ds, latest = 0, vid = 0;
    char sha[65];
    if (hops__db_begin(p->db) == HOPS_OK) {
        if (dataset_id(p, name, &now_ds) == HOPS_OK &&
            latest_version(p, now_ds, &latest, &vid, sha) == HOPS_OK && latest < version) {
            char *vdir = hops__aprintf("%s/datasets/%s/%" PRId64, p->hops_dir, name, version);
            if (vdir)
                hops__rm_rf(vdir);
            free(vdir);
        }
        hops__db_rollback(p->db);
    }
    if (saved && *saved)
        hops__error(HOPS_ERROR, "%s", saved);
    free(saved);
}

static hops_status add_version(hops_project *p, const char *name, const char *file,
                               const char *source_spec, const char *transform_json,
                               const hops_dataset_add_options *o, char **out_json)
{
    hops_dataset_add_options defaults = HOPS_DATASET_ADD_OPTIONS_INIT;
    new_version nv;
    table_facts table;
    char sha[65], latest_sha[65];
    char *stage = NULL, *stored = NULL, *transform = NULL, *source_path = NULL;
    const char *file_name = NULL;
    int64_t source_vid = 0, ds = 0, latest = 0, latest_vid = 0, vid = 0;
    int fd = -1, in_tx = 0, added = 0;
    json_t *doc = NULL;
    hops_status rc;

    if (out_json)
        *out_json = NULL;
    memset(&table, 0, sizeof table);
    memset(&nv, 0, sizeof nv);
    if (!o)
        o = &defaults;
    if (o->version != HOPS_DATASET_ADD_OPTIONS_VERSION)
        return hops__error(HOPS_EVERSION, "hops_dataset_add_options: unknown version %u",
                           o->version);
    if (!file || !*file)
        return hops__error(HOPS_EINVAL, "which file? a dataset version needs a data file");
    if ((rc = hops__check_name("dataset name", name)) != HOPS_OK)
        return rc;
    if (transform_json) {
        json_error_t je;
        json_t *t = json_loads(transform_json, JSON_DECODE_ANY, &je);
        if (!t)
            return hops__error(HOPS_EINVAL, "transform spec is not JSON: %s (line %d, column %d)",
                               je.text, je.line, je.column);
        transform = hops__json_dumps(t, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(t);
        if (!transform)
            return hops__error(HOPS_ENOMEM, "out of memory");
    }
    if (source_spec && (rc = find_version(p, source_spec, &source_vid)) != HOPS_OK) {
        hops__error_prefix(rc, "source dataset");
        goto out;
    }
    if ((rc = base_name(file, &file_name)) != HOPS_OK || (rc = open_source(file, &fd)) != HOPS_OK)
        goto out;
    if (!is_utf8(file_name)) {
        rc = hops__error(HOPS_EINVAL, "the name of '%s' is not valid UTF-8; rename the file", file);
        goto out;
    }
    if (o->description && !is_utf8(o->description)) {
        rc = hops__error(HOPS_EINVAL, "the description is not valid UTF-8");
        goto out;
    }
    if (!(source_path = hops__abspath(file))) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = staging_new(p, &stage)) != HOPS_OK)
        goto out;
    if ((rc = copy_hashed(fd, file, stage, file_name, sha, &nv.size)) != HOPS_OK)
        goto out;
    close(fd);
    fd = -1;
    /* Describe the copy, not the original: it is what the version holds. */
    if (!(stored = hops__aprintf("%s/%s", stage, file_name))) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = describe_table(stored, file_name, &o->read, &table)) != HOPS_OK) {
        rename_in_error(rc, stored, file);
        goto out;
    }

    if ((rc = hops__db_begin(p->db)) != HOPS_OK)
        goto out;
    in_tx = 1;
    if ((rc = dataset_id(p, name, &ds)) != HOPS_OK ||
        (rc = latest_version(p, ds, &latest, &latest_vid, latest_sha)) != HOPS_OK)
        goto out;
    if (latest && strcmp(latest_sha, sha) == 0) {
        vid = latest_vid; /* the same content: no new version */
        hops__db_rollback(p->db);
        in_tx = 0;
    } else {
        nv.name = name;
        nv.file_name = file_name;
        nv.source_path = source_path;
        nv.description = o->description;
        nv.sha256 = sha;
        nv.source_vid = source_vid;
        nv.transform = transform;
        nv.read = &o->read;
        nv.table = &table;
        if ((rc = place_version(p, ds, latest + 1, stage, &nv, &vid)) != HOPS_OK)
            goto out;
        if ((rc = hops__db_commit(p->db)) != HOPS_OK) {
            in_tx = 0;
            remove_uncommitted(p, ds, name, latest + 1);
            goto out;
        }
        in_tx = 0;
        added = 1;
    }
    if (out_json) {
        if ((rc = load_version(p, vid, &doc)) != HOPS_OK)
            goto out;
        json_object_set_new(doc, "added", json_boolean(added));
        rc = dump(doc, out_json);
    }
out:
    if (in_tx)
        hops__db_rollback(p->db);
    if (fd >= 0)
        close(fd);
    if (stage)
        remove_quietly(stage); /* gone already when it became the version */
    table_facts_free(&table);
    free(stage);
    free(stored);
    free(transform);
    free(source_path);
    return rc;
}

hops_status hops_dataset_add(hops_project *p, const char *name, const char *file,
                             const hops_dataset_add_options *o, char **out_json)
{
    return add_version(p, name, file, NULL, NULL, o, out_json);
}

hops_status hops_dataset_add_derived(hops_project *p, const char *name, const char *file,
                                     const char *source_spec, const char *transform_json,
                                     const hops_dataset_add_options *o, char **out_json)
{
    if (!source_spec)
        return hops__error(HOPS_EINVAL,
                           "a derived dataset version needs its source (NAME[:VERSION])");
    return add_version(p, name, file, source_spec, transform_json, o, out_json);
}
