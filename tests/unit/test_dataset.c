/* Unit tests for src/data/dataset.c: adding versions, duplicates, resolving
 * specs and their errors, lineage, and adds that fail or die half-way
 * leaving no version behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "hops/dataset.h"
#include "hops/run.h"
#include "meta/meta.h"

static char dir[256];
static hops_project *proj;

/* sha256sum of "a,b\n1,2\n3,4\n" */
#define SMALL_CSV "a,b\n1,2\n3,4\n"
#define SMALL_SHA "b9485148546419a0f6a85e8d708c923557c15d7f3c7d078ef1fa7f7c0f57d5a5"

static int setup(void **state)
{
    (void)state;
    unsetenv("HOPS_PROJECT");
    snprintf(dir, sizeof dir, "/tmp/hops-unit-dataset.XXXXXX");
    if (!mkdtemp(dir) || hops_project_init(dir) != HOPS_OK)
        return -1;
    return hops_project_open_at(&proj, dir) == HOPS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    hops_project_close(proj);
    proj = NULL;
    return hops__rm_rf(dir) == HOPS_OK ? 0 : -1;
}

/* Write TEXT to DIR/NAME; the path (owned). */
static char *write_file(const char *name, const char *text)
{
    char *path = hops__aprintf("%s/%s", dir, name);
    assert_non_null(path);
    assert_int_equal(hops__atomic_write(path, text, strlen(text)), HOPS_OK);
    return path;
}

static json_t *parse(char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    hops_free(text);
    assert_non_null(j);
    return j;
}

/* Add TEXT as file NAME to dataset DS; the add's document. */
static json_t *add(const char *ds, const char *name, const char *text)
{
    char *path = write_file(name, text), *out = NULL;
    hops_status rc = hops_dataset_add(proj, ds, path, NULL, &out);
    if (rc != HOPS_OK)
        fail_msg("add %s: %s", name, hops_last_error());
    free(path);
    return parse(out);
}

static json_t *show(const char *spec)
{
    char *out = NULL;
    assert_int_equal(hops_dataset_show_json(proj, spec, &out), HOPS_OK);
    return parse(out);
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static long long jint(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static long long count_rows(const char *sql)
{
    sqlite3_stmt *st;
    long long n = -1;
    assert_int_equal(hops__db_prepare(proj->db, sql, &st), HOPS_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Entries in PATH other than . and .. (-1: no such folder). */
static int entries(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* Nothing of a version anywhere: no rows, no folders but the (empty) staging one. */
static void assert_no_versions(void)
{
    char *datasets = hops__aprintf("%s/.hops/datasets", dir);
    char *staging = hops__aprintf("%s/.hops/datasets/.staging", dir);
    assert_int_equal(count_rows("SELECT count(*) FROM dataset_versions"), 0);
    assert_int_equal(count_rows("SELECT count(*) FROM datasets"), 0);
    int n = entries(datasets);
    if (n > 0) {
        assert_int_equal(n, 1); /* .staging */
        assert_int_equal(entries(staging), 0);
    }
    free(datasets);
    free(staging);
}

static void test_add_and_show(void **state)
{
    (void)state;
    json_t *doc = add("iris", "small.csv", SMALL_CSV);
    assert_true(json_is_true(json_object_get(doc, "added")));
    assert_string_equal(jstr(doc, "name"), "iris");
    assert_int_equal(jint(doc, "version"), 1);
    assert_string_equal(jstr(doc, "spec"), "iris:1");
    assert_int_equal(jint(doc, "latest"), 1);
    assert_string_equal(jstr(doc, "sha256"), SMALL_SHA);
    assert_int_equal(jint(doc, "size"), strlen(SMALL_CSV));
    assert_int_equal(jint(doc, "rows"), 2);
    assert_string_equal(jstr(doc, "format"), "csv");
    assert_string_equal(jstr(doc, "file_name"), "small.csv");
    json_t *cols = json_object_get(doc, "columns");
    assert_int_equal(json_array_size(cols), 2);
    assert_string_equal(json_string_value(json_array_get(cols, 0)), "a");
    assert_string_equal(json_string_value(json_array_get(cols, 1)), "b");
    assert_true(json_is_null(json_object_get(doc, "lineage")));
    assert_int_equal(json_array_size(json_object_get(doc, "derived")), 0);

    /* The stored copy: where it says, byte-identical, read-only, original name. */
    const char *path = jstr(doc, "path");
    char *want = hops__aprintf("%s/.hops/datasets/iris/1/small.csv", dir);
    assert_string_equal(path, want);
    char *content = NULL;
    size_t len = 0;
    assert_int_equal(hops__read_file(path, &content, &len), HOPS_OK);
    assert_int_equal(len, strlen(SMALL_CSV));
    assert_memory_equal(content, SMALL_CSV, len);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0444);
    /* Nothing else in the version folder (no temp file). */
    char *vdir = hops__aprintf("%s/.hops/datasets/iris/1", dir);
    assert_int_equal(entries(vdir), 1);

    json_t *again = show("iris:1");
    assert_string_equal(jstr(again, "sha256"), SMALL_SHA);
    /* The inferred schema, naming the stored file rather than a temporary one. */
    json_t *schema = json_object_get(again, "schema");
    assert_true(json_is_object(schema));
    assert_string_equal(jstr(json_object_get(schema, "inferred_from"), "file"), "small.csv");
    assert_int_equal(jint(json_object_get(schema, "inferred_from"), "rows"), 2);
    json_t *col_a = json_array_get(json_object_get(schema, "columns"), 0);
    assert_string_equal(jstr(col_a, "name"), "a");
    assert_string_equal(jstr(col_a, "type"), "int");
    assert_int_equal(jint(col_a, "min"), 1);
    assert_int_equal(jint(col_a, "max"), 3);
    assert_null(json_object_get(again, "added"));
    json_decref(again);

    char *resolved = NULL;
    assert_int_equal(hops_dataset_resolve(proj, "iris", &resolved), HOPS_OK);
    assert_string_equal(resolved, want);
    hops_free(resolved);

    /* A description, and JSON Lines. */
    hops_dataset_add_options o = HOPS_DATASET_ADD_OPTIONS_INIT;
    o.description = "events of a day";
    char *jl = write_file("events.jsonl", "{\"x\": 1, \"y\": \"a\"}\n{\"x\": 2, \"y\": null}\n"
                                          "{\"x\": 3}\n");
    char *out = NULL;
    assert_int_equal(hops_dataset_add(proj, "events", jl, &o, &out), HOPS_OK);
    json_t *ev = parse(out);
    assert_string_equal(jstr(ev, "format"), "jsonl");
    assert_int_equal(jint(ev, "rows"), 3);
    assert_string_equal(jstr(ev, "description"), "events of a day");
    assert_int_equal(json_array_size(json_object_get(ev, "columns")), 2);
    json_decref(ev);

    /* The out document is optional. */
    assert_int_equal(hops_dataset_add(proj, "events2", jl, NULL, NULL), HOPS_OK);

    free(jl);
    free(vdir);
    free(content);
    free(want);
    json_decref(doc);
}

static void test_versions_and_list(void **state)
{
    (void)state;
    json_decref(add("d", "v.csv", "a\n1\n"));
    json_t *two = add("d", "v.csv", "a\n1\n2\n");
    assert_int_equal(jint(two, "version"), 2);
    assert_int_equal(jint(two, "rows"), 2);
    json_decref(two);
    json_t *three = add("d", "other-name.csv", "a\n1\n2\n3\n");
    assert_int_equal(jint(three, "version"), 3);
    assert_string_equal(jstr(three, "file_name"), "other-name.csv");
    json_decref(three);
    json_decref(add("another", "x.csv", "z\n9\n"));

    char *p1 = NULL, *p3 = NULL, *platest = NULL;
    assert_int_equal(hops_dataset_resolve(proj, "d:1", &p1), HOPS_OK);
    assert_int_equal(hops_dataset_resolve(proj, "d:3", &p3), HOPS_OK);
    assert_int_equal(hops_dataset_resolve(proj, "d", &platest), HOPS_OK);
    assert_non_null(strstr(p1, "/datasets/d/1/v.csv"));
    assert_string_equal(p3, platest);
    hops_free(p1);
    hops_free(p3);
    hops_free(platest);

    char *out = NULL;
    assert_int_equal(hops_dataset_list_json(proj, &out), HOPS_OK);
    json_t *list = parse(out);
    assert_int_equal(json_array_size(list), 2);
    json_t *a = json_array_get(list, 0), *d = json_array_get(list, 1);
    assert_string_equal(jstr(a, "name"), "another");
    assert_string_equal(jstr(d, "name"), "d");
    assert_int_equal(jint(d, "latest"), 3);
    assert_int_equal(jint(d, "versions"), 3);
    assert_int_equal(jint(d, "rows"), 3);
    assert_int_equal(jint(d, "size"), strlen("a\n1\n2\n3\n"));
    assert_true(json_real_value(json_object_get(d, "created")) > 1e9);
    json_decref(list);

    assert_int_equal(hops_dataset_versions_json(proj, "d", &out), HOPS_OK);
    json_t *versions = parse(out);
    assert_int_equal(json_array_size(versions), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(jint(json_array_get(versions, i), "version"), i + 1);
        assert_int_equal(jint(json_array_get(versions, i), "latest"), 3);
    }
    json_decref(versions);
    assert_int_equal(hops_dataset_versions_json(proj, "nope", &out), HOPS_ENOTFOUND);
}

static void test_duplicate_content(void **state)
{
    (void)state;
    json_decref(add("d", "a.csv", SMALL_CSV));
    /* The same bytes under another file name: still the same content. */
    json_t *dup = add("d", "b.csv", SMALL_CSV);
    assert_false(json_is_true(json_object_get(dup, "added")));
    assert_true(json_is_false(json_object_get(dup, "added")));
    assert_int_equal(jint(dup, "version"), 1);
    assert_string_equal(jstr(dup, "file_name"), "a.csv");
    json_decref(dup);
    assert_int_equal(count_rows("SELECT count(*) FROM dataset_versions"), 1);
    char *vdir2 = hops__aprintf("%s/.hops/datasets/d/2", dir);
    assert_int_equal(entries(vdir2), -1);
    free(vdir2);

    /* Only the latest version counts: going back to v1's content is v3. */
    json_decref(add("d", "a.csv", "a,b\n5,6\n"));
    json_t *back = add("d", "a.csv", SMALL_CSV);
    assert_true(json_is_true(json_object_get(back, "added")));
    assert_int_equal(jint(back, "version"), 3);
    json_decref(back);

    /* Another name with the same content is its own dataset. */
    json_t *other = add("e", "a.csv", SMALL_CSV);
    assert_true(json_is_true(json_object_get(other, "added")));
    assert_int_equal(jint(other, "version"), 1);
    json_decref(other);
}

static void expect_resolve_error(const char *spec, hops_status want, const char *needle)
{
    char *path = (char *)"untouched";
    assert_int_equal(hops_dataset_resolve(proj, spec, &path), want);
    assert_null(path);
    if (!strstr(hops_last_error(), needle))
        fail_msg("resolve '%s': message '%s' lacks '%s'", spec, hops_last_error(), needle);
}

static void test_resolve_errors(void **state)
{
    (void)state;
    expect_resolve_error("iris", HOPS_ENOTFOUND, "no datasets yet");
    json_decref(add("iris", "i.csv", "a\n1\n"));
    json_decref(add("iris", "i.csv", "a\n2\n"));
    json_decref(add("cars", "c.csv", "b\n1\n"));
    expect_resolve_error("nope", HOPS_ENOTFOUND,
                         "no dataset 'nope' in this project; datasets: "
                         "cars, iris");
    expect_resolve_error("nope:1", HOPS_ENOTFOUND, "datasets: cars, iris");
    expect_resolve_error("iris:3", HOPS_ENOTFOUND,
                         "dataset 'iris' has no version 3; its "
                         "versions: 1, 2");
    expect_resolve_error("iris:abc", HOPS_EINVAL,
                         "the version 'abc' is not a positive integer "
                         "(column 6)");
    expect_resolve_error("iris:1x", HOPS_EINVAL, "column 7");
    expect_resolve_error("iris:-1", HOPS_EINVAL, "not a positive integer");
    expect_resolve_error("iris:", HOPS_EINVAL, "no version after ':' (e.g. iris:1)");
    expect_resolve_error("iris:0", HOPS_EINVAL, "versions start at 1");
    expect_resolve_error("iris:99999999999999999999", HOPS_EINVAL, "not a positive integer");
    expect_resolve_error("iris:1:2", HOPS_EINVAL, "not a positive integer");
    expect_resolve_error(":1", HOPS_EINVAL, "empty dataset name");
    expect_resolve_error("", HOPS_EINVAL, "empty dataset spec");
    expect_resolve_error("a b", HOPS_EINVAL, "character 2 (' ') is not allowed");
    expect_resolve_error(".hidden", HOPS_EINVAL, "may not start with '.'");
    expect_resolve_error("../etc", HOPS_EINVAL, "may not start with '.'");

    char *out = NULL;
    assert_int_equal(hops_dataset_show_json(proj, "iris:9", &out), HOPS_ENOTFOUND);
    assert_null(out);

    /* Pinning a spec to the version it names now. */
    char *pinned = NULL;
    assert_int_equal(hops_dataset_pin(proj, "iris", &pinned), HOPS_OK);
    assert_string_equal(pinned, "iris:2");
    hops_free(pinned);
    assert_int_equal(hops_dataset_pin(proj, "iris:1", &pinned), HOPS_OK);
    assert_string_equal(pinned, "iris:1");
    hops_free(pinned);
    assert_int_equal(hops_dataset_pin(proj, "iris:5", &pinned), HOPS_ENOTFOUND);
    assert_null(pinned);
    assert_int_equal(hops_dataset_pin(proj, "iris:x", &pinned), HOPS_EINVAL);

    /* Many versions: the message lists the last ones and says how many more. */
    for (int i = 3; i <= 25; i++) {
        char text[32];
        snprintf(text, sizeof text, "a\n%d\n", i);
        json_decref(add("iris", "i.csv", text));
    }
    expect_resolve_error("iris:99", HOPS_ENOTFOUND, "its versions: (5 more), 6, 7,");
    expect_resolve_error("iris:99", HOPS_ENOTFOUND, "24, 25");

    /* A stored file removed behind hops' back is named, not returned. */
    char *p = NULL;
    assert_int_equal(hops_dataset_resolve(proj, "cars", &p), HOPS_OK);
    assert_int_equal(unlink(p), 0);
    hops_free(p);
    expect_resolve_error("cars", HOPS_ECORRUPT, "is missing");
}

static void test_lineage(void **state)
{
    (void)state;
    json_decref(add("raw", "raw.csv", "age,country\n31,SE\n20,NO\n"));
    json_decref(add("raw", "raw.csv", "age,country\n31,SE\n20,NO\n45,SE\n"));
    char *clean = write_file("clean.csv", "age,country\n31,SE\n45,SE\n");
    char *out = NULL;
    const char *spec = "{\"filter\": \"age > 30\", \"select\": [\"age\", \"country\"]}";
    assert_int_equal(hops_dataset_add_derived(proj, "clean", clean, "raw", spec, NULL, &out),
                     HOPS_OK);
    json_t *doc = parse(out);
    assert_true(json_is_true(json_object_get(doc, "added")));
    json_t *lin = json_object_get(doc, "lineage");
    assert_true(json_is_object(lin));
    assert_string_equal(jstr(lin, "source"), "raw:2"); /* "raw" fixed to its latest now */
    json_t *raw2 = show("raw:2");
    assert_string_equal(jstr(lin, "source_sha256"), jstr(raw2, "sha256"));
    assert_string_equal(jstr(json_object_get(lin, "transform"), "filter"), "age > 30");
    assert_int_equal(json_array_size(json_object_get(json_object_get(lin, "transform"), "select")),
                     2);
    assert_int_equal(json_array_size(json_object_get(doc, "ancestry")), 1);
    json_decref(doc);

    /* The source knows what was made from it. */
    json_t *derived = json_object_get(raw2, "derived");
    assert_int_equal(json_array_size(derived), 1);
    assert_string_equal(json_string_value(json_array_get(derived, 0)), "clean:1");
    json_decref(raw2);
    json_t *raw1 = show("raw:1");
    assert_int_equal(json_array_size(json_object_get(raw1, "derived")), 0);
    json_decref(raw1);

    /* A chain: ancestry nearest first. Transform may be absent. */
    char *small = write_file("small.csv", "age,country\n45,SE\n");
    assert_int_equal(hops_dataset_add_derived(proj, "small", small, "clean:1", NULL, NULL, &out),
                     HOPS_OK);
    doc = parse(out);
    json_t *anc = json_object_get(doc, "ancestry");
    assert_int_equal(json_array_size(anc), 2);
    assert_string_equal(json_string_value(json_array_get(anc, 0)), "clean:1");
    assert_string_equal(json_string_value(json_array_get(anc, 1)), "raw:2");
    assert_true(json_is_null(json_object_get(json_object_get(doc, "lineage"), "transform")));
    json_decref(doc);

    /* The versions listing carries lineage too. */
    assert_int_equal(hops_dataset_versions_json(proj, "clean", &out), HOPS_OK);
    json_t *vs = parse(out);
    assert_string_equal(jstr(json_object_get(json_array_get(vs, 0), "lineage"), "source"), "raw:2");
    json_decref(vs);

    /* Bad lineage inputs fail before anything is stored. */
    char *other = write_file("other.csv", "age\n1\n");
    assert_int_equal(hops_dataset_add_derived(proj, "x", other, "nope", NULL, NULL, &out),
                     HOPS_ENOTFOUND);
    assert_non_null(strstr(hops_last_error(), "source dataset: no dataset 'nope'"));
    assert_int_equal(hops_dataset_add_derived(proj, "x", other, "raw:7", NULL, NULL, &out),
                     HOPS_ENOTFOUND);
    assert_int_equal(hops_dataset_add_derived(proj, "x", other, "raw", "{\"filter\": ", NULL, &out),
                     HOPS_EINVAL);
    assert_non_null(strstr(hops_last_error(), "transform spec is not JSON"));
    assert_int_equal(hops_dataset_add_derived(proj, "x", other, NULL, "{}", NULL, &out),
                     HOPS_EINVAL);
    assert_int_equal(hops_dataset_resolve(proj, "x", &out), HOPS_ENOTFOUND);
    free(other);
    free(small);
    free(clean);
}

static void expect_add_error(const char *name, const char *file, hops_status want,
                             const char *needle)
{
    char *out = (char *)"untouched";
    assert_int_equal(hops_dataset_add(proj, name, file, NULL, &out), want);
    assert_null(out);
    if (!strstr(hops_last_error(), needle))
        fail_msg("add '%s' as '%s': message '%s' lacks '%s'", file, name, hops_last_error(),
                 needle);
    assert_no_versions();
}

static void test_failed_add_leaves_nothing(void **state)
{
    (void)state;
    char *missing = hops__aprintf("%s/missing.csv", dir);
    expect_add_error("d", missing, HOPS_ENOTFOUND, "missing.csv");
    expect_add_error("d", dir, HOPS_EINVAL, "is a directory");
    expect_add_error("d", "", HOPS_EINVAL, "which file");

    char *good = write_file("good.csv", "a,b\n1,2\n");
    expect_add_error("", good, HOPS_EINVAL, "empty dataset name");
    expect_add_error("a/b", good, HOPS_EINVAL, "character 2 ('/') is not allowed");
    expect_add_error("a:b", good, HOPS_EINVAL, "character 2 (':') is not allowed");
    expect_add_error("-x", good, HOPS_EINVAL, "may not start with '-'");
    expect_add_error("..", good, HOPS_EINVAL, "may not start with '.'");
    char longname[130];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    expect_add_error(longname, good, HOPS_EINVAL, "longer than 100 characters");

    hops_dataset_add_options future = HOPS_DATASET_ADD_OPTIONS_INIT;
    future.version = 99;
    char *out = (char *)"untouched";
    assert_int_equal(hops_dataset_add(proj, "d", good, &future, &out), HOPS_EVERSION);
    assert_null(out);

    /* Fails after the copy, while reading it as a table: the message names
     * the user's file with line and column, not the staged copy. */
    char *ragged = write_file("ragged.csv", "a,b\n1,2\n3\n");
    char *want = hops__aprintf("%s:3: expected 2 fields, found 1", ragged);
    expect_add_error("d", ragged, HOPS_EPARSE, want);
    assert_null(strstr(hops_last_error(), ".staging"));
    free(want);
    char *quote = write_file("quote.csv", "a,b\n1,\"open\n2,3\n");
    want = hops__aprintf("%s:2:", quote);
    expect_add_error("d", quote, HOPS_EPARSE, want);
    free(want);
    char *binary = write_file("binary.csv", "a,b\n\xff\xfe,1\n");
    expect_add_error("d", binary, HOPS_EPARSE, "binary.csv:2");

    /* Unreadable (root reads anything, so only as another user). */
    if (geteuid() != 0) {
        char *locked = write_file("locked.csv", "a\n1\n");
        assert_int_equal(chmod(locked, 0), 0);
        expect_add_error("d", locked, HOPS_EIO, "Permission denied");
        free(locked);
    }

    /* Fails after the version folder is in place, at the INSERT: the folder
     * goes again, and so does the name's folder it was the first in. */
    assert_int_equal(hops__db_exec(proj->db, "CREATE TEMP TRIGGER no_versions BEFORE INSERT ON "
                                             "dataset_versions BEGIN SELECT RAISE(ABORT, "
                                             "'injected failure'); END"),
                     HOPS_OK);
    expect_add_error("d", good, HOPS_EDB, "injected failure");
    assert_int_equal(hops__db_exec(proj->db, "DROP TRIGGER no_versions"), HOPS_OK);

    /* And then it works. */
    json_t *doc = add("d", "good.csv", "a,b\n1,2\n");
    assert_int_equal(jint(doc, "version"), 1);
    json_decref(doc);
    free(binary);
    free(quote);
    free(ragged);
    free(good);
    free(missing);
}

static void test_leftovers_of_a_crash(void **state)
{
    (void)state;
    /* A version folder with no row (died between its rename and its commit)
     * and the staging folder of a dead process (died mid-copy). */
    char *stale_v = hops__aprintf("%s/.hops/datasets/d/1", dir);
    char *stale_file = hops__aprintf("%s/half.csv", stale_v);
    char *dead = hops__aprintf("%s/.hops/datasets/.staging/999999999-1-0000000000abcd", dir);
    char *dead_file = hops__aprintf("%s/.partial", dead);
    char *ours = hops__aprintf("%s/.hops/datasets/.staging/%ld-%llu-0000000000wxyz", dir,
                               (long)getpid(), hops__proc_start_ticks(getpid()));
    assert_int_equal(hops__mkdir_p(stale_v, 0755), HOPS_OK);
    assert_int_equal(hops__atomic_write(stale_file, "x", 1), HOPS_OK);
    assert_int_equal(hops__mkdir_p(dead, 0755), HOPS_OK);
    assert_int_equal(hops__atomic_write(dead_file, "x", 1), HOPS_OK);
    assert_int_equal(hops__mkdir_p(ours, 0755), HOPS_OK);

    /* Not listed: only committed rows are versions. */
    char *out = NULL;
    assert_int_equal(hops_dataset_list_json(proj, &out), HOPS_OK);
    assert_string_equal(out, "[]");
    hops_free(out);

    json_t *doc = add("d", "good.csv", "a\n1\n");
    assert_int_equal(jint(doc, "version"), 1);
    json_decref(doc);
    assert_int_equal(entries(stale_v), 1); /* good.csv only; half.csv is gone */
    assert_false(hops__is_file(stale_file));
    assert_int_equal(entries(dead), -1); /* swept */
    assert_int_equal(entries(ours), 0);  /* a live adder's folder stays */
    free(ours);
    free(dead_file);
    free(dead);
    free(stale_file);
    free(stale_v);
}

static void test_read_options_and_large(void **state)
{
    (void)state;
    hops_dataset_add_options o = HOPS_DATASET_ADD_OPTIONS_INIT;
    char *out = NULL;
    o.read.delimiter = ';';
    o.read.no_header = 1;
    char *semi = write_file("semi.txt", "1;2;3\n4;5;6\n");
    assert_int_equal(hops_dataset_add(proj, "semi", semi, &o, &out), HOPS_OK);
    json_t *doc = parse(out);
    assert_int_equal(jint(doc, "rows"), 2);
    assert_string_equal(jstr(json_object_get(doc, "read_options"), "delimiter"), ";");
    assert_true(json_is_true(json_object_get(json_object_get(doc, "read_options"), "no_header")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(doc, "columns"), 2)),
                        "c3");
    json_decref(doc);

    /* Many chunks on several threads: the count is exact, the hash whole. */
    hops_buf b = HOPS_BUF_INIT;
    hops__buf_puts(&b, "id,text\n");
    for (int i = 0; i < 200000; i++)
        hops__buf_printf(&b, "%d,\"row %d, with a comma\"\n", i, i);
    char *big = write_file("big.csv", b.data);
    o = (hops_dataset_add_options)HOPS_DATASET_ADD_OPTIONS_INIT;
    o.read.threads = 4;
    o.read.chunk_size = 65536;
    assert_int_equal(hops_dataset_add(proj, "big", big, &o, &out), HOPS_OK);
    doc = parse(out);
    assert_int_equal(jint(doc, "rows"), 200000);
    assert_int_equal(jint(doc, "size"), b.len);
    char *copy = NULL;
    size_t len = 0;
    assert_int_equal(hops__read_file(jstr(doc, "path"), &copy, &len), HOPS_OK);
    assert_int_equal(len, b.len);
    assert_memory_equal(copy, b.data, len);
    json_decref(doc);
    free(copy);
    free(big);
    hops__buf_free(&b);
    free(semi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_and_show, setup, teardown),
        cmocka_unit_test_setup_teardown(test_versions_and_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lineage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_add_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leftovers_of_a_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_options_and_large, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
