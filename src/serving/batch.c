/* Server-side batching: requests for the same model wait (at most the
 * timeout after the first of them arrives) until MAX rows are queued, then
 * one thread predicts them in one call and hands each request its rows.
 * It pays where one call has a fixed cost worth sharing (gbdt loads its
 * booster per call, mlp multiplies matrices); a request bigger than MAX
 * rows goes alone. The wait ends early when every HTTP thread of the
 * process already has a request in the queue: no one else can join. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serving_internal.h"

typedef struct job {
    const hops_model *m;
    const float *x;
    size_t n;
    double *out;
    hops_status rc;
    char err[256];
    int done;
    struct job *next;
} job;

struct srv_batcher {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    job *head, *tail;
    size_t max_rows;
    size_t callers; /* at most this many requests wait at once (HTTP threads) */
    long timeout_us;
    int stop;
    pthread_t thread;
    srv_slot *slot;
};

static void deadline(struct timespec *ts, long us)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_nsec += (us % 1000000) * 1000;
    ts->tv_sec += us / 1000000 + ts->tv_nsec / 1000000000L;
    ts->tv_nsec %= 1000000000L;
}

/* Is a batch for M worth waiting for? Not once MAX rows are queued for
 * it, nor when every caller is already waiting (no one is left to add). */
static int keep_waiting(const struct srv_batcher *b, const hops_model *m)
{
    size_t rows = 0, jobs = 0;
    for (const job *j = b->head; j; j = j->next) {
        jobs++;
        if (j->m == m)
            rows += j->n;
    }
    return rows < b->max_rows && (!b->callers || jobs < b->callers);
}

/* Take jobs for the first job's model off the queue, up to MAX rows (the
 * first always). */
static job *take(struct srv_batcher *b, size_t *rows)
{
    const hops_model *m = b->head->m;
    job *taken = NULL, **tail = &taken, **pp = &b->head;
    *rows = 0;
    while (*pp) {
        job *j = *pp;
        if (j->m == m && (*rows == 0 || *rows + j->n <= b->max_rows)) {
            *pp = j->next;
            j->next = NULL;
            *tail = j;
            tail = &j->next;
            *rows += j->n;
        } else {
            pp = &j->next;
        }
    }
    b->tail = NULL;
    for (job *j = b->head; j; j = j->next)
        b->tail = j;
    return taken;
}

static void run_batch(struct srv_batcher *b, job *jobs, size_t rows)
{
    const hops_model *m = jobs->m;
    size_t d = hops_model_n_inputs(m), k = hops_model_n_classes(m);
    size_t w = k ? k : 1;
    float *x = jobs->next ? malloc(rows * (d ? d : 1) * sizeof *x) : NULL;
    double *out = jobs->next ? malloc(rows * w * sizeof *out) : NULL;
    hops_status rc;
    if (!jobs->next) { /* alone: straight into its buffers */
        rc = hops_model_predict_matrix(m, jobs->x, jobs->n, 1, jobs->out);
    } else if (!x || !out) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
    } else {
        size_t r = 0;
        for (job *j = jobs; j; j = j->next) {
            memcpy(x + r * d, j->x, j->n * d * sizeof *x);
            r += j->n;
        }
        rc = hops_model_predict_matrix(m, x, rows, 1, out);
        r = 0;
        for (job *j = jobs; rc == HOPS_OK && j; j = j->next) {
            memcpy(j->out, out + r * w, j->n * w * sizeof *out);
            r += j->n;
        }
    }
    if (b->slot)
        hops__metrics_batch(b->slot, rows);
    pthread_mutex_lock(&b->mu);
    for (job *j = jobs, *next; j; j = next) {
        next = j->next;
        j->rc = rc;
        if (rc != HOPS_OK)
            hops__strlcpy(j->err, hops_last_error(), sizeof j->err);
        j->done = 1;
    }
    pthread_cond_broadcast(&b->done);
    pthread_mutex_unlock(&b->mu);
    free(x);
    free(out);
}

static void *batch_main(void *arg)
{
    struct srv_batcher *b = arg;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (!b->head && !b->stop)
            pthread_cond_wait(&b->work, &b->mu);
        if (!b->head && b->stop)
            break;
        /* Wait for more rows for this model, up to the timeout. */
        const hops_model *m = b->head->m;
        struct timespec ts;
        deadline(&ts, b->timeout_us);
        while (!b->stop && keep_waiting(b, m) && pthread_cond_timedwait(&b->work, &b->mu, &ts) == 0)
            ;
        size_t rows;
        job *jobs = take(b, &rows);
        pthread_mutex_unlock(&b->mu);
        run_batch(b, jobs, rows);
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

hops_status hops__batcher_new(srv_batcher **out, size_t max_rows, long timeout_us, size_t callers,
                              srv_slot *slot)
{
    struct srv_batcher *b = calloc(1, sizeof *b);
    pthread_condattr_t ca;
    *out = NULL;
    if (!b)
        return hops__error(HOPS_ENOMEM, "out of memory");
    b->max_rows = max_rows;
    b->callers = callers;
    b->timeout_us = timeout_us > 0 ? timeout_us : 1000;
    b->slot = slot;
    pthread_mutex_init(&b->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->work, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&b->done, NULL);
    if (pthread_create(&b->thread, NULL, batch_main, b) != 0) {
        pthread_mutex_destroy(&b->mu);
        pthread_cond_destroy(&b->work);
        pthread_cond_destroy(&b->done);
        free(b);
        return hops__error(HOPS_ERROR, "cannot start the batching thread");
    }
    *out = b;
    return HOPS_OK;
}

void hops__batcher_free(srv_batcher *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    b->stop = 1;
    pthread_cond_broadcast(&b->work);
    pthread_mutex_unlock(&b->mu);
    pthread_join(b->thread, NULL);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->work);
    pthread_cond_destroy(&b->done);
    free(b);
}

hops_status hops__batcher_predict(srv_batcher *b, const hops_model *m, const float *x, size_t n,
                                  double *out)
{
    job j;

    memset(&j, 0, sizeof j);
    j.m = m;
    j.x = x;
    j.n = n;
    j.out = out;
    pthread_mutex_lock(&b->mu);
    if (b->tail)
        b->tail->next = &j;
    else
        b->head = &j;
    b->tail = &j;
    pthread_cond_signal(&b->work);
    while (!j.done)
        pthread_cond_wait(&b->done, &b->mu);
    pthread_mutex_unlock(&b->mu);
    if (j.rc != HOPS_OK)
        return hops__error(j.rc, "%s", j.err);
    return HOPS_OK;
}
