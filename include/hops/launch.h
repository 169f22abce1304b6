/* hops — launching one program as a distributed job (`hops launch`).
 *
 * Every task of the job runs the same command with the environment the
 * frameworks expect, as one hops run:
 *   - TF_CONFIG: {"cluster": {"chief": [...], "worker": [...], "ps": [...],
 *     "evaluator": [...]}, "task": {"type": T, "index": I}}, each task at its
 *     own free host:port;
 *   - torch.distributed: MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE,
 *     LOCAL_RANK, LOCAL_WORLD_SIZE for the trainers (chief and workers);
 *   - hops: HOPS_TASK_TYPE, HOPS_TASK_INDEX, HOPS_RANK, HOPS_WORLD_SIZE and
 *     HOPS_RENDEZVOUS (host:port for hops' own collectives), besides the
 *     trial protocol's HOPS_PROJECT, HOPS_RUN_ID, HOPS_RUN_DIR, HOPS_PARAMS.
 * The trainers are the chief (rank 0) and workers 0..N-2 (ranks 1..N-1), as
 * hops-util-py lays out a collective all-reduce cluster. Only the chief gets
 * a HOPS_REPORT that records metrics (the run's metrics are rank 0's); the
 * others' reports go to /dev/null.
 *
 * Executors: local processes, Slurm tasks (srun) or Open MPI ranks (mpirun).
 * Under Slurm and MPI each task first publishes its host and a free port in
 * the run's tasks/ directory (which every node must see) and waits for the
 * others, so TF_CONFIG holds real addresses on any number of nodes; the
 * chief's reports go through a file there, and each task's exit status too.
 *
 * Logs: each task's stdout and stderr go to tasks/<type>-<index>.stdout.log
 * and .stderr.log in the run directory, and line by line, prefixed with
 * "<type>:<index> | ", to the run's stdout.log / stderr.log (and to ours when
 * teeing).
 *
 * Ending: the job has FINISHED when every trainer and the evaluator exited
 * with 0 (parameter servers, which serve until stopped, are then sent
 * SIGTERM). When one task fails, or one trainer ends while others go on, the
 * rest get FAIL_TIMEOUT seconds to end by themselves (a peer blocked in an
 * all-reduce with a dead rank never would), then SIGTERM, then SIGKILL; the
 * run is FAILED naming the task. The whole job may have a TIMEOUT too.
 */
#ifndef HOPS_LAUNCH_H
#define HOPS_LAUNCH_H

#include "error.h"
#include "project.h"
#include "run.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where the tasks run. */
typedef enum {
    HOPS_LAUNCH_LOCAL = 0, /* processes of this host, started here */
    HOPS_LAUNCH_SLURM = 1, /* Slurm tasks: `srun --ntasks T` (in the allocation, or a new one) */
    HOPS_LAUNCH_MPI = 2    /* Open MPI ranks: `mpirun -np T` */
} hops_launch_executor;

typedef struct {
    unsigned version;
    hops_run_options run;  /* run.argv: the command every task runs */
    int workers;           /* trainers, >= 1: the chief and workers-1 workers */
    int ps;                /* parameter servers, >= 0 */
    int evaluator;         /* 1: one evaluator task */
    const char *host;      /* the address tasks are given; NULL: 127.0.0.1 */
    double timeout;        /* seconds for the whole job; 0: none */
    double fail_timeout;   /* seconds the others get after a task ends badly
                              or a trainer ends first; 0: 60 */
    int tee;               /* also copy the prefixed task output to ours */
    int forward_signals;   /* SIGINT/SIGTERM/SIGHUP go to every task; the run is KILLED */
    void (*on_start)(const char *run_id, const char *run_dir, void *ud);
    void *ud;
    hops_launch_executor executor;
    const char *program;   /* slurm, mpi: the hops program each task runs first (it
                              takes its address, meets the others, then runs the
                              command); NULL: the running program */
} hops_launch_options;

#define HOPS_LAUNCH_OPTIONS_VERSION 1
#define HOPS_LAUNCH_OPTIONS_INIT                                                                  \
    {HOPS_LAUNCH_OPTIONS_VERSION, HOPS_RUN_OPTIONS_INIT, 1, 0, 0, NULL, 0, 0, 0, 0, NULL, NULL,  \
     HOPS_LAUNCH_LOCAL, NULL}

typedef struct {
    char run_id[32];
    hops_run_state state;
    int exit_code;        /* 0; the failing task's exit status (128+N for signal N);
                             124 on the job timeout; 127 when the command was not found */
    char failed_task[32]; /* "worker:1", or "" */
    int n_tasks;
} hops_launch_result;

/* Run the job described by OPTS as one run and wait for it. Returns HOPS_OK
 * once the run is recorded, whatever the tasks did (see RES); HOPS_EINVAL
 * for impossible options (no command, workers < 1, ps < 0), before any run
 * exists. */
HOPS_EXTERN hops_status hops_run_launch(hops_project *p, const hops_launch_options *opts,
                                        hops_launch_result *res);

/* One task of a job hops_run_launch started through srun or mpirun (the
 * `hops launch --task-of SPEC -- CMD` every rank runs): find this task by
 * SLURM_PROCID, OMPI_COMM_WORLD_RANK or PMIX_RANK, take a free port on this
 * host, publish "host port" in the job's directory (shared by the nodes) and
 * wait for every task's; then run ARGV with the job's environment, its output
 * prefixed on ours and kept in the task's log files, and leave its exit status
 * for the launcher. *EXIT_CODE gets ARGV's exit status (128+N for signal N,
 * 127 when it cannot start). HOPS_ETIMEDOUT when the others do not show up in
 * time. */
HOPS_EXTERN hops_status hops_launch_task(const char *spec_path, char *const *argv,
                                         int *exit_code);

#ifdef __cplusplus
}
#endif

#endif
