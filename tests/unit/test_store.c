/* Unit tests for src/meta: project init/open, discovery, refusal of damaged
 * or foreign databases, migrations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "hops/project.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    unsetenv("HOPS_PROJECT");
    snprintf(dir, sizeof dir, "/tmp/hops-unit-store.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return hops__rm_rf(dir) == HOPS_OK ? 0 : -1;
}

static char *db_path(void) { return hops__aprintf("%s/.hops/hops.db", dir); }

static void test_init_and_open(void **state)
{
    hops_project *p;
    (void)state;
    assert_int_equal(hops_project_init(dir), HOPS_OK);
    assert_int_equal(hops_project_init(dir), HOPS_EEXISTS);
    assert_int_equal(hops_project_open_at(&p, dir), HOPS_OK);
    assert_string_equal(hops_project_root(p), dir);
    assert_non_null(strstr(hops_project_hops_dir(p), "/.hops"));
    hops_project_close(p);
}

static void test_walk_up_and_env(void **state)
{
    hops_project *p;
    char *sub = hops__aprintf("%s/x/y/z", dir);
    (void)state;
    assert_int_equal(hops_project_open(&p, sub), HOPS_ENOPROJECT); /* nothing yet */
    assert_non_null(strstr(hops_last_error(), "hops init"));
    assert_int_equal(hops_project_init(dir), HOPS_OK);
    assert_int_equal(hops__mkdir_p(sub, 0755), HOPS_OK);
    assert_int_equal(hops_project_open(&p, sub), HOPS_OK);
    assert_string_equal(hops_project_root(p), dir);
    hops_project_close(p);
    setenv("HOPS_PROJECT", "/nonexistent-hops-project", 1);
    assert_int_equal(hops_project_open(&p, sub), HOPS_ENOPROJECT);
    setenv("HOPS_PROJECT", dir, 1);
    assert_int_equal(hops_project_open(&p, "/"), HOPS_OK);
    hops_project_close(p);
    unsetenv("HOPS_PROJECT");
    free(sub);
}

static void write_bytes(const char *path, const char *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(bytes, 1, n, f);
    fclose(f);
}

static void test_refuses_garbage_untouched(void **state)
{
    hops_project *p;
    char *path = db_path(), *back;
    char garbage[4096];
    size_t len;
    (void)state;
    assert_int_equal(hops_project_init(dir), HOPS_OK);
    unlink(path);
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (char)(i * 7 + 3);
    write_bytes(path, garbage, sizeof garbage);
    assert_int_equal(hops_project_open_at(&p, dir), HOPS_ECORRUPT);
    assert_null(p);
    assert_non_null(strstr(hops_last_error(), "left untouched"));
    assert_int_equal(hops__read_file(path, &back, &len), HOPS_OK);
    assert_int_equal(len, sizeof garbage);
    assert_memory_equal(back, garbage, sizeof garbage);
    free(back);
    free(path);
}

static void test_refuses_foreign_sqlite(void **state)
{
    hops_project *p;
    sqlite3 *db;
    char *path = db_path();
    (void)state;
    assert_int_equal(hops_project_init(dir), HOPS_OK);
    unlink(path);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(hops_project_open_at(&p, dir), HOPS_ECORRUPT);
    assert_non_null(strstr(hops_last_error(), "not a hops one"));
    /* Still rollback-journal mode: hops did not switch it to WAL. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "delete");
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(path);
}

static void test_newer_schema_and_migration(void **state)
{
    hops_project *p;
    sqlite3 *db;
    char *path = db_path();
    char sql[64];
    (void)state;
    assert_int_equal(hops_project_init(dir), HOPS_OK);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", hops_project_schema_version() + 1);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    assert_int_equal(hops_project_open_at(&p, dir), HOPS_EVERSION);
    assert_non_null(strstr(hops_last_error(), "upgrade hops"));

    /* A hops database at version 0 (application id set, no tables) is migrated. */
    unlink(path);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_exec(db, "PRAGMA application_id = 1213157459", NULL, NULL, NULL);
    sqlite3_close(db);
    assert_int_equal(hops_project_open_at(&p, dir), HOPS_OK);
    hops_project_close(p);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = 'runs'", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(path);
}

static void test_missing_db(void **state)
{
    hops_project *p;
    char *path = db_path();
    (void)state;
    assert_int_equal(hops_project_init(dir), HOPS_OK);
    unlink(path);
    assert_int_equal(hops_project_open_at(&p, dir), HOPS_ECORRUPT);
    assert_int_equal(access(path, F_OK), -1); /* not recreated */
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_and_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_up_and_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_garbage_untouched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_foreign_sqlite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_and_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_db, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
