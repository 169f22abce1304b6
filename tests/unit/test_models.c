/* Unit tests for src/serving/models.c: version policies over a base path,
 * labels, and the hot swap: a new version folder is loaded by the watcher
 * and switched in while a snapshot taken before stays usable; a damaged
 * file is skipped until it is good. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <time.h>
#include <unistd.h>

#include "serving/serving_internal.h"
#include "serving_fixture.h"

static hops_model *m1;

static int setup(void **state)
{
    if (fx_setup(state) != 0)
        return -1;
    m1 = fx_train(HOPS_MODEL_LOGISTIC, 1);
    return 0;
}

static int teardown(void **state)
{
    hops_model_free(m1);
    return fx_teardown(state);
}

static char *put_version(const char *base, int v)
{
    char *dir = hops__aprintf("%s/%d", base, v), *file = hops__aprintf("%s/%d/model.hops", base, v);
    assert_int_equal(hops__mkdir_p(dir, 0755), HOPS_OK);
    assert_int_equal(hops_model_save(m1, file), HOPS_OK);
    free(dir);
    return file;
}

static char *new_base(const char *name)
{
    char *base = hops__aprintf("%s/%s", fx_dir, name);
    assert_int_equal(hops__mkdir_p(base, 0755), HOPS_OK);
    return base;
}

/* Versions in NAME's current snapshot, as "1,3". */
static void versions_of(srv_models *ms, char *out, size_t n)
{
    srv_snapshot *s = hops__models_acquire(ms, "m");
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; s && i < s->n; i++)
        used += (size_t)snprintf(out + used, n - used, "%s%lld", i ? "," : "",
                                 (long long)s->v[i]->version);
    hops__snapshot_release(s);
}

static void test_policies(void **state)
{
    (void)state;
    char *base = new_base("policies"), got[64];
    free(put_version(base, 1));
    free(put_version(base, 2));
    free(put_version(base, 10));
    char *junk = hops__aprintf("%s/notaversion", base);
    assert_int_equal(hops__mkdir_p(junk, 0755), HOPS_OK); /* not a version: ignored */
    free(junk);
    hops_serve_options o = HOPS_SERVE_OPTIONS_INIT;
    o.model_name = "m";
    o.model_base_path = base;
    srv_models *ms;
    assert_int_equal(hops__models_open(&ms, &o), HOPS_OK);
    versions_of(ms, got, sizeof got);
    assert_string_equal(got, "10");
    assert_true(hops__models_ready(ms));
    assert_null(hops__models_acquire(ms, "other"));
    hops__models_close(ms);

    o.policy = HOPS_VERSION_POLICY_ALL;
    assert_int_equal(hops__models_open(&ms, &o), HOPS_OK);
    versions_of(ms, got, sizeof got);
    assert_string_equal(got, "1,2,10");
    hops__models_close(ms);

    int64_t want[] = {2, 5};
    o.policy = HOPS_VERSION_POLICY_SPECIFIC;
    o.versions = want;
    o.n_versions = 2;
    const char *labels[] = {"canary=1"};
    o.labels = labels;
    o.n_labels = 1;
    assert_int_equal(hops__models_open(&ms, &o), HOPS_OK);
    versions_of(ms, got, sizeof got); /* 5 does not exist; the label adds 1 */
    assert_string_equal(got, "1,2");
    srv_snapshot *s = hops__models_acquire(ms, "m");
    rest_route r;
    int st;
    char err[128];
    memset(&r, 0, sizeof r);
    strcpy(r.name, "m");
    assert_int_equal(hops__snapshot_pick(s, &r, &st, err, sizeof err)->version, 2);
    strcpy(r.label, "canary");
    assert_int_equal(hops__snapshot_pick(s, &r, &st, err, sizeof err)->version, 1);
    strcpy(r.label, "stable");
    assert_null(hops__snapshot_pick(s, &r, &st, err, sizeof err));
    assert_int_equal(st, 404);
    r.label[0] = '\0';
    r.version = 10;
    assert_null(hops__snapshot_pick(s, &r, &st, err, sizeof err));
    assert_non_null(strstr(err, "no version 10"));
    hops__snapshot_release(s);
    hops__models_close(ms);

    /* Nothing to serve is an error that says so. */
    int64_t none[] = {7};
    o.versions = none;
    o.n_versions = 1;
    o.n_labels = 0;
    assert_int_equal(hops__models_open(&ms, &o), HOPS_ENOTFOUND);
    assert_non_null(strstr(hops_last_error(), "no version to serve"));
    free(base);
}

static void wait_for(srv_models *ms, const char *want)
{
    char got[64];
    for (int i = 0; i < 1000; i++) { /* up to 20 s: the sanitizers are slow */
        versions_of(ms, got, sizeof got);
        if (strcmp(got, want) == 0)
            return;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fail_msg("versions %s, never %s", got, want);
}

static void test_hot_swap(void **state)
{
    (void)state;
    char *base = new_base("swap");
    free(put_version(base, 1));
    hops_serve_options o = HOPS_SERVE_OPTIONS_INIT;
    o.model_name = "m";
    o.model_base_path = base;
    o.poll_ms = 20;
    srv_models *ms;
    atomic_ullong swaps = 0;
    assert_int_equal(hops__models_open(&ms, &o), HOPS_OK);
    hops__models_set_swap_counter(ms, &swaps);
    assert_int_equal(hops__models_watch(ms), HOPS_OK);
    srv_snapshot *held = hops__models_acquire(ms, "m");
    assert_int_equal(held->v[0]->version, 1);

    /* A damaged file in a new version folder is skipped ... */
    char *dir2 = hops__aprintf("%s/2", base), *file2 = hops__aprintf("%s/2/model.hops", base);
    assert_int_equal(hops__mkdir_p(dir2, 0755), HOPS_OK);
    assert_int_equal(hops__atomic_write(file2, "HOPSMDL\0garbage", 15), HOPS_OK);
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    char got[64];
    versions_of(ms, got, sizeof got);
    assert_string_equal(got, "1");
    /* ... until it is good: then version 2 replaces 1. */
    free(put_version(base, 2));
    wait_for(ms, "2");
    assert_true(atomic_load(&swaps) >= 1);
    /* The snapshot taken before still predicts with version 1. */
    float x[6] = {0};
    double p[2];
    assert_int_equal(hops_model_predict_matrix(held->v[0]->m, x, 1, 1, p), HOPS_OK);
    assert_true(p[0] >= 0 && p[0] <= 1);
    hops__snapshot_release(held);
    /* A version removed goes back to the one before. */
    assert_int_equal(hops__rm_rf(dir2), HOPS_OK);
    wait_for(ms, "1");
    hops__models_close(ms);
    free(dir2);
    free(file2);
    free(base);
}

static void test_registry_labels(void **state)
{
    (void)state;
    char *root = hops__aprintf("%s/project", fx_dir), *file = hops__aprintf("%s/m.hops", fx_dir);
    hops_project *p;
    assert_int_equal(hops__mkdir_p(root, 0755), HOPS_OK);
    assert_int_equal(hops_project_init(root), HOPS_OK);
    assert_int_equal(hops_project_open(&p, root), HOPS_OK);
    assert_int_equal(hops_model_save(m1, file), HOPS_OK);
    assert_int_equal(hops_model_register(p, "m", file, NULL), HOPS_OK);
    assert_int_equal(hops_model_register(p, "m", file, NULL), HOPS_OK);
    assert_int_equal(hops_model_label_set(p, "m", 1, "stable"), HOPS_OK);

    const char *names[] = {"m"};
    hops_serve_options o = HOPS_SERVE_OPTIONS_INIT;
    o.project = root;
    o.models = names;
    o.n_models = 1;
    o.poll_ms = 20;
    srv_models *ms;
    assert_int_equal(hops__models_open(&ms, &o), HOPS_OK);
    char got[64];
    versions_of(ms, got, sizeof got);
    assert_string_equal(got, "1,2"); /* latest + stable */
    assert_int_equal(hops__models_watch(ms), HOPS_OK);
    /* A new registration and a moved label are picked up. */
    assert_int_equal(hops_model_register(p, "m", file, NULL), HOPS_OK);
    assert_int_equal(hops_model_label_set(p, "m", 2, "stable"), HOPS_OK);
    wait_for(ms, "2,3");
    hops__models_close(ms);
    const char *missing[] = {"nope"};
    o.models = missing;
    assert_int_equal(hops__models_open(&ms, &o), HOPS_ENOTFOUND);
    hops_project_close(p);
    free(root);
    free(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policies),
        cmocka_unit_test(test_hot_swap),
        cmocka_unit_test(test_registry_labels),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
