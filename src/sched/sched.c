/* The slot scheduler's event loop.
 *
 * One poll() over: a self-pipe for SIGINT/SIGTERM/SIGHUP, each running
 * task's pidfd and report pipe, and (Slurm) an inotify descriptor watching
 * the tasks' report files. The poll timeout is the time to the nearest
 * deadline: the next tick, a task's timeout, a task's SIGKILL after its
 * grace. Nothing sleeps. When a task ends its slots are free at once and
 * FILL is asked for more work before the loop polls again.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched_internal.h"

#define MAX_LINE (1u << 20)

extern char **environ;

/* ---- slots ---- */

hops_status hops_slots_parse(hops_slots *out, const char *text)
{
    hops_slots s = {0, 0, 0};
    const char *p = text;
    int any = 0;
    if (!text || !*text)
        return hops__error(HOPS_EINVAL, "empty slots: give e.g. cpu=4,gpu=1,mem=16");
    while (*p) {
        const char *end = p + strcspn(p, ",");
        const char *eq = memchr(p, '=', (size_t)(end - p));
        char key[16], val[64], *num_end;
        size_t kl = eq ? (size_t)(eq - p) : 0, vl = eq ? (size_t)(end - eq - 1) : (size_t)(end - p);
        if (kl >= sizeof key || vl == 0 || vl >= sizeof val)
            return hops__error(HOPS_EINVAL, "bad slots '%s': each part is KEY=N (cpu, gpu or mem)", text);
        memcpy(key, p, kl);
        key[kl] = '\0';
        memcpy(val, eq ? eq + 1 : p, vl);
        val[vl] = '\0';
        if (!eq)
            memcpy(key, "cpu", 4);
        errno = 0;
        double v = strtod(val, &num_end);
        if (*num_end || errno || !isfinite(v) || v < 0 || val[0] == '-' || val[0] == '+')
            return hops__error(HOPS_EINVAL, "bad slots '%s': '%s' is not a number >= 0", text, val);
        if (strcmp(key, "cpu") == 0 || strcmp(key, "gpu") == 0) {
            if (v != floor(v) || v > 65536)
                return hops__error(HOPS_EINVAL, "bad slots '%s': %s must be a whole number up to 65536",
                                   text, key);
            if (strcmp(key, "cpu") == 0)
                s.cpu = (unsigned)v;
            else
                s.gpu = (unsigned)v;
        } else if (strcmp(key, "mem") == 0) {
            s.mem = v;
        } else {
            return hops__error(HOPS_EINVAL, "bad slots '%s': unknown resource '%s' (cpu, gpu, mem)",
                               text, key);
        }
        any = 1;
        p = *end ? end + 1 : end;
        if (*end && !*p)
            return hops__error(HOPS_EINVAL, "bad slots '%s': trailing comma", text);
    }
    if (!any || (s.cpu == 0 && s.gpu == 0 && s.mem == 0))
        return hops__error(HOPS_EINVAL, "bad slots '%s': nothing to run trials on", text);
    *out = s;
    return HOPS_OK;
}

hops_status hops_executor_parse(hops_executor_kind *out, const char *text)
{
    if (text && strcmp(text, "local") == 0)
        *out = HOPS_EXECUTOR_LOCAL;
    else if (text && (strcmp(text, "slurm") == 0 || strcmp(text, "slurm:srun") == 0))
        *out = HOPS_EXECUTOR_SLURM;
    else if (text && strcmp(text, "slurm:sbatch") == 0)
        *out = HOPS_EXECUTOR_SLURM_SBATCH;
    else
        return hops__error(HOPS_EINVAL,
                           "unknown executor '%s': use local, slurm (srun steps in one allocation) "
                           "or slurm:sbatch",
                           text ? text : "");
    return HOPS_OK;
}

const char *hops_executor_name(hops_executor_kind k)
{
    switch (k) {
    case HOPS_EXECUTOR_SLURM:
        return "slurm";
    case HOPS_EXECUTOR_SLURM_SBATCH:
        return "slurm:sbatch";
    default:
        return "local";
    }
}

/* ---- the scheduler ---- */

static hops_status gpu_pool(hops_sched *s)
{
    const char *cvd = getenv("CUDA_VISIBLE_DEVICES");
    char **names;
    if (s->pool.gpu == 0)
        return HOPS_OK;
    names = calloc(s->pool.gpu, sizeof *names);
    s->gpu_busy = calloc(s->pool.gpu, sizeof *s->gpu_busy);
    if (!names || !s->gpu_busy) {
        free(names);
        return hops__error(HOPS_ENOMEM, "out of memory");
    }
    s->gpu_names = names;
    /* Inside a CUDA_VISIBLE_DEVICES=2,3 the pool's GPUs are 2 and 3. */
    const char *p = cvd && *cvd ? cvd : NULL;
    for (unsigned i = 0; i < s->pool.gpu; i++) {
        if (p && *p) {
            size_t n = strcspn(p, ",");
            names[i] = hops__strndup(p, n);
            p += n;
            if (*p == ',')
                p++;
        } else {
            names[i] = hops__aprintf("%u", i);
        }
        if (!names[i])
            return hops__error(HOPS_ENOMEM, "out of memory");
    }
    return HOPS_OK;
}

hops_status hops_sched_new(hops_sched **out, const hops_sched_options *o)
{
    hops_sched *s;
    hops_status rc;
    *out = NULL;
    if (!o || o->version != HOPS_SCHED_OPTIONS_VERSION)
        return hops__error(HOPS_EVERSION, "hops_sched_options: unknown version");
    if (!(s = calloc(1, sizeof *s)))
        return hops__error(HOPS_ENOMEM, "out of memory");
    s->o = *o;
    s->inotify_fd = -1;
    s->pool = o->slots;
    if (s->pool.cpu == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        s->pool.cpu = n > 0 ? (unsigned)n : 1;
    }
    if (s->o.kill_grace <= 0)
        s->o.kill_grace = 5;
    if (s->o.tick <= 0)
        s->o.tick = 0.2;
    s->work_dir = hops__strdup(o->work_dir ? o->work_dir : "/tmp");
    if (!s->work_dir) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = gpu_pool(s)) != HOPS_OK)
        goto fail;
    if (o->executor != HOPS_EXECUTOR_LOCAL) {
        s->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (s->inotify_fd < 0) {
            rc = hops__error(HOPS_EIO, "inotify: %s", strerror(errno));
            goto fail;
        }
        if ((rc = hops__slurm_init(s)) != HOPS_OK)
            goto fail;
    }
    *out = s;
    return HOPS_OK;
fail:
    hops_sched_free(s);
    return rc;
}

static void task_release(hops_sched *s, hops__task *t)
{
    if (t->report_fd >= 0)
        close(t->report_fd);
    t->report_fd = -1;
    if (t->watch >= 0 && s->inotify_fd >= 0)
        inotify_rm_watch(s->inotify_fd, t->watch);
    t->watch = -1;
    hops__child_close(&t->child);
    hops__buf_free(&t->line);
    if (s->o.executor != HOPS_EXECUTOR_LOCAL)
        hops__slurm_cleanup(s, t);
    free(t->gpus);
    t->gpus = NULL;
    free(t->name);
    t->name = NULL;
    free(t->jobid_path);
    t->jobid_path = NULL;
    free(t->script_path);
    t->script_path = NULL;
}

void hops_sched_free(hops_sched *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_tasks; i++) {
        hops__task *t = &s->tasks[i];
        if (t->active && t->child.pid > 0) {
            if (s->o.executor == HOPS_EXECUTOR_LOCAL)
                hops__local_signal(s, t, SIGKILL);
            else
                hops__slurm_signal(s, t, SIGKILL);
            int code, sig;
            hops__child_wait(&t->child, &code, &sig);
        }
        task_release(s, t);
    }
    if (s->o.executor != HOPS_EXECUTOR_LOCAL)
        hops__slurm_fini(s);
    if (s->inotify_fd >= 0)
        close(s->inotify_fd);
    for (unsigned i = 0; s->gpu_names && i < s->pool.gpu; i++)
        free(s->gpu_names[i]);
    free(s->gpu_names);
    free(s->gpu_busy);
    free(s->tasks);
    free(s->active);
    free(s->alloc_id);
    free(s->work_dir);
    free(s);
}

static unsigned req_cpu(const hops_slots *r) { return r->cpu ? r->cpu : 1; }

static int fits_in(const hops_sched *s, const hops_slots *req, const hops_slots *used)
{
    if (used->cpu + req_cpu(req) > s->pool.cpu)
        return 0;
    if (used->gpu + req->gpu > s->pool.gpu)
        return 0;
    if (s->pool.mem > 0 && used->mem + req->mem > s->pool.mem + 1e-9)
        return 0;
    return 1;
}

int hops_sched_fits(const hops_sched *s, const hops_slots *req) { return fits_in(s, req, &s->used); }

size_t hops_sched_running(const hops_sched *s) { return s->running; }
hops_slots hops_sched_pool(const hops_sched *s) { return s->pool; }
int hops_sched_signal(const hops_sched *s) { return s->sig; }
const char *hops_sched_slurm_job(const hops_sched *s) { return s->own_alloc ? s->alloc_id : NULL; }

const char *hops_sched_task_gpus(const hops_sched *s, int task)
{
    if (task < 0 || (size_t)task >= s->n_tasks)
        return "";
    return s->tasks[task].gpus_text;
}

int hops_sched_task_pid(const hops_sched *s, int task)
{
    if (task < 0 || (size_t)task >= s->n_tasks)
        return -1;
    return (int)s->tasks[task].child.pid;
}

/* Our environment with O's variables and HOPS_REPORT / CUDA_VISIBLE_DEVICES
 * put over it. NULL-terminated, every string owned. */
static char **task_env(const hops_task_options *o, const char *report, const char *gpus)
{
    size_t n = 0, k = 0, extra = o->n_env + 2;
    char **env;
    while (environ[n])
        n++;
    if (!(env = calloc(n + extra + 1, sizeof *env)))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *e = environ[i];
        size_t nl = strcspn(e, "=");
        int replaced = (nl == 11 && strncmp(e, "HOPS_REPORT", 11) == 0) ||
                       (nl == 20 && strncmp(e, "CUDA_VISIBLE_DEVICES", 20) == 0);
        for (size_t j = 0; j < o->n_env && !replaced; j++)
            replaced = strncmp(o->env[j], e, nl) == 0 && o->env[j][nl] == '=';
        if (!replaced && !(env[k++] = hops__strdup(e)))
            goto fail;
    }
    for (size_t j = 0; j < o->n_env; j++)
        if (!(env[k++] = hops__strdup(o->env[j])))
            goto fail;
    if (report && !(env[k++] = hops__aprintf("HOPS_REPORT=%s", report)))
        goto fail;
    if (!(env[k++] = hops__aprintf("CUDA_VISIBLE_DEVICES=%s", gpus)))
        goto fail;
    return env;
fail:
    for (size_t i = 0; i < k; i++)
        free(env[i]);
    free(env);
    return NULL;
}

static void env_free(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

hops_status hops_sched_submit(hops_sched *s, const hops_task_options *o, int *task_out)
{
    hops__task *t;
    int report_pipe[2] = {-1, -1}, id;
    char **env = NULL;
    char report_arg[64];
    hops_status rc;
    if (task_out)
        *task_out = -1;
    if (!o || o->version != HOPS_TASK_OPTIONS_VERSION)
        return hops__error(HOPS_EVERSION, "hops_task_options: unknown version");
    if (!o->argv || o->argc == 0 || !o->argv[0])
        return hops__error(HOPS_EINVAL, "a task needs a command");
    if (s->shutdown)
        return hops__error(HOPS_ESTATE, "the scheduler is shutting down");
    {
        hops_slots none = {0, 0, 0};
        if (!fits_in(s, &o->request, &none))
            return hops__error(HOPS_EINVAL,
                               "a trial asks for cpu=%u,gpu=%u,mem=%g but the slots are only "
                               "cpu=%u,gpu=%u,mem=%g: it could never run",
                               req_cpu(&o->request), o->request.gpu, o->request.mem, s->pool.cpu,
                               s->pool.gpu, s->pool.mem);
    }
    if (!hops_sched_fits(s, &o->request))
        return hops__error(HOPS_EBUSY, "not enough free slots now");
    if (s->o.executor != HOPS_EXECUTOR_LOCAL && !o->report_path)
        return hops__error(HOPS_EINVAL, "a Slurm task needs a report file path");
    if (s->running == s->cap_active) {
        size_t nc = s->cap_active ? s->cap_active * 2 : 16;
        int *na = realloc(s->active, nc * sizeof *na);
        if (!na)
            return hops__error(HOPS_ENOMEM, "out of memory");
        s->active = na;
        s->cap_active = nc;
    }
    if (s->n_tasks == s->cap_tasks) {
        size_t nc = s->cap_tasks ? s->cap_tasks * 2 : 64;
        hops__task *nt = realloc(s->tasks, nc * sizeof *nt);
        if (!nt)
            return hops__error(HOPS_ENOMEM, "out of memory");
        s->tasks = nt;
        s->cap_tasks = nc;
    }
    id = (int)s->n_tasks;
    t = &s->tasks[id];
    memset(t, 0, sizeof *t);
    t->report_fd = t->watch = -1;
    t->child = (hops_child){-1, -1, -1, -1};
    t->req = o->request;
    if (o->request.gpu) {
        size_t len = 0;
        if (!(t->gpus = calloc(o->request.gpu, sizeof *t->gpus)))
            return hops__error(HOPS_ENOMEM, "out of memory");
        for (unsigned g = 0, k = 0; g < s->pool.gpu && k < o->request.gpu; g++)
            if (!s->gpu_busy[g]) {
                t->gpus[k++] = (int)g;
                len += (size_t)snprintf(t->gpus_text + len, sizeof t->gpus_text - len, "%s%s",
                                        k > 1 ? "," : "", s->gpu_names[g]);
                if (len >= sizeof t->gpus_text)
                    len = sizeof t->gpus_text - 1;
            }
    }
    t->name = o->name ? hops__strdup(o->name) : hops__aprintf("hops-task-%d", id);

    if (s->o.executor == HOPS_EXECUTOR_LOCAL) {
        if (pipe2(report_pipe, O_CLOEXEC) != 0) {
            rc = hops__error(HOPS_ESPAWN, "cannot create a pipe: %s", strerror(errno));
            goto fail;
        }
        snprintf(report_arg, sizeof report_arg, "/dev/fd/%d", report_pipe[1]);
        env = task_env(o, report_arg, t->gpus_text);
    } else {
        int fd = open(o->report_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) {
            rc = hops__error(HOPS_EIO, "cannot create %s: %s", o->report_path, strerror(errno));
            goto fail;
        }
        close(fd);
        t->report_fd = open(o->report_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (t->report_fd < 0) {
            rc = hops__error(HOPS_EIO, "cannot read %s: %s", o->report_path, strerror(errno));
            goto fail;
        }
        t->watch = inotify_add_watch(s->inotify_fd, o->report_path, IN_MODIFY);
        env = task_env(o, o->report_path, t->gpus_text);
    }
    if (!env || !t->name) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto fail;
    }
    if (s->o.executor == HOPS_EXECUTOR_LOCAL)
        rc = hops__local_start(s, t, o, env, report_pipe[1]);
    else
        rc = hops__slurm_start(s, t, o, env);
    env_free(env);
    env = NULL;
    if (report_pipe[1] >= 0)
        close(report_pipe[1]);
    report_pipe[1] = -1;
    if (rc != HOPS_OK)
        goto fail;
    if (report_pipe[0] >= 0) {
        t->report_fd = report_pipe[0];
        report_pipe[0] = -1;
        set_nonblock(t->report_fd);
    }
    t->active = 1;
    t->start_wall = hops__wall_time();
    t->deadline = o->timeout > 0 ? hops__mono_time() + o->timeout : 0;
    s->used.cpu += req_cpu(&t->req);
    s->used.gpu += t->req.gpu;
    s->used.mem += t->req.mem;
    for (unsigned k = 0; k < t->req.gpu; k++)
        s->gpu_busy[t->gpus[k]] = 1;
    s->n_tasks++;
    s->active[s->running++] = id;
    if (task_out)
        *task_out = id;
    return HOPS_OK;
fail:
    env_free(env);
    for (int i = 0; i < 2; i++)
        if (report_pipe[i] >= 0)
            close(report_pipe[i]);
    task_release(s, t);
    return rc;
}

static void deliver_signal(hops_sched *s, hops__task *t, int sig)
{
    if (s->o.executor == HOPS_EXECUTOR_LOCAL)
        hops__local_signal(s, t, sig);
    else
        hops__slurm_signal(s, t, sig);
}

static void stop_task(hops_sched *s, hops__task *t)
{
    if (t->term_sent)
        return;
    t->term_sent = 1;
    deliver_signal(s, t, SIGTERM);
    t->kill_at = hops__mono_time() + s->o.kill_grace;
}

hops_status hops_sched_stop(hops_sched *s, int task)
{
    if (task < 0 || (size_t)task >= s->n_tasks || !s->tasks[task].active)
        return hops__error(HOPS_ENOTFOUND, "task %d is not running", task);
    s->tasks[task].stopped = 1;
    stop_task(s, &s->tasks[task]);
    return HOPS_OK;
}

void hops_sched_shutdown(hops_sched *s)
{
    s->shutdown = 1;
    for (size_t k = 0; k < s->running; k++) {
        s->tasks[s->active[k]].stopped = 1;
        stop_task(s, &s->tasks[s->active[k]]);
    }
}

/* ---- reports ---- */

static void report_bytes(hops_sched *s, int id, const char *data, size_t n)
{
    hops__task *t = &s->tasks[id];
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t take = nl ? (size_t)(nl - data) : n;
        if (t->skipping) {
            if (nl)
                t->skipping = 0;
        } else if (t->line.len + take > MAX_LINE) {
            hops_log(HOPS_LOG_WARN, "task %s: a report line is over %u bytes; ignored", t->name,
                     MAX_LINE);
            t->line.len = 0;
            t->skipping = !nl;
        } else if (nl && t->line.len == 0) {
            if (take && s->o.on_line)
                s->o.on_line(s, id, data, take, s->o.ud);
        } else {
            hops__buf_put(&t->line, data, take);
            if (nl) {
                if (t->line.len && s->o.on_line)
                    s->o.on_line(s, id, t->line.data, t->line.len, s->o.ud);
                t->line.len = 0;
            }
        }
        if (!nl)
            break;
        data = nl + 1;
        n -= take + 1;
    }
}

/* Read what there is; MAX_ROUNDS 0: until empty. 1 at EOF of a pipe. */
static int drain_report(hops_sched *s, int id, int max_rounds)
{
    char buf[65536];
    hops__task *t = &s->tasks[id];
    for (int r = 0; t->report_fd >= 0 && (max_rounds == 0 || r < max_rounds); r++) {
        ssize_t n = read(t->report_fd, buf, sizeof buf);
        if (n > 0) {
            report_bytes(s, id, buf, (size_t)n);
            continue;
        }
        if (n == 0)
            return 1;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN ? 0 : 1;
    }
    return 0;
}

/* ---- the loop ---- */

static void end_task(hops_sched *s, int id, int status)
{
    hops__task *t = &s->tasks[id];
    hops_task_end e;
    char reason[160] = "";
    drain_report(s, id, 0);
    if (t->line.len && !t->skipping && s->o.on_line)
        s->o.on_line(s, id, t->line.data, t->line.len, s->o.ud);
    t->line.len = 0;
    memset(&e, 0, sizeof e);
    if (WIFSIGNALED(status)) {
        e.term_signal = WTERMSIG(status);
        e.exit_code = 128 + e.term_signal;
    } else {
        e.exit_code = WEXITSTATUS(status);
    }
    e.timed_out = t->timed_out;
    e.stopped = t->stopped && !t->timed_out;
    e.start_time = t->start_wall;
    e.end_time = hops__wall_time();
    if (e.timed_out)
        snprintf(reason, sizeof reason, "ran past its timeout and was stopped");
    else if (e.stopped)
        snprintf(reason, sizeof reason, "stopped by the scheduler");
    else if (e.term_signal)
        snprintf(reason, sizeof reason, "terminated by signal %d (%s)", e.term_signal,
                 strsignal(e.term_signal));
    else if (e.exit_code)
        snprintf(reason, sizeof reason, "exited with code %d", e.exit_code);
    e.reason = reason[0] ? reason : NULL;
    t->active = 0;
    for (size_t k = 0; k < s->running; k++)
        if (s->active[k] == id) {
            s->active[k] = s->active[--s->running];
            break;
        }
    s->used.cpu -= req_cpu(&t->req);
    s->used.gpu -= t->req.gpu;
    s->used.mem -= t->req.mem;
    if (s->used.mem < 1e-9)
        s->used.mem = 0;
    for (unsigned k = 0; k < t->req.gpu; k++)
        s->gpu_busy[t->gpus[k]] = 0;
    task_release(s, t);
    if (s->o.on_end)
        s->o.on_end(s, id, &e, s->o.ud);
}

/* Reap TASK if it has exited. 1 when it ended. */
static int try_reap(hops_sched *s, int id)
{
    int st;
    pid_t w = waitpid(s->tasks[id].child.pid, &st, WNOHANG);
    if (w != s->tasks[id].child.pid)
        return 0;
    end_task(s, id, st);
    return 1;
}

static double min_deadline(double a, double b) { return a <= 0 ? b : (b <= 0 || a < b ? a : b); }

hops_status hops_sched_run(hops_sched *s)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    hops_sigpipe sp;
    struct pollfd *pfd = NULL;
    int *owner = NULL; /* per pollfd: task id, -1 signal pipe, -2 inotify */
    int *kind = NULL;  /* 0 pidfd, 1 report */
    size_t cap = 0;
    int dirty = 1, handlers = 0;
    double next_tick = hops__mono_time() + s->o.tick;
    hops_status rc = HOPS_OK;

    if (s->o.handle_signals) {
        if ((rc = hops__sigpipe_open(&sp, sigs, HOPS_ARRAY_LEN(sigs))) != HOPS_OK)
            return rc;
        handlers = 1;
    }
    for (;;) {
        if (dirty && !s->fill_done && !s->shutdown && s->o.fill) {
            int fr = s->o.fill(s, s->o.ud);
            if (fr < 0) {
                rc = (hops_status)fr;
                hops_sched_shutdown(s);
            } else if (fr == 1)
                s->fill_done = 1;
        }
        dirty = 0;
        if (s->running == 0) {
            if (s->fill_done || s->shutdown)
                break;
            rc = hops__error(HOPS_ESTATE, "nothing is running and nothing was started");
            break;
        }
        size_t want = s->running * 2 + 2;
        if (want > cap) {
            free(pfd);
            free(owner);
            free(kind);
            cap = want * 2;
            pfd = calloc(cap, sizeof *pfd);
            owner = calloc(cap, sizeof *owner);
            kind = calloc(cap, sizeof *kind);
            if (!pfd || !owner || !kind) {
                rc = hops__error(HOPS_ENOMEM, "out of memory");
                break;
            }
        }
        nfds_t n = 0;
        int no_pidfd = 0;
        double now = hops__mono_time(), deadline = next_tick;
        if (handlers) {
            pfd[n] = (struct pollfd){sp.fd, POLLIN, 0};
            owner[n++] = -1;
        }
        if (s->inotify_fd >= 0) {
            pfd[n] = (struct pollfd){s->inotify_fd, POLLIN, 0};
            owner[n++] = -2;
        }
        for (size_t k = 0; k < s->running; k++) {
            int i = s->active[k];
            hops__task *t = &s->tasks[i];
            if (t->child.pidfd >= 0) {
                pfd[n] = (struct pollfd){t->child.pidfd, POLLIN, 0};
                owner[n] = (int)i;
                kind[n++] = 0;
            } else
                no_pidfd = 1;
            if (t->report_fd >= 0 && s->o.executor == HOPS_EXECUTOR_LOCAL) {
                pfd[n] = (struct pollfd){t->report_fd, POLLIN, 0};
                owner[n] = (int)i;
                kind[n++] = 1;
            }
            deadline = min_deadline(deadline, t->term_sent ? 0 : t->deadline);
            deadline = min_deadline(deadline, t->kill_at);
        }
        double wait = deadline - now;
        int timeout = wait <= 0 ? 0 : (int)ceil(wait * 1000);
        if (no_pidfd && timeout > 50)
            timeout = 50; /* kernels without pidfd: look at the children now and then */
        int pr = poll(pfd, n, timeout);
        if (pr < 0 && errno != EINTR) {
            rc = hops__error(HOPS_EIO, "poll: %s", strerror(errno));
            hops_sched_shutdown(s);
            break;
        }
        for (nfds_t k = 0; pr > 0 && k < n; k++) {
            if (!pfd[k].revents)
                continue;
            if (owner[k] == -1) {
                unsigned char b[16];
                int got = hops__sigpipe_read(&sp, b, (int)sizeof b);
                if (got > 0) {
                    if (s->sig) { /* asked twice: kill at once */
                        for (size_t j = 0; j < s->running; j++)
                            deliver_signal(s, &s->tasks[s->active[j]], SIGKILL);
                    }
                    s->sig = b[got - 1];
                    hops_sched_shutdown(s);
                }
            } else if (owner[k] == -2) {
                char ev[4096];
                while (read(s->inotify_fd, ev, sizeof ev) > 0)
                    ;
                for (size_t j = 0; j < s->running; j++)
                    drain_report(s, s->active[j], 64);
            } else if (kind[k] == 1 && s->tasks[owner[k]].active) {
                if (drain_report(s, owner[k], 64)) {
                    close(s->tasks[owner[k]].report_fd);
                    s->tasks[owner[k]].report_fd = -1;
                }
            }
        }
        /* Exits after reports, so a task's last lines come before its end. */
        for (nfds_t k = 0; pr > 0 && k < n; k++)
            if (owner[k] >= 0 && kind[k] == 0 && pfd[k].revents && s->tasks[owner[k]].active)
                dirty |= try_reap(s, owner[k]);
        if (no_pidfd) /* backwards: an ended task's slot takes the last id */
            for (size_t k = s->running; k-- > 0;)
                if (k < s->running && s->tasks[s->active[k]].child.pidfd < 0)
                    dirty |= try_reap(s, s->active[k]);
        now = hops__mono_time();
        for (size_t k = 0; k < s->running; k++) {
            hops__task *t = &s->tasks[s->active[k]];
            if (!t->term_sent && t->deadline > 0 && now >= t->deadline) {
                t->timed_out = 1;
                stop_task(s, t);
            } else if (t->kill_at > 0 && now >= t->kill_at) {
                deliver_signal(s, t, SIGKILL);
                t->kill_at = 0;
            }
        }
        if (now >= next_tick) {
            if (s->o.executor != HOPS_EXECUTOR_LOCAL) /* report files on shared filesystems */
                for (size_t k = 0; k < s->running; k++)
                    drain_report(s, s->active[k], 64);
            if (s->o.on_tick)
                s->o.on_tick(s, s->o.ud);
            next_tick = now + s->o.tick;
        }
    }
    free(pfd);
    free(owner);
    free(kind);
    if (handlers)
        hops__sigpipe_close(&sp);
    return rc;
}
