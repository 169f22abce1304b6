/* The local executor: each task a child process in its own process group. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sched_internal.h"

hops_status hops__local_start(hops_sched *s, hops__task *t, const hops_task_options *o, char **envp,
                              int report_wr)
{
    hops_spawn_opts so;
    char **argv = calloc(o->argc + 1, sizeof *argv);
    hops_status rc;
    (void)s;
    if (!argv)
        return hops__error(HOPS_ENOMEM, "out of memory");
    for (size_t i = 0; i < o->argc; i++)
        argv[i] = (char *)o->argv[i];
    memset(&so, 0, sizeof so);
    so.argv = argv;
    so.envp = envp;
    so.cwd = o->cwd;
    so.stdout_path = o->stdout_path ? o->stdout_path : "/dev/null";
    so.stderr_path = o->stderr_path ? o->stderr_path : "/dev/null";
    so.stdin_null = 1;
    so.keep_fds = &report_wr;
    so.n_keep_fds = report_wr >= 0 ? 1 : 0;
    rc = hops__spawn(&t->child, &so);
    free(argv);
    return rc;
}

void hops__local_signal(hops_sched *s, hops__task *t, int sig)
{
    (void)s;
    if (t->child.pid > 0)
        kill(-t->child.pid, sig);
}
