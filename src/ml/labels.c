/* Model labels: `stable`, `canary`, ... each pointing at one version of a
 * registered model (table model_labels, schema 5). The server resolves
 * /v1/models/NAME/labels/LABEL through them. */
#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "meta/meta.h"
#include "ml.h"


static hops_status lookup_model(hops_project *p, const char *name, int64_t *mid)
{
    sqlite3_stmt *st;
    hops_status rc;
    *mid = 0;
    if ((rc = hops__check_name("model name", name)) != HOPS_OK ||
        (rc = hops__db_prepare(p->db, "SELECT id FROM models WHERE name = ?1", &st)) != HOPS_OK)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *mid = sqlite3_column_int64(st, 0);
    else if (src == SQLITE_DONE)
        rc = hops__error(HOPS_ENOTFOUND, "no model '%s' in this project", name);
    else
        rc = hops__db_error(p->db, src, "model lookup");
    sqlite3_finalize(st);
    return rc;
}

hops_status hops_model_label_set(hops_project *p, const char *name, int64_t version,
                                 const char *label)
{
    sqlite3_stmt *st = NULL;
    int64_t mid;
    hops_status rc;
    int src;
    if ((rc = hops__check_name("label", label)) != HOPS_OK)
        return rc;
    if (version < 1)
        return hops__error(HOPS_EINVAL, "versions start at 1, not %" PRId64, version);
    if ((rc = hops__db_begin(p->db)) != HOPS_OK)
        return rc;
    if ((rc = lookup_model(p, name, &mid)) != HOPS_OK)
        goto out;
    if ((rc = hops__db_prepare(p->db,
                               "SELECT 1 FROM model_versions WHERE model_id = ?1 AND version = ?2",
                               &st)) != HOPS_OK)
        goto out;
    sqlite3_bind_int64(st, 1, mid);
    sqlite3_bind_int64(st, 2, version);
    src = sqlite3_step(st);
    sqlite3_finalize(st);
    st = NULL;
    if (src != SQLITE_ROW) {
        rc = src == SQLITE_DONE
                 ? hops__error(HOPS_ENOTFOUND, "model '%s' has no version %" PRId64, name, version)
                 : hops__db_error(p->db, src, "model version lookup");
        goto out;
    }
    if ((rc = hops__db_prepare(p->db,
                               "INSERT INTO model_labels(model_id, label, version, updated) "
                               "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(model_id, label) DO UPDATE "
                               "SET version = excluded.version, updated = excluded.updated",
                               &st)) != HOPS_OK)
        goto out;
    sqlite3_bind_int64(st, 1, mid);
    sqlite3_bind_text(st, 2, label, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, version);
    sqlite3_bind_double(st, 4, hops__wall_time());
    src = sqlite3_step(st);
    if (src != SQLITE_DONE) {
        rc = hops__db_error(p->db, src, "set label");
        goto out;
    }
    sqlite3_finalize(st);
    return hops__db_commit(p->db);
out:
    sqlite3_finalize(st);
    hops__db_rollback(p->db);
    return rc;
}

hops_status hops_model_label_remove(hops_project *p, const char *name, const char *label)
{
    sqlite3_stmt *st = NULL;
    int64_t mid;
    hops_status rc;
    if ((rc = hops__check_name("label", label)) != HOPS_OK)
        return rc;
    if ((rc = hops__db_begin(p->db)) != HOPS_OK)
        return rc;
    if ((rc = lookup_model(p, name, &mid)) != HOPS_OK ||
        (rc = hops__db_prepare(p->db, "DELETE FROM model_labels WHERE model_id = ?1 AND label = ?2",
                               &st)) != HOPS_OK)
        goto out;
    sqlite3_bind_int64(st, 1, mid);
    sqlite3_bind_text(st, 2, label, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    if (src != SQLITE_DONE) {
        rc = hops__db_error(p->db, src, "remove label");
        goto out;
    }
    if (sqlite3_changes(p->db) == 0) {
        rc = hops__error(HOPS_ENOTFOUND, "model '%s' has no label '%s'", name, label);
        goto out;
    }
    sqlite3_finalize(st);
    return hops__db_commit(p->db);
out:
    sqlite3_finalize(st);
    hops__db_rollback(p->db);
    return rc;
}

hops_status hops_model_labels_json(hops_project *p, const char *name, char **out_json)
{
    sqlite3_stmt *st;
    int64_t mid;
    hops_status rc;
    int src;
    *out_json = NULL;
    if ((rc = lookup_model(p, name, &mid)) != HOPS_OK ||
        (rc = hops__db_prepare(
             p->db, "SELECT label, version FROM model_labels WHERE model_id = ?1 ORDER BY label",
             &st)) != HOPS_OK)
        return rc;
    sqlite3_bind_int64(st, 1, mid);
    json_t *doc = json_object();
    while ((src = sqlite3_step(st)) == SQLITE_ROW)
        json_object_set_new(doc, (const char *)sqlite3_column_text(st, 0),
                            json_integer((json_int_t)sqlite3_column_int64(st, 1)));
    sqlite3_finalize(st);
    if (src != SQLITE_DONE) {
        json_decref(doc);
        return hops__db_error(p->db, src, "model labels");
    }
    *out_json = hops__json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return *out_json ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
}
