/* hops dataset add|list|show|versions */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: hops dataset add FILE --name N [--description TEXT] [READ OPTIONS] [--json]\n"
    "       hops dataset list [--json]\n"
    "       hops dataset show N[:VERSION] [--json]\n"
    "       hops dataset versions N [--json]\n"
    "\n"
    "Datasets are named, immutable versions of CSV or JSON Lines files (plain or .gz),\n"
    "stored read-only in the project under .hops/datasets/N/VERSION/. Every `hops data`\n"
    "command takes N (the latest version) or N:VERSION wherever it takes a file.\n"
    "\n"
    "add       copy FILE in as the next version of N (1, 2, ...) with its SHA-256, size,\n"
    "          row count, columns and schema. A file identical to N's latest version\n"
    "          makes no new version. FILE must read as a table (errors name line:column).\n"
    "  --name N            letters, digits, '.', '_', '-' (not first: '.' or '-')\n"
    "  --description TEXT  a note kept with the version\n"
    "  --format csv|jsonl, --delimiter C, --no-header, --threads N   how to read FILE\n"
    "list      one row per dataset: its latest version, rows, size, when it was added\n"
    "show      everything about one version: file, SHA-256, columns, schema, lineage\n"
    "versions  every version of N, oldest first\n"
    "\n"
    "--json prints one JSON document on stdout.\n";

/* Parse TEXT (owned, from libhops; freed here): printed as it is with JSON,
 * else parsed into *DOC. */
static int json_or_doc(const char *cmd, char *text, int json, json_t **doc)
{
    json_error_t err;
    *doc = NULL;
    if (json) {
        fputs(text, stdout);
        putchar('\n');
        hops_free(text);
        return EXIT_OK;
    }
    *doc = json_loads(text, 0, &err);
    hops_free(text);
    return *doc ? EXIT_OK
                : cli_fail(EXIT_FAIL, cmd, "internal error: bad JSON from libhops: %s", err.text);
}

static void format_size(json_int_t bytes, char *out, size_t n)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, n, "%lld B", (long long)bytes);
    else
        snprintf(out, n, "%.1f %s", v, units[u]);
}

static const char *str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "-";
}

static long long num(const json_t *obj, const char *key)
{
    return (long long)json_integer_value(json_object_get(obj, key));
}

/* "a, b, c" from an array of strings, cut to fit N. */
static void join_strings(const json_t *arr, const char *sep, char *out, size_t n)
{
    size_t i, used = 0;
    const json_t *v;
    out[0] = '\0';
    json_array_foreach(arr, i, v)
    {
        int w = snprintf(out + used, n - used, "%s%s", i ? sep : "",
                         json_is_string(v) ? json_string_value(v) : "?");
        if (w < 0 || (size_t)w >= n - used) {
            if (n > 4)
                snprintf(out + (n - 4 > used ? used : n - 4), 4, "...");
            break;
        }
        used += (size_t)w;
    }
}

static int dataset_add(hops_project *p, int argc, char **argv)
{
    hops_dataset_add_options o = HOPS_DATASET_ADD_OPTIONS_INIT;
    const char *file = NULL, *name = NULL, *val;
    char *text = NULL;
    int json = 0, m, rc;
    for (int i = 2; i < argc; i++) {
        if ((m = cli_opt_value(argc, argv, &i, "--name", "-n", &val)) > 0)
            name = val;
        else if (m == 0 && (m = cli_opt_value(argc, argv, &i, "--description", "-m", &val)) > 0)
            o.description = val;
        else if (m < 0)
            return cli_fail(EXIT_USAGE, "dataset add", "option '%s' needs a value", argv[i]);
        else if ((m = cli_read_option("dataset add", argc, argv, &i, &o.read)) != 0) {
            if (m < 0)
                return EXIT_USAGE;
        } else if (cli_flag(argv[i], "--json", NULL))
            json = 1;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_fail(EXIT_USAGE, "dataset add",
                            "unknown option '%s'; see `hops dataset "
                            "--help`",
                            argv[i]);
        else if (file)
            return cli_fail(EXIT_USAGE, "dataset add", "one file at a time (got '%s' and '%s')",
                            file, argv[i]);
        else
            file = argv[i];
    }
    if (!file)
        return cli_fail(EXIT_USAGE, "dataset add",
                        "which file? usage: hops dataset add FILE "
                        "--name N");
    if (!name)
        return cli_fail(EXIT_USAGE, "dataset add", "name the dataset: hops dataset add %s --name N",
                        file);
    if ((rc = hops_dataset_add(p, name, file, &o, &text)) != HOPS_OK)
        return cli_status("dataset add", rc);
    json_t *doc;
    if ((rc = json_or_doc("dataset add", text, json, &doc)) != EXIT_OK || !doc)
        return rc;
    char size[32];
    format_size(num(doc, "size"), size, sizeof size);
    if (json_is_true(json_object_get(doc, "added")))
        printf("Added %s: %lld rows, %zu columns, %s, sha256 %.12s\n  stored at %s\n",
               str(doc, "spec"), num(doc, "rows"), json_array_size(json_object_get(doc, "columns")),
               size, str(doc, "sha256"), str(doc, "path"));
    else
        printf("%s is identical to %s (the latest version; sha256 %.12s): no new version.\n"
               "  %s: %lld rows, %s, stored at %s\n",
               file, str(doc, "spec"), str(doc, "sha256"), str(doc, "spec"), num(doc, "rows"), size,
               str(doc, "path"));
    json_decref(doc);
    return EXIT_OK;
}

static int dataset_list(hops_project *p, int argc, char **argv)
{
    char *text = NULL;
    int json = 0, rc;
    for (int i = 2; i < argc; i++) {
        if (cli_flag(argv[i], "--json", NULL))
            json = 1;
        else
            return cli_fail(EXIT_USAGE, "dataset list", "unexpected argument '%s'", argv[i]);
    }
    if ((rc = hops_dataset_list_json(p, &text)) != HOPS_OK)
        return cli_status("dataset list", rc);
    json_t *arr;
    if ((rc = json_or_doc("dataset list", text, json, &arr)) != EXIT_OK || !arr)
        return rc;
    if (json_array_size(arr) == 0) {
        printf("No datasets yet. Add one with `hops dataset add FILE --name N`.\n");
        json_decref(arr);
        return EXIT_OK;
    }
    static const char *const headers[] = {"NAME", "LATEST",  "VERSIONS",   "ROWS",
                                          "SIZE", "CREATED", "DESCRIPTION"};
    cli_table *t = cli_table_new(7, headers);
    size_t i;
    json_t *d;
    json_array_foreach(arr, i, d)
    {
        char latest[24], versions[24], rows[24], size[32], created[32];
        snprintf(latest, sizeof latest, "%lld", num(d, "latest"));
        snprintf(versions, sizeof versions, "%lld", num(d, "versions"));
        snprintf(rows, sizeof rows, "%lld", num(d, "rows"));
        format_size(num(d, "size"), size, sizeof size);
        cli_format_time(json_number_value(json_object_get(d, "created")), created, sizeof created);
        const char *cells[] = {
            str(d, "name"),
            latest,
            versions,
            rows,
            size,
            created,
            json_is_string(json_object_get(d, "description")) ? str(d, "description") : ""};
        cli_table_add(t, cells);
    }
    cli_table_print(t, cli_term_width());
    cli_table_free(t);
    json_decref(arr);
    return EXIT_OK;
}

/* The schema, one line per column, when it has the shape the schema module
 * writes ({"columns": [{"name", "type", ...}]}); else the JSON itself. */
static void print_schema(const json_t *schema)
{
    const json_t *cols = json_object_get(schema, "columns");
    size_t i;
    const json_t *c;
    if (!schema || json_is_null(schema))
        return;
    printf("\nschema:\n");
    if (!json_is_array(cols)) {
        char *s = json_dumps(schema, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s ? s : "?");
        free(s);
        return;
    }
    json_array_foreach(cols, i, c)
    {
        char lo[64], hi[64], values[512];
        const json_t *vals = json_object_get(c, "values");
        printf("  %-20s %-10s %-9s", str(c, "name"), str(c, "type"),
               json_is_false(json_object_get(c, "nullable")) ? "not null" : "nullable");
        if (json_object_get(c, "min") || json_object_get(c, "max")) {
            cli_format_value(json_object_get(c, "min"), lo, sizeof lo);
            cli_format_value(json_object_get(c, "max"), hi, sizeof hi);
            printf(" %s .. %s", lo, hi);
        }
        if (json_is_array(vals)) {
            size_t k, used = 0;
            const json_t *v;
            values[0] = '\0';
            json_array_foreach(vals, k, v)
            {
                char one[128];
                cli_format_value(v, one, sizeof one);
                int w = snprintf(values + used, sizeof values - used, "%s%s", k ? ", " : "", one);
                if (w < 0 || (size_t)w >= sizeof values - used)
                    break;
                used += (size_t)w;
            }
            printf(" {%s}", values);
        }
        putchar('\n');
    }
}

static int dataset_show(hops_project *p, int argc, char **argv)
{
    const char *spec = NULL;
    char *text = NULL;
    int json = 0, rc;
    for (int i = 2; i < argc; i++) {
        if (cli_flag(argv[i], "--json", NULL))
            json = 1;
        else if (argv[i][0] == '-' || spec)
            return cli_fail(EXIT_USAGE, "dataset show", "unexpected argument '%s'", argv[i]);
        else
            spec = argv[i];
    }
    if (!spec)
        return cli_fail(EXIT_USAGE, "dataset show",
                        "which dataset? usage: hops dataset show "
                        "N[:VERSION]");
    if ((rc = hops_dataset_show_json(p, spec, &text)) != HOPS_OK)
        return cli_status("dataset show", rc);
    json_t *doc;
    if ((rc = json_or_doc("dataset show", text, json, &doc)) != EXIT_OK || !doc)
        return rc;
    char size[32], created[32], columns[4096];
    const json_t *lineage = json_object_get(doc, "lineage");
    const json_t *ro = json_object_get(doc, "read_options");
    format_size(num(doc, "size"), size, sizeof size);
    cli_format_time(json_number_value(json_object_get(doc, "created")), created, sizeof created);
    join_strings(json_object_get(doc, "columns"), ", ", columns, sizeof columns);
    printf("dataset      %s (latest version: %lld)\n", str(doc, "spec"), num(doc, "latest"));
    if (json_is_string(json_object_get(doc, "description")))
        printf("description  %s\n", str(doc, "description"));
    printf("file         %s\n", str(doc, "path"));
    printf("added from   %s\n", str(doc, "source_path"));
    printf("created      %s\n", created);
    printf("sha256       %s\n", str(doc, "sha256"));
    printf("size         %s (%lld bytes)\n", size, num(doc, "size"));
    printf("rows         %lld\n", num(doc, "rows"));
    printf("format       %s", str(doc, "format"));
    if (json_is_string(json_object_get(ro, "delimiter"))) {
        const char *d = str(ro, "delimiter");
        printf(", delimiter '%s'%s", strcmp(d, "\t") == 0 ? "\\t" : d,
               json_is_true(json_object_get(ro, "no_header")) ? ", no header" : ", header");
    }
    printf("\ncolumns      %zu: %s\n", json_array_size(json_object_get(doc, "columns")), columns);
    if (json_is_object(lineage)) {
        char chain[2048];
        char *transform = json_dumps(json_object_get(lineage, "transform"),
                                     JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        join_strings(json_object_get(doc, "ancestry"), " <- ", chain, sizeof chain);
        printf("lineage      made from %s\n", str(lineage, "source"));
        printf("transform    %s\n", transform ? transform : "-");
        if (json_array_size(json_object_get(doc, "ancestry")) > 1)
            printf("ancestry     %s <- %s\n", str(doc, "spec"), chain);
        free(transform);
    } else {
        printf("lineage      none (added from a file)\n");
    }
    if (json_array_size(json_object_get(doc, "derived")) > 0) {
        char derived[2048];
        join_strings(json_object_get(doc, "derived"), ", ", derived, sizeof derived);
        printf("derived      %s\n", derived);
    }
    print_schema(json_object_get(doc, "schema"));
    json_decref(doc);
    return EXIT_OK;
}

static int dataset_versions(hops_project *p, int argc, char **argv)
{
    const char *name = NULL;
    char *text = NULL;
    int json = 0, rc;
    for (int i = 2; i < argc; i++) {
        if (cli_flag(argv[i], "--json", NULL))
            json = 1;
        else if (argv[i][0] == '-' || name)
            return cli_fail(EXIT_USAGE, "dataset versions", "unexpected argument '%s'", argv[i]);
        else
            name = argv[i];
    }
    if (!name)
        return cli_fail(EXIT_USAGE, "dataset versions",
                        "which dataset? usage: hops dataset "
                        "versions N");
    if ((rc = hops_dataset_versions_json(p, name, &text)) != HOPS_OK)
        return cli_status("dataset versions", rc);
    json_t *arr;
    if ((rc = json_or_doc("dataset versions", text, json, &arr)) != EXIT_OK || !arr)
        return rc;
    static const char *const headers[] = {"VERSION", "ROWS", "SIZE",       "SHA256",
                                          "CREATED", "FROM", "DESCRIPTION"};
    cli_table *t = cli_table_new(7, headers);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        char version[24], rows[24], size[32], sha[16], created[32];
        const json_t *lineage = json_object_get(v, "lineage");
        snprintf(version, sizeof version, "%lld", num(v, "version"));
        snprintf(rows, sizeof rows, "%lld", num(v, "rows"));
        format_size(num(v, "size"), size, sizeof size);
        snprintf(sha, sizeof sha, "%.12s", str(v, "sha256"));
        cli_format_time(json_number_value(json_object_get(v, "created")), created, sizeof created);
        const char *cells[] = {
            version,
            rows,
            size,
            sha,
            created,
            json_is_object(lineage) ? str(lineage, "source") : "file",
            json_is_string(json_object_get(v, "description")) ? str(v, "description") : ""};
        cli_table_add(t, cells);
    }
    cli_table_print(t, cli_term_width());
    cli_table_free(t);
    json_decref(arr);
    return EXIT_OK;
}

int cmd_dataset(int argc, char **argv)
{
    static const cli_subcommand subs[] = {
        {"add", NULL, dataset_add},   {"list", "ls", dataset_list},
        {"show", NULL, dataset_show}, {"versions", NULL, dataset_versions},
    };
    return cli_run_subcommand("dataset", usage, subs, sizeof subs / sizeof subs[0], argc, argv);
}
