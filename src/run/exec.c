/* hops_run_exec: run a command as a run under the trial protocol.
 *
 * One poll loop owns the child's pidfd, its report pipe, its stdout/stderr
 * pipes (when tee'd) and a self-pipe for signals. Report lines are recorded
 * as they arrive and committed to SQLite in batches (at most every 200 ms),
 * so the trial never waits on the database and a crash loses at most one
 * batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "run_internal.h"

#define FLUSH_INTERVAL 0.2
#define KILL_GRACE 10.0

extern char **environ;

typedef struct {
    int fd;          /* read end, -1 once closed */
    int out_fd;      /* where to copy (tee), -1: none */
    int log_fd;      /* log file */
} stream;


static void stream_sink(void *ud, const char *data, size_t n)
{
    stream *s = ud;
    hops__write_all(s->log_fd, data, n);
    if (s->out_fd >= 0)
        hops__write_all(s->out_fd, data, n);
}

/* Bounded, so a flood of reports cannot starve the rest of the loop. */
static int drain_report(int fd, hops_reporter *rp) { return hops__drain(fd, hops__reporter_sink, rp, 64); }

static int drain_stream(stream *s) { return hops__drain(s->fd, stream_sink, s, 0); }

static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* Build the child's environment: ours plus the protocol's variables. */
static char **child_env(hops_project *p, hops_run *r, int report_fd)
{
    size_t n = 0, k = 0;
    char **env;
    static const char *const ours[] = {"HOPS_PROJECT=", "HOPS_RUN_ID=", "HOPS_RUN_DIR=",
                                       "HOPS_PARAMS=", "HOPS_REPORT=", "HOPS_EXPERIMENT="};
    while (environ[n])
        n++;
    env = calloc(n + HOPS_ARRAY_LEN(ours) + 1, sizeof *env);
    if (!env)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int skip = 0;
        for (size_t j = 0; j < HOPS_ARRAY_LEN(ours); j++)
            if (strncmp(environ[i], ours[j], strlen(ours[j])) == 0)
                skip = 1;
        if (!skip)
            env[k++] = hops__strdup(environ[i]);
    }
    env[k++] = hops__aprintf("HOPS_PROJECT=%s", hops_project_root(p));
    env[k++] = hops__aprintf("HOPS_RUN_ID=%s", hops_run_id(r));
    env[k++] = hops__aprintf("HOPS_RUN_DIR=%s", hops_run_dir(r));
    env[k++] = hops__aprintf("HOPS_PARAMS=%s", hops_run_params_json(r));
    env[k++] = hops__aprintf("HOPS_REPORT=/dev/fd/%d", report_fd);
    env[k++] = hops__aprintf("HOPS_EXPERIMENT=%s", hops_run_experiment(r));
    for (size_t i = 0; i < k; i++)
        if (!env[i]) {
            for (size_t j = 0; j < k; j++)
                free(env[j]);
            free(env);
            return NULL;
        }
    return env;
}

static void free_env(char **env)
{
    if (!env)
        return;
    for (size_t i = 0; env[i]; i++)
        free(env[i]);
    free(env);
}

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD};

/* Job control, as a shell does it: when hops run owns the terminal, the
 * child's process group gets it while it runs, so the child can read the
 * terminal (a debugger, a prompt) and Ctrl-C / Ctrl-Z reach it directly. */
static void give_terminal(pid_t pgrp)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTTOU);
    sigprocmask(SIG_BLOCK, &block, &old);
    tcsetpgrp(STDIN_FILENO, pgrp);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static int owns_terminal(void)
{
    return isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
}

hops_status hops_run_exec(hops_project *p, const hops_exec_options *o, hops_exec_result *res)
{
    hops_run *r = NULL;
    hops_child child = {-1, -1, -1, -1};
    hops_spawn_opts so = {0};
    hops_reporter rp = {0};
    stream streams[2] = {{-1, -1, -1}, {-1, -1, -1}};
    hops_sigpipe sp;
    struct sigaction old_pipe, act;
    int report_pipe[2] = {-1, -1};
    int exit_code = 0, term_signal = 0, got_signal = 0, exited = 0, report_open = 1;
    int handlers = 0, pipe_handler = 0, tty = 0;
    double last_flush, kill_deadline = 0;
    char **env = NULL;
    char *out_path = NULL, *err_path = NULL, *reason = NULL;
    hops_status rc;

    memset(res, 0, sizeof *res);
    if (!o || o->version != HOPS_EXEC_OPTIONS_VERSION)
        return hops__error(HOPS_EVERSION, "hops_exec_options: unknown version");
    if (!o->run.argv || o->run.argc == 0 || !o->run.argv[0])
        return hops__error(HOPS_EINVAL, "no command given: put it after `--`");
    if ((rc = hops_run_start(&r, p, &o->run)) != HOPS_OK)
        return rc;
    rp.run = r;
    hops__strlcpy(res->run_id, hops_run_id(r), sizeof res->run_id);
    out_path = hops__aprintf("%s/stdout.log", hops_run_dir(r));
    err_path = hops__aprintf("%s/stderr.log", hops_run_dir(r));
    if (!out_path || !err_path || pipe2(report_pipe, O_CLOEXEC) != 0) {
        rc = hops__error(HOPS_ESPAWN, "cannot set up the run: %s", strerror(errno));
        goto end_failed;
    }
    if (!(env = child_env(p, r, report_pipe[1]))) {
        rc = hops__error(HOPS_ENOMEM, "out of memory");
        goto end_failed;
    }
    for (int i = 0; i < 2; i++) {
        streams[i].log_fd = open(i ? err_path : out_path,
                                 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (streams[i].log_fd < 0) {
            rc = hops__error(HOPS_EIO, "cannot create the run's log files: %s", strerror(errno));
            goto end_failed;
        }
        streams[i].out_fd = o->tee ? (i ? 2 : 1) : -1;
    }

    if (o->forward_signals) {
        if ((rc = hops__sigpipe_open(&sp, forwarded, HOPS_ARRAY_LEN(forwarded))) != HOPS_OK)
            goto end_failed;
        handlers = 1;
    }
    memset(&act, 0, sizeof act);
    act.sa_handler = SIG_IGN; /* a closed terminal must not kill the recorder */
    sigaction(SIGPIPE, &act, &old_pipe);
    pipe_handler = 1;

    if (o->on_start)
        o->on_start(hops_run_id(r), hops_run_dir(r), o->ud);

    so.argv = (char *const *)o->run.argv;
    so.envp = env;
    so.cwd = o->run.cwd;
    so.stdout_path = out_path;
    so.stderr_path = err_path;
    so.stdout_pipe = so.stderr_pipe = o->tee;
    so.keep_fds = &report_pipe[1];
    so.n_keep_fds = 1;
    fcntl(report_pipe[1], F_SETFD, 0);
    rc = hops__spawn(&child, &so);
    fcntl(report_pipe[1], F_SETFD, FD_CLOEXEC);
    if (rc == HOPS_OK && o->forward_signals && owns_terminal()) {
        tty = 1;
        give_terminal(child.pid);
        kill(-child.pid, SIGCONT); /* in case it touched the terminal before it was its own */
    }
    close(report_pipe[1]);
    report_pipe[1] = -1;
    if (rc != HOPS_OK) {
        int not_found = rc == HOPS_ENOTFOUND;
        dprintf(streams[1].log_fd, "hops: %s\n", hops_last_error());
        res->exit_code = not_found ? 127 : 126;
        res->state = HOPS_RUN_FAILED;
        rc = hops_run_end(r, HOPS_RUN_FAILED, res->exit_code, 0, hops_last_error());
        goto out;
    }
    set_nonblock(report_pipe[0]);
    streams[0].fd = child.stdout_fd; /* the streams own the pipes from here */
    streams[1].fd = child.stderr_fd;
    child.stdout_fd = child.stderr_fd = -1;
    for (int i = 0; i < 2; i++)
        if (streams[i].fd >= 0)
            set_nonblock(streams[i].fd);
    last_flush = hops__mono_time();

    while (!exited) {
        struct pollfd pfd[5];
        int n = 0, i_report = -1, i_sig = -1, i_pid = -1, i_stream[2] = {-1, -1};
        if (report_open) {
            i_report = n;
            pfd[n++] = (struct pollfd){report_pipe[0], POLLIN, 0};
        }
        for (int i = 0; i < 2; i++)
            if (streams[i].fd >= 0) {
                i_stream[i] = n;
                pfd[n++] = (struct pollfd){streams[i].fd, POLLIN, 0};
            }
        if (handlers) {
            i_sig = n;
            pfd[n++] = (struct pollfd){sp.fd, POLLIN, 0};
        }
        if (child.pidfd >= 0) {
            i_pid = n;
            pfd[n++] = (struct pollfd){child.pidfd, POLLIN, 0};
        }
        int timeout = child.pidfd >= 0 ? (int)(FLUSH_INTERVAL * 1000) : 50;
        int pr = poll(pfd, (nfds_t)n, timeout);
        if (pr < 0 && errno != EINTR) {
            rc = hops__error(HOPS_EIO, "poll: %s", strerror(errno));
            break;
        }
        if (i_report >= 0 && pfd[i_report].revents)
            if (drain_report(report_pipe[0], &rp))
                report_open = 0;
        for (int i = 0; i < 2; i++)
            if (i_stream[i] >= 0 && pfd[i_stream[i]].revents && drain_stream(&streams[i])) {
                close(streams[i].fd);
                streams[i].fd = -1;
            }
        if (i_sig >= 0 && pfd[i_sig].revents) {
            unsigned char sigs[16];
            int k = hops__sigpipe_read(&sp, sigs, (int)sizeof sigs);
            for (int s = 0; s < k; s++) {
                if (sigs[s] == SIGCHLD) {
                    int st;
                    if (waitpid(child.pid, &st, WNOHANG | WUNTRACED) == child.pid) {
                        if (WIFSTOPPED(st)) { /* Ctrl-Z: stop with it, resume with it */
                            if (tty)
                                give_terminal(getpgrp());
                            raise(SIGSTOP);
                            if (tty)
                                give_terminal(child.pid);
                            kill(-child.pid, SIGCONT);
                        } else {
                            exited = 1;
                            term_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
                            exit_code = WIFSIGNALED(st) ? 128 + term_signal : WEXITSTATUS(st);
                        }
                    }
                } else if (got_signal) { /* asked twice: stop at once */
                    kill(-child.pid, SIGKILL);
                } else {
                    got_signal = sigs[s];
                    kill(-child.pid, sigs[s]);
                    kill_deadline = hops__mono_time() + KILL_GRACE;
                }
            }
        }
        if (kill_deadline > 0 && hops__mono_time() > kill_deadline) {
            kill(-child.pid, SIGKILL);
            kill_deadline = 0;
        }
        if (!exited && ((i_pid >= 0 && pfd[i_pid].revents) || child.pidfd < 0)) {
            int st;
            pid_t w = waitpid(child.pid, &st, WNOHANG);
            if (w == child.pid) {
                exited = 1;
                if (WIFSIGNALED(st)) {
                    term_signal = WTERMSIG(st);
                    exit_code = 128 + term_signal;
                } else
                    exit_code = WEXITSTATUS(st);
            }
        }
        if (hops__mono_time() - last_flush >= FLUSH_INTERVAL) {
            if (hops_run_flush(r) != HOPS_OK)
                hops_log(HOPS_LOG_WARN, "run %s: metrics not saved yet, will retry: %s",
                         hops_run_id(r), hops_last_error());
            last_flush = hops__mono_time();
        }
    }
    /* The child is gone; take what it left in the pipes (descendants that
     * still hold them open are not waited for). */
    if (report_open)
        drain_report(report_pipe[0], &rp);
    hops__reporter_end(&rp);
    for (int i = 0; i < 2; i++)
        if (streams[i].fd >= 0)
            drain_stream(&streams[i]);

    res->exit_code = exit_code;
    res->term_signal = term_signal;
    res->bad_lines = rp.bad;
    if (tty)
        give_terminal(getpgrp());
    if (got_signal) {
        res->state = HOPS_RUN_KILLED;
        reason = hops__aprintf("stopped by %s sent to hops run", strsignal(got_signal));
    } else if (tty && (term_signal == SIGINT || exit_code == 128 + SIGINT)) {
        /* Ctrl-C at the terminal went straight to the child's group. */
        res->state = HOPS_RUN_KILLED;
        reason = hops__aprintf("interrupted at the terminal (Ctrl-C)");
    } else if (exit_code == 0) {
        res->state = HOPS_RUN_FINISHED;
    } else {
        res->state = HOPS_RUN_FAILED;
        reason = term_signal ? hops__aprintf("terminated by signal %d (%s)", term_signal,
                                             strsignal(term_signal))
                             : hops__aprintf("exited with code %d", exit_code);
    }
    rc = hops_run_end(r, res->state, exit_code, term_signal, reason);
    goto out;

end_failed:
    res->state = HOPS_RUN_FAILED;
    res->exit_code = 1;
    hops__run_fail(r, rc);
out:
    if (handlers)
        hops__sigpipe_close(&sp);
    if (pipe_handler)
        sigaction(SIGPIPE, &old_pipe, NULL);
    hops__child_close(&child);
    for (int i = 0; i < 2; i++) {
        if (streams[i].fd >= 0)
            close(streams[i].fd);
        if (streams[i].log_fd >= 0)
            close(streams[i].log_fd);
    }
    for (int i = 0; i < 2; i++)
        if (report_pipe[i] >= 0)
            close(report_pipe[i]);
    hops__buf_free(&rp.line);
    free_env(env);
    free(out_path);
    free(err_path);
    free(reason);
    hops_run_free(r);
    return rc;
}
