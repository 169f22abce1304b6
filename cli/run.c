/* hops run [OPTS] -- CMD [ARGS...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "usage: hops run [--experiment NAME] [--param K=V]... [--tag K=V]... [--quiet] [--json]\n"
    "                -- CMD [ARGS...]\n"
    "\n"
    "Run CMD as a versioned run of experiment NAME (default: \"default\") and record its\n"
    "parameters, tags, command, working directory, git commit, host, user, times, exit\n"
    "status, stdout/stderr logs and reported metrics.\n"
    "\n"
    "  -e, --experiment NAME  experiment the run belongs to\n"
    "  -p, --param K=V        a parameter (repeatable); CMD sees all of them as the JSON\n"
    "                         object HOPS_PARAMS (numbers and true/false typed)\n"
    "  -t, --tag K=V          a tag (repeatable)\n"
    "  -q, --quiet            do not copy CMD's output to this terminal (it is still logged)\n"
    "      --json             print the result as JSON on stdout when CMD ends\n"
    "\n"
    "CMD gets HOPS_PROJECT, HOPS_RUN_ID, HOPS_RUN_DIR, HOPS_PARAMS and HOPS_REPORT. It\n"
    "reports metrics by appending JSON lines to the file named by HOPS_REPORT:\n"
    "  {\"step\": 3, \"metrics\": {\"loss\": 0.2}}      {\"final\": {\"accuracy\": 0.93}}\n"
    "Files it writes to $HOPS_RUN_DIR/artifacts are kept with the run; TensorBoard\n"
    "event files appear in $HOPS_RUN_DIR/tb.\n"
    "\n"
    "Ctrl-C is passed to CMD and the run is recorded as KILLED. hops run exits with\n"
    "CMD's exit code (128+N when a signal N ended it, 127 when CMD was not found).\n";

static void on_start(const char *run_id, const char *run_dir, void *ud)
{
    const char *experiment = ud;
    fprintf(stderr, "hops: run %s started (experiment %s)\n", run_id, experiment);
    (void)run_dir;
}

int cmd_run(int argc, char **argv)
{
    hops_exec_options o = HOPS_EXEC_OPTIONS_INIT;
    hops_exec_result res;
    cli_kv_list params = {0}, tags = {0};
    const char *experiment = NULL;
    hops_project *p = NULL;
    int quiet = 0, json = 0, code, i, m;

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
        if ((m = cli_run_option("run", argc, argv, &i, &experiment, &params, &tags)) != 0) {
            if (m < 0) {
                code = EXIT_USAGE;
                goto out;
            }
        } else if (cli_flag(a, "--quiet", "-q")) {
            quiet = 1;
        } else if (cli_flag(a, "--json", NULL)) {
            json = 1;
        } else if (a[0] == '-') {
            code = cli_fail(EXIT_USAGE, "run", "unknown option '%s'; see `hops run --help`", a);
            goto out;
        } else {
            break; /* the command starts here (no `--`) */
        }
    }
    if (i >= argc) {
        code = cli_fail(EXIT_USAGE, "run", "no command given; usage: hops run [OPTS] -- CMD [ARGS...]");
        goto out;
    }
    if ((code = cli_open_project("run", &p)) != 0)
        goto out;

    o.run.experiment = experiment;
    o.run.params = params.items;
    o.run.n_params = params.n;
    o.run.tags = tags.items;
    o.run.n_tags = tags.n;
    o.run.argv = (const char *const *)(argv + i);
    o.run.argc = (size_t)(argc - i);
    o.tee = !quiet;
    o.forward_signals = 1;
    o.on_start = on_start;
    o.ud = (void *)(experiment && *experiment ? experiment : "default");

    int rc = hops_run_exec(p, &o, &res);
    if (rc != HOPS_OK && !res.run_id[0]) {
        code = cli_status("run", rc);
        goto out;
    }
    if (rc != HOPS_OK)
        cli_status("run", rc); /* recorded, but something went wrong on the way */
    if (res.exit_code == 127 && res.state == HOPS_RUN_FAILED)
        fprintf(stderr, "hops run: command not found: %s (run recorded as FAILED)\n", argv[i]);
    if (res.bad_lines)
        fprintf(stderr, "hops: %ld report line(s) were ignored (see the warnings above); "
                        "lines that are not valid reports are kept in the run's report.jsonl\n",
                res.bad_lines);
    fprintf(stderr, "hops: run %s %s (exit %d)\n", res.run_id, hops_run_state_name(res.state),
            res.exit_code);
    if (json) {
        json_t *doc = json_pack("{s:s, s:s, s:i, s:i, s:I}", "run_id", res.run_id, "state",
                                hops_run_state_name(res.state), "exit_code", res.exit_code,
                                "signal", res.term_signal, "bad_report_lines",
                                (json_int_t)res.bad_lines);
        json_dumpf(doc, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(doc);
    }
    code = res.exit_code;
    goto out;

out:
    hops_project_close(p);
    cli_kv_free(&params);
    cli_kv_free(&tags);
    return code;
}
