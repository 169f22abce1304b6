/* hops_run_launch: one program as a distributed job of several tasks.
 *
 * One poll loop owns every task's pidfd and output pipes, the chief's report
 * pipe, a signal self-pipe and the deadlines (job timeout, the grace the
 * others get after a task fails or a trainer ends first, SIGKILL after
 * SIGTERM). Free ports are taken by binding port 0 for every task at once
 * (so no two get the same) and closing the sockets just before the tasks
 * start, as TensorFlow's and PyTorch's own launchers do.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch_internal.h"

#define FLUSH_INTERVAL 0.2
#define KILL_GRACE 5.0
#define MAX_TASKS 1024
#define MAX_LINE 65536 /* a longer line is cut into pieces of this size */

extern char **environ;

/* One line of a task's output, prefixed, to the run's log (and ours). */
/* One line of a task's output, prefixed, to the run's log (and ours), in
 * one write: other tasks write to the same file or pipe (under mpirun and
 * srun, their wrappers to the same forwarded stream), and a line written in
 * pieces would interleave with theirs. (A pipe keeps writes of up to
 * PIPE_BUF bytes whole.) */
static void put_line(tstream *s, const char *line, size_t n)
{
    char stack[4096], *buf = stack;
    size_t plen = strlen(s->name) + 3, total = plen + n + 1;
    if (total > sizeof stack && !(buf = malloc(total)))
        return;
    memcpy(buf, s->name, plen - 3);
    memcpy(buf + plen - 3, " | ", 3);
    memcpy(buf + plen, line, n);
    buf[plen + n] = '\n';
    hops__write_all(s->run_log, buf, total);
    if (s->tee_fd >= 0)
        hops__write_all(s->tee_fd, buf, total);
    if (buf != stack)
        free(buf);
}

void hops__launch_stream_bytes(tstream *s, const char *data, size_t n)
{
    hops__write_all(s->task_log, data, n);
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t take = nl ? (size_t)(nl - data) : n;
        if (!nl && s->partial.len + take < MAX_LINE) {
            hops__buf_put(&s->partial, data, take);
            return;
        }
        if (s->partial.len) {
            hops__buf_put(&s->partial, data, take);
            put_line(s, s->partial.data, s->partial.len);
            s->partial.len = 0;
        } else
            put_line(s, data, take);
        data += take + (nl ? 1 : 0);
        n -= take + (nl ? 1 : 0);
    }
}

/* Read what FD has (non-blocking); 1 at EOF or error, 0 while open. */

static void stream_sink(void *ud, const char *data, size_t n) { hops__launch_stream_bytes(ud, data, n); }

void hops__launch_stream_close(tstream *s)
{
    if (s->fd >= 0) {
        hops__drain(s->fd, stream_sink, s, 0);
        close(s->fd);
        s->fd = -1;
    }
    if (s->partial.len) {
        put_line(s, s->partial.data, s->partial.len);
        s->partial.len = 0;
    }
}

/* Free ports on HOST for N tasks (plus the master and rendezvous ports):
 * every socket stays bound until all are taken, so no two ports are equal. */
hops_status hops__launch_ports(const char *host, int n, int *ports)
{
    int *fds = malloc((size_t)n * sizeof *fds);
    hops_status rc = HOPS_OK;
    int i, opened = 0;
    if (!fds)
        return hops__error(HOPS_ENOMEM, "out of memory");
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
        a.sin_addr.s_addr = htonl(INADDR_ANY); /* a host name: any local address */
    for (i = 0; i < n; i++) {
        socklen_t len = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        a.sin_port = 0;
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
            getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
            rc = hops__error(HOPS_EIO, "cannot find a free port on %s: %s", host, strerror(errno));
            if (fd >= 0)
                close(fd);
            break;
        }
        fds[opened++] = fd;
        ports[i] = ntohs(a.sin_port);
    }
    for (i = 0; i < opened; i++)
        close(fds[i]);
    free(fds);
    return rc;
}

static const char *const replaced[] = {
    "HOPS_PROJECT=",   "HOPS_RUN_ID=",     "HOPS_RUN_DIR=",     "HOPS_PARAMS=",     "HOPS_REPORT=",
    "HOPS_EXPERIMENT=", "TF_CONFIG=",      "MASTER_ADDR=",      "MASTER_PORT=",     "RANK=",
    "WORLD_SIZE=",     "LOCAL_RANK=",      "LOCAL_WORLD_SIZE=", "HOPS_TASK_TYPE=",  "HOPS_TASK_INDEX=",
    "HOPS_RANK=",      "HOPS_WORLD_SIZE=", "HOPS_RENDEZVOUS="};

void hops__launch_env_free(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

/* Our environment without the variables we set, plus EXTRA (NULL-ended,
 * taken over). NULL when out of memory. */
static char **task_env(char **extra)
{
    size_t n = 0, k = 0, m = 0;
    while (environ[n])
        n++;
    while (extra[m])
        m++;
    char **env = calloc(n + m + 1, sizeof *env);
    if (!env) {
        hops__launch_env_free(extra);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        int skip = 0;
        for (size_t j = 0; j < HOPS_ARRAY_LEN(replaced) && !skip; j++)
            skip = strncmp(environ[i], replaced[j], strlen(replaced[j])) == 0;
        if (!skip && !(env[k++] = hops__strdup(environ[i]))) {
            hops__launch_env_free(env);
            hops__launch_env_free(extra);
            return NULL;
        }
    }
    for (size_t i = 0; i < m; i++)
        env[k++] = extra[i];
    free(extra);
    return env;
}


typedef struct {
    const hops_launch_options *o;
    hops_run *run;
    const char *project_root;
    task *t;
    int n;
    int trainers;       /* chief + workers */
    const char *host;
    int master_port, rendezvous_port;
    json_t *cluster;
    int report_pipe[2];
    int run_out, run_err;
    hops_reporter rp;
} job;

/* The environment of task T. */
char **hops__launch_env(const layout *L, const task *t)
{
    char **extra = calloc(20, sizeof *extra);
    size_t k = 0;
    if (!extra)
        return NULL;
    json_t *cfg = json_pack("{s:O, s:{s:s, s:i}}", "cluster", L->cluster, "task", "type", t->type,
                            "index", t->index);
    char *tf = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
    json_decref(cfg);
    extra[k++] = hops__aprintf("HOPS_PROJECT=%s", L->project);
    extra[k++] = hops__aprintf("HOPS_RUN_ID=%s", L->run_id);
    extra[k++] = hops__aprintf("HOPS_RUN_DIR=%s", L->run_dir);
    extra[k++] = hops__aprintf("HOPS_PARAMS=%s", L->params);
    extra[k++] = hops__aprintf("HOPS_EXPERIMENT=%s", L->experiment);
    extra[k++] = t->rank == 0 ? hops__aprintf("HOPS_REPORT=%s", L->chief_report)
                              : hops__strdup("HOPS_REPORT=/dev/null");
    extra[k++] = hops__aprintf("TF_CONFIG=%s", tf ? tf : "");
    extra[k++] = hops__aprintf("HOPS_TASK_TYPE=%s", t->type);
    extra[k++] = hops__aprintf("HOPS_TASK_INDEX=%d", t->index);
    if (t->rank >= 0) {
        extra[k++] = hops__aprintf("MASTER_ADDR=%s", L->master_host);
        extra[k++] = hops__aprintf("MASTER_PORT=%d", L->master_port);
        extra[k++] = hops__aprintf("RANK=%d", t->rank);
        extra[k++] = hops__aprintf("WORLD_SIZE=%d", L->trainers);
        extra[k++] = hops__aprintf("LOCAL_RANK=%d", t->rank);
        extra[k++] = hops__aprintf("LOCAL_WORLD_SIZE=%d", L->trainers);
        extra[k++] = hops__aprintf("HOPS_RANK=%d", t->rank);
        extra[k++] = hops__aprintf("HOPS_WORLD_SIZE=%d", L->trainers);
        extra[k++] = hops__aprintf("HOPS_RENDEZVOUS=%s:%d", L->master_host, L->rendezvous_port);
    }
    free(tf);
    for (size_t i = 0; i < k; i++)
        if (!extra[i]) {
            hops__launch_env_free(extra);
            return NULL;
        }
    return task_env(extra);
}

static void job_layout(const job *j, layout *L)
{
    memset(L, 0, sizeof *L);
    L->cluster = j->cluster;
    L->master_host = j->host;
    L->master_port = j->master_port;
    L->rendezvous_port = j->rendezvous_port;
    L->trainers = j->trainers;
    L->project = j->project_root;
    L->run_id = hops_run_id(j->run);
    L->run_dir = hops_run_dir(j->run);
    L->params = hops_run_params_json(j->run);
    L->experiment = hops_run_experiment(j->run);
    snprintf(L->chief_report, sizeof L->chief_report, "/dev/fd/%d", j->report_pipe[1]);
}

static void signal_running(job *j, int sig, int ps_only)
{
    for (int i = 0; i < j->n; i++)
        if (j->t[i].running && (!ps_only || strcmp(j->t[i].type, "ps") == 0))
            kill(-j->t[i].child.pid, sig);
}

void hops__launch_task_role(int i, int workers, int ps, task *t)
{
    if (i == 0) {
        t->type = "chief", t->index = 0, t->rank = 0;
    } else if (i < workers) {
        t->type = "worker", t->index = i - 1, t->rank = i;
    } else if (i < workers + ps) {
        t->type = "ps", t->index = i - workers, t->rank = -1;
    } else {
        t->type = "evaluator", t->index = 0, t->rank = -1;
    }
    snprintf(t->name, sizeof t->name, "%s:%d", t->type, t->index);
}

/* Lay out the tasks and their addresses. */
static hops_status plan(job *j)
{
    const hops_launch_options *o = j->o;
    int n = o->workers + o->ps + (o->evaluator ? 1 : 0);
    int *ports = malloc((size_t)(n + 2) * sizeof *ports);
    hops_status rc;
    if (!ports || !(j->t = calloc((size_t)n, sizeof *j->t)))
        return free(ports), hops__error(HOPS_ENOMEM, "out of memory");
    if ((rc = hops__launch_ports(j->host, n + 2, ports)) != HOPS_OK) {
        free(ports);
        return rc;
    }
    j->n = n;
    j->trainers = o->workers;
    j->master_port = ports[n];
    j->rendezvous_port = ports[n + 1];
    j->cluster = json_object();
    for (int i = 0; i < n; i++) {
        task *t = &j->t[i];
        hops__launch_task_role(i, o->workers, o->ps, t);
        snprintf(t->host_port, sizeof t->host_port, "%s:%d", j->host, ports[i]);
        json_t *arr = json_object_get(j->cluster, t->type);
        if (!arr) {
            arr = json_array();
            json_object_set_new(j->cluster, t->type, arr);
        }
        json_array_append_new(arr, json_string(t->host_port));
        t->child = (hops_child){-1, -1, -1, -1};
        for (int s = 0; s < 2; s++)
            t->s[s] = (tstream){-1, -1, -1, -1, t->name, HOPS_BUF_INIT};
    }
    free(ports);
    return HOPS_OK;
}

static hops_status start_task(job *j, task *t)
{
    char *paths[2] = {NULL, NULL};
    char **env = NULL;
    hops_status rc = HOPS_OK;
    for (int s = 0; s < 2; s++) {
        paths[s] = hops__aprintf("%s/tasks/%s-%d.%s.log", hops_run_dir(j->run), t->type,
                                 t->index, s ? "stderr" : "stdout");
        if (!paths[s]) {
            rc = hops__error(HOPS_ENOMEM, "out of memory");
            goto out;
        }
        t->s[s].task_log = open(paths[s], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (t->s[s].task_log < 0) {
            rc = hops__error(HOPS_EIO, "cannot create %s: %s", paths[s], strerror(errno));
            goto out;
        }
        t->s[s].run_log = s ? j->run_err : j->run_out;
        t->s[s].tee_fd = j->o->tee ? (s ? 2 : 1) : -1;
    }
    layout L;
    job_layout(j, &L);
    if (!(env = hops__launch_env(&L, t))) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }
    hops_spawn_opts so = {0};
    so.argv = (char *const *)j->o->run.argv;
    so.envp = env;
    so.cwd = j->o->run.cwd;
    so.stdin_null = 1;
    so.stdout_pipe = so.stderr_pipe = 1;
    if (t->rank == 0) {
        so.keep_fds = &j->report_pipe[1];
        so.n_keep_fds = 1;
        fcntl(j->report_pipe[1], F_SETFD, 0);
    }
    rc = hops__spawn(&t->child, &so);
    if (t->rank == 0)
        fcntl(j->report_pipe[1], F_SETFD, FD_CLOEXEC);
    if (rc != HOPS_OK)
        goto out;
    t->running = 1;
    for (int s = 0; s < 2; s++) {
        t->s[s].fd = s ? t->child.stderr_fd : t->child.stdout_fd;
        fcntl(t->s[s].fd, F_SETFL, fcntl(t->s[s].fd, F_GETFL) | O_NONBLOCK);
    }
    t->child.stdout_fd = t->child.stderr_fd = -1; /* the streams own them */
out:
    free(paths[0]);
    free(paths[1]);
    hops__launch_env_free(env);
    return rc;
}

/* ---- the job's fate: shared by the local and the cluster drivers ---- */

void hops__launch_state_init(job_state *js, task *t, int n, const hops_launch_options *o,
                             void (*sig)(void *ud, int signo, int ps_only), void *ud)
{
    memset(js, 0, sizeof *js);
    js->t = t;
    js->n = n;
    js->timeout = o->timeout;
    js->fail_grace = o->fail_timeout > 0 ? o->fail_timeout : 60;
    js->signal = sig;
    js->ud = ud;
    if (o->timeout > 0)
        js->job_deadline = hops__mono_time() + o->timeout;
}

static int is_ps(const task *t) { return strcmp(t->type, "ps") == 0; }

void hops__launch_ended(job_state *js, task *t, int exit_code, int term_signal, double now)
{
    t->running = 0;
    t->exit_code = exit_code;
    t->term_signal = term_signal;
    if (js->stopping_ps && is_ps(t))
        return; /* asked to stop: how it ended says nothing */
    if (js->got_signal || js->timed_out || js->hung || (js->failed && js->kill_deadline > 0))
        return; /* stopped by us */
    if (exit_code != 0 || is_ps(t)) {
        if (!js->failed) {
            js->failed = t;
            js->fail_deadline = now + js->fail_grace;
        }
    } else if (!js->first_done && strcmp(t->type, "evaluator") != 0) {
        js->first_done = t;
        js->fail_deadline = now + js->fail_grace;
    }
}

void hops__launch_signal(job_state *js, int sig, double now)
{
    if (js->got_signal) { /* asked twice: stop at once */
        js->signal(js->ud, SIGKILL, 0);
        return;
    }
    js->got_signal = sig;
    js->signal(js->ud, sig, 0);
    js->kill_deadline = now + KILL_GRACE;
}

int hops__launch_tick(job_state *js, double now)
{
    int running = 0, trainers = 0;
    for (int i = 0; i < js->n; i++) {
        running += js->t[i].running;
        trainers += js->t[i].running && !is_ps(&js->t[i]);
    }
    if (!running)
        return 0;
    if (!trainers && !js->stopping_ps) { /* done: the parameter servers may go */
        js->stopping_ps = 1;
        js->signal(js->ud, SIGTERM, 1);
        js->kill_deadline = now + KILL_GRACE;
    }
    if (js->job_deadline > 0 && now >= js->job_deadline && !js->timed_out && !js->got_signal) {
        js->timed_out = 1;
        js->job_deadline = 0;
        js->signal(js->ud, SIGTERM, 0);
        js->kill_deadline = now + KILL_GRACE;
    }
    if (js->fail_deadline > 0 && now >= js->fail_deadline) {
        js->fail_deadline = 0;
        if (trainers && !js->got_signal && !js->timed_out) {
            if (!js->failed) {
                js->hung = 1;
                for (int i = 0; i < js->n && !js->failed; i++)
                    if (js->t[i].running && !is_ps(&js->t[i]))
                        js->failed = &js->t[i];
            }
            js->signal(js->ud, SIGTERM, 0);
            js->kill_deadline = now + KILL_GRACE;
        } else if (js->failed && !js->got_signal && !js->timed_out) {
            js->signal(js->ud, SIGTERM, 0); /* parameter servers of a failed job */
            js->kill_deadline = now + KILL_GRACE;
        }
    }
    if (js->kill_deadline > 0 && now >= js->kill_deadline) {
        js->signal(js->ud, SIGKILL, 0);
        js->kill_deadline = now + KILL_GRACE;
    }
    return 1;
}

int hops__launch_wait_ms(const job_state *js, double now, double at_most)
{
    double wake = now + at_most;
    double deadlines[] = {js->job_deadline, js->fail_deadline, js->kill_deadline};
    for (size_t d = 0; d < HOPS_ARRAY_LEN(deadlines); d++)
        if (deadlines[d] > 0 && deadlines[d] < wake)
            wake = deadlines[d];
    int ms = (int)((wake - now) * 1000) + 1;
    return ms < 0 ? 0 : ms;
}

void hops__launch_outcome(const job_state *js, hops_launch_result *res, char **reason)
{
    const task *failed = js->failed;
    if (js->got_signal) {
        res->state = HOPS_RUN_KILLED;
        res->exit_code = 128 + js->got_signal;
        *reason = hops__aprintf("stopped by %s sent to hops launch", strsignal(js->got_signal));
    } else if (js->timed_out) {
        res->state = HOPS_RUN_FAILED;
        res->exit_code = 124;
        *reason = hops__aprintf("the job did not end within its timeout of %g s", js->timeout);
    } else if (js->hung) {
        res->state = HOPS_RUN_FAILED;
        res->exit_code = 124;
        hops__strlcpy(res->failed_task, failed->name, sizeof res->failed_task);
        *reason = hops__aprintf("%s did not end within %g s of %s ending; stopped", failed->name,
                                js->fail_grace,
                                js->first_done ? js->first_done->name : "another task");
    } else if (failed) {
        res->state = HOPS_RUN_FAILED;
        res->exit_code = failed->exit_code ? failed->exit_code : 1;
        hops__strlcpy(res->failed_task, failed->name, sizeof res->failed_task);
        *reason = failed->term_signal
                      ? hops__aprintf("%s was terminated by signal %d (%s)", failed->name,
                                      failed->term_signal, strsignal(failed->term_signal))
                  : failed->exit_code
                      ? hops__aprintf("%s exited with code %d", failed->name, failed->exit_code)
                      : hops__aprintf("%s (a parameter server) ended before the job did",
                                      failed->name);
    } else {
        res->state = HOPS_RUN_FINISHED;
        res->exit_code = 0;
    }
}

static void local_signal(void *ud, int sig, int ps_only) { signal_running(ud, sig, ps_only); }

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP};

hops_status hops_run_launch(hops_project *p, const hops_launch_options *o, hops_launch_result *res)
{
    job j;
    hops_sigpipe sp;
    struct sigaction old_pipe, act;
    int handlers = 0, pipe_handler = 0;
    double last_flush;
    char *reason = NULL, *tasks_dir = NULL, *out_path = NULL, *err_path = NULL;
    hops_status rc;

    memset(res, 0, sizeof *res);
    memset(&j, 0, sizeof j);
    j.report_pipe[0] = j.report_pipe[1] = j.run_out = j.run_err = -1;
    if (!o || o->version != HOPS_LAUNCH_OPTIONS_VERSION)
        return hops__error(HOPS_EVERSION, "hops_launch_options: unknown version");
    if (!o->run.argv || o->run.argc == 0 || !o->run.argv[0])
        return hops__error(HOPS_EINVAL, "no command given: put it after `--`");
    if (o->workers < 1 || o->ps < 0 || o->workers + o->ps + 1 > MAX_TASKS)
        return hops__error(HOPS_EINVAL, "a job needs 1 to %d workers and 0 or more ps tasks "
                                        "(got %d workers, %d ps)",
                           MAX_TASKS - 1, o->workers, o->ps);
    if (o->timeout < 0 || o->fail_timeout < 0)
        return hops__error(HOPS_EINVAL, "timeouts must be 0 (none) or positive seconds");
    if (o->executor == HOPS_LAUNCH_SLURM || o->executor == HOPS_LAUNCH_MPI)
        return hops__launch_cluster(p, o, res);
    if (o->executor != HOPS_LAUNCH_LOCAL)
        return hops__error(HOPS_EINVAL, "unknown executor %d", (int)o->executor);
    j.o = o;
    j.host = o->host && *o->host ? o->host : "127.0.0.1";
    if ((rc = plan(&j)) != HOPS_OK)
        goto cleanup;
    res->n_tasks = j.n;
    if ((rc = hops_run_start(&j.run, p, &o->run)) != HOPS_OK)
        goto cleanup;
    j.rp.run = j.run;
    hops__strlcpy(res->run_id, hops_run_id(j.run), sizeof res->run_id);
    j.project_root = hops_project_root(p);
    tasks_dir = hops__aprintf("%s/tasks", hops_run_dir(j.run));
    out_path = hops__aprintf("%s/stdout.log", hops_run_dir(j.run));
    err_path = hops__aprintf("%s/stderr.log", hops_run_dir(j.run));
    if (!tasks_dir || !out_path || !err_path || mkdir(tasks_dir, 0755) != 0 ||
        (j.run_out = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0 ||
        (j.run_err = open(err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0 ||
        pipe2(j.report_pipe, O_CLOEXEC) != 0) {
        rc = hops__error(HOPS_EIO, "cannot set up the run's files: %s", strerror(errno));
        goto end_failed;
    }
    fcntl(j.report_pipe[0], F_SETFL, fcntl(j.report_pipe[0], F_GETFL) | O_NONBLOCK);
    if (o->forward_signals) {
        if ((rc = hops__sigpipe_open(&sp, forwarded, HOPS_ARRAY_LEN(forwarded))) != HOPS_OK)
            goto end_failed;
        handlers = 1;
    }
    memset(&act, 0, sizeof act);
    act.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &act, &old_pipe);
    pipe_handler = 1;
    if (o->on_start)
        o->on_start(hops_run_id(j.run), hops_run_dir(j.run), o->ud);

    for (int i = 0; i < j.n; i++) {
        if ((rc = start_task(&j, &j.t[i])) != HOPS_OK) {
            int not_found = rc == HOPS_ENOTFOUND;
            dprintf(j.run_err, "hops: %s: %s\n", j.t[i].name, hops_last_error());
            res->exit_code = not_found ? 127 : 126;
            hops__strlcpy(res->failed_task, j.t[i].name, sizeof res->failed_task);
            reason = hops__aprintf("%s could not start: %s", j.t[i].name, hops_last_error());
            signal_running(&j, SIGKILL, 0);
            for (int k = 0; k < i; k++)
                if (j.t[k].running) {
                    hops__child_wait(&j.t[k].child, &j.t[k].exit_code, &j.t[k].term_signal);
                    j.t[k].running = 0;
                }
            res->state = HOPS_RUN_FAILED;
            rc = HOPS_OK;
            goto finish;
        }
    }
    close(j.report_pipe[1]);
    j.report_pipe[1] = -1;

    job_state js;
    hops__launch_state_init(&js, j.t, j.n, o, local_signal, &j);
    last_flush = hops__mono_time();
    struct pollfd *pfd = calloc((size_t)j.n * 3 + 2, sizeof *pfd);
    void **owner = calloc((size_t)j.n * 3 + 2, sizeof *owner);
    char *kind = calloc((size_t)j.n * 3 + 2, 1);
    if (!pfd || !owner || !kind) {
        free(pfd), free(owner), free(kind);
        signal_running(&j, SIGKILL, 0);
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto end_failed;
    }
    for (;;) {
        int np = 0;
        if (!hops__launch_tick(&js, hops__mono_time()))
            break;
        if (j.report_pipe[0] >= 0)
            pfd[np] = (struct pollfd){j.report_pipe[0], POLLIN, 0}, kind[np++] = 'r';
        if (handlers)
            pfd[np] = (struct pollfd){sp.fd, POLLIN, 0}, kind[np++] = 'g';
        for (int i = 0; i < j.n; i++) {
            task *t = &j.t[i];
            for (int s = 0; s < 2; s++)
                if (t->s[s].fd >= 0) {
                    owner[np] = &t->s[s];
                    pfd[np] = (struct pollfd){t->s[s].fd, POLLIN, 0}, kind[np++] = 's';
                }
            if (t->running && t->child.pidfd >= 0) {
                owner[np] = t;
                pfd[np] = (struct pollfd){t->child.pidfd, POLLIN, 0}, kind[np++] = 'p';
            }
        }
        if (poll(pfd, (nfds_t)np, hops__launch_wait_ms(&js, hops__mono_time(), FLUSH_INTERVAL)) < 0 &&
            errno != EINTR) {
            rc = hops__error(HOPS_EIO, "poll: %s", strerror(errno));
            signal_running(&j, SIGKILL, 0);
            break;
        }
        for (int k = 0; k < np; k++) {
            if (!pfd[k].revents)
                continue;
            if (kind[k] == 'r') {
                if (hops__drain(j.report_pipe[0], hops__reporter_sink, &j.rp, 64)) {
                    close(j.report_pipe[0]);
                    j.report_pipe[0] = -1;
                }
            } else if (kind[k] == 's') {
                tstream *s = owner[k];
                if (hops__drain(s->fd, stream_sink, s, 16)) {
                    close(s->fd);
                    s->fd = -1;
                }
            } else if (kind[k] == 'g') {
                unsigned char sigs[16];
                int got = hops__sigpipe_read(&sp, sigs, (int)sizeof sigs);
                for (int s = 0; s < got; s++)
                    hops__launch_signal(&js, sigs[s], hops__mono_time());
            }
        }
        /* Who ended? (pidfds say so; without them, ask every poll.) */
        for (int i = 0; i < j.n; i++) {
            task *t = &j.t[i];
            int st;
            if (!t->running || waitpid(t->child.pid, &st, WNOHANG) != t->child.pid)
                continue;
            int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
            hops__launch_ended(&js, t, sig ? 128 + sig : WEXITSTATUS(st), sig, hops__mono_time());
        }
        double now = hops__mono_time();
        if (now - last_flush >= FLUSH_INTERVAL) {
            if (hops_run_flush(j.run) != HOPS_OK)
                hops_log(HOPS_LOG_WARN, "run %s: metrics not saved yet, will retry: %s",
                         hops_run_id(j.run), hops_last_error());
            last_flush = now;
        }
    }
    free(pfd);
    free(owner);
    free(kind);
    if (j.report_pipe[0] >= 0)
        hops__drain(j.report_pipe[0], hops__reporter_sink, &j.rp, 0);
    hops__reporter_end(&j.rp);
    hops__launch_outcome(&js, res, &reason);
finish:
    for (int i = 0; i < j.n; i++)
        for (int s = 0; s < 2; s++)
            hops__launch_stream_close(&j.t[i].s[s]);
    if (rc == HOPS_OK)
        rc = hops_run_end(j.run, res->state, res->exit_code, 0, reason);
    else
        hops_run_end(j.run, HOPS_RUN_FAILED, 1, 0, hops_last_error());
    goto cleanup;

end_failed:
    res->state = HOPS_RUN_FAILED;
    res->exit_code = 1;
    hops__run_fail(j.run, rc);
cleanup:
    if (handlers)
        hops__sigpipe_close(&sp);
    if (pipe_handler)
        sigaction(SIGPIPE, &old_pipe, NULL);
    for (int i = 0; i < j.n; i++) {
        task *t = &j.t[i];
        if (t->running) { /* only on an early failure: never leave a task behind */
            kill(-t->child.pid, SIGKILL);
            hops__child_wait(&t->child, &t->exit_code, &t->term_signal);
        }
        hops__child_close(&t->child);
        for (int s = 0; s < 2; s++) {
            if (t->s[s].fd >= 0)
                close(t->s[s].fd);
            if (t->s[s].task_log >= 0)
                close(t->s[s].task_log);
            hops__buf_free(&t->s[s].partial);
        }
    }
    for (int i = 0; i < 2; i++)
        if (j.report_pipe[i] >= 0)
            close(j.report_pipe[i]);
    if (j.run_out >= 0)
        close(j.run_out);
    if (j.run_err >= 0)
        close(j.run_err);
    hops__buf_free(&j.rp.line);
    json_decref(j.cluster);
    free(j.t);
    free(reason);
    free(tasks_dir);
    free(out_path);
    free(err_path);
    hops_run_free(j.run);
    return rc;
}
