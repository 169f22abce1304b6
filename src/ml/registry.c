/* The model registry: named models with versions 1, 2, ... in hops.db, their
 * files in .hops/models/NAME/VERSION/model.hops.
 *
 * A registration holds the database's write lock (BEGIN IMMEDIATE) from the
 * moment it reads the latest version until it commits the new one, and
 * writes the file (temp, fsync, rename) inside that window: concurrent
 * registrations queue and get distinct versions, and a version row always
 * has its file. A crash between the file and the commit leaves a folder with
 * no row, which the next registration of that number replaces. */
#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "meta/meta.h"
#include "ml.h"

#define MAX_LISTED 20

static hops_status model_id(hops_project *p, const char *name, int64_t *id_out)
{
    sqlite3_stmt *st;
    hops_status rc = hops__db_prepare(p->db, "SELECT id FROM models WHERE name = ?1", &st);
    *id_out = 0;
    if (rc != HOPS_OK)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *id_out = sqlite3_column_int64(st, 0);
    else if (src != SQLITE_DONE)
        rc = hops__db_error(p->db, src, "model lookup");
    sqlite3_finalize(st);
    return rc;
}

static hops_status latest_version(hops_project *p, int64_t mid, int64_t *out)
{
    sqlite3_stmt *st;
    hops_status rc = hops__db_prepare(
        p->db, "SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE model_id = ?1", &st);
    *out = 0;
    if (rc != HOPS_OK)
        return rc;
    sqlite3_bind_int64(st, 1, mid);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        rc = hops__db_error(p->db, src, "model versions");
    sqlite3_finalize(st);
    return rc;
}

/* "a, b, c" of the first column of SQL's rows (bound to ID when ID > 0). */
static char *list_of(hops_project *p, const char *sql, int64_t id)
{
    hops_buf b = HOPS_BUF_INIT;
    sqlite3_stmt *st;
    size_t n = 0;
    if (hops__db_prepare(p->db, sql, &st) != HOPS_OK)
        return NULL;
    if (id > 0)
        sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW && n < MAX_LISTED) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        hops__buf_printf(&b, "%s%s", n++ ? ", " : "", s ? s : "");
    }
    sqlite3_finalize(st);
    hops_error_clear();
    return hops__buf_detach(&b);
}

/* *VID_OUT: the model_versions row of SPEC. */
static hops_status find_version(hops_project *p, const char *spec, int64_t *vid_out)
{
    char *name = NULL, *names = NULL;
    int64_t version = 0, mid = 0;
    sqlite3_stmt *st = NULL;
    hops_status rc;
    *vid_out = 0;
    if ((rc = hops__parse_name_spec("model", spec, &name, &version)) != HOPS_OK)
        return rc;
    if ((rc = model_id(p, name, &mid)) != HOPS_OK)
        goto out;
    if (!mid) {
        names = list_of(p, "SELECT name FROM models ORDER BY name", 0);
        rc = hops__error(HOPS_ENOTFOUND, "no model '%s' in this project%s%s", name,
                         names && *names ? "; models: "
                                         : " (no models yet: train one with `hops train`)",
                         names && *names ? names : "");
        goto out;
    }
    rc = hops__db_prepare(p->db,
                          version
                              ? "SELECT id FROM model_versions WHERE model_id = ?1 AND version = ?2"
                              : "SELECT id FROM model_versions WHERE model_id = ?1 "
                                "ORDER BY version DESC LIMIT 1",
                          &st);
    if (rc != HOPS_OK)
        goto out;
    sqlite3_bind_int64(st, 1, mid);
    if (version)
        sqlite3_bind_int64(st, 2, version);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        *vid_out = sqlite3_column_int64(st, 0);
    } else if (src == SQLITE_DONE) {
        names = list_of(
            p, "SELECT version FROM model_versions WHERE model_id = ?1 ORDER BY version", mid);
        rc = hops__error(HOPS_ENOTFOUND, "model '%s' has no version %" PRId64 "; versions: %s",
                         name, version, names ? names : "none");
    } else {
        rc = hops__db_error(p->db, src, "model version lookup");
    }
out:
    sqlite3_finalize(st);
    free(names);
    free(name);
    return rc;
}

static char *version_dir(hops_project *p, const char *name, int64_t version)
{
    return hops__aprintf("%s/models/%s/%" PRId64, p->hops_dir, name, version);
}

#define VERSION_COLUMNS                                                                            \
    "m.name, v.version, v.type, v.run_uid, v.path, v.sha256, v.size, v.metrics, v.created, v.id"

/* The JSON object of the version row ST is on (VERSION_COLUMNS). */
static json_t *version_doc(hops_project *p, sqlite3_stmt *st)
{
    const char *name = (const char *)sqlite3_column_text(st, 0);
    const char *run = (const char *)sqlite3_column_text(st, 3);
    const char *path = (const char *)sqlite3_column_text(st, 4);
    const char *metrics = (const char *)sqlite3_column_text(st, 7);
    int64_t version = sqlite3_column_int64(st, 1);
    char *spec = hops__aprintf("%s:%" PRId64, name ? name : "", version);
    char *abs = hops__aprintf("%s/%s", p->hops_dir, path ? path : "");
    json_t *m = metrics ? json_loads(metrics, 0, NULL) : NULL;
    json_t *doc = json_pack("{s:s, s:I, s:s, s:s, s:o, s:s, s:s, s:I, s:o, s:f}", "name",
                            name ? name : "", "version", (json_int_t)version, "spec",
                            spec ? spec : "", "type", (const char *)sqlite3_column_text(st, 2),
                            "run", run ? json_string(run) : json_null(), "path", abs ? abs : "",
                            "sha256", (const char *)sqlite3_column_text(st, 5), "size",
                            (json_int_t)sqlite3_column_int64(st, 6), "metrics",
                            m ? m : json_object(), "created", sqlite3_column_double(st, 8));
    free(spec);
    free(abs);
    return doc;
}

static hops_status load_row(hops_project *p, int64_t vid, json_t **out)
{
    sqlite3_stmt *st;
    hops_status rc = hops__db_prepare(p->db,
                                      "SELECT " VERSION_COLUMNS " FROM model_versions v JOIN "
                                      "models m ON m.id = v.model_id WHERE v.id = ?1",
                                      &st);
    *out = NULL;
    if (rc != HOPS_OK)
        return rc;
    sqlite3_bind_int64(st, 1, vid);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *out = version_doc(p, st);
    else
        rc = src == SQLITE_DONE
                 ? hops__error(HOPS_ENOTFOUND, "model version %" PRId64 " is gone", vid)
                 : hops__db_error(p->db, src, "model version");
    sqlite3_finalize(st);
    if (rc == HOPS_OK && !*out)
        rc = hops__error(HOPS_ENOMEM, "out of memory");
    return rc;
}

static hops_status dump(json_t *doc, char **out)
{
    *out = doc ? hops__json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return *out ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}

/* Read the file of version DOC and check it against its recorded SHA-256.
 * *DATA owned. */
static hops_status read_checked(const json_t *doc, char **data, size_t *len)
{
    const char *path = json_string_value(json_object_get(doc, "path"));
    const char *want = json_string_value(json_object_get(doc, "sha256"));
    char got[65];
    hops_status rc = hops__read_file(path, data, len);
    if (rc != HOPS_OK)
        return hops__error_prefix(rc == HOPS_ENOTFOUND ? HOPS_ECORRUPT : rc,
                                  "model %s: its file is missing or unreadable",
                                  json_string_value(json_object_get(doc, "spec")));
    hops__sha256_hex(*data, *len, got);
    if (!want || strcmp(got, want) != 0) {
        free(*data);
        *data = NULL;
        return hops__error(HOPS_ECORRUPT,
                           "model %s: %s is damaged or was changed since it was registered "
                           "(SHA-256 %.12s, registered %.12s); register it again from a good copy",
                           json_string_value(json_object_get(doc, "spec")), path, got,
                           want ? want : "?");
    }
    return HOPS_OK;
}

hops_status hops_model_register(hops_project *p, const char *name, const char *path,
                                char **out_json)
{
    char *data = NULL, *dir = NULL, *file = NULL, *metrics = NULL, *rel = NULL;
    size_t len = 0;
    hops_model *m = NULL;
    char sha[65];
    int64_t mid = 0, latest = 0, vid = 0;
    int in_tx = 0, placed = 0;
    sqlite3_stmt *st = NULL;
    hops_status rc;

    if (out_json)
        *out_json = NULL;
    if ((rc = hops__check_name("model name", name)) != HOPS_OK)
        return rc;
    if ((rc = hops__read_file(path, &data, &len)) != HOPS_OK)
        return rc;
    if ((rc = hops__model_decode(data, len, 1, path, &m)) != HOPS_OK)
        goto out;
    hops__sha256_hex(data, len, sha);
    json_t *tr_run = json_object_get(m->training, "run");
    metrics = json_is_object(m->metrics) ? hops__json_dumps(m->metrics, JSON_COMPACT)
                                         : hops__strdup("{}");
    if (!metrics) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }

    if ((rc = hops__db_begin(p->db)) != HOPS_OK)
        goto out;
    in_tx = 1;
    if ((rc = model_id(p, name, &mid)) != HOPS_OK)
        goto out;
    if (!mid) {
        if ((rc = hops__db_prepare(p->db, "INSERT INTO models(name, created) VALUES (?1, ?2)",
                                   &st)) != HOPS_OK)
            goto out;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 2, hops__wall_time());
        int src = sqlite3_step(st);
        sqlite3_finalize(st);
        st = NULL;
        if (src != SQLITE_DONE) {
            rc = hops__db_error(p->db, src, "new model");
            goto out;
        }
        mid = sqlite3_last_insert_rowid(p->db);
    }
    if ((rc = latest_version(p, mid, &latest)) != HOPS_OK)
        goto out;
    dir = version_dir(p, name, latest + 1);
    file = dir ? hops__aprintf("%s/model.hops", dir) : NULL;
    rel = hops__aprintf("models/%s/%" PRId64 "/model.hops", name, latest + 1);
    if (!dir || !file || !rel) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    /* A folder here has no row (we hold the lock): a registration died
     * between its file and its commit. */
    if ((rc = hops__rm_rf(dir)) != HOPS_OK || (rc = hops__mkdir_p(dir, 0755)) != HOPS_OK)
        goto out;
    placed = 1;
    if ((rc = hops__atomic_write(file, data, len)) != HOPS_OK)
        goto out;
    if ((rc = hops__db_prepare(p->db,
                               "INSERT INTO model_versions(model_id, version, type, run_uid, path, "
                               "sha256, size, metrics, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                               "?7, ?8, ?9)",
                               &st)) != HOPS_OK)
        goto out;
    sqlite3_bind_int64(st, 1, mid);
    sqlite3_bind_int64(st, 2, latest + 1);
    sqlite3_bind_text(st, 3, hops_model_type_name(m->type), -1, SQLITE_STATIC);
    hops__db_bind_text(st, 4, json_string_value(tr_run));
    sqlite3_bind_text(st, 5, rel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, sha, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)len);
    sqlite3_bind_text(st, 8, metrics, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 9, hops__wall_time());
    int src = sqlite3_step(st);
    if (src != SQLITE_DONE) {
        rc = hops__db_error(p->db, src, "new model version");
        goto out;
    }
    vid = sqlite3_last_insert_rowid(p->db);
    in_tx = 0;
    if ((rc = hops__db_commit(p->db)) != HOPS_OK)
        goto out;
    placed = 0;
    if (out_json) {
        json_t *doc;
        if ((rc = load_row(p, vid, &doc)) == HOPS_OK)
            rc = dump(doc, out_json);
    }
out:
    sqlite3_finalize(st);
    if (in_tx)
        hops__db_rollback(p->db);
    if (placed && dir) {
        char *saved = hops__strdup(hops_last_error());
        hops__rm_rf(dir);
        if (saved)
            hops__error(rc, "%s", saved);
        free(saved);
    }
    hops_model_free(m);
    free(data);
    free(dir);
    free(file);
    free(rel);
    free(metrics);
    return rc;
}

hops_status hops_model_open(hops_project *p, const char *spec, hops_model **out)
{
    int64_t vid;
    json_t *doc = NULL;
    char *data = NULL;
    size_t len = 0;
    hops_status rc;
    *out = NULL;
    if ((rc = find_version(p, spec, &vid)) != HOPS_OK || (rc = load_row(p, vid, &doc)) != HOPS_OK)
        return rc;
    if ((rc = read_checked(doc, &data, &len)) == HOPS_OK)
        rc = hops__model_decode(data, len, 1, json_string_value(json_object_get(doc, "path")), out);
    free(data);
    json_decref(doc);
    return rc;
}

hops_status hops_model_show_json(hops_project *p, const char *spec, char **out_json)
{
    int64_t vid;
    json_t *doc = NULL;
    char *data = NULL;
    size_t len = 0;
    hops_model *m = NULL;
    hops_status rc;
    *out_json = NULL;
    if ((rc = find_version(p, spec, &vid)) != HOPS_OK || (rc = load_row(p, vid, &doc)) != HOPS_OK)
        return rc;
    if ((rc = read_checked(doc, &data, &len)) == HOPS_OK &&
        (rc = hops__model_decode(data, len, 1, json_string_value(json_object_get(doc, "path")),
                                 &m)) == HOPS_OK) {
        json_object_set_new(doc, "header", hops__model_header(m));
        json_object_set_new(doc, "error", json_null());
    } else {
        json_object_set_new(doc, "header", json_null());
        json_object_set_new(doc, "error", json_string(hops_last_error()));
    }
    hops_model_free(m);
    free(data);
    hops_error_clear();
    return dump(doc, out_json);
}

hops_status hops_model_versions_json(hops_project *p, const char *name, char **out_json)
{
    int64_t mid = 0;
    sqlite3_stmt *st;
    hops_status rc;
    *out_json = NULL;
    if ((rc = hops__check_name("model name", name)) != HOPS_OK ||
        (rc = model_id(p, name, &mid)) != HOPS_OK)
        return rc;
    if (!mid)
        return hops__error(HOPS_ENOTFOUND, "no model '%s' in this project", name);
    if ((rc = hops__db_prepare(p->db,
                               "SELECT " VERSION_COLUMNS " FROM model_versions v JOIN models m ON "
                               "m.id = v.model_id WHERE v.model_id = ?1 ORDER BY v.version",
                               &st)) != HOPS_OK)
        return rc;
    sqlite3_bind_int64(st, 1, mid);
    json_t *arr = json_array();
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, version_doc(p, st));
    sqlite3_finalize(st);
    if (src != SQLITE_DONE) {
        json_decref(arr);
        return hops__db_error(p->db, src, "model versions");
    }
    return dump(arr, out_json);
}

hops_status hops_model_list_json(hops_project *p, char **out_json)
{
    sqlite3_stmt *st;
    hops_status rc = hops__db_prepare(
        p->db,
        "SELECT " VERSION_COLUMNS ", (SELECT COUNT(*) FROM model_versions w WHERE w.model_id = "
        "m.id) FROM models m JOIN model_versions v ON v.model_id = m.id AND v.version = (SELECT "
        "MAX(version) FROM model_versions w WHERE w.model_id = m.id) ORDER BY m.name",
        &st);
    *out_json = NULL;
    if (rc != HOPS_OK)
        return rc;
    json_t *arr = json_array();
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *v = version_doc(p, st);
        json_t *row = json_pack(
            "{s:O, s:O, s:I, s:O, s:O, s:O, s:O}", "name", json_object_get(v, "name"), "latest",
            json_object_get(v, "version"), "versions", (json_int_t)sqlite3_column_int64(st, 10),
            "type", json_object_get(v, "type"), "run", json_object_get(v, "run"), "metrics",
            json_object_get(v, "metrics"), "created", json_object_get(v, "created"));
        json_array_append_new(arr, row);
        json_decref(v);
    }
    sqlite3_finalize(st);
    if (src != SQLITE_DONE) {
        json_decref(arr);
        return hops__db_error(p->db, src, "models");
    }
    return dump(arr, out_json);
}

hops_status hops_model_export(hops_project *p, const char *spec, const char *dir, char **out_json)
{
    int64_t vid;
    json_t *doc = NULL;
    char *data = NULL, *file = NULL, *hfile = NULL, *htext = NULL;
    size_t len = 0;
    hops_model *m = NULL;
    hops_status rc;
    if (out_json)
        *out_json = NULL;
    if (!dir || !*dir)
        return hops__error(HOPS_EINVAL, "export where? name a directory (-o DIR)");
    if ((rc = find_version(p, spec, &vid)) != HOPS_OK || (rc = load_row(p, vid, &doc)) != HOPS_OK)
        return rc;
    if ((rc = read_checked(doc, &data, &len)) != HOPS_OK ||
        (rc = hops__model_decode(data, len, 1, json_string_value(json_object_get(doc, "path")),
                                 &m)) != HOPS_OK ||
        (rc = hops_model_header_json(m, &htext)) != HOPS_OK)
        goto out;
    file = hops__aprintf("%s/model.hops", dir);
    hfile = hops__aprintf("%s/model.json", dir);
    if (!file || !hfile) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = hops__mkdir_p(dir, 0755)) != HOPS_OK ||
        (rc = hops__atomic_write(file, data, len)) != HOPS_OK)
        goto out;
    size_t hl = strlen(htext);
    htext[hl] = '\0';
    char *with_nl = hops__aprintf("%s\n", htext);
    if (!with_nl) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    rc = hops__atomic_write(hfile, with_nl, hl + 1);
    free(with_nl);
    if (rc == HOPS_OK && out_json)
        rc = dump(json_pack("{s:O, s:[s, s], s:s}", "spec", json_object_get(doc, "spec"), "files",
                            file, hfile, "sha256",
                            json_string_value(json_object_get(doc, "sha256"))),
                  out_json);
out:
    hops_model_free(m);
    json_decref(doc);
    free(data);
    free(file);
    free(hfile);
    free(htext);
    return rc;
}

hops_status hops_model_best_json(hops_project *p, const char *name, const char *metric,
                                 int maximize, char **out_json)
{
    char *text = NULL;
    json_t *arr, *v, *best = NULL, *keys = NULL;
    double best_value = 0;
    size_t i;
    hops_status rc;
    *out_json = NULL;
    if (!metric || !*metric)
        return hops__error(HOPS_EINVAL, "which metric? (--metric accuracy, r2, ...)");
    if ((rc = hops_model_versions_json(p, name, &text)) != HOPS_OK)
        return rc;
    arr = json_loads(text, 0, NULL);
    free(text);
    if (!arr)
        return hops__error(HOPS_ENOMEM, "out of memory");
    keys = json_object();
    json_array_foreach(arr, i, v)
    {
        json_t *ms = json_object_get(v, "metrics"), *x;
        const char *k;
        json_object_foreach(ms, k, x) if (json_is_number(x) && strcmp(k, "n") != 0)
            json_object_set_new(keys, k, json_true());
        x = json_object_get(ms, metric);
        if (!json_is_number(x))
            continue;
        double val = json_number_value(x);
        if (isnan(val))
            continue;
        if (!best || (maximize ? val >= best_value : val <= best_value)) {
            best = v;
            best_value = val;
        }
    }
    if (!best) {
        hops_buf b = HOPS_BUF_INIT;
        const char *k;
        json_t *x;
        size_t n = 0;
        json_object_foreach(keys, k, x) hops__buf_printf(&b, "%s%s", n++ ? ", " : "", k);
        rc = hops__error(HOPS_ENOTFOUND, "no version of model '%s' has the test metric '%s'%s%s",
                         name, metric, n ? "; metrics: " : "", n ? b.data : "");
        hops__buf_free(&b);
    } else {
        rc = dump(json_incref(best), out_json);
    }
    json_decref(keys);
    json_decref(arr);
    return rc;
}
