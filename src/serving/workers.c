/* hops_server (one process) and hops_serve_run: the supervisor of worker
 * processes that accept on one shared listening socket, restart when they
 * die, and grow or shrink with the autoscaler.
 *
 * The autoscaler looks every interval at how much CPU each worker wanted
 * (time on a CPU plus time waiting for one, from /proc/PID/task/TID/schedstat)
 * and at the mean request latency over the interval (from the shared
 * metrics): it adds a worker when the mean worker wanted over 60% of a CPU
 * or the latency is over its target, and retires the newest worker
 * (SIGTERM: it stops accepting, finishes what it has and exits, so no
 * request fails) after three quiet intervals (under 10% CPU and no latency
 * trouble). It waits two intervals after each change before the next.
 *
 * The one global: the stop pipe that hops_serve_request_stop writes to from
 * a signal handler (each worker has its own after the fork). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "serving_internal.h"

struct hops_server {
    hops_serve_options o;
    srv_shm *shm;
    srv_models *ms;
    srv_http *http;
};

static int stop_pipe[2] = {-1, -1};

void hops_serve_request_stop(void)
{
    int saved = errno;
    if (stop_pipe[1] >= 0) {
        ssize_t n = write(stop_pipe[1], "x", 1);
        (void)n;
    }
    errno = saved;
}

static hops_status check_options(const hops_serve_options *o)
{
    if (!o || o->version != HOPS_SERVE_OPTIONS_VERSION)
        return hops__error(HOPS_EVERSION, "hops_serve_options: unknown version");
    if (o->model_base_path) {
        if (!o->model_name || !hops__rest_name_ok(o->model_name))
            return hops__error(HOPS_EINVAL,
                               "--model_name: a name of letters, digits, '.', '_' and '-' is "
                               "needed with --model_base_path");
        if (!hops__is_dir(o->model_base_path))
            return hops__error(HOPS_ENOTFOUND, "--model_base_path %s is not a directory",
                               o->model_base_path);
    } else {
        if (o->n_models == 0)
            return hops__error(HOPS_EINVAL,
                               "which models? --models N1,N2 (registry) or --model_name N "
                               "--model_base_path DIR");
        for (size_t i = 0; i < o->n_models; i++) {
            if (!hops__rest_name_ok(o->models[i]))
                return hops__error(HOPS_EINVAL, "bad model name '%s'", o->models[i]);
            for (size_t j = 0; j < i; j++)
                if (strcmp(o->models[i], o->models[j]) == 0)
                    return hops__error(HOPS_EINVAL, "model '%s' is named twice", o->models[i]);
        }
    }
    if (o->port < 0 || o->port > 65535)
        return hops__error(HOPS_EINVAL, "port %d is out of range", o->port);
    if (o->policy == HOPS_VERSION_POLICY_SPECIFIC && o->n_versions == 0)
        return hops__error(HOPS_EINVAL, "the specific version policy needs versions");
    if (o->autoscale_min || o->autoscale_max) {
        if (o->autoscale_min < 1 || o->autoscale_max < o->autoscale_min ||
            o->autoscale_max > SRV_MAX_WORKERS)
            return hops__error(HOPS_EINVAL, "autoscale %d:%d: need 1 <= min <= max <= %d",
                               o->autoscale_min, o->autoscale_max, SRV_MAX_WORKERS);
    }
    if (o->workers > SRV_MAX_WORKERS)
        return hops__error(HOPS_EINVAL, "at most %d workers", SRV_MAX_WORKERS);
    for (size_t i = 0; i < o->n_labels; i++) {
        const char *eq = strchr(o->labels[i], '=');
        if (!eq || eq == o->labels[i] || atoll(eq + 1) < 1)
            return hops__error(HOPS_EINVAL, "label '%s' is not LABEL=VERSION", o->labels[i]);
    }
    return HOPS_OK;
}

/* Start serving on FD (-1: bind) with metrics in SHM's slot SLOT. */
static hops_status server_start(hops_server **out, const hops_serve_options *o, int fd,
                                srv_shm *shm, size_t slot)
{
    hops_server *s = calloc(1, sizeof *s);
    hops_status rc;
    *out = NULL;
    if (!s)
        return hops__error(HOPS_ENOMEM, "out of memory");
    s->o = *o;
    s->shm = shm;
    if ((rc = hops__models_open(&s->ms, o)) != HOPS_OK)
        goto fail;
    hops__models_set_swap_counter(s->ms, &shm->slots[slot].swaps);
    if ((rc = hops__http_start(&s->http, o, fd, s->ms, shm, &shm->slots[slot])) != HOPS_OK)
        goto fail;
    if ((rc = hops__models_watch(s->ms)) != HOPS_OK)
        goto fail;
    atomic_store(&shm->slots[slot].pid, (int)getpid());
    *out = s;
    return HOPS_OK;
fail:
    if (s->http)
        hops__http_stop(s->http, 0);
    hops__models_close(s->ms);
    free(s);
    return rc;
}

static void server_stop(hops_server *s)
{
    hops__http_stop(s->http, s->o.grace_s);
    hops__models_close(s->ms);
    free(s);
}

hops_status hops_server_start(hops_server **out, const hops_serve_options *o)
{
    hops_status rc;
    srv_shm *shm;
    *out = NULL;
    if ((rc = check_options(o)) != HOPS_OK)
        return rc;
    if (!(shm = hops__shm_new()))
        return hops__error(HOPS_ENOMEM, "cannot map the metrics memory");
    if ((rc = server_start(out, o, -1, shm, 0)) != HOPS_OK) {
        hops__shm_free(shm);
        return rc;
    }
    atomic_store(&shm->workers, 1);
    return HOPS_OK;
}

int hops_server_port(const hops_server *s)
{
    return s ? hops__http_port(s->http) : 0;
}

void hops_server_stop(hops_server *s)
{
    if (!s)
        return;
    srv_shm *shm = s->shm;
    server_stop(s);
    hops__shm_free(shm);
}

/* ---- the supervisor ---- */

typedef struct {
    pid_t pid;    /* 0: none in this slot */
    int retiring; /* sent SIGTERM by the autoscaler */
    unsigned long long demand_ns;
    unsigned long long lat_count, lat_sum_ns;
} worker;

/* How much CPU the threads of PID wanted so far, in nanoseconds: time on a
 * CPU plus time runnable but waiting for one (/proc/PID/task/TID/schedstat).
 * Waiting counts because a worker starved by other work on the machine is
 * as busy as one that gets the CPU: both have requests queueing. Falls back
 * to the CPU time of /proc/PID/stat where schedstat is missing. */
static unsigned long long proc_demand_ns(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long long total = 0, ut = 0, st = 0;
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d))) {
        unsigned long long run = 0, wait = 0;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%.20s/schedstat", (int)pid, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fscanf(f, "%llu %llu", &run, &wait) == 2) {
            total += run + wait;
            found = 1;
        }
        fclose(f);
    }
    if (d)
        closedir(d);
    if (found)
        return total;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command may hold spaces */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    long ticks = sysconf(_SC_CLK_TCK);
    return (ut + st) * (1000000000ull / (unsigned long long)(ticks > 0 ? ticks : 100));
}

/* The body of a worker process: serve on FD until SIGTERM. Never returns. */
static void worker_main(const hops_serve_options *o, int fd, srv_shm *shm, size_t slot,
                        int ready_fd)
{
    hops_server *s = NULL;
    char byte = (char)slot;
    int code = 0;
    close(stop_pipe[0]);
    close(stop_pipe[1]);
    if (pipe2(stop_pipe, O_CLOEXEC) != 0)
        _exit(70);
    if (server_start(&s, o, fd, shm, slot) != HOPS_OK) {
        hops_log(HOPS_LOG_ERROR, "serve: worker %zu: %s", slot, hops_last_error());
        _exit(71);
    }
    if (write(ready_fd, &byte, 1) != 1)
        code = 72;
    close(ready_fd);
    for (;;) {
        char c;
        ssize_t n = read(stop_pipe[0], &c, 1);
        if (n == 1 || (n < 0 && errno != EINTR))
            break;
    }
    server_stop(s);
    atomic_store(&shm->slots[slot].pid, 0);
    _exit(code);
}

static int socket_port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

static pid_t spawn_worker(const hops_serve_options *o, int fd, srv_shm *shm, size_t slot,
                          int ready_fd)
{
    pid_t pid = fork();
    if (pid == 0)
        worker_main(o, fd, shm, slot, ready_fd);
    return pid;
}

static int live_workers(const worker *w, size_t n)
{
    int k = 0;
    for (size_t i = 0; i < n; i++)
        k += w[i].pid > 0 && !w[i].retiring;
    return k;
}

hops_status hops_serve_run(const hops_serve_options *o, void (*on_ready)(int port, void *ud),
                           void *ud)
{
    hops_status rc;
    int fd = -1, ready[2] = {-1, -1}, autoscale;
    srv_shm *shm = NULL;
    worker w[SRV_MAX_WORKERS];
    size_t target;
    if ((rc = check_options(o)) != HOPS_OK)
        return rc;
    if (stop_pipe[0] < 0 && pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return hops__error(HOPS_EIO, "pipe: %s", strerror(errno));
    {
        char junk[64]; /* a stop asked for before this run does not end it */
        while (read(stop_pipe[0], junk, sizeof junk) > 0)
            ;
    }
    autoscale = o->autoscale_max > 0;
    if (!autoscale && o->workers <= 1) {
        hops_server *s;
        if ((rc = hops_server_start(&s, o)) != HOPS_OK)
            return rc;
        if (on_ready)
            on_ready(hops_server_port(s), ud);
        struct pollfd pfd = {stop_pipe[0], POLLIN, 0};
        while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
            ;
        hops_server_stop(s);
        return HOPS_OK;
    }
    /* Check that the models load before starting workers. */
    {
        srv_models *ms;
        if ((rc = hops__models_open(&ms, o)) != HOPS_OK)
            return rc;
        hops__models_close(ms);
    }
    if ((rc = hops__listen_socket(o->host, o->port, o->reuse_port, &fd)) != HOPS_OK)
        return rc;
    if (!(shm = hops__shm_new())) {
        close(fd);
        return hops__error(HOPS_ENOMEM, "cannot map the metrics memory");
    }
    if (pipe2(ready, O_CLOEXEC) != 0) {
        close(fd);
        hops__shm_free(shm);
        return hops__error(HOPS_EIO, "pipe: %s", strerror(errno));
    }
    memset(w, 0, sizeof w);
    target = (size_t)(autoscale ? o->autoscale_min : o->workers);
    size_t max = autoscale ? (size_t)o->autoscale_max : target;
    int interval_ms = o->autoscale_interval_ms > 0 ? o->autoscale_interval_ms : 500;
    double lat_target = (o->autoscale_latency_ms > 0 ? o->autoscale_latency_ms : 50) / 1000.0;
    int announced = 0, quiet = 0, cooldown = 0, stopping = 0;
    double last = hops__mono_time();
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, NULL);
    while (!stopping) {
        /* Reap, then keep TARGET workers running. */
        int status;
        pid_t dead;
        while ((dead = waitpid(-1, &status, WNOHANG)) > 0) {
            for (size_t i = 0; i < max; i++)
                if (w[i].pid == dead) {
                    if (!w[i].retiring)
                        hops_log(HOPS_LOG_WARN,
                                 "serve: worker %zu (pid %d) died (%s %d); "
                                 "starting another",
                                 i, (int)dead, WIFSIGNALED(status) ? "signal" : "exit",
                                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
                    atomic_store(&shm->slots[i].pid, 0);
                    atomic_store(&shm->slots[i].in_flight, 0);
                    w[i].pid = 0;
                    w[i].retiring = 0;
                }
        }
        for (size_t i = 0; i < target && i < max; i++)
            if (w[i].pid == 0) {
                w[i].pid = spawn_worker(o, fd, shm, i, ready[1]);
                w[i].demand_ns = 0;
                w[i].lat_count = atomic_load(&shm->slots[i].lat_count);
                w[i].lat_sum_ns = atomic_load(&shm->slots[i].lat_sum_ns);
            }
        atomic_store(&shm->workers, live_workers(w, max));
        struct pollfd pfd[2] = {{stop_pipe[0], POLLIN, 0}, {ready[0], POLLIN, 0}};
        int pr = poll(pfd, 2, interval_ms);
        if (pr > 0 && (pfd[0].revents & POLLIN)) {
            stopping = 1;
            break;
        }
        if (pr > 0 && (pfd[1].revents & POLLIN)) {
            char b;
            if (read(ready[0], &b, 1) == 1 && !announced) {
                announced = 1;
                if (on_ready)
                    on_ready(socket_port_of(fd), ud);
            }
            continue;
        }
        double now = hops__mono_time();
        if (!autoscale || now - last < interval_ms / 1000.0)
            continue;
        double dt = now - last;
        last = now;
        /* Load over the interval. */
        double cpu = 0, lat_sum = 0;
        unsigned long long lat_n = 0;
        int n_live = 0;
        for (size_t i = 0; i < max; i++) {
            if (w[i].pid <= 0 || w[i].retiring)
                continue;
            unsigned long long t = proc_demand_ns(w[i].pid);
            unsigned long long c = atomic_load(&shm->slots[i].lat_count);
            unsigned long long s = atomic_load(&shm->slots[i].lat_sum_ns);
            if (w[i].demand_ns && t >= w[i].demand_ns)
                cpu += (double)(t - w[i].demand_ns) / 1e9 / dt;
            w[i].demand_ns = t;
            lat_n += c - w[i].lat_count;
            lat_sum += (double)(s - w[i].lat_sum_ns) / 1e9;
            w[i].lat_count = c;
            w[i].lat_sum_ns = s;
            n_live++;
        }
        if (!n_live)
            continue;
        double cpu_mean = cpu / n_live, lat_mean = lat_n ? lat_sum / (double)lat_n : 0;
        if (cooldown > 0) {
            cooldown--;
            continue;
        }
        if ((cpu_mean > 0.6 || lat_mean > lat_target) && target < max) {
            target++;
            quiet = 0;
            cooldown = 2;
            atomic_fetch_add(&shm->autoscale_up, 1);
            hops_log(HOPS_LOG_INFO,
                     "serve: autoscale up to %zu workers (busy %.0f%% of a CPU per worker, mean "
                     "latency %.2f ms)",
                     target, cpu_mean * 100, lat_mean * 1000);
        } else if (cpu_mean < 0.1 && lat_mean <= lat_target && target > (size_t)o->autoscale_min) {
            if (++quiet >= 3) {
                target--;
                quiet = 0;
                cooldown = 2;
                /* Retire the newest worker: it finishes what it has. */
                if (w[target].pid > 0) {
                    w[target].retiring = 1;
                    kill(w[target].pid, SIGTERM);
                }
                atomic_fetch_add(&shm->autoscale_down, 1);
                hops_log(HOPS_LOG_INFO, "serve: autoscale down to %zu workers (idle)", target);
            }
        } else {
            quiet = 0;
        }
    }
    /* Stop every worker gracefully; kill what is left after the grace period. */
    for (size_t i = 0; i < max; i++)
        if (w[i].pid > 0)
            kill(w[i].pid, SIGTERM);
    double until = hops__mono_time() + (o->grace_s > 0 ? o->grace_s : 10) + 5;
    for (;;) {
        int left = 0, status;
        pid_t dead;
        while ((dead = waitpid(-1, &status, WNOHANG)) > 0)
            for (size_t i = 0; i < max; i++)
                if (w[i].pid == dead)
                    w[i].pid = 0;
        for (size_t i = 0; i < max; i++)
            left += w[i].pid > 0;
        if (!left)
            break;
        if (hops__mono_time() > until) {
            for (size_t i = 0; i < max; i++)
                if (w[i].pid > 0)
                    kill(w[i].pid, SIGKILL);
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    close(fd);
    close(ready[0]);
    close(ready[1]);
    hops__shm_free(shm);
    return HOPS_OK;
}
