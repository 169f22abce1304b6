/* hops launch [OPTS] -- CMD [ARGS...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hops/launch.h>

#include "cli.h"

static const char usage[] =
    "usage: hops launch [--workers N] [--ps M] [--evaluator] [--executor local|slurm|mpi]\n"
    "                   [--host ADDR] [--timeout S] [--fail-timeout S] [--experiment NAME]\n"
    "                   [--param K=V]... [--tag K=V]... [--quiet] [--json] -- CMD [ARGS...]\n"
    "\n"
    "Run CMD as one distributed job of N trainer tasks (the chief and N-1 workers),\n"
    "M parameter servers and optionally an evaluator, recorded as one run. Each task\n"
    "gets a free port and the environment its framework expects:\n"
    "  TF_CONFIG        {\"cluster\": {\"chief\": [...], \"worker\": [...], \"ps\": [...],\n"
    "                   \"evaluator\": [...]}, \"task\": {\"type\": T, \"index\": I}}\n"
    "  MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE\n"
    "                   for torch.distributed (trainers only; the chief is rank 0)\n"
    "  HOPS_TASK_TYPE, HOPS_TASK_INDEX, HOPS_RANK, HOPS_WORLD_SIZE, HOPS_RENDEZVOUS\n"
    "and the trial protocol's HOPS_PROJECT, HOPS_RUN_ID, HOPS_RUN_DIR, HOPS_PARAMS.\n"
    "The chief's HOPS_REPORT records the run's metrics; the other tasks' reports are\n"
    "discarded. Each task's output is kept in tasks/<type>-<index>.stdout.log and\n"
    ".stderr.log in the run directory, and prefixed (\"worker:0 | ...\") in the run's\n"
    "stdout.log and stderr.log and on this terminal.\n"
    "\n"
    "  -n, --workers N       trainer tasks, the chief included (default 1)\n"
    "      --ps M            parameter-server tasks (default 0); they are stopped with\n"
    "                        SIGTERM once the trainers are done\n"
    "      --evaluator       one evaluator task\n"
    "      --executor E      where tasks run: local (processes here, the default),\n"
    "                        slurm (srun --ntasks T, in the allocation or a new one) or\n"
    "                        mpi (mpirun -np T); with slurm and mpi each task publishes\n"
    "                        its host and port in the run's tasks/ directory, which every\n"
    "                        node must see\n"
    "      --host ADDR       the address tasks are told to use (default 127.0.0.1)\n"
    "      --timeout S       stop the whole job after S seconds (exit 124)\n"
    "      --fail-timeout S  when a task fails, or a trainer ends while others go on,\n"
    "                        the rest get S seconds to end by themselves before they\n"
    "                        are stopped (default 60): a rank blocked on a dead peer\n"
    "                        never hangs the job\n"
    "  -e, --experiment NAME, -p, --param K=V, -t, --tag K=V   as for `hops run`\n"
    "  -q, --quiet           do not copy the tasks' output to this terminal\n"
    "      --json            print the result as JSON on stdout when the job ends\n"
    "\n"
    "Exit status: 0 when every trainer (and the evaluator) exited with 0; else the\n"
    "failing task's exit code (128+N for signal N), 124 for a timeout or a hung task,\n"
    "127 when CMD was not found, 2 for bad usage. The run is FAILED naming the task.\n";

/* A whole number in [LO, HI]; 0 ok, -1 not one. */
static int parse_count(const char *s, long lo, long hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_seconds(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !(v > 0) || v > 1e9)
        return -1;
    *out = v;
    return 0;
}

static void on_start(const char *run_id, const char *run_dir, void *ud)
{
    const hops_launch_options *o = ud;
    fprintf(stderr, "hops: run %s started: %d trainer(s)%s%d ps%s (logs: %s/tasks)\n", run_id,
            o->workers, ", ", o->ps, o->evaluator ? ", 1 evaluator" : "", run_dir);
}

int cmd_launch(int argc, char **argv)
{
    hops_launch_options o = HOPS_LAUNCH_OPTIONS_INIT;
    hops_launch_result res;
    cli_kv_list params = {0}, tags = {0};
    hops_project *p = NULL;
    const char *val, *task_of = NULL;
    int json = 0, quiet = 0, code, i, m;

    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if ((m = cli_opt_value(argc, argv, &i, "--workers", "-n", &val)) != 0) {
            if (m < 0)
                goto missing;
            if (parse_count(val, 1, 1000, &o.workers) != 0) {
                code = cli_fail(EXIT_USAGE, "launch", "--workers '%s': expected a whole number from 1 to 1000", val);
                goto out;
            }
        } else if ((m = cli_opt_value(argc, argv, &i, "--ps", NULL, &val)) != 0) {
            if (m < 0)
                goto missing;
            if (parse_count(val, 0, 1000, &o.ps) != 0) {
                code = cli_fail(EXIT_USAGE, "launch", "--ps '%s': expected a whole number from 0 to 1000", val);
                goto out;
            }
        } else if (cli_flag(a, "--evaluator", NULL)) {
            o.evaluator = 1;
        } else if ((m = cli_opt_value(argc, argv, &i, "--executor", NULL, &val)) != 0) {
            if (m < 0)
                goto missing;
            if (strcmp(val, "local") == 0)
                o.executor = HOPS_LAUNCH_LOCAL;
            else if (strcmp(val, "slurm") == 0)
                o.executor = HOPS_LAUNCH_SLURM;
            else if (strcmp(val, "mpi") == 0)
                o.executor = HOPS_LAUNCH_MPI;
            else {
                code = cli_fail(EXIT_USAGE, "launch",
                                "--executor '%s': expected local, slurm or mpi", val);
                goto out;
            }
        } else if ((m = cli_opt_value(argc, argv, &i, "--task-of", NULL, &val)) != 0) {
            if (m < 0)
                goto missing;
            task_of = val;
        } else if ((m = cli_opt_value(argc, argv, &i, "--host", NULL, &val)) != 0) {
            if (m < 0)
                goto missing;
            o.host = val;
        } else if ((m = cli_opt_value(argc, argv, &i, "--timeout", NULL, &val)) != 0) {
            if (m < 0)
                goto missing;
            if (parse_seconds(val, &o.timeout) != 0) {
                code = cli_fail(EXIT_USAGE, "launch", "--timeout '%s': expected seconds > 0", val);
                goto out;
            }
        } else if ((m = cli_opt_value(argc, argv, &i, "--fail-timeout", NULL, &val)) != 0) {
            if (m < 0)
                goto missing;
            if (parse_seconds(val, &o.fail_timeout) != 0) {
                code = cli_fail(EXIT_USAGE, "launch", "--fail-timeout '%s': expected seconds > 0", val);
                goto out;
            }
        } else if ((m = cli_run_option("launch", argc, argv, &i, &o.run.experiment, &params, &tags)) != 0) {
            if (m < 0) {
                code = EXIT_USAGE;
                goto out;
            }
        } else if (cli_flag(a, "--quiet", "-q")) {
            quiet = 1;
        } else if (cli_flag(a, "--json", NULL)) {
            json = 1;
        } else if (a[0] == '-') {
            code = cli_fail(EXIT_USAGE, "launch", "unknown option '%s'; see `hops launch --help`", a);
            goto out;
        } else {
            break;
        }
    }
    if (i >= argc) {
        code = cli_fail(EXIT_USAGE, "launch",
                        "no command given; usage: hops launch [OPTS] -- CMD [ARGS...]");
        goto out;
    }
    if (task_of) { /* one rank of a job started through srun or mpirun */
        int rc = hops_launch_task(task_of, argv + i, &code);
        if (rc != HOPS_OK)
            code = cli_status("launch", rc);
        goto out;
    }
    if ((code = cli_open_project("launch", &p)) != 0)
        goto out;
    o.run.params = params.items;
    o.run.n_params = params.n;
    o.run.tags = tags.items;
    o.run.n_tags = tags.n;
    o.run.argv = (const char *const *)(argv + i);
    o.run.argc = (size_t)(argc - i);
    o.tee = !quiet;
    o.forward_signals = 1;
    o.on_start = on_start;
    o.ud = &o;

    int rc = hops_run_launch(p, &o, &res);
    if (rc != HOPS_OK && !res.run_id[0]) {
        code = cli_status("launch", rc);
        goto out;
    }
    if (rc != HOPS_OK)
        cli_status("launch", rc);
    if (res.exit_code == 127 && res.state == HOPS_RUN_FAILED)
        fprintf(stderr, "hops launch: command not found: %s (run recorded as FAILED)\n", argv[i]);
    if (res.failed_task[0])
        fprintf(stderr, "hops: run %s %s: task %s (exit %d); its log: `hops runs show %s`\n",
                res.run_id, hops_run_state_name(res.state), res.failed_task, res.exit_code,
                res.run_id);
    else
        fprintf(stderr, "hops: run %s %s (exit %d)\n", res.run_id, hops_run_state_name(res.state),
                res.exit_code);
    if (json) {
        json_t *doc = json_pack("{s:s, s:s, s:i, s:i, s:s?}", "run_id", res.run_id, "state",
                                hops_run_state_name(res.state), "exit_code", res.exit_code,
                                "tasks", res.n_tasks, "failed_task",
                                res.failed_task[0] ? res.failed_task : NULL);
        json_dumpf(doc, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(doc);
    }
    code = res.exit_code;
    goto out;

missing:
    code = cli_fail(EXIT_USAGE, "launch", "option '%s' needs a value", argv[i]);
out:
    hops_project_close(p);
    cli_kv_free(&params);
    cli_kv_free(&tags);
    return code;
}
