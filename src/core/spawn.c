/* The one way hops starts processes: posix_spawn, own process group. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core.h"

extern char **environ;

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int hops__write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int open_pipe(int fds[2])
{
    return pipe2(fds, O_CLOEXEC);
}

hops_status hops__spawn(hops_child *out, const hops_spawn_opts *o)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    hops_status rc = HOPS_OK;
    pid_t pid;
    int e;

    out->pid = -1;
    out->pidfd = out->stdout_fd = out->stderr_fd = -1;
    if (!o->argv || !o->argv[0])
        return hops__error(HOPS_EINVAL, "no command to run");
    if ((o->stdout_pipe && open_pipe(out_pipe) != 0) || (o->stderr_pipe && open_pipe(err_pipe) != 0)) {
        rc = hops__error(HOPS_ESPAWN, "cannot create pipe: %s", strerror(errno));
        goto out;
    }

    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    if (o->cwd)
        posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
    if (o->stdin_null)
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (o->stdout_pipe)
        posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
    else if (o->stdout_path)
        posix_spawn_file_actions_addopen(&fa, 1, o->stdout_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (o->stderr_pipe)
        posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
    else if (o->stderr_path)
        posix_spawn_file_actions_addopen(&fa, 2, o->stderr_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    for (size_t i = 0; i < o->n_keep_fds; i++) /* dup2 onto itself clears FD_CLOEXEC */
        posix_spawn_file_actions_adddup2(&fa, o->keep_fds[i], o->keep_fds[i]);

    e = posix_spawnp(&pid, o->argv[0], &fa, &attr, o->argv, o->envp ? o->envp : environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (e != 0) {
        if (e == ENOENT)
            rc = hops__error(HOPS_ENOTFOUND, "command not found: %s", o->argv[0]);
        else
            rc = hops__error(HOPS_ESPAWN, "cannot run %s: %s", o->argv[0], strerror(e));
        goto out;
    }
    out->pid = pid;
    out->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (out->pidfd >= 0)
        fcntl(out->pidfd, F_SETFD, FD_CLOEXEC);
    if (o->stdout_pipe) {
        out->stdout_fd = out_pipe[0];
        out_pipe[0] = -1;
    }
    if (o->stderr_pipe) {
        out->stderr_fd = err_pipe[0];
        err_pipe[0] = -1;
    }
out:
    for (int i = 0; i < 2; i++) {
        if (out_pipe[i] >= 0)
            close(out_pipe[i]);
        if (err_pipe[i] >= 0)
            close(err_pipe[i]);
    }
    return rc;
}

hops_status hops__child_wait(hops_child *c, int *exit_code, int *term_signal)
{
    int st;
    pid_t r;
    do
        r = waitpid(c->pid, &st, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return hops__error(HOPS_ESPAWN, "waitpid(%ld): %s", (long)c->pid, strerror(errno));
    if (WIFSIGNALED(st)) {
        *term_signal = WTERMSIG(st);
        *exit_code = 128 + WTERMSIG(st);
    } else {
        *term_signal = 0;
        *exit_code = WEXITSTATUS(st);
    }
    return HOPS_OK;
}

void hops__child_close(hops_child *c)
{
    if (c->pidfd >= 0)
        close(c->pidfd);
    if (c->stdout_fd >= 0)
        close(c->stdout_fd);
    if (c->stderr_fd >= 0)
        close(c->stderr_fd);
    c->pidfd = c->stdout_fd = c->stderr_fd = -1;
}

hops_status hops__run_capture(char *const *argv, const char *cwd, char **out, int *exit_code)
{
    hops_spawn_opts o = {0};
    hops_child c;
    hops_buf b = HOPS_BUF_INIT;
    char chunk[4096];
    int sig;
    hops_status rc;

    o.argv = argv;
    o.cwd = cwd;
    o.stdin_null = 1;
    o.stdout_pipe = 1;
    o.stderr_path = "/dev/null";
    rc = hops__spawn(&c, &o);
    if (rc != HOPS_OK)
        return rc;
    for (;;) {
        ssize_t n = read(c.stdout_fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (b.len < (1u << 20))
            hops__buf_put(&b, chunk, (size_t)n);
    }
    rc = hops__child_wait(&c, exit_code, &sig);
    hops__child_close(&c);
    *out = hops__buf_detach(&b);
    return rc;
}

unsigned long long hops__proc_start_ticks(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long long ticks = 0;
    const char *p;
    ssize_t n;
    int fd, field;
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* The command name (field 2) may hold spaces and parens: skip to the last ')'. */
    p = strrchr(buf, ')');
    if (!p)
        return 0;
    field = 2;
    for (; *p && field < 22; p++)
        if (*p == ' ')
            field++;
    if (field == 22)
        ticks = strtoull(p, NULL, 10);
    return ticks;
}
