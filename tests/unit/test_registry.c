/* Unit tests for src/ml/registry.c: versions count up per name, open checks
 * the file against its registered SHA-256, show/list/versions/export/best. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core.h"
#include "hops/hops.h"

static char dir[256];
static hops_project *proj;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hops-unit-registry.XXXXXX");
    if (!mkdtemp(dir) || hops_project_init(dir) != HOPS_OK ||
        hops_project_open_at(&proj, dir) != HOPS_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hops_project_close(proj);
    return hops__rm_rf(dir) == HOPS_OK ? 0 : -1;
}

/* Train a softmax model on a table where the label follows x with EVERY-th
 * rows flipped (so versions get different accuracies) and save it. */
static char *model_file(const char *name, int every)
{
    hops_buf b = HOPS_BUF_INIT;
    hops__buf_puts(&b, "x,y\n");
    for (int i = 0; i < 100; i++)
        hops__buf_printf(&b, "%d,%s\n", i, (i < 50) != (every && i % every == 0) ? "lo" : "hi");
    char *data = hops__aprintf("%s/%s.csv", dir, name),
         *path = hops__aprintf("%s/%s.hops", dir, name);
    assert_int_equal(hops__atomic_write(data, b.data, b.len), HOPS_OK);
    hops__buf_free(&b);
    hops_train_options o = HOPS_TRAIN_OPTIONS_INIT;
    hops_model *m = NULL;
    o.type = HOPS_MODEL_LOGISTIC;
    o.label = "y";
    o.test_split = 0.5;
    assert_int_equal(hops_model_train(&m, data, &o, NULL), HOPS_OK);
    assert_int_equal(hops_model_save(m, path), HOPS_OK);
    hops_model_free(m);
    free(data);
    return path;
}

static json_t *doc(char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    hops_free(text);
    return j;
}

static void test_versions(void **state)
{
    (void)state;
    char *good = model_file("good", 0), *noisy = model_file("noisy", 3), *out = NULL;
    assert_int_equal(hops_model_register(proj, "churn", good, &out), HOPS_OK);
    json_t *v1 = doc(out);
    assert_int_equal(json_integer_value(json_object_get(v1, "version")), 1);
    assert_int_equal(hops_model_register(proj, "churn", noisy, &out), HOPS_OK);
    json_t *v2 = doc(out);
    assert_int_equal(json_integer_value(json_object_get(v2, "version")), 2);
    assert_string_equal(json_string_value(json_object_get(v2, "spec")), "churn:2");
    assert_true(hops__is_file(json_string_value(json_object_get(v2, "path"))));

    /* best by accuracy: the clean one; by log loss (min): also it. */
    assert_int_equal(hops_model_best_json(proj, "churn", "accuracy", 1, &out), HOPS_OK);
    json_t *best = doc(out);
    assert_int_equal(json_integer_value(json_object_get(best, "version")), 1);
    json_decref(best);
    assert_int_equal(hops_model_best_json(proj, "churn", "log_loss", 0, &out), HOPS_OK);
    best = doc(out);
    assert_int_equal(json_integer_value(json_object_get(best, "version")), 1);
    json_decref(best);
    assert_int_equal(hops_model_best_json(proj, "churn", "r2", 1, &out), HOPS_ENOTFOUND);
    assert_non_null(strstr(hops_last_error(), "metrics: "));

    assert_int_equal(hops_model_list_json(proj, &out), HOPS_OK);
    json_t *list = doc(out);
    assert_int_equal(json_array_size(list), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "latest")), 2);
    json_decref(list);

    hops_model *m = NULL;
    assert_int_equal(hops_model_open(proj, "churn:1", &m), HOPS_OK);
    hops_model_free(m);
    assert_int_equal(hops_model_open(proj, "churn:7", &m), HOPS_ENOTFOUND);
    assert_non_null(strstr(hops_last_error(), "versions: 1, 2"));
    assert_int_equal(hops_model_open(proj, "nope", &m), HOPS_ENOTFOUND);
    assert_int_equal(hops_model_open(proj, "bad name", &m), HOPS_EINVAL);

    /* Export: the same bytes, and the header beside them. */
    char *edir = hops__aprintf("%s/export", dir), *ef = hops__aprintf("%s/export/model.hops", dir);
    assert_int_equal(hops_model_export(proj, "churn", edir, NULL), HOPS_OK);
    char *a, *b;
    size_t la, lb;
    assert_int_equal(hops__read_file(ef, &a, &la), HOPS_OK);
    assert_int_equal(hops__read_file(noisy, &b, &lb), HOPS_OK);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);

    /* A registered file that changed is refused by open, show and export. */
    const char *stored = json_string_value(json_object_get(v2, "path"));
    chmod(stored, 0644);
    a[la / 2] ^= 1;
    assert_int_equal(hops__atomic_write(stored, a, la), HOPS_OK);
    assert_int_equal(hops_model_open(proj, "churn:2", &m), HOPS_ECORRUPT);
    assert_non_null(strstr(hops_last_error(), "damaged or was changed since it was registered"));
    assert_int_equal(hops_model_export(proj, "churn:2", edir, NULL), HOPS_ECORRUPT);
    assert_int_equal(hops_model_show_json(proj, "churn:2", &out), HOPS_OK);
    json_t *shown = doc(out);
    assert_true(json_is_null(json_object_get(shown, "header")));
    json_decref(shown);
    /* A damaged file is not registered at all. */
    char *bad = hops__aprintf("%s/bad.hops", dir);
    assert_int_equal(hops__atomic_write(bad, a, la), HOPS_OK);
    assert_int_equal(hops_model_register(proj, "churn", bad, NULL), HOPS_ECORRUPT);
    assert_int_equal(hops_model_versions_json(proj, "churn", &out), HOPS_OK);
    json_t *vs = doc(out);
    assert_int_equal(json_array_size(vs), 2);
    json_decref(vs);

    /* A registration killed between its file and its commit leaves a
     * version folder with no row: the next registration takes that number
     * and replaces the folder. */
    char *stray = hops__aprintf("%s/.hops/models/churn/3", dir);
    char *stray_file = hops__aprintf("%s/leftover.partial", stray);
    assert_int_equal(hops__mkdir_p(stray, 0755), HOPS_OK);
    assert_int_equal(hops__atomic_write(stray_file, "x", 1), HOPS_OK);
    assert_int_equal(hops_model_register(proj, "churn", good, &out), HOPS_OK);
    json_t *v3 = doc(out);
    assert_int_equal(json_integer_value(json_object_get(v3, "version")), 3);
    assert_false(hops__is_file(stray_file));
    assert_int_equal(hops_model_open(proj, "churn", &m), HOPS_OK);
    hops_model_free(m);
    json_decref(v3);
    free(stray);
    free(stray_file);

    free(a);
    free(b);
    free(bad);
    free(edir);
    free(ef);
    json_decref(v1);
    json_decref(v2);
    free(good);
    free(noisy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
