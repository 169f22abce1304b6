/* hops hpo run|resume|show|list: parallel experiments (hyperparameter search). */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hops/hpo.h>

#include "cli.h"

static const char usage[] =
    "usage: hops hpo run SPEC.json [OPTS] [-- CMD [ARGS...]]\n"
    "       hops hpo resume EXPERIMENT [OPTS]\n"
    "       hops hpo show EXPERIMENT [--json]      (alias: status)\n"
    "       hops hpo list [--json]\n"
    "\n"
    "Run many trials of CMD in parallel and search for the best hyperparameters. SPEC.json\n"
    "holds the search space, the sampler (grid, random, de), the direction and metric, early\n"
    "stopping (median, asha), per-trial resources, timeout, retries and max_failures; see\n"
    "docs/cmd-hpo.md. CMD (or the spec's \"command\") is run once per trial as a hops run of\n"
    "the experiment; it gets its parameters in HOPS_PARAMS (and as --name=value with\n"
    "\"args\": true) and reports through HOPS_REPORT like any hops run. A slot frees the\n"
    "instant a trial ends and the next trial starts at once: no generation barrier.\n"
    "\n"
    "  -n, --name NAME         the experiment (default: the spec's \"name\")\n"
    "  -s, --slots SLOTS       the pool: cpu=N[,gpu=M][,mem=G] (default: cpu=<cores>); each\n"
    "                          trial takes the spec's \"resources\" and gets\n"
    "                          CUDA_VISIBLE_DEVICES naming its GPUs\n"
    "  -x, --executor EXEC     local (default), slurm (srun steps in one allocation) or\n"
    "                          slurm:sbatch (one sbatch job per trial)\n"
    "      --partition P       the Slurm partition\n"
    "  -q, --quiet             no progress lines on stderr\n"
    "      --json              print the result (run, resume) or the search (show, list) as JSON\n"
    "\n"
    "resume continues a search whose driver was killed or stopped: finished trials are kept,\n"
    "trials that were running run again, the sampler's state is rebuilt from SQLite.\n"
    "Ctrl-C stops the trials (recorded KILLED); the search can be resumed.\n"
    "Exit codes: 0 the search ended; 1 it was stopped by max_failures, or failed; 2 bad\n"
    "usage or spec; 4 no such search or spec file; 6 the search is running elsewhere;\n"
    "128+N stopped by signal N.\n";

typedef struct {
    const char *name, *slots, *executor, *partition;
    int quiet, json;
    int cmd_at; /* index of the command after `--`, 0 when none */
} run_args;

static int parse_opts(const char *cmd, int argc, char **argv, int first, run_args *a,
                      const char **positional)
{
    const char *val;
    int m;
    *positional = NULL;
    for (int i = first; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--") == 0) {
            a->cmd_at = i + 1 < argc ? i + 1 : argc;
            break;
        }
        if ((m = cli_opt_value(argc, argv, &i, "--name", "-n", &val)) != 0) {
            if (m < 0)
                return cli_fail(EXIT_USAGE, cmd, "option '%s' needs a value", s);
            a->name = val;
        } else if ((m = cli_opt_value(argc, argv, &i, "--slots", "-s", &val)) != 0) {
            if (m < 0)
                return cli_fail(EXIT_USAGE, cmd, "option '%s' needs a value", s);
            a->slots = val;
        } else if ((m = cli_opt_value(argc, argv, &i, "--executor", "-x", &val)) != 0) {
            if (m < 0)
                return cli_fail(EXIT_USAGE, cmd, "option '%s' needs a value", s);
            a->executor = val;
        } else if ((m = cli_opt_value(argc, argv, &i, "--partition", NULL, &val)) != 0) {
            if (m < 0)
                return cli_fail(EXIT_USAGE, cmd, "option '%s' needs a value", s);
            a->partition = val;
        } else if (cli_flag(s, "--quiet", "-q")) {
            a->quiet = 1;
        } else if (cli_flag(s, "--json", NULL)) {
            a->json = 1;
        } else if (s[0] == '-' && s[1]) {
            return cli_fail(EXIT_USAGE, cmd, "unknown option '%s'; see `hops hpo --help`", s);
        } else if (!*positional) {
            *positional = s;
        } else {
            return cli_fail(EXIT_USAGE, cmd, "unexpected argument '%s' (a trial command goes after `--`)", s);
        }
    }
    return 0;
}

static void on_event(const char *line, void *ud)
{
    (void)ud;
    fprintf(stderr, "hops hpo: %s\n", line);
}

static int fill_options(const char *cmd, const run_args *a, hops_hpo_options *o)
{
    if (a->slots && hops_slots_parse(&o->slots, a->slots) != HOPS_OK)
        return cli_fail(EXIT_USAGE, cmd, "%s", hops_last_error());
    if (a->executor && hops_executor_parse(&o->executor, a->executor) != HOPS_OK)
        return cli_fail(EXIT_USAGE, cmd, "%s", hops_last_error());
    o->slurm_partition = a->partition;
    o->handle_signals = 1;
    if (!a->quiet)
        o->on_event = on_event;
    return 0;
}

static int report(const char *cmd, int rc, const hops_hpo_result *res, const run_args *a)
{
    char best[128] = "none";
    if (res->best_trial >= 0)
        snprintf(best, sizeof best, "%.6g (trial %lld, run %s)", res->best_value,
                 (long long)res->best_trial, res->best_run);
    if (res->experiment[0])
        fprintf(stderr,
                "hops hpo: search '%s' %s: %lld trials, %lld finished, %lld early-stopped, "
                "%lld failed; best %s\n",
                res->experiment, res->state, (long long)res->trials, (long long)res->finished,
                (long long)res->early_stopped, (long long)res->failed, best);
    if (a->json && res->experiment[0]) {
        json_t *doc = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "experiment", res->experiment,
                                "state", res->state, "trials", (json_int_t)res->trials, "finished",
                                (json_int_t)res->finished, "early_stopped",
                                (json_int_t)res->early_stopped, "failed", (json_int_t)res->failed);
        json_object_set_new(doc, "best_trial", res->best_trial >= 0 ? json_integer(res->best_trial) : json_null());
        json_object_set_new(doc, "best_value", res->best_trial >= 0 ? json_real(res->best_value) : json_null());
        json_object_set_new(doc, "best_run", res->best_trial >= 0 ? json_string(res->best_run) : json_null());
        json_object_set_new(doc, "error", rc != HOPS_OK ? json_string(hops_last_error()) : json_null());
        json_dumpf(doc, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(doc);
    }
    if (rc != HOPS_OK)
        return cli_status(cmd, rc);
    if (res->term_signal)
        return 128 + res->term_signal;
    if (res->trials > 0 && res->best_trial < 0)
        return cli_fail(EXIT_FAIL, cmd, "no trial gave a value (%lld failed); see `hops hpo show %s`",
                        (long long)res->failed, res->experiment);
    return EXIT_OK;
}

static int hpo_run(hops_project *p, int argc, char **argv)
{
    hops_hpo_options o = HOPS_HPO_OPTIONS_INIT;
    hops_hpo_result res;
    hops_hpo_spec *spec = NULL;
    run_args a = {0};
    const char *path;
    int code;
    if ((code = parse_opts("hpo run", argc, argv, 2, &a, &path)) != 0)
        return code;
    if (!path)
        return cli_fail(EXIT_USAGE, "hpo run", "no spec file; usage: hops hpo run SPEC.json [-- CMD ...]");
    if (a.cmd_at && a.cmd_at >= argc)
        return cli_fail(EXIT_USAGE, "hpo run", "nothing after `--`: give the trial command");
    if ((code = fill_options("hpo run", &a, &o)) != 0)
        return code;
    int rc = hops_hpo_spec_load(&spec, path);
    if (rc != HOPS_OK)
        return cli_status("hpo run", rc);
    o.spec = spec;
    o.experiment = a.name;
    if (a.cmd_at) {
        o.argv = (const char *const *)(argv + a.cmd_at);
        o.argc = (size_t)(argc - a.cmd_at);
    }
    rc = hops_hpo_run(p, &o, &res);
    code = report("hpo run", rc, &res, &a);
    hops_hpo_spec_free(spec);
    return code;
}

static int hpo_resume(hops_project *p, int argc, char **argv)
{
    hops_hpo_options o = HOPS_HPO_OPTIONS_INIT;
    hops_hpo_result res;
    run_args a = {0};
    const char *exp;
    int code;
    if ((code = parse_opts("hpo resume", argc, argv, 2, &a, &exp)) != 0)
        return code;
    if (!exp)
        return cli_fail(EXIT_USAGE, "hpo resume", "which search? usage: hops hpo resume EXPERIMENT");
    if (a.name)
        return cli_fail(EXIT_USAGE, "hpo resume", "--name does not apply: the experiment is the argument");
    if ((code = fill_options("hpo resume", &a, &o)) != 0)
        return code;
    if (a.cmd_at) {
        o.argv = (const char *const *)(argv + a.cmd_at);
        o.argc = (size_t)(argc - a.cmd_at);
    }
    int rc = hops_hpo_resume(p, exp, &o, &res);
    return report("hpo resume", rc, &res, &a);
}

static void params_cell(const json_t *params, char *out, size_t n)
{
    const char *k;
    json_t *v;
    size_t used = 0;
    out[0] = '\0';
    json_object_foreach((json_t *)params, k, v) {
        char val[64];
        cli_format_value(v, val, sizeof val);
        int w = snprintf(out + used, n - used, "%s%s=%s", used ? " " : "", k, val);
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
}

static int hpo_show(hops_project *p, int argc, char **argv)
{
    run_args a = {0};
    const char *exp;
    char *text = NULL;
    json_t *doc, *t;
    size_t i;
    int code;
    if ((code = parse_opts("hpo show", argc, argv, 2, &a, &exp)) != 0)
        return code;
    if (!exp)
        return cli_fail(EXIT_USAGE, "hpo show", "which search? usage: hops hpo show EXPERIMENT");
    int rc = hops_hpo_show_json(p, exp, &text);
    if (rc != HOPS_OK)
        return cli_status("hpo show", rc);
    if (a.json) {
        puts(text);
        hops_free(text);
        return EXIT_OK;
    }
    doc = json_loads(text, 0, NULL);
    hops_free(text);
    if (!doc)
        return cli_fail(EXIT_FAIL, "hpo show", "internal error: bad JSON from libhops");
    json_t *spec = json_object_get(doc, "spec"), *counts = json_object_get(doc, "counts");
    json_t *best = json_object_get(doc, "best");
    printf("search      %s\nstate       %s\n", exp, json_string_value(json_object_get(doc, "state")));
    if (json_is_string(json_object_get(doc, "reason")))
        printf("reason      %s\n", json_string_value(json_object_get(doc, "reason")));
    printf("sampler     %s\n", json_string_value(json_object_get(json_object_get(spec, "sampler"), "type")));
    printf("objective   %s %s\n", json_string_value(json_object_get(spec, "direction")),
           json_string_value(json_object_get(spec, "metric")));
    printf("trials      %lld (%lld finished, %lld early-stopped, %lld failed, %lld pending)\n",
           (long long)json_integer_value(json_object_get(counts, "trials")),
           (long long)json_integer_value(json_object_get(counts, "finished")),
           (long long)json_integer_value(json_object_get(counts, "early_stopped")),
           (long long)json_integer_value(json_object_get(counts, "failed")),
           (long long)json_integer_value(json_object_get(counts, "pending")));
    if (json_is_object(best)) {
        char params[512], val[64];
        cli_format_value(json_object_get(best, "value"), val, sizeof val);
        params_cell(json_object_get(best, "params"), params, sizeof params);
        printf("best        %s (trial %lld, run %s): %s\n", val,
               (long long)json_integer_value(json_object_get(best, "trial")),
               json_string_value(json_object_get(best, "run")), params);
    }
    if (strcmp(json_string_value(json_object_get(doc, "state")), "INTERRUPTED") == 0)
        printf("            its driver died: `hops hpo resume %s` continues it\n", exp);
    putchar('\n');
    static const char *const hdr[] = {"TRIAL", "STATE", "VALUE", "RUN", "ATTEMPTS", "DURATION", "PARAMS"};
    cli_table *tab = cli_table_new(7, hdr);
    json_array_foreach(json_object_get(doc, "trials"), i, t) {
        char trial[32], val[64], dur[32], params[1024], att[16];
        json_t *atts = json_object_get(t, "attempts");
        json_t *last = json_array_get(atts, json_array_size(atts) - 1);
        json_t *st = json_object_get(t, "start_time"), *en = json_object_get(t, "end_time");
        snprintf(trial, sizeof trial, "%lld", (long long)json_integer_value(json_object_get(t, "trial")));
        cli_format_value(json_object_get(t, "value"), val, sizeof val);
        if (json_is_number(st) && json_is_number(en))
            cli_format_duration(json_number_value(en) - json_number_value(st), dur, sizeof dur);
        else
            snprintf(dur, sizeof dur, "-");
        snprintf(att, sizeof att, "%zu", json_array_size(atts));
        params_cell(json_object_get(t, "params"), params, sizeof params);
        const char *cells[] = {trial, json_string_value(json_object_get(t, "state")), val,
                               last ? json_string_value(json_object_get(last, "run")) : "-", att,
                               dur, params};
        cli_table_add(tab, cells);
    }
    cli_table_print(tab, cli_term_width());
    cli_table_free(tab);
    json_decref(doc);
    return EXIT_OK;
}

static int hpo_list(hops_project *p, int argc, char **argv)
{
    run_args a = {0};
    const char *extra;
    char *text = NULL;
    json_t *doc, *s;
    size_t i;
    int code;
    if ((code = parse_opts("hpo list", argc, argv, 2, &a, &extra)) != 0)
        return code;
    if (extra)
        return cli_fail(EXIT_USAGE, "hpo list", "unexpected argument '%s'", extra);
    int rc = hops_hpo_list_json(p, &text);
    if (rc != HOPS_OK)
        return cli_status("hpo list", rc);
    if (a.json) {
        puts(text);
        hops_free(text);
        return EXIT_OK;
    }
    doc = json_loads(text, 0, NULL);
    hops_free(text);
    static const char *const hdr[] = {"EXPERIMENT", "STATE", "SAMPLER", "TRIALS", "BEST"};
    cli_table *tab = cli_table_new(5, hdr);
    json_array_foreach(doc, i, s) {
        char n[32], best[64] = "-";
        snprintf(n, sizeof n, "%lld",
                 (long long)json_integer_value(json_object_get(json_object_get(s, "counts"), "trials")));
        if (json_is_object(json_object_get(s, "best")))
            cli_format_value(json_object_get(json_object_get(s, "best"), "value"), best, sizeof best);
        const char *cells[] = {json_string_value(json_object_get(s, "experiment")),
                               json_string_value(json_object_get(s, "state")),
                               json_string_value(json_object_get(json_object_get(s, "sampler"), "type")),
                               n, best};
        cli_table_add(tab, cells);
    }
    cli_table_print(tab, cli_term_width());
    cli_table_free(tab);
    json_decref(doc);
    return EXIT_OK;
}

int cmd_hpo(int argc, char **argv)
{
    static const cli_subcommand subs[] = {
        {"run", NULL, hpo_run},
        {"resume", NULL, hpo_resume},
        {"show", "status", hpo_show},
        {"list", "ls", hpo_list},
    };
    return cli_run_subcommand("hpo", usage, subs, sizeof subs / sizeof subs[0], argc, argv);
}
