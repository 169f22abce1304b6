/* hops — the SQLite store: the project handle, schema, migrations and the
 * transaction helpers every module writes through. Private to the library;
 * the store is the layer below src/run/, src/hpo/ ..., which include it. */
#ifndef HOPS_META_H
#define HOPS_META_H

#include <sqlite3.h>

#include "core/core.h"
#include "hops/project.h"

/* 'HOPS' in the SQLite header's application_id field. */
#define HOPS_APPLICATION_ID 0x484f5053

struct hops_project {
    char *root;      /* absolute project directory */
    char *hops_dir;  /* root/.hops */
    char *db_path;   /* root/.hops/hops.db */
    sqlite3 *db;
};

/* Turn an SQLite result code into a hops_status with a message naming WHAT.
 * SQLITE_CORRUPT / SQLITE_NOTADB become HOPS_ECORRUPT, busy HOPS_EBUSY. */
hops_status hops__db_error(sqlite3 *db, int rc, const char *what);

/* Execute SQL with no results. */
hops_status hops__db_exec(sqlite3 *db, const char *sql);

/* BEGIN IMMEDIATE, waiting (busy timeout, then retries) for other writers:
 * concurrent hops processes queue up instead of failing. */
hops_status hops__db_begin(sqlite3 *db);
hops_status hops__db_commit(sqlite3 *db);
void hops__db_rollback(sqlite3 *db);

/* Prepare SQL; on failure the error names the statement. */
hops_status hops__db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out);

/* Bind NULL for NULL strings. */
int hops__db_bind_text(sqlite3_stmt *st, int idx, const char *s);

/* Read a REAL column; NULL reads as NaN (SQLite stores NaN as NULL). */
double hops__db_column_double(sqlite3_stmt *st, int col);

/* Look up or create an experiment by name; *id_out its id. Inside a transaction. */
hops_status hops__experiment_id(sqlite3 *db, const char *name, int64_t *id_out);

#endif
