/* hops model list|show|versions|export|best — the model registry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: hops model list [--json]\n"
    "       hops model show NAME[:VERSION] [--json]\n"
    "       hops model versions NAME [--json]\n"
    "       hops model export NAME[:VERSION] -o DIR [--json]\n"
    "       hops model best NAME --metric M [--direction max|min] [--json]\n"
    "       hops model label NAME VERSION LABEL | NAME --remove LABEL | NAME [--json]\n"
    "\n"
    "Registered models: `hops train` adds each trained model as the next version (1, 2,\n"
    "...) of its name, with its type, training run, test metrics and SHA-256; the file is\n"
    "kept in .hops/models/NAME/VERSION/model.hops. NAME alone means its latest version.\n"
    "\n"
    "list      one row per model: latest version, type, test metrics\n"
    "show      one version: file, SHA-256, run, metrics, features and their encodings\n"
    "versions  every version of NAME, oldest first\n"
    "export    check the file against its SHA-256 and copy it to DIR/model.hops, with its\n"
    "          header as DIR/model.json\n"
    "best      the version with the best test metric M (accuracy, f1, log_loss, roc_auc,\n"
    "          r2, rmse, mae, ...): --direction max (default) or min\n"
    "label     point LABEL (stable, canary, ...) at VERSION of NAME, remove it, or list\n"
    "          NAME's labels; `hops serve` answers /v1/models/NAME/labels/LABEL with it\n"
    "\n"
    "A model file that is damaged, truncated or changed since it was registered is refused\n"
    "(exit 5). --json prints one JSON document on stdout.\n";

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

/* "accuracy 0.9667  f1 0.9658" from a metrics object. */
static void metrics_line(const json_t *mt, char *out, size_t n)
{
    static const char *const order[] = {"accuracy", "f1",   "log_loss", "roc_auc",
                                        "r2",       "rmse", "mae"};
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        json_t *v = json_object_get(mt, order[i]);
        if (!json_is_number(v))
            continue;
        int w = snprintf(out + used, n - used, "%s%s %.4f", used ? "  " : "", order[i],
                         json_number_value(v));
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
    if (!used)
        snprintf(out, n, "-");
}

static int print_or_parse(const char *cmd, char *text, int json, json_t **doc)
{
    *doc = NULL;
    if (json) {
        puts(text);
        hops_free(text);
        return EXIT_OK;
    }
    *doc = json_loads(text, 0, NULL);
    hops_free(text);
    return *doc ? EXIT_OK : cli_fail(EXIT_FAIL, cmd, "internal error: bad JSON from libhops");
}

static int parse_args(const char *cmd, int argc, char **argv, const char **pos, int *json)
{
    for (int i = 2; i < argc; i++) {
        if (cli_flag(argv[i], "--json", NULL))
            *json = 1;
        else if (argv[i][0] == '-' || (pos && *pos) || !pos)
            return cli_fail(EXIT_USAGE, cmd, "unexpected argument '%s'", argv[i]);
        else
            *pos = argv[i];
    }
    return EXIT_OK;
}

static void print_versions(json_t *arr)
{
    static const char *const headers[] = {"SPEC", "TYPE", "RUN", "CREATED", "TEST METRICS"};
    cli_table *t = cli_table_new(5, headers);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        char created[32], metrics[256];
        cli_format_time(json_number_value(json_object_get(v, "created")), created, sizeof created);
        metrics_line(json_object_get(v, "metrics"), metrics, sizeof metrics);
        const char *cells[] = {str(v, "spec"), str(v, "type"), str(v, "run"), created, metrics};
        cli_table_add(t, cells);
    }
    cli_table_print(t, cli_term_width());
    cli_table_free(t);
}

static int model_list(hops_project *p, int argc, char **argv)
{
    char *text;
    json_t *arr;
    int json = 0, rc;
    if ((rc = parse_args("model list", argc, argv, NULL, &json)) != EXIT_OK)
        return rc;
    if ((rc = hops_model_list_json(p, &text)) != HOPS_OK)
        return cli_status("model list", rc);
    if ((rc = print_or_parse("model list", text, json, &arr)) != EXIT_OK || !arr)
        return rc;
    if (json_array_size(arr) == 0) {
        printf("No models yet. Train one with `hops train --data D --label COL --model TYPE`.\n");
    } else {
        static const char *const headers[] = {"NAME", "LATEST",  "VERSIONS",
                                              "TYPE", "CREATED", "TEST METRICS"};
        cli_table *t = cli_table_new(6, headers);
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
            char latest[24], versions[24], created[32], metrics[256];
            snprintf(latest, sizeof latest, "%lld",
                     (long long)json_integer_value(json_object_get(v, "latest")));
            snprintf(versions, sizeof versions, "%lld",
                     (long long)json_integer_value(json_object_get(v, "versions")));
            cli_format_time(json_number_value(json_object_get(v, "created")), created,
                            sizeof created);
            metrics_line(json_object_get(v, "metrics"), metrics, sizeof metrics);
            const char *cells[] = {str(v, "name"), latest,  versions,
                                   str(v, "type"), created, metrics};
            cli_table_add(t, cells);
        }
        cli_table_print(t, cli_term_width());
        cli_table_free(t);
    }
    json_decref(arr);
    return EXIT_OK;
}

static int model_show(hops_project *p, int argc, char **argv)
{
    const char *spec = NULL;
    char *text;
    json_t *doc;
    int json = 0, rc;
    if ((rc = parse_args("model show", argc, argv, &spec, &json)) != EXIT_OK)
        return rc;
    if (!spec)
        return cli_fail(EXIT_USAGE, "model show",
                        "which model? usage: hops model show NAME[:VERSION]");
    if ((rc = hops_model_show_json(p, spec, &text)) != HOPS_OK)
        return cli_status("model show", rc);
    if ((rc = print_or_parse("model show", text, json, &doc)) != EXIT_OK || !doc)
        return rc;
    char created[32], metrics[256];
    json_t *h = json_object_get(doc, "header");
    cli_format_time(json_number_value(json_object_get(doc, "created")), created, sizeof created);
    metrics_line(json_object_get(doc, "metrics"), metrics, sizeof metrics);
    printf("model        %s\n", str(doc, "spec"));
    printf("type         %s\n", str(doc, "type"));
    printf("run          %s\n", str(doc, "run"));
    printf("created      %s\n", created);
    printf("file         %s\n", str(doc, "path"));
    printf("sha256       %s\n", str(doc, "sha256"));
    printf("size         %lld bytes\n",
           (long long)json_integer_value(json_object_get(doc, "size")));
    printf("test metrics %s\n", metrics);
    if (!json_is_object(h)) {
        printf("file check   FAILED: %s\n", str(doc, "error"));
        json_decref(doc);
        return EXIT_CORRUPT;
    }
    printf("task         %s, label '%s'", str(h, "task"), str(h, "label"));
    json_t *classes = json_object_get(h, "classes");
    if (json_is_array(classes)) {
        size_t i;
        json_t *c;
        printf(", classes:");
        json_array_foreach(classes, i, c) printf(" %s", json_string_value(c));
    }
    printf("\ninputs       %lld from %zu features\n",
           (long long)json_integer_value(json_object_get(h, "inputs")),
           json_array_size(json_object_get(h, "features")));
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(h, "features"), i, f)
    {
        if (strcmp(str(f, "kind"), "numeric") == 0)
            printf("  %-20s numeric, standardized (mean %.6g, std %.6g)\n", str(f, "name"),
                   json_number_value(json_object_get(f, "mean")),
                   json_number_value(json_object_get(f, "std")));
        else
            printf("  %-20s categorical, one-hot over %zu values\n", str(f, "name"),
                   json_array_size(json_object_get(f, "categories")));
    }
    json_t *layers = json_object_get(h, "layers"), *l;
    if (json_is_array(layers)) {
        printf("layers      ");
        json_array_foreach(layers, i, l)
            printf(" %lldx%lld %s%s", (long long)json_integer_value(json_object_get(l, "in")),
                   (long long)json_integer_value(json_object_get(l, "out")), str(l, "activation"),
                   i + 1 < json_array_size(layers) ? "," : "");
        putchar('\n');
    }
    json_decref(doc);
    return EXIT_OK;
}

static int model_versions(hops_project *p, int argc, char **argv)
{
    const char *name = NULL;
    char *text;
    json_t *arr;
    int json = 0, rc;
    if ((rc = parse_args("model versions", argc, argv, &name, &json)) != EXIT_OK)
        return rc;
    if (!name)
        return cli_fail(EXIT_USAGE, "model versions",
                        "which model? usage: hops model versions NAME");
    if ((rc = hops_model_versions_json(p, name, &text)) != HOPS_OK)
        return cli_status("model versions", rc);
    if ((rc = print_or_parse("model versions", text, json, &arr)) != EXIT_OK || !arr)
        return rc;
    print_versions(arr);
    json_decref(arr);
    return EXIT_OK;
}

static int model_export(hops_project *p, int argc, char **argv)
{
    const char *spec = NULL, *dir = NULL, *val;
    char *text;
    int json = 0, m, rc;
    for (int i = 2; i < argc; i++) {
        if ((m = cli_opt_value(argc, argv, &i, "--output", "-o", &val)) > 0)
            dir = val;
        else if (m < 0)
            return cli_fail(EXIT_USAGE, "model export", "-o needs a directory");
        else if (cli_flag(argv[i], "--json", NULL))
            json = 1;
        else if (argv[i][0] == '-' || spec)
            return cli_fail(EXIT_USAGE, "model export", "unexpected argument '%s'", argv[i]);
        else
            spec = argv[i];
    }
    if (!spec || !dir)
        return cli_fail(EXIT_USAGE, "model export",
                        "usage: hops model export NAME[:VERSION] -o DIR");
    if ((rc = hops_model_export(p, spec, dir, &text)) != HOPS_OK)
        return cli_status("model export", rc);
    json_t *doc;
    if ((rc = print_or_parse("model export", text, json, &doc)) != EXIT_OK || !doc)
        return rc;
    json_t *files = json_object_get(doc, "files");
    printf("Exported %s (sha256 %.12s) to %s and %s\n", str(doc, "spec"), str(doc, "sha256"),
           json_string_value(json_array_get(files, 0)),
           json_string_value(json_array_get(files, 1)));
    json_decref(doc);
    return EXIT_OK;
}

static int model_best(hops_project *p, int argc, char **argv)
{
    const char *name = NULL, *metric = NULL, *dir = "max", *val;
    char *text;
    int json = 0, m, rc;
    for (int i = 2; i < argc; i++) {
        if ((m = cli_opt_value(argc, argv, &i, "--metric", NULL, &val)) > 0)
            metric = val;
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--direction", NULL, &val)) > 0)
            dir = val;
        else if (m < 0)
            return cli_fail(EXIT_USAGE, "model best", "option '%s' needs a value", argv[i]);
        else if (cli_flag(argv[i], "--json", NULL))
            json = 1;
        else if (argv[i][0] == '-' || name)
            return cli_fail(EXIT_USAGE, "model best", "unexpected argument '%s'", argv[i]);
        else
            name = argv[i];
    }
    if (!name || !metric)
        return cli_fail(EXIT_USAGE, "model best",
                        "usage: hops model best NAME --metric M [--direction max|min]");
    if (strcmp(dir, "max") != 0 && strcmp(dir, "min") != 0)
        return cli_fail(EXIT_USAGE, "model best", "--direction is max or min, not '%s'", dir);
    if ((rc = hops_model_best_json(p, name, metric, strcmp(dir, "max") == 0, &text)) != HOPS_OK)
        return cli_status("model best", rc);
    json_t *doc;
    if ((rc = print_or_parse("model best", text, json, &doc)) != EXIT_OK || !doc)
        return rc;
    char metrics[256];
    metrics_line(json_object_get(doc, "metrics"), metrics, sizeof metrics);
    printf("%s  (%s %s %.6g; run %s)\n  %s\n", str(doc, "spec"), dir, metric,
           json_number_value(json_object_get(json_object_get(doc, "metrics"), metric)),
           str(doc, "run"), metrics);
    json_decref(doc);
    return EXIT_OK;
}

static int model_label(hops_project *p, int argc, char **argv)
{
    const char *pos[3] = {NULL, NULL, NULL}, *remove = NULL, *val;
    size_t n = 0;
    int json = 0, m, rc;
    char *text;
    for (int i = 2; i < argc; i++) {
        if ((m = cli_opt_value(argc, argv, &i, "--remove", NULL, &val)) > 0)
            remove = val;
        else if (m < 0)
            return cli_fail(EXIT_USAGE, "model label", "--remove needs a label");
        else if (cli_flag(argv[i], "--json", NULL))
            json = 1;
        else if (argv[i][0] == '-' || n == 3)
            return cli_fail(EXIT_USAGE, "model label", "unexpected argument '%s'", argv[i]);
        else
            pos[n++] = argv[i];
    }
    if (n == 0 || n == 2 || (remove && n != 1))
        return cli_fail(EXIT_USAGE, "model label",
                        "usage: hops model label NAME VERSION LABEL | NAME --remove LABEL | NAME");
    if (remove) {
        if ((rc = hops_model_label_remove(p, pos[0], remove)) != HOPS_OK)
            return cli_status("model label", rc);
        printf("Removed label %s of model %s\n", remove, pos[0]);
        return EXIT_OK;
    }
    if (n == 3) {
        char *end;
        long long v = strtoll(pos[1], &end, 10);
        if (*end || v < 1)
            return cli_fail(EXIT_USAGE, "model label", "'%s' is not a version (1, 2, ...)",
                            pos[1]);
        if ((rc = hops_model_label_set(p, pos[0], (int64_t)v, pos[2])) != HOPS_OK)
            return cli_status("model label", rc);
        printf("Label %s -> %s:%lld\n", pos[2], pos[0], v);
        return EXIT_OK;
    }
    if ((rc = hops_model_labels_json(p, pos[0], &text)) != HOPS_OK)
        return cli_status("model label", rc);
    json_t *doc;
    if ((rc = print_or_parse("model label", text, json, &doc)) != EXIT_OK || !doc)
        return rc;
    const char *k;
    json_t *v;
    if (json_object_size(doc) == 0)
        printf("Model %s has no labels.\n", pos[0]);
    json_object_foreach(doc, k, v) printf("%-12s %s:%lld\n", k, pos[0],
                                          (long long)json_integer_value(v));
    json_decref(doc);
    return EXIT_OK;
}

int cmd_model(int argc, char **argv)
{
    static const cli_subcommand subs[] = {{"list", "ls", model_list},
                                          {"show", NULL, model_show},
                                          {"versions", NULL, model_versions},
                                          {"export", NULL, model_export},
                                          {"best", NULL, model_best},
                                          {"label", "labels", model_label}};
    return cli_run_subcommand("model", usage, subs, sizeof subs / sizeof subs[0], argc, argv);
}
