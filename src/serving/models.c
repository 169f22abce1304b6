/* The served models: for each, an immutable snapshot of its loaded versions
 * and labels, swapped under a mutex. A request takes a reference to the
 * current snapshot and keeps it to the end, so a swap never pulls a model
 * out from under it; the last reference frees what is no longer served.
 *
 * A watcher thread polls the source every poll_ms: the version folders of
 * a base path (DIR/V/model.hops) or the registry (versions and labels).
 * When the versions to serve change, it loads the new ones (keeping those
 * already loaded), then swaps. A version that does not load (a file still
 * being copied fails its checksum) keeps the current snapshot in place and
 * is tried again at the next poll. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "serving_internal.h"

typedef struct {
    char *name;
    pthread_mutex_t mu;
    srv_snapshot *cur; /* NULL until the first load */
    char *warned;      /* the last load failure logged (not repeated) */
} srv_model;

struct srv_models {
    hops_serve_options o;
    char *base_path; /* base path mode */
    hops_project *p; /* registry mode: used by one thread at a time */
    srv_model *models;
    size_t n;
    pthread_t watcher;
    int watching;
    pthread_mutex_t stop_mu;
    pthread_cond_t stop_cv;
    int stop;
    atomic_ullong *swaps; /* a metrics counter; may be NULL */
};

/* What a model should serve: versions ascending, and labels. */
typedef struct {
    size_t n;
    int64_t *v;
    size_t n_labels;
    char **label_names;
    int64_t *label_versions;
} wanted;

static void wanted_free(wanted *w)
{
    for (size_t i = 0; i < w->n_labels; i++)
        free(w->label_names[i]);
    free(w->label_names);
    free(w->label_versions);
    free(w->v);
    memset(w, 0, sizeof *w);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int has(const int64_t *v, size_t n, int64_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

static int add_version(int64_t **v, size_t *n, int64_t x)
{
    if (has(*v, *n, x))
        return 0;
    int64_t *more = realloc(*v, (*n + 1) * sizeof *more);
    if (!more)
        return -1;
    more[(*n)++] = x;
    *v = more;
    return 0;
}

static int add_label(wanted *w, const char *name, int64_t version)
{
    char **names = realloc(w->label_names, (w->n_labels + 1) * sizeof *names);
    if (!names)
        return -1;
    w->label_names = names;
    int64_t *vs = realloc(w->label_versions, (w->n_labels + 1) * sizeof *vs);
    if (!vs)
        return -1;
    w->label_versions = vs;
    if (!(names[w->n_labels] = hops__strdup(name)))
        return -1;
    vs[w->n_labels++] = version;
    return 0;
}

/* The versions there are: folders named 1, 2, ... with a model.hops. */
static hops_status base_path_versions(const char *dir, int64_t **out, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    *out = NULL;
    *n = 0;
    if (!d)
        return hops__error(errno == ENOENT ? HOPS_ENOTFOUND : HOPS_EIO, "model base path %s: %s",
                           dir, strerror(errno));
    while ((e = readdir(d))) {
        int64_t v = 0;
        const char *c = e->d_name;
        if (!*c || *c == '0')
            continue;
        for (; *c >= '0' && *c <= '9' && v < INT64_MAX / 10; c++)
            v = v * 10 + (*c - '0');
        if (*c)
            continue;
        char *file = hops__aprintf("%s/%s/model.hops", dir, e->d_name);
        int ok = file && hops__is_file(file);
        free(file);
        if (ok && add_version(out, n, v) != 0) {
            closedir(d);
            return hops__error(HOPS_ENOMEM, "out of memory");
        }
    }
    closedir(d);
    return HOPS_OK;
}

static hops_status registry_versions(hops_project *p, const char *name, int64_t **out, size_t *n,
                                     wanted *w)
{
    char *text = NULL;
    json_t *arr, *v, *labels;
    size_t i;
    const char *k;
    hops_status rc;
    *out = NULL;
    *n = 0;
    if ((rc = hops_model_versions_json(p, name, &text)) != HOPS_OK)
        return rc;
    arr = json_loads(text, 0, NULL);
    hops_free(text);
    json_array_foreach(arr, i, v)
        add_version(out, n, json_integer_value(json_object_get(v, "version")));
    json_decref(arr);
    if ((rc = hops_model_labels_json(p, name, &text)) != HOPS_OK)
        return rc;
    labels = json_loads(text, 0, NULL);
    hops_free(text);
    json_object_foreach(labels, k, v) add_label(w, k, json_integer_value(v));
    json_decref(labels);
    return HOPS_OK;
}

/* W: what model MD should serve now, by the options' policy. */
static hops_status compute_wanted(srv_models *ms, srv_model *md, wanted *w)
{
    int64_t *avail = NULL;
    size_t n_avail = 0;
    hops_status rc;
    memset(w, 0, sizeof *w);
    if (ms->base_path) {
        rc = base_path_versions(ms->base_path, &avail, &n_avail);
        for (size_t i = 0; rc == HOPS_OK && i < ms->o.n_labels; i++) {
            const char *pair = ms->o.labels[i], *eq = strchr(pair, '=');
            char *name = eq ? hops__strndup(pair, (size_t)(eq - pair)) : NULL;
            if (name)
                add_label(w, name, strtoll(eq + 1, NULL, 10));
            free(name);
        }
    } else {
        rc = registry_versions(ms->p, md->name, &avail, &n_avail, w);
    }
    if (rc != HOPS_OK) {
        free(avail);
        wanted_free(w);
        return rc;
    }
    if (n_avail)
        qsort(avail, n_avail, sizeof *avail, cmp_i64);
    if (ms->o.policy == HOPS_VERSION_POLICY_ALL) {
        for (size_t i = 0; i < n_avail; i++)
            add_version(&w->v, &w->n, avail[i]);
    } else if (ms->o.policy == HOPS_VERSION_POLICY_SPECIFIC) {
        for (size_t i = 0; i < ms->o.n_versions; i++)
            if (has(avail, n_avail, ms->o.versions[i]))
                add_version(&w->v, &w->n, ms->o.versions[i]);
    } else if (n_avail) {
        add_version(&w->v, &w->n, avail[n_avail - 1]);
    }
    /* Labelled versions are served too (a canary beside the latest). */
    for (size_t i = 0; i < w->n_labels; i++)
        if (has(avail, n_avail, w->label_versions[i]))
            add_version(&w->v, &w->n, w->label_versions[i]);
    if (w->n)
        qsort(w->v, w->n, sizeof *w->v, cmp_i64);
    free(avail);
    return HOPS_OK;
}

static void loaded_release(srv_loaded *l)
{
    if (l && atomic_fetch_sub(&l->refs, 1) == 1) {
        hops_model_free(l->m);
        free(l);
    }
}

void hops__snapshot_release(srv_snapshot *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (size_t i = 0; i < s->n; i++)
        loaded_release(s->v[i]);
    for (size_t i = 0; i < s->n_labels; i++)
        free(s->label_names[i]);
    free(s->label_names);
    free(s->label_versions);
    free(s->v);
    free(s);
}

srv_snapshot *hops__models_acquire(srv_models *ms, const char *name)
{
    for (size_t i = 0; i < ms->n; i++) {
        srv_model *md = &ms->models[i];
        if (strcmp(md->name, name) != 0)
            continue;
        pthread_mutex_lock(&md->mu);
        srv_snapshot *s = md->cur;
        if (s)
            atomic_fetch_add(&s->refs, 1);
        pthread_mutex_unlock(&md->mu);
        return s;
    }
    return NULL;
}

/* Is W what S serves already? */
static int same(const srv_snapshot *s, const wanted *w)
{
    if (!s || s->n != w->n || s->n_labels != w->n_labels)
        return 0;
    for (size_t i = 0; i < w->n; i++)
        if (s->v[i]->version != w->v[i])
            return 0;
    for (size_t i = 0; i < w->n_labels; i++)
        if (strcmp(s->label_names[i], w->label_names[i]) != 0 ||
            s->label_versions[i] != w->label_versions[i])
            return 0;
    return 1;
}

static hops_status load_version(srv_models *ms, srv_model *md, int64_t v, hops_model **out)
{
    if (ms->base_path) {
        char *file = hops__aprintf("%s/%" PRId64 "/model.hops", ms->base_path, v);
        hops_status rc = file ? hops_model_load(out, file) : HOPS_ENOMEM;
        free(file);
        return rc;
    }
    char *spec = hops__aprintf("%s:%" PRId64, md->name, v);
    hops_status rc = spec ? hops_model_open(ms->p, spec, out) : HOPS_ENOMEM;
    free(spec);
    return rc;
}

/* Bring MD to what it should serve. INITIAL: serve what loads even when a
 * version fails (there is nothing to keep). */
static hops_status refresh(srv_models *ms, srv_model *md, int initial)
{
    wanted w;
    srv_snapshot *old, *s = NULL;
    hops_status rc;
    if ((rc = compute_wanted(ms, md, &w)) != HOPS_OK)
        return rc;
    pthread_mutex_lock(&md->mu);
    old = md->cur;
    if (old)
        atomic_fetch_add(&old->refs, 1);
    pthread_mutex_unlock(&md->mu);
    if (same(old, &w)) {
        rc = HOPS_OK;
        goto out;
    }
    s = calloc(1, sizeof *s);
    if (!s || !(s->v = calloc(w.n ? w.n : 1, sizeof *s->v))) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    atomic_init(&s->refs, 1);
    for (size_t i = 0; i < w.n; i++) {
        srv_loaded *l = NULL;
        for (size_t j = 0; old && j < old->n && !l; j++)
            if (old->v[j]->version == w.v[i])
                l = old->v[j];
        if (l) {
            atomic_fetch_add(&l->refs, 1);
            s->v[s->n++] = l;
            continue;
        }
        hops_model *m = NULL;
        if ((rc = load_version(ms, md, w.v[i], &m)) != HOPS_OK) {
            const char *msg = hops_last_error();
            if (!md->warned || strcmp(md->warned, msg) != 0) {
                hops_log(HOPS_LOG_WARN, "serve: model %s version %" PRId64 " does not load: %s",
                         md->name, w.v[i], msg);
                free(md->warned);
                md->warned = hops__strdup(msg);
            }
            if (!initial)
                goto out;
            continue;
        }
        if (!(l = calloc(1, sizeof *l))) {
            hops_model_free(m);
            rc = hops__error(HOPS_ENOMEM, "out of memory");
            goto out;
        }
        atomic_init(&l->refs, 1);
        l->version = w.v[i];
        l->m = m;
        s->v[s->n++] = l;
        if (!initial)
            hops_log(HOPS_LOG_INFO, "serve: loaded model %s version %" PRId64, md->name, w.v[i]);
    }
    rc = HOPS_OK;
    /* The labels move to the snapshot (only those with a loaded version). */
    s->label_names = w.label_names;
    s->label_versions = w.label_versions;
    s->n_labels = w.n_labels;
    w.label_names = NULL;
    w.label_versions = NULL;
    w.n_labels = 0;
    pthread_mutex_lock(&md->mu);
    srv_snapshot *prev = md->cur;
    md->cur = s;
    pthread_mutex_unlock(&md->mu);
    s = NULL;
    hops__snapshot_release(prev);
    if (ms->swaps && old)
        atomic_fetch_add(ms->swaps, 1);
out:
    hops__snapshot_release(s);
    hops__snapshot_release(old);
    wanted_free(&w);
    return rc;
}

hops_status hops__models_open(srv_models **out, const hops_serve_options *o)
{
    srv_models *ms = calloc(1, sizeof *ms);
    hops_status rc = HOPS_OK;
    *out = NULL;
    if (!ms)
        return hops__error(HOPS_ENOMEM, "out of memory");
    ms->o = *o;
    pthread_mutex_init(&ms->stop_mu, NULL);
    pthread_cond_init(&ms->stop_cv, NULL);
    size_t n = o->model_base_path ? 1 : o->n_models;
    ms->models = calloc(n ? n : 1, sizeof *ms->models);
    if (!ms->models) {
        free(ms);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        pthread_mutex_init(&ms->models[i].mu, NULL);
    ms->n = n;
    if (o->model_base_path) {
        ms->base_path = hops__strdup(o->model_base_path);
        ms->models[0].name = hops__strdup(o->model_name);
        if (!ms->base_path || !ms->models[0].name)
            rc = hops__error(HOPS_ENOMEM, "out of memory");
    } else {
        rc = hops_project_open(&ms->p, o->project);
        for (size_t i = 0; rc == HOPS_OK && i < n; i++)
            if (!(ms->models[i].name = hops__strdup(o->models[i])))
                rc = hops__error(HOPS_ENOMEM, "out of memory");
    }
    for (size_t i = 0; rc == HOPS_OK && i < n; i++) {
        srv_model *md = &ms->models[i];
        if ((rc = refresh(ms, md, 1)) != HOPS_OK)
            rc = hops__error_prefix(rc, "model %s", md->name);
        else if (!md->cur || md->cur->n == 0)
            rc = hops__error(HOPS_ENOTFOUND, "model %s: no version to serve%s%s", md->name,
                             md->warned ? ": " : " (none matches the version policy)",
                             md->warned ? md->warned : "");
    }
    if (rc != HOPS_OK) {
        hops__models_close(ms);
        return rc;
    }
    *out = ms;
    return HOPS_OK;
}

void hops__models_set_swap_counter(srv_models *ms, atomic_ullong *swaps)
{
    ms->swaps = swaps;
}

static void *watch_main(void *arg)
{
    srv_models *ms = arg;
    int poll_ms = ms->o.poll_ms > 0 ? ms->o.poll_ms : 1000;
    pthread_mutex_lock(&ms->stop_mu);
    while (!ms->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += poll_ms / 1000;
        ts.tv_nsec += (long)(poll_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&ms->stop_cv, &ms->stop_mu, &ts);
        if (ms->stop)
            break;
        pthread_mutex_unlock(&ms->stop_mu);
        for (size_t i = 0; i < ms->n; i++)
            if (refresh(ms, &ms->models[i], 0) != HOPS_OK)
                hops_error_clear(); /* tried again at the next poll */
        pthread_mutex_lock(&ms->stop_mu);
    }
    pthread_mutex_unlock(&ms->stop_mu);
    return NULL;
}

hops_status hops__models_watch(srv_models *ms)
{
    if (pthread_create(&ms->watcher, NULL, watch_main, ms) != 0)
        return hops__error(HOPS_ERROR, "cannot start the model watcher thread");
    ms->watching = 1;
    return HOPS_OK;
}

void hops__models_close(srv_models *ms)
{
    if (!ms)
        return;
    if (ms->watching) {
        pthread_mutex_lock(&ms->stop_mu);
        ms->stop = 1;
        pthread_cond_signal(&ms->stop_cv);
        pthread_mutex_unlock(&ms->stop_mu);
        pthread_join(ms->watcher, NULL);
    }
    for (size_t i = 0; i < ms->n; i++) {
        hops__snapshot_release(ms->models[i].cur);
        pthread_mutex_destroy(&ms->models[i].mu);
        free(ms->models[i].name);
        free(ms->models[i].warned);
    }
    free(ms->models);
    free(ms->base_path);
    if (ms->p)
        hops_project_close(ms->p);
    pthread_mutex_destroy(&ms->stop_mu);
    pthread_cond_destroy(&ms->stop_cv);
    free(ms);
}

srv_loaded *hops__snapshot_pick(const srv_snapshot *s, const rest_route *r, int *status, char *err,
                                size_t errlen)
{
    int64_t want = r->version;
    *status = 404;
    if (r->label[0]) {
        for (size_t i = 0; i < s->n_labels && !want; i++)
            if (strcmp(s->label_names[i], r->label) == 0)
                want = s->label_versions[i];
        if (!want) {
            snprintf(err, errlen, "model %s has no label '%s'", r->name, r->label);
            return NULL;
        }
    }
    if (!want) {
        if (s->n)
            return s->v[s->n - 1];
        snprintf(err, errlen, "model %s has no version loaded", r->name);
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i]->version == want)
            return s->v[i];
    snprintf(err, errlen, "model %s has no version %" PRId64 " being served", r->name, want);
    return NULL;
}

int hops__models_ready(srv_models *ms)
{
    for (size_t i = 0; i < ms->n; i++) {
        srv_snapshot *s = hops__models_acquire(ms, ms->models[i].name);
        int ok = s && s->n > 0;
        hops__snapshot_release(s);
        if (!ok)
            return 0;
    }
    return 1;
}

size_t hops__models_count(const srv_models *ms)
{
    return ms->n;
}

const char *hops__models_name(const srv_models *ms, size_t i)
{
    return i < ms->n ? ms->models[i].name : NULL;
}
