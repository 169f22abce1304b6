/* Unit tests for src/serving/metrics.c and batch.c: counters per (model,
 * version, code) summed over worker slots, from many threads at once, in
 * Prometheus' text format; the batcher predicts concurrent requests
 * together and gives each its own rows, equal to predicting them alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>

#include "serving/serving_internal.h"
#include "serving_fixture.h"

static unsigned long long value_of(const char *text, const char *series)
{
    const char *p = strstr(text, series);
    if (!p)
        fail_msg("no '%s' in:\n%s", series, text);
    return strtoull(p + strlen(series), NULL, 10);
}

typedef struct {
    srv_slot *slot;
    int n;
} counter_job;

static void *count_main(void *arg)
{
    counter_job *j = arg;
    for (int i = 0; i < j->n; i++)
        hops__metrics_request(j->slot, i % 2 ? "a" : "b\"q", i % 3, 200, 0.0003);
    return NULL;
}

static void test_metrics(void **state)
{
    (void)state;
    srv_shm *shm = hops__shm_new();
    assert_non_null(shm);
    atomic_store(&shm->workers, 2);
    /* Four threads into slot 0 (one process), one more into slot 5. */
    pthread_t t[5];
    counter_job jobs[5];
    for (int i = 0; i < 5; i++) {
        jobs[i].slot = &shm->slots[i < 4 ? 0 : 5];
        jobs[i].n = 3000;
        pthread_create(&t[i], NULL, count_main, &jobs[i]);
    }
    for (int i = 0; i < 5; i++)
        pthread_join(t[i], NULL);
    hops__metrics_request(&shm->slots[1], "a", 1, 404, 3.0);
    hops__metrics_batch(&shm->slots[1], 1);
    hops__metrics_batch(&shm->slots[1], 7);
    char *text = hops__metrics_text(shm);
    assert_non_null(text);
    /* 15000 requests: half "a", spread over versions 0, 1, 2 (3000 x 5 / 6 each). */
    assert_int_equal(value_of(text, "hops_serving_requests_total{model=\"a\",version=\"1\","
                                    "code=\"200\"} "),
                     2500);
    assert_int_equal(value_of(text, "hops_serving_requests_total{model=\"b\\\"q\",version=\"\","
                                    "code=\"200\"} "),
                     2500);
    assert_int_equal(value_of(text, "{model=\"a\",version=\"1\",code=\"404\"} "), 1);
    assert_int_equal(value_of(text, "hops_serving_request_duration_seconds_count "), 15001);
    assert_int_equal(value_of(text, "hops_serving_request_duration_seconds_bucket{le=\"0.0001\"} "),
                     0);
    assert_int_equal(value_of(text, "hops_serving_request_duration_seconds_bucket{le=\"0.0005\"} "),
                     15000);
    assert_int_equal(value_of(text, "hops_serving_request_duration_seconds_bucket{le=\"+Inf\"} "),
                     15001);
    assert_int_equal(value_of(text, "hops_serving_batch_size_bucket{le=\"1\"} "), 1);
    assert_int_equal(value_of(text, "hops_serving_batch_size_bucket{le=\"8\"} "), 2);
    assert_int_equal(value_of(text, "hops_serving_batch_size_sum "), 8);
    assert_int_equal(value_of(text, "\nhops_serving_workers "), 2);
    assert_non_null(strstr(text, "# TYPE hops_serving_requests_total counter\n"));
    assert_non_null(strstr(text, "# TYPE hops_serving_request_duration_seconds histogram\n"));
    free(text);
    hops__shm_free(shm);
}

typedef struct {
    srv_batcher *b;
    const hops_model *m;
    float x[4 * 6];
    size_t n;
    double out[4 * 2];
    hops_status rc;
} batch_job;

static void *batch_main(void *arg)
{
    batch_job *j = arg;
    j->rc = hops__batcher_predict(j->b, j->m, j->x, j->n, j->out);
    return NULL;
}

static void test_batcher(void **state)
{
    (void)state;
    hops_model *m = fx_train(HOPS_MODEL_MLP, 1);
    srv_shm *shm = hops__shm_new();
    srv_batcher *b;
    /* A long timeout: the eight requests meet in a batch of 16 rows at most. */
    assert_int_equal(hops__batcher_new(&b, 16, 200000, 0, &shm->slots[0]), HOPS_OK);
    batch_job jobs[8];
    pthread_t t[8];
    for (int i = 0; i < 8; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].b = b;
        jobs[i].m = m;
        jobs[i].n = (size_t)(i % 4) + 1;
        for (size_t k = 0; k < jobs[i].n * 6; k++)
            jobs[i].x[k] = (float)fx_noise((unsigned)(i * 100 + (int)k));
        pthread_create(&t[i], NULL, batch_main, &jobs[i]);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 8; i++) {
        double alone[8];
        assert_int_equal(jobs[i].rc, HOPS_OK);
        assert_int_equal(hops_model_predict_matrix(m, jobs[i].x, jobs[i].n, 1, alone), HOPS_OK);
        for (size_t k = 0; k < jobs[i].n * 2; k++)
            assert_true(fabs(alone[k] - jobs[i].out[k]) < 1e-6);
    }
    /* 20 rows in all, in fewer calls than requests. */
    assert_int_equal(atomic_load(&shm->slots[0].batch_rows), 20);
    assert_true(atomic_load(&shm->slots[0].batch_count) < 8);
    /* A bad row fails its own request only. */
    batch_job bad;
    memset(&bad, 0, sizeof bad);
    bad.b = b;
    bad.m = m;
    bad.n = 1;
    bad.x[0] = NAN;
    batch_main(&bad);
    assert_int_equal(bad.rc, HOPS_EINVAL);
    hops__batcher_free(b);
    hops__shm_free(shm);
    hops_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_batcher),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
