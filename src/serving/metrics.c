/* Metrics in shared memory: every worker process counts into its own slot
 * (lock-free: atomics, and series claimed with a compare-and-swap), and
 * GET /metrics on any worker sums every slot into Prometheus' text format.
 * A slot outlives its worker, so counters never go back when a worker is
 * retired or replaced. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "serving_internal.h"

static const double lat_bounds[SRV_LAT_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
static const double batch_bounds[SRV_BATCH_BUCKETS] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 1024};

srv_shm *hops__shm_new(void)
{
    void *p =
        mmap(NULL, sizeof(srv_shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : (srv_shm *)p; /* zeroed by the kernel */
}

void hops__shm_free(srv_shm *shm)
{
    if (shm)
        munmap(shm, sizeof *shm);
}

static uint64_t series_hash(const char *model, int64_t version, int code)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *c = model; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    h = (h ^ (uint64_t)version) * 1099511628211ull;
    return (h ^ (uint64_t)code) * 1099511628211ull;
}

void hops__metrics_request(srv_slot *slot, const char *model, int64_t version, int code,
                           double seconds)
{
    size_t b = 0;
    while (b < SRV_LAT_BUCKETS && seconds > lat_bounds[b])
        b++;
    atomic_fetch_add(&slot->lat_buckets[b], 1);
    atomic_fetch_add(&slot->lat_count, 1);
    atomic_fetch_add(&slot->lat_sum_ns, (unsigned long long)(seconds * 1e9));
    if (strlen(model) > SRV_NAME_MAX)
        model = "";
    size_t start = (size_t)(series_hash(model, version, code) % SRV_MAX_SERIES);
    for (size_t k = 0; k < SRV_MAX_SERIES; k++) {
        srv_series *s = &slot->series[(start + k) % SRV_MAX_SERIES];
        unsigned st = atomic_load(&s->state);
        if (st == 0) {
            unsigned zero = 0;
            if (atomic_compare_exchange_strong(&s->state, &zero, 1)) {
                hops__strlcpy(s->model, model, sizeof s->model);
                s->version = version;
                s->code = code;
                atomic_store(&s->count, 1);
                atomic_store(&s->state, 2);
                return;
            }
            st = atomic_load(&s->state);
        }
        while (st == 1) /* another thread is filling it in */
            st = atomic_load(&s->state);
        if (s->version == version && s->code == code && strcmp(s->model, model) == 0) {
            atomic_fetch_add(&s->count, 1);
            return;
        }
    }
    /* Full: the request still counts in the histogram. */
}

void hops__metrics_batch(srv_slot *slot, size_t rows)
{
    size_t b = 0;
    while (b < SRV_BATCH_BUCKETS && (double)rows > batch_bounds[b])
        b++;
    atomic_fetch_add(&slot->batch_buckets[b], 1);
    atomic_fetch_add(&slot->batch_count, 1);
    atomic_fetch_add(&slot->batch_rows, rows);
}

/* A Prometheus label value: \ " and newline escaped. */
static void label_value(hops_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            hops__buf_printf(b, "\\%c", *s);
        else if (*s == '\n')
            hops__buf_puts(b, "\\n");
        else
            hops__buf_put(b, s, 1);
    }
}

static void histogram(hops_buf *b, const char *name, const char *help, const double *bounds,
                      size_t nb, const unsigned long long *counts, unsigned long long count,
                      double sum)
{
    unsigned long long cum = 0;
    hops__buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (size_t i = 0; i < nb; i++) {
        cum += counts[i];
        hops__buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], cum);
    }
    cum += counts[nb];
    hops__buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9g\n%s_count %llu\n", name, cum,
                     name, sum, name, count);
}

char *hops__metrics_text(const srv_shm *shm)
{
    hops_buf b = HOPS_BUF_INIT;
    unsigned long long lat[SRV_LAT_BUCKETS + 1] = {0}, bat[SRV_BATCH_BUCKETS + 1] = {0};
    unsigned long long lat_count = 0, lat_sum = 0, bat_count = 0, bat_rows = 0, swaps = 0;
    long long in_flight = 0;
    /* Sum the series over slots: the same (model, version, code) may be in many. */
    typedef struct {
        const char *model;
        int64_t version;
        int code;
        unsigned long long count;
    } row;
    size_t n_rows = 0, cap = 64;
    row *rows = malloc(cap * sizeof *rows);
    if (!rows)
        return NULL;
    for (size_t w = 0; w < SRV_MAX_WORKERS; w++) {
        const srv_slot *s = &shm->slots[w];
        for (size_t i = 0; i <= SRV_LAT_BUCKETS; i++)
            lat[i] += atomic_load(&s->lat_buckets[i]);
        for (size_t i = 0; i <= SRV_BATCH_BUCKETS; i++)
            bat[i] += atomic_load(&s->batch_buckets[i]);
        lat_count += atomic_load(&s->lat_count);
        lat_sum += atomic_load(&s->lat_sum_ns);
        bat_count += atomic_load(&s->batch_count);
        bat_rows += atomic_load(&s->batch_rows);
        swaps += atomic_load(&s->swaps);
        if (atomic_load(&s->pid))
            in_flight += atomic_load(&s->in_flight);
        for (size_t i = 0; i < SRV_MAX_SERIES; i++) {
            const srv_series *se = &s->series[i];
            if (atomic_load(&se->state) != 2)
                continue;
            size_t j = 0;
            while (j < n_rows && !(rows[j].version == se->version && rows[j].code == se->code &&
                                   strcmp(rows[j].model, se->model) == 0))
                j++;
            if (j == n_rows) {
                if (n_rows == cap) {
                    row *more = realloc(rows, 2 * cap * sizeof *rows);
                    if (!more) {
                        free(rows);
                        return NULL;
                    }
                    rows = more;
                    cap *= 2;
                }
                rows[j].model = se->model;
                rows[j].version = se->version;
                rows[j].code = se->code;
                rows[j].count = 0;
                n_rows++;
            }
            rows[j].count += atomic_load(&se->count);
        }
    }
    hops__buf_puts(&b, "# HELP hops_serving_requests_total Requests answered, by model, version "
                       "and HTTP status code.\n# TYPE hops_serving_requests_total counter\n");
    for (size_t j = 0; j < n_rows; j++) {
        hops__buf_puts(&b, "hops_serving_requests_total{model=\"");
        label_value(&b, rows[j].model);
        if (rows[j].version > 0)
            hops__buf_printf(&b, "\",version=\"%" PRId64, rows[j].version);
        else
            hops__buf_puts(&b, "\",version=\"");
        hops__buf_printf(&b, "\",code=\"%d\"} %llu\n", rows[j].code, rows[j].count);
    }
    free(rows);
    histogram(&b, "hops_serving_request_duration_seconds",
              "Time from a request's arrival to its answer.", lat_bounds, SRV_LAT_BUCKETS, lat,
              lat_count, (double)lat_sum / 1e9);
    histogram(&b, "hops_serving_batch_size", "Rows predicted together in one model call.",
              batch_bounds, SRV_BATCH_BUCKETS, bat, bat_count, (double)bat_rows);
    hops__buf_printf(&b,
                     "# HELP hops_serving_workers Worker processes serving.\n"
                     "# TYPE hops_serving_workers gauge\nhops_serving_workers %d\n"
                     "# HELP hops_serving_in_flight Requests being answered now.\n"
                     "# TYPE hops_serving_in_flight gauge\nhops_serving_in_flight %lld\n"
                     "# HELP hops_serving_model_swaps_total Switches to a new set of model "
                     "versions.\n# TYPE hops_serving_model_swaps_total counter\n"
                     "hops_serving_model_swaps_total %llu\n"
                     "# HELP hops_serving_autoscale_total Workers added (up) and retired "
                     "(down) by the autoscaler.\n# TYPE hops_serving_autoscale_total counter\n"
                     "hops_serving_autoscale_total{direction=\"up\"} %llu\n"
                     "hops_serving_autoscale_total{direction=\"down\"} %llu\n",
                     atomic_load(&shm->workers), in_flight, swaps, atomic_load(&shm->autoscale_up),
                     atomic_load(&shm->autoscale_down));
    return hops__buf_detach(&b);
}
