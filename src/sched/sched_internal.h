/* hops — private pieces shared by the files of src/sched/. */
#ifndef HOPS_SCHED_INTERNAL_H
#define HOPS_SCHED_INTERNAL_H

#include <sys/types.h>

#include "core/core.h"
#include "hops/sched.h"

typedef struct {
    int active;              /* started and not yet ended */
    hops_slots req;
    int *gpus;               /* indices into the pool's GPU list */
    char gpus_text[256];     /* "0,1", given as CUDA_VISIBLE_DEVICES */
    hops_child child;        /* srun / sbatch / the command itself */
    int report_fd;           /* local: the pipe; Slurm: the report file; -1 when none */
    int watch;               /* Slurm: the inotify watch on the report file, -1 when none */
    hops_buf line;           /* a partial report line */
    int skipping;            /* the line is over the limit: drop it up to its newline */
    double start_wall, deadline, kill_at;  /* deadlines on the monotonic clock; 0: none */
    int timed_out, stopped, term_sent;
    char *name;              /* Slurm job / step name */
    char *jobid_path;        /* sbatch: the file its --parsable output goes to */
    char *script_path;       /* sbatch: the batch script */
} hops__task;

struct hops_sched {
    hops_sched_options o;
    hops_slots pool, used;
    char **gpu_names;        /* CUDA ids of the pool's GPUs */
    int *gpu_busy;           /* 1 when given to a running task */
    hops__task *tasks;       /* indexed by task id */
    size_t n_tasks, cap_tasks;
    int *active;             /* ids of the running tasks, in no order */
    size_t running, cap_active;
    int shutdown, fill_done, sig;
    int inotify_fd;          /* Slurm report files; -1 when unused */
    char *alloc_id;          /* Slurm: the allocation the srun steps run in */
    int own_alloc;           /* we made it with salloc: scancel it at the end */
    char *work_dir;
};

/* Executors. START spawns T's process with ENVP (NULL-terminated, owned by
 * the caller) and sets t->child; SIGNAL delivers SIG to the task (SIGTERM
 * first, SIGKILL after the grace); CLEANUP removes executor files. */
hops_status hops__local_start(hops_sched *s, hops__task *t, const hops_task_options *o, char **envp,
                              int report_wr);
void hops__local_signal(hops_sched *s, hops__task *t, int sig);

hops_status hops__slurm_init(hops_sched *s);
void hops__slurm_fini(hops_sched *s);
hops_status hops__slurm_start(hops_sched *s, hops__task *t, const hops_task_options *o, char **envp);
void hops__slurm_signal(hops_sched *s, hops__task *t, int sig);
void hops__slurm_cleanup(hops_sched *s, hops__task *t);

#endif
