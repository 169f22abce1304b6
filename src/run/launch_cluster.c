/* hops launch over Slurm (srun) or Open MPI (mpirun).
 *
 * The launcher writes the job's plan to tasks/spec.json in the run
 * directory and starts ONE process: `srun --ntasks T` or `mpirun -np T`
 * running `hops launch --task-of SPEC -- CMD` (the wrapper, hops_launch_task)
 * as every rank. Each wrapper finds its task by its rank, takes a free port
 * on its host and publishes "host port" as tasks/addr.<i>; when all T are
 * there it builds TF_CONFIG and the torch variables from them (so a job on
 * many nodes gets real addresses), runs CMD with its output prefixed on its
 * own (which srun/mpirun forward to the launcher), and leaves CMD's exit
 * status as tasks/exit.<i>. The chief's HOPS_REPORT is the file
 * tasks/chief.report, which the launcher reads as it grows. The launcher
 * learns that a task ended from its exit file and applies the same rules
 * as for local tasks (launch.c's job_state); stopping tasks means signalling
 * srun/mpirun, which passes the signal on to every rank.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch_internal.h"

#define FLUSH_INTERVAL 0.2
#define MEET_TIMEOUT 120.0 /* seconds a task waits for the others' addresses */

extern char **environ;

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP};

/* Output of srun/mpirun: lines the wrappers prefixed already. */
typedef struct {
    int fd, run_log, tee_fd;
} passthrough;

static void pass_sink(void *ud, const char *data, size_t n)
{
    passthrough *p = ud;
    hops__write_all(p->run_log, data, n);
    if (p->tee_fd >= 0)
        hops__write_all(p->tee_fd, data, n);
}


/* Read the file tasks/exit.I: "CODE SIGNAL", and when it was written. 1
 * when it is there. */
static int read_exit(const char *dir, int i, int *code, int *sig, double *when)
{
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/exit.%d", dir, i);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int ok = fscanf(f, "%d %d", code, sig) == 2 && fstat(fileno(f), &st) == 0;
    fclose(f);
    if (ok)
        *when = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec * 1e-9;
    return ok;
}

typedef struct {
    double when;
    int i, code, sig;
} ended_task;

static int by_time(const void *a, const void *b)
{
    const ended_task *x = a, *y = b;
    return x->when < y->when ? -1 : x->when > y->when ? 1 : x->i - y->i;
}

/* Tasks whose exit files appeared, in the order they were written (the
 * first failure is the cause; srun then stops the others). With FINAL (srun
 * or mpirun has exited), tasks with no file were stopped by it: CHILD_CODE. */
static void scan_exits(job_state *js, task *tasks, int n, const char *dir, int final,
                       int child_code)
{
    ended_task *e = calloc((size_t)n, sizeof *e);
    int m = 0;
    if (!e)
        return;
    for (int i = 0; i < n; i++)
        if (tasks[i].running && read_exit(dir, i, &e[m].code, &e[m].sig, &e[m].when))
            e[m++].i = i;
    qsort(e, (size_t)m, sizeof *e, by_time);
    for (int k = 0; k < m; k++)
        hops__launch_ended(js, &tasks[e[k].i], e[k].code, e[k].sig, hops__mono_time());
    for (int i = 0; final && i < n; i++)
        if (tasks[i].running)
            hops__launch_ended(js, &tasks[i], child_code ? child_code : 1, 0, hops__mono_time());
    free(e);
}

static void kill_group(void *ud, int sig, int ps_only)
{
    hops_child *c = ud;
    (void)ps_only; /* when only parameter servers are left, all that runs is them */
    if (c->pid > 0)
        kill(-c->pid, sig);
}

hops_status hops__launch_cluster(hops_project *p, const hops_launch_options *o,
                                 hops_launch_result *res)
{
    const int n = o->workers + o->ps + (o->evaluator ? 1 : 0);
    task *tasks = calloc((size_t)n, sizeof *tasks);
    hops_run *run = NULL;
    hops_child child = {-1, -1, -1, -1};
    passthrough out[2] = {{-1, -1, -1}, {-1, -1, -1}};
    hops_reporter rp;
    hops_sigpipe sp;
    struct sigaction old_pipe, act;
    int handlers = 0, pipe_handler = 0, report_fd = -1, exited = 0, child_code = 0;
    char *dir = NULL, *spec_path = NULL, *report_path = NULL, *reason = NULL, *spec = NULL;
    char program[4096], ntasks[16];
    const char **argv = NULL;
    hops_status rc = HOPS_OK;
    job_state js;

    memset(&rp, 0, sizeof rp);
    if (!tasks)
        return hops__error(HOPS_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        hops__launch_task_role(i, o->workers, o->ps, &tasks[i]);
    res->n_tasks = n;
    if (o->program && *o->program) {
        hops__strlcpy(program, o->program, sizeof program);
    } else {
        ssize_t len = readlink("/proc/self/exe", program, sizeof program - 1);
        program[len > 0 ? len : 0] = '\0';
    }
    if ((rc = hops_run_start(&run, p, &o->run)) != HOPS_OK) {
        free(tasks);
        return rc;
    }
    rp.run = run;
    hops__strlcpy(res->run_id, hops_run_id(run), sizeof res->run_id);
    dir = hops__aprintf("%s/tasks", hops_run_dir(run));
    spec_path = hops__aprintf("%s/spec.json", dir ? dir : "");
    report_path = hops__aprintf("%s/chief.report", dir ? dir : "");
    json_t *doc = json_pack("{s:i, s:i, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f}", "version",
                            1, "workers", o->workers, "ps", o->ps, "evaluator", o->evaluator ? 1 : 0,
                            "project", hops_project_root(p), "run_id", hops_run_id(run), "run_dir",
                            hops_run_dir(run), "params", hops_run_params_json(run), "experiment",
                            hops_run_experiment(run), "dir", dir ? dir : "", "report",
                            report_path ? report_path : "", "meet_timeout", MEET_TIMEOUT);
    spec = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    char *out_path = hops__aprintf("%s/stdout.log", hops_run_dir(run));
    char *err_path = hops__aprintf("%s/stderr.log", hops_run_dir(run));
    if (!dir || !spec || !out_path || !err_path || mkdir(dir, 0755) != 0 ||
        hops__atomic_write(spec_path, spec, strlen(spec)) != HOPS_OK ||
        (report_fd = open(report_path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644)) < 0 ||
        (out[0].run_log = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0 ||
        (out[1].run_log = open(err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
        rc = hops__error(HOPS_EIO, "cannot set up the run's files in %s: %s",
                         hops_run_dir(run), strerror(errno));
        free(out_path);
        free(err_path);
        goto end_failed;
    }
    free(out_path);
    free(err_path);
    argv = calloc(o->run.argc + 16, sizeof *argv);
    if (!argv) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto end_failed;
    }
    snprintf(ntasks, sizeof ntasks, "%d", n);
    size_t k = 0;
    if (o->executor == HOPS_LAUNCH_SLURM) {
        argv[k++] = "srun";
        argv[k++] = "--ntasks";
        argv[k++] = ntasks;
        argv[k++] = "--kill-on-bad-exit=1";
        argv[k++] = "--overcommit"; /* tasks share the allocation's CPUs, as mpirun --oversubscribe */
        argv[k++] = "--job-name=hops-launch";
        argv[k++] = "--quiet";
    } else {
        argv[k++] = "mpirun";
        argv[k++] = "-np";
        argv[k++] = ntasks;
        argv[k++] = "--oversubscribe";
        if (geteuid() == 0)
            argv[k++] = "--allow-run-as-root";
    }
    argv[k++] = program;
    argv[k++] = "launch";
    argv[k++] = "--task-of";
    argv[k++] = spec_path;
    argv[k++] = "--";
    for (size_t i = 0; i < o->run.argc; i++)
        argv[k++] = o->run.argv[i];
    argv[k] = NULL;

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
        o->on_start(hops_run_id(run), hops_run_dir(run), o->ud);

    hops_spawn_opts so = {0};
    so.argv = (char *const *)argv;
    so.cwd = o->run.cwd;
    so.stdin_null = 1;
    so.stdout_pipe = so.stderr_pipe = 1;
    if ((rc = hops__spawn(&child, &so)) != HOPS_OK) {
        res->state = HOPS_RUN_FAILED;
        res->exit_code = rc == HOPS_ENOTFOUND ? 127 : 126;
        reason = hops__aprintf("cannot start %s: %s", argv[0], hops_last_error());
        dprintf(out[1].run_log, "hops: %s\n", reason);
        rc = HOPS_OK;
        goto finish;
    }
    for (int s = 0; s < 2; s++) {
        out[s].fd = s ? child.stderr_fd : child.stdout_fd;
        out[s].tee_fd = o->tee ? (s ? 2 : 1) : -1;
        fcntl(out[s].fd, F_SETFL, fcntl(out[s].fd, F_GETFL) | O_NONBLOCK);
    }
    child.stdout_fd = child.stderr_fd = -1;
    for (int i = 0; i < n; i++)
        tasks[i].running = 1;

    hops__launch_state_init(&js, tasks, n, o, kill_group, &child);
    double last_flush = hops__mono_time();
    while (!exited || out[0].fd >= 0 || out[1].fd >= 0) {
        struct pollfd pfd[4];
        int np = 0, is[2] = {-1, -1}, ig = -1;
        for (int s = 0; s < 2; s++)
            if (out[s].fd >= 0) {
                is[s] = np;
                pfd[np++] = (struct pollfd){out[s].fd, POLLIN, 0};
            }
        if (handlers) {
            ig = np;
            pfd[np++] = (struct pollfd){sp.fd, POLLIN, 0};
        }
        if (!exited && child.pidfd >= 0)
            pfd[np++] = (struct pollfd){child.pidfd, POLLIN, 0};
        int wait_ms = exited ? 100 : hops__launch_wait_ms(&js, hops__mono_time(), FLUSH_INTERVAL);
        if (poll(pfd, (nfds_t)np, wait_ms) < 0 && errno != EINTR) {
            rc = hops__error(HOPS_EIO, "poll: %s", strerror(errno));
            kill(-child.pid, SIGKILL);
            break;
        }
        for (int s = 0; s < 2; s++)
            if (is[s] >= 0 && pfd[is[s]].revents && hops__drain(out[s].fd, pass_sink, &out[s], 16)) {
                close(out[s].fd);
                out[s].fd = -1;
            }
        if (ig >= 0 && pfd[ig].revents) {
            unsigned char sigs[16];
            int got = hops__sigpipe_read(&sp, sigs, (int)sizeof sigs);
            for (int s = 0; s < got; s++)
                hops__launch_signal(&js, sigs[s], hops__mono_time());
        }
        hops__drain(report_fd, hops__reporter_sink, &rp, 64);
        scan_exits(&js, tasks, n, dir, 0, 0);
        if (!exited) {
            int st;
            if (waitpid(child.pid, &st, WNOHANG) == child.pid) {
                exited = 1;
                child_code = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
                scan_exits(&js, tasks, n, dir, 1, child_code);
            } else {
                hops__launch_tick(&js, hops__mono_time());
            }
        }
        double now = hops__mono_time();
        if (now - last_flush >= FLUSH_INTERVAL) {
            if (hops_run_flush(run) != HOPS_OK)
                hops_log(HOPS_LOG_WARN, "run %s: metrics not saved yet, will retry: %s",
                         hops_run_id(run), hops_last_error());
            last_flush = now;
        }
    }
    hops__drain(report_fd, hops__reporter_sink, &rp, 0);
    hops__reporter_end(&rp);
    hops__launch_outcome(&js, res, &reason);
    if (res->state == HOPS_RUN_FINISHED && child_code != 0 && !js.stopping_ps) {
        res->state = HOPS_RUN_FAILED; /* srun or mpirun itself failed (no allocation...) */
        res->exit_code = child_code;
        reason = hops__aprintf("%s exited with code %d (see the run's stderr.log)", argv[0],
                               child_code);
    }
finish:
    rc = hops_run_end(run, res->state, res->exit_code, 0, reason);
    goto cleanup;

end_failed:
    res->state = HOPS_RUN_FAILED;
    res->exit_code = 1;
    hops__run_fail(run, rc);
cleanup:
    if (handlers)
        hops__sigpipe_close(&sp);
    if (pipe_handler)
        sigaction(SIGPIPE, &old_pipe, NULL);
    if (child.pid > 0 && !exited) {
        kill(-child.pid, SIGKILL);
        int code, sig;
        hops__child_wait(&child, &code, &sig);
    }
    hops__child_close(&child);
    for (int s = 0; s < 2; s++) {
        if (out[s].fd >= 0)
            close(out[s].fd);
        if (out[s].run_log >= 0)
            close(out[s].run_log);
    }
    if (report_fd >= 0)
        close(report_fd);
    hops__buf_free(&rp.line);
    hops_run_free(run);
    free(tasks);
    free(argv);
    free(dir);
    free(spec_path);
    free(report_path);
    free(spec);
    free(reason);
    return rc;
}

/* ---- the wrapper: one rank ---- */

static int env_rank(void)
{
    static const char *const names[] = {"SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"};
    for (size_t i = 0; i < HOPS_ARRAY_LEN(names); i++) {
        const char *v = getenv(names[i]);
        char *end;
        if (v && *v) {
            long r = strtol(v, &end, 10);
            if (!*end && r >= 0)
                return (int)r;
        }
    }
    return -1;
}

/* Wait until DIR holds addr.0 .. addr.N-1 (inotify, not a sleep loop). */
static hops_status meet(const char *dir, int n, double timeout)
{
    int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (ino < 0 || inotify_add_watch(ino, dir, IN_MOVED_TO | IN_CREATE) < 0) {
        if (ino >= 0)
            close(ino);
        return hops__error(HOPS_EIO, "cannot watch %s: %s", dir, strerror(errno));
    }
    double deadline = hops__mono_time() + timeout;
    hops_status rc = HOPS_OK;
    for (;;) {
        int have = 0, missing = -1;
        for (int i = 0; i < n; i++) {
            char path[4200];
            snprintf(path, sizeof path, "%s/addr.%d", dir, i);
            if (access(path, F_OK) == 0)
                have++;
            else if (missing < 0)
                missing = i;
        }
        if (have == n)
            break;
        double left = deadline - hops__mono_time();
        if (left <= 0) {
            rc = hops__error(HOPS_ETIMEDOUT, "task %d of %d did not publish its address in %s "
                                             "within %g s (is the directory shared by the nodes?)",
                             missing, n, dir, timeout);
            break;
        }
        struct pollfd pfd = {ino, POLLIN, 0};
        if (poll(&pfd, 1, left > 1 ? 1000 : (int)(left * 1000) + 1) > 0) {
            char buf[4096];
            while (read(ino, buf, sizeof buf) > 0)
                ;
        }
    }
    close(ino);
    return rc;
}

static hops_status publish(const char *dir, int i, const char *host, const int *ports, int n_ports)
{
    char path[4200], text[512];
    int len = snprintf(text, sizeof text, "%s", host);
    for (int k = 0; k < n_ports; k++)
        len += snprintf(text + len, sizeof text - (size_t)len, " %d", ports[k]);
    text[len++] = '\n';
    snprintf(path, sizeof path, "%s/addr.%d", dir, i);
    return hops__atomic_write(path, text, (size_t)len);
}

static void leave_exit(const char *dir, int i, int code, int sig)
{
    char path[4200], text[64];
    int len = snprintf(text, sizeof text, "%d %d\n", code, sig);
    snprintf(path, sizeof path, "%s/exit.%d", dir, i);
    hops__atomic_write(path, text, (size_t)len);
}

static const char *jstr(const json_t *doc, const char *key)
{
    const char *v = json_string_value(json_object_get(doc, key));
    return v ? v : "";
}

hops_status hops_launch_task(const char *spec_path, char *const *argv, int *exit_code)
{
    json_error_t jerr;
    json_t *doc = json_load_file(spec_path, 0, &jerr);
    hops_status rc = HOPS_OK;
    task t;
    layout L;
    char host[256], **env = NULL;
    int ports[3], me = env_rank();
    *exit_code = 1;
    memset(&t, 0, sizeof t);
    memset(&L, 0, sizeof L);
    if (!doc)
        return hops__error(HOPS_EPARSE, "%s:%d: %s", spec_path, jerr.line, jerr.text);
    int workers = (int)json_integer_value(json_object_get(doc, "workers"));
    int ps = (int)json_integer_value(json_object_get(doc, "ps"));
    int n = workers + ps + (int)json_integer_value(json_object_get(doc, "evaluator"));
    const char *dir = jstr(doc, "dir");
    double meet_timeout = json_number_value(json_object_get(doc, "meet_timeout"));
    if (workers < 1 || ps < 0 || n > 100000 || !*dir) {
        rc = hops__error(HOPS_ECORRUPT, "%s: not a launch plan", spec_path);
        goto out;
    }
    if (me < 0 || me >= n) {
        rc = hops__error(HOPS_EINVAL, "this task's rank (SLURM_PROCID, OMPI_COMM_WORLD_RANK or "
                                      "PMIX_RANK) is %d, not one of the job's %d tasks", me, n);
        goto out;
    }
    hops__launch_task_role(me, workers, ps, &t);
    if (gethostname(host, sizeof host) != 0)
        hops__strlcpy(host, "127.0.0.1", sizeof host);
    host[sizeof host - 1] = '\0';
    if ((rc = hops__launch_ports(host, me == 0 ? 3 : 1, ports)) != HOPS_OK ||
        (rc = publish(dir, me, host, ports, me == 0 ? 3 : 1)) != HOPS_OK ||
        (rc = meet(dir, n, meet_timeout > 0 ? meet_timeout : 120)) != HOPS_OK)
        goto out;
    /* Everybody is there: the cluster from their addresses. */
    L.cluster = json_object();
    for (int i = 0; i < n; i++) {
        char path[4200], h[256];
        int port = 0, mp = 0, rvp = 0;
        task ti;
        snprintf(path, sizeof path, "%s/addr.%d", dir, i);
        FILE *f = fopen(path, "r");
        int got = f ? fscanf(f, "%255s %d %d %d", h, &port, &mp, &rvp) : 0;
        if (f)
            fclose(f);
        if (got < 2 || (i == 0 && got < 4)) {
            rc = hops__error(HOPS_ECORRUPT, "%s: not an address", path);
            goto out;
        }
        hops__launch_task_role(i, workers, ps, &ti);
        json_t *arr = json_object_get(L.cluster, ti.type);
        if (!arr) {
            arr = json_array();
            json_object_set_new(L.cluster, ti.type, arr);
        }
        char hp[300];
        snprintf(hp, sizeof hp, "%s:%d", h, port);
        json_array_append_new(arr, json_string(hp));
        if (i == 0) {
            L.master_port = mp;
            L.rendezvous_port = rvp;
            json_object_set_new(doc, "__master_host", json_string(h));
        }
    }
    L.master_host = jstr(doc, "__master_host");
    L.trainers = workers;
    L.project = jstr(doc, "project");
    L.run_id = jstr(doc, "run_id");
    L.run_dir = jstr(doc, "run_dir");
    L.params = jstr(doc, "params");
    L.experiment = jstr(doc, "experiment");
    hops__strlcpy(L.chief_report, jstr(doc, "report"), sizeof L.chief_report);
    if (!(env = hops__launch_env(&L, &t))) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto out;
    }

    /* Run the command: output kept and prefixed; signals passed on. */
    hops_child child = {-1, -1, -1, -1};
    hops_spawn_opts so = {0};
    so.argv = argv;
    so.envp = env;
    so.stdin_null = 1;
    so.stdout_pipe = so.stderr_pipe = 1;
    rc = hops__spawn(&child, &so);
    if (rc != HOPS_OK) {
        fprintf(stderr, "%s | hops: %s\n", t.name, hops_last_error());
        *exit_code = rc == HOPS_ENOTFOUND ? 127 : 126;
        leave_exit(dir, me, *exit_code, 0);
        rc = HOPS_OK;
        goto out;
    }
    tstream s[2];
    for (int k = 0; k < 2; k++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s-%d.%s.log", dir, t.type, t.index, k ? "stderr" : "stdout");
        s[k] = (tstream){k ? child.stderr_fd : child.stdout_fd, -1, k ? 2 : 1, -1, t.name,
                         HOPS_BUF_INIT};
        s[k].task_log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        fcntl(s[k].fd, F_SETFL, fcntl(s[k].fd, F_GETFL) | O_NONBLOCK);
    }
    child.stdout_fd = child.stderr_fd = -1;
    hops_sigpipe sp;
    if (hops__sigpipe_open(&sp, forwarded, HOPS_ARRAY_LEN(forwarded)) != HOPS_OK)
        sp.fd = -1; /* then signals do what they did; the command still runs */
    int done = 0, code = 0, sig = 0;
    while (!done || s[0].fd >= 0 || s[1].fd >= 0) {
        struct pollfd pfd[4];
        int np = 0, is[2] = {-1, -1}, ig = -1;
        for (int k = 0; k < 2; k++)
            if (s[k].fd >= 0) {
                is[k] = np;
                pfd[np++] = (struct pollfd){s[k].fd, POLLIN, 0};
            }
        if (sp.fd >= 0) {
            ig = np;
            pfd[np++] = (struct pollfd){sp.fd, POLLIN, 0};
        }
        if (!done && child.pidfd >= 0)
            pfd[np++] = (struct pollfd){child.pidfd, POLLIN, 0};
        if (poll(pfd, (nfds_t)np, done ? 100 : 200) < 0 && errno != EINTR)
            break;
        for (int k = 0; k < 2; k++)
            if (is[k] >= 0 && pfd[is[k]].revents) {
                char buf[65536];
                ssize_t got = read(s[k].fd, buf, sizeof buf);
                if (got > 0)
                    hops__launch_stream_bytes(&s[k], buf, (size_t)got);
                else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                    hops__launch_stream_close(&s[k]);
                }
            }
        if (ig >= 0 && pfd[ig].revents) {
            unsigned char sigs[16];
            int got = hops__sigpipe_read(&sp, sigs, (int)sizeof sigs);
            for (int k = 0; k < got && !done; k++)
                kill(-child.pid, sigs[k]);
        }
        int st;
        if (!done && waitpid(child.pid, &st, WNOHANG) == child.pid) {
            done = 1;
            sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
            code = sig ? 128 + sig : WEXITSTATUS(st);
        }
    }
    for (int k = 0; k < 2; k++) {
        hops__launch_stream_close(&s[k]);
        if (s[k].task_log >= 0)
            close(s[k].task_log);
        hops__buf_free(&s[k].partial);
    }
    hops__sigpipe_close(&sp);
    hops__child_close(&child);
    leave_exit(dir, me, code, sig);
    *exit_code = code;
out:
    if (rc != HOPS_OK && me >= 0 && me < n && *dir) {
        fprintf(stderr, "%s | hops: %s\n", t.name[0] ? t.name : "task", hops_last_error());
        leave_exit(dir, me, 1, 0);
    }
    hops__launch_env_free(env);
    json_decref(L.cluster);
    json_decref(doc);
    return rc;
}
