/* The Slurm executor.
 *
 * slurm (srun steps): hops_sched_new takes one allocation of the pool's
 * cores with `salloc --no-shell` (or uses $SLURM_JOB_ID when it runs inside
 * one); each task is `srun --jobid=J --exact -n1 -c C ...`, a step of it,
 * run by a local srun process whose exit is the step's. Stopping finds the
 * step by its name (`squeue --steps`) and signals it with `scancel`.
 *
 * slurm:sbatch: each task is `sbatch --wait --parsable` of a small script
 * that execs the command; the local sbatch process lives as long as the job
 * and exits with its code. Stopping is `scancel --full --signal=...` of the
 * job id sbatch printed.
 *
 * Either way the task reports by appending to a file (HOPS_REPORT), which
 * the loop follows with inotify (and re-reads every tick, for filesystems
 * shared between nodes where inotify sees nothing).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched_internal.h"

static int have(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[4096];
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n > 0 && n + strlen(prog) + 2 < sizeof buf) {
            snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, prog);
            if (access(buf, X_OK) == 0)
                return 1;
        }
        path += n;
        if (*path == ':')
            path++;
    }
    return 0;
}

/* Run ARGV, capture stdout; 0 on exit status 0. *out owned (may be NULL). */
static int capture(char *const *argv, char **out)
{
    int code = -1;
    char *text = NULL;
    if (hops__run_capture(argv, NULL, &text, &code) != HOPS_OK) {
        free(text);
        text = NULL;
        hops_error_clear();
    }
    if (out)
        *out = text;
    else
        free(text);
    return code;
}

hops_status hops__slurm_init(hops_sched *s)
{
    const char *need[] = {s->o.executor == HOPS_EXECUTOR_SLURM ? "srun" : "sbatch", "scancel",
                          "squeue", s->o.executor == HOPS_EXECUTOR_SLURM ? "salloc" : "sbatch"};
    for (size_t i = 0; i < HOPS_ARRAY_LEN(need); i++)
        if (!have(need[i]))
            return hops__error(HOPS_ENOTFOUND,
                               "the Slurm executor needs %s, which is not on PATH (install "
                               "slurm-wlm, or use --executor local)",
                               need[i]);
    if (s->o.executor != HOPS_EXECUTOR_SLURM)
        return HOPS_OK;
    const char *job = getenv("SLURM_JOB_ID");
    if (job && *job) {
        s->alloc_id = hops__strdup(job);
        return s->alloc_id ? HOPS_OK : hops__error(HOPS_ENOMEM, "out of memory");
    }
    char name[16], ntasks[32], gres[32], part[128], jobname[80];
    char *argv[10], *out = NULL;
    size_t k = 0;
    hops__make_id(name);
    snprintf(jobname, sizeof jobname, "--job-name=hops-alloc-%s", name);
    snprintf(ntasks, sizeof ntasks, "--ntasks=%u", s->pool.cpu);
    argv[k++] = "salloc";
    argv[k++] = "--no-shell";
    argv[k++] = "--nodes=1";
    argv[k++] = ntasks;
    argv[k++] = jobname;
    if (s->pool.gpu) {
        snprintf(gres, sizeof gres, "--gres=gpu:%u", s->pool.gpu);
        argv[k++] = gres;
    }
    if (s->o.slurm_partition) {
        snprintf(part, sizeof part, "--partition=%s", s->o.slurm_partition);
        argv[k++] = part;
    }
    argv[k] = NULL;
    if (capture(argv, NULL) != 0)
        return hops__error(HOPS_ESPAWN,
                           "salloc could not get an allocation of %u cores (is slurmctld running? "
                           "`sinfo` shows the nodes)", s->pool.cpu);
    char namearg[96];
    snprintf(namearg, sizeof namearg, "--name=hops-alloc-%s", name);
    char *q[] = {"squeue", "--noheader", "--format=%i", namearg, NULL};
    if (capture(q, &out) != 0 || !out || !*out) {
        free(out);
        return hops__error(HOPS_ESPAWN, "salloc made an allocation but squeue cannot find it");
    }
    out[strcspn(out, " \r\n")] = '\0';
    s->alloc_id = out;
    s->own_alloc = 1;
    return HOPS_OK;
}

void hops__slurm_fini(hops_sched *s)
{
    if (s->own_alloc && s->alloc_id) {
        char *argv[] = {"scancel", s->alloc_id, NULL};
        capture(argv, NULL);
    }
}

/* 'text' with ' as '\'' for sh. */
static void sh_quote(hops_buf *b, const char *text)
{
    hops__buf_puts(b, "'");
    for (const char *p = text; *p; p++) {
        if (*p == '\'')
            hops__buf_puts(b, "'\\''");
        else
            hops__buf_put(b, p, 1);
    }
    hops__buf_puts(b, "'");
}

hops_status hops__slurm_start(hops_sched *s, hops__task *t, const hops_task_options *o, char **envp)
{
    hops_spawn_opts so;
    char **argv = calloc(o->argc + 16, sizeof *argv);
    char *own[12] = {0};
    size_t k = 0, n_own = 0;
    hops_status rc;
    if (!argv)
        return hops__error(HOPS_ENOMEM, "out of memory");
    memset(&so, 0, sizeof so);
#define OWN(expr) (own[n_own++] = (expr))
    if (s->o.executor == HOPS_EXECUTOR_SLURM) {
        argv[k++] = "srun";
        argv[k++] = OWN(hops__aprintf("--jobid=%s", s->alloc_id));
        argv[k++] = "--ntasks=1";
        argv[k++] = "--nodes=1";
        argv[k++] = OWN(hops__aprintf("--cpus-per-task=%u", o->request.cpu ? o->request.cpu : 1));
        argv[k++] = "--exact";
        argv[k++] = "--quiet";
        argv[k++] = OWN(hops__aprintf("--job-name=%s", t->name));
        if (o->request.gpu)
            argv[k++] = OWN(hops__aprintf("--gres=gpu:%u", o->request.gpu));
        if (o->request.mem > 0)
            argv[k++] = OWN(hops__aprintf("--mem=%.0fM", o->request.mem * 1024));
        for (size_t i = 0; i < o->argc; i++)
            argv[k++] = (char *)o->argv[i];
        so.stdout_path = o->stdout_path ? o->stdout_path : "/dev/null";
        so.stderr_path = o->stderr_path ? o->stderr_path : "/dev/null";
    } else {
        hops_buf script = HOPS_BUF_INIT;
        hops__buf_puts(&script, "#!/bin/sh\nexec");
        for (size_t i = 0; i < o->argc; i++) {
            hops__buf_puts(&script, " ");
            sh_quote(&script, o->argv[i]);
        }
        hops__buf_puts(&script, "\n");
        t->script_path = hops__aprintf("%s/%s.sbatch", s->work_dir, t->name);
        t->jobid_path = hops__aprintf("%s/%s.jobid", s->work_dir, t->name);
        if (!script.data || !t->script_path || !t->jobid_path) {
            hops__buf_free(&script);
            rc = hops__error(HOPS_ENOMEM, "out of memory");
            goto out;
        }
        rc = hops__atomic_write(t->script_path, script.data, script.len);
        hops__buf_free(&script);
        if (rc != HOPS_OK)
            goto out;
        argv[k++] = "sbatch";
        argv[k++] = "--wait";
        argv[k++] = "--parsable";
        argv[k++] = "--ntasks=1";
        argv[k++] = "--nodes=1";
        argv[k++] = "--open-mode=append";
        argv[k++] = OWN(hops__aprintf("--cpus-per-task=%u", o->request.cpu ? o->request.cpu : 1));
        argv[k++] = OWN(hops__aprintf("--job-name=%s", t->name));
        argv[k++] = OWN(hops__aprintf("--output=%s", o->stdout_path ? o->stdout_path : "/dev/null"));
        argv[k++] = OWN(hops__aprintf("--error=%s", o->stderr_path ? o->stderr_path : "/dev/null"));
        if (o->request.gpu)
            argv[k++] = OWN(hops__aprintf("--gres=gpu:%u", o->request.gpu));
        if (o->request.mem > 0)
            argv[k++] = OWN(hops__aprintf("--mem=%.0fM", o->request.mem * 1024));
        if (s->o.slurm_partition)
            argv[k++] = OWN(hops__aprintf("--partition=%s", s->o.slurm_partition));
        argv[k++] = t->script_path;
        so.stdout_path = t->jobid_path;
        so.stderr_path = o->stderr_path ? o->stderr_path : "/dev/null";
    }
#undef OWN
    for (size_t i = 0; i < n_own; i++)
        if (!own[i]) {
            rc = hops__error(HOPS_ENOMEM, "out of memory");
            goto out;
        }
    so.argv = argv;
    so.envp = envp;
    so.cwd = o->cwd;
    so.stdin_null = 1;
    rc = hops__spawn(&t->child, &so);
out:
    for (size_t i = 0; i < n_own; i++)
        free(own[i]);
    free(argv);
    return rc;
}

/* The id scancel takes for T: "J.S" for an srun step, "J" for an sbatch
 * job; NULL when it is not known yet (the step or job is not there yet). */
static char *slurm_id(hops_sched *s, hops__task *t)
{
    char *out = NULL;
    if (s->o.executor == HOPS_EXECUTOR_SLURM) {
        char jobs[64];
        char *argv[] = {"squeue", "--steps", "--noheader", "--format=%i %j", jobs, NULL};
        snprintf(jobs, sizeof jobs, "--jobs=%s", s->alloc_id);
        if (capture(argv, &out) != 0 || !out) {
            free(out);
            return NULL;
        }
        char *found = NULL;
        for (char *line = strtok(out, "\n"); line && !found; line = strtok(NULL, "\n")) {
            char *sp = strchr(line, ' ');
            if (sp && strcmp(sp + 1, t->name) == 0) {
                *sp = '\0';
                found = hops__strdup(line);
            }
        }
        free(out);
        return found;
    }
    if (!t->jobid_path || hops__read_file(t->jobid_path, &out, NULL) != HOPS_OK) {
        hops_error_clear();
        free(out);
        return NULL;
    }
    out[strcspn(out, ";\r\n")] = '\0';
    if (!*out) {
        free(out);
        return NULL;
    }
    return out;
}

void hops__slurm_signal(hops_sched *s, hops__task *t, int sig)
{
    char *id = slurm_id(s, t);
    if (id) {
        char sigarg[32];
        snprintf(sigarg, sizeof sigarg, "--signal=%s", sig == SIGKILL ? "KILL" : "TERM");
        char *argv[] = {"scancel", "--full", sigarg, id, NULL};
        if (s->o.executor == HOPS_EXECUTOR_SLURM) { /* --full is for batch jobs */
            argv[1] = sigarg;
            argv[2] = id;
            argv[3] = NULL;
        }
        capture(argv, NULL);
        if (sig == SIGKILL) { /* and cancel it for good */
            char *cancel[] = {"scancel", id, NULL};
            capture(cancel, NULL);
        }
        free(id);
    }
    /* Not started yet, or Slurm would not listen: the local srun/sbatch. */
    if (!id || sig == SIGKILL)
        if (t->child.pid > 0)
            kill(-t->child.pid, sig);
}

void hops__slurm_cleanup(hops_sched *s, hops__task *t)
{
    (void)s;
    if (t->script_path)
        unlink(t->script_path);
    if (t->jobid_path)
        unlink(t->jobid_path);
}
