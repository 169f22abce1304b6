/* hops data schema | hops data validate */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char schema_usage[] =
    "usage: hops data schema FILE [-o schema.json] [--json] [READ OPTIONS]\n"
    "\n"
    "Infer a schema from FILE (CSV or JSON Lines, plain or .gz; or a dataset NAME[:VERSION]):\n"
    "each column's type (int, float, bool, string, category, timestamp: ISO 8601 dates\n"
    "and datetimes), whether it has nulls, its min and max, the allowed values of bool\n"
    "and category columns (at most 20 distinct), and a bound on the row count.\n"
    "The schema is JSON, one column per line, meant to be edited: tighten bounds, add\n"
    "\"unique\": true or a \"regex\" (POSIX extended), then check files against it with\n"
    "`hops data validate FILE --schema schema.json`. The format is described in\n"
    "include/hops/schema.h.\n"
    "\n"
    "  -o, --output PATH   write the schema to PATH (atomically: whole or not at all)\n"
    "  --json              print the schema document on stdout\n"
    "  --format csv|jsonl, --delimiter C, --no-header, --threads N\n"
    "                      how to read FILE (see `hops data --help`)\n"
    "\n"
    "Without --json, prints the inferred columns as a table.\n"
    "Exit status: 0 done; 2 bad arguments, or FILE is not a well-formed table (the\n"
    "message names file:line:column); 4 no such file or dataset.\n";

static const char validate_usage[] =
    "usage: hops data validate FILE --schema SCHEMA [--quarantine BAD] [--max-examples N]\n"
    "                          [--json] [READ OPTIONS]\n"
    "\n"
    "Check every record of FILE (or a dataset NAME[:VERSION]) against SCHEMA, a schema\n"
    "as `hops data schema` writes it. Rules: the columns match the schema's, the row\n"
    "count is within rows.min/max, no CSV record is ragged, and per column: type,\n"
    "not null, min, max, allowed values, regex (POSIX extended, whole value), unique.\n"
    "Every violation is counted; the first N of each rule are shown with their line\n"
    "number, column and value: \"line 12, column age: '-5' is below min 0\".\n"
    "\n"
    "  -s, --schema PATH       the schema (required)\n"
    "  -q, --quarantine PATH   write every failing record there, byte for byte as in\n"
    "                          FILE and in file order (a CSV's header line first);\n"
    "                          written atomically, even when no record fails\n"
    "  -n, --max-examples N    examples shown per rule (default 5)\n"
    "  --json                  print the report as one JSON document on stdout\n"
    "  --format csv|jsonl, --delimiter C, --no-header, --threads N\n"
    "                          how to read FILE (see `hops data --help`)\n"
    "\n"
    "Exit status: 0 every rule holds; 1 some rule failed; 2 bad arguments, a schema\n"
    "that is not valid (not JSON, an unknown type or key, a bad regex: the message\n"
    "names schema file:line:column) or a FILE that is not a well-formed table;\n"
    "4 no such file, schema or dataset.\n";

/* ---- hops data schema ---- */

static void print_schema_table(const json_t *doc, const char *out_path)
{
    static const char *const headers[] = {"COLUMN", "TYPE", "NULLABLE", "MIN", "MAX", "VALUES"};
    const json_t *cols = json_object_get(doc, "columns");
    const json_t *from = json_object_get(doc, "inferred_from");
    cli_table *t = cli_table_new(6, headers);
    size_t i;
    json_t *col;
    json_array_foreach(cols, i, col) {
        char min[128], max[128], values[512] = "";
        const json_t *vals = json_object_get(col, "values");
        const json_t *mn = json_object_get(col, "min"), *mx = json_object_get(col, "max");
        size_t k, used = 0;
        json_t *v;
        cli_format_value(mn, min, sizeof min);
        cli_format_value(mx, max, sizeof max);
        json_array_foreach(vals, k, v) {
            char one[128];
            cli_format_value(v, one, sizeof one);
            int w = snprintf(values + used, sizeof values - used, "%s%s", k ? ", " : "", one);
            if (w < 0 || (size_t)w >= sizeof values - used)
                break;
            used += (size_t)w;
        }
        const char *cells[] = {json_string_value(json_object_get(col, "name")),
                               json_string_value(json_object_get(col, "type")),
                               json_is_true(json_object_get(col, "nullable")) ? "yes" : "no",
                               mn ? min : "",
                               mx ? max : "",
                               values};
        cli_table_add(t, cells);
    }
    cli_table_print(t, cli_term_width());
    cli_table_free(t);
    printf("\n%lld rows, %zu columns. ",
           (long long)json_integer_value(json_object_get(from, "rows")), json_array_size(cols));
    if (out_path)
        printf("Schema written to %s.\n", out_path);
    else
        printf("Save the schema with -o schema.json, or print it with --json.\n");
}

int cmd_data_schema(int argc, char **argv)
{
    hops_read_options ro = HOPS_READ_OPTIONS_INIT;
    const char *file = NULL, *out_path = NULL, *val;
    char *path = NULL, *text = NULL;
    int json = 0, m, rc;
    if (cli_wants_help(argc, argv)) {
        fputs(schema_usage, stdout);
        return EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        if ((m = cli_read_option("data schema", argc, argv, &i, &ro)) != 0) {
            if (m < 0)
                return EXIT_USAGE;
        } else if ((m = cli_opt_value(argc, argv, &i, "--output", "-o", &val)) != 0) {
            if (m < 0)
                return cli_fail(EXIT_USAGE, "data schema", "-o needs a path");
            out_path = val;
        } else if (cli_flag(argv[i], "--json", NULL))
            json = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_fail(EXIT_USAGE, "data schema",
                            "unknown option '%s'; see `hops data schema --help`", argv[i]);
        else if (file)
            return cli_fail(EXIT_USAGE, "data schema", "one FILE at a time (got '%s' and '%s')",
                            file, argv[i]);
        else
            file = argv[i];
    }
    if (!file)
        return cli_fail(EXIT_USAGE, "data schema",
                        "which file? usage: hops data schema FILE [-o schema.json]");
    if ((rc = cli_data_path("data schema", file, &path, &ro)) != 0)
        return rc;
    rc = hops_data_schema_infer_json(path, &ro, &text);
    free(path);
    if (rc != HOPS_OK)
        return cli_status("data schema", rc);
    if (out_path && (rc = hops_data_schema_write(text, out_path)) != HOPS_OK) {
        hops_free(text);
        return cli_status("data schema", rc);
    }
    if (json) {
        fputs(text, stdout);
        hops_free(text);
        return EXIT_OK;
    }
    json_t *doc = json_loads(text, 0, NULL);
    hops_free(text);
    if (!doc)
        return cli_fail(EXIT_FAIL, "data schema", "internal error: bad JSON from libhops");
    print_schema_table(doc, out_path);
    json_decref(doc);
    return EXIT_OK;
}

/* ---- hops data validate ---- */

/* Read a whole schema file; an exit code (0 ok) after printing why not. */
static int read_schema(const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    *out = NULL;
    if (!f)
        return cli_fail(EXIT_NOTFOUND, "data validate", "cannot read the schema '%s': %s", path,
                        strerror(errno));
    for (;;) {
        if (cap - len < 65536) {
            char *nb = realloc(buf, cap + 65536 + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return cli_fail(EXIT_FAIL, "data validate", "out of memory");
            }
            buf = nb;
            cap += 65536;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    buf[len] = '\0';
    if (err) {
        free(buf);
        return cli_fail(EXIT_FAIL, "data validate", "cannot read the schema '%s'", path);
    }
    if (strlen(buf) != len) {
        size_t at = strlen(buf), line = 1;
        for (size_t i = 0; i < at; i++)
            line += buf[i] == '\n';
        free(buf);
        return cli_fail(EXIT_USAGE, "data validate", "%s:%zu: a NUL byte; a schema is JSON text",
                        path, line);
    }
    *out = buf;
    return 0;
}

static void print_example(const json_t *rule, const json_t *ex)
{
    const json_t *line = json_object_get(ex, "line");
    const char *col = json_string_value(json_object_get(ex, "column"));
    const char *msg = json_string_value(json_object_get(ex, "message"));
    int is_columns = strcmp(json_string_value(json_object_get(rule, "rule")), "columns") == 0;
    printf("  ");
    if (json_is_integer(line))
        printf("line %lld%s", (long long)json_integer_value(line),
               col && !is_columns ? ", " : ": ");
    if (col && !is_columns)
        printf("column %s: ", col);
    printf("%s\n", msg ? msg : "");
}

static void print_report(const json_t *rep, const char *file, const char *schema_path)
{
    static const char *const headers[] = {"RULE", "COLUMN", "CHECK", "VIOLATIONS"};
    const json_t *rules = json_object_get(rep, "rules");
    const json_t *q = json_object_get(rep, "quarantine");
    long long rows = (long long)json_integer_value(json_object_get(rep, "rows"));
    long long failed_rows = (long long)json_integer_value(json_object_get(rep, "failed_rows"));
    long long violations = (long long)json_integer_value(json_object_get(rep, "violations"));
    size_t i, n_failed = 0;
    json_t *rule;
    json_array_foreach(rules, i, rule) {
        n_failed += json_integer_value(json_object_get(rule, "count")) > 0;
    }
    if (violations == 0) {
        printf("%s: %lld rows pass all %zu rules of %s.\n", file, rows, json_array_size(rules),
               schema_path);
    } else {
        printf("%s: %lld of %lld rows fail: %lld violation%s of %zu rule%s (%zu rules checked, "
               "schema %s).\n\n",
               file, failed_rows, rows, violations, violations == 1 ? "" : "s", n_failed,
               n_failed == 1 ? "" : "s", json_array_size(rules), schema_path);
        cli_table *t = cli_table_new(4, headers);
        json_array_foreach(rules, i, rule) {
            char count[32];
            long long c = (long long)json_integer_value(json_object_get(rule, "count"));
            if (c == 0)
                continue;
            snprintf(count, sizeof count, "%lld", c);
            const char *col = json_string_value(json_object_get(rule, "column"));
            const char *cells[] = {json_string_value(json_object_get(rule, "rule")),
                                   col ? col : "-",
                                   json_string_value(json_object_get(rule, "check")), count};
            cli_table_add(t, cells);
        }
        cli_table_print(t, cli_term_width());
        cli_table_free(t);
        json_array_foreach(rules, i, rule) {
            const json_t *exs = json_object_get(rule, "examples");
            long long c = (long long)json_integer_value(json_object_get(rule, "count"));
            size_t k;
            json_t *ex;
            if (c == 0)
                continue;
            const char *col = json_string_value(json_object_get(rule, "column"));
            printf("\n%s%s%s:\n", json_string_value(json_object_get(rule, "rule")),
                   col ? " on " : "", col ? col : "");
            json_array_foreach(exs, k, ex) {
                print_example(rule, ex);
            }
            if ((size_t)c > json_array_size(exs))
                printf("  ... and %lld more\n", c - (long long)json_array_size(exs));
        }
    }
    if (q) {
        long long qrows = (long long)json_integer_value(json_object_get(q, "rows"));
        printf("%sQuarantine: %lld row%s written to %s.\n", violations ? "\n" : "", qrows,
               qrows == 1 ? "" : "s", json_string_value(json_object_get(q, "path")));
    }
}

int cmd_data_validate(int argc, char **argv)
{
    hops_read_options ro = HOPS_READ_OPTIONS_INIT;
    const char *file = NULL, *schema_path = NULL, *quarantine = NULL, *val;
    char *path = NULL, *schema = NULL, *report = NULL;
    long max_examples = 5;
    int json = 0, m, rc, failed = 0;
    if (cli_wants_help(argc, argv)) {
        fputs(validate_usage, stdout);
        return EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        if ((m = cli_read_option("data validate", argc, argv, &i, &ro)) != 0) {
            if (m < 0)
                return EXIT_USAGE;
        } else if ((m = cli_opt_value(argc, argv, &i, "--schema", "-s", &val)) != 0) {
            if (m < 0)
                return cli_fail(EXIT_USAGE, "data validate", "--schema needs a path");
            schema_path = val;
        } else if ((m = cli_opt_value(argc, argv, &i, "--quarantine", "-q", &val)) != 0) {
            if (m < 0)
                return cli_fail(EXIT_USAGE, "data validate", "--quarantine needs a path");
            quarantine = val;
        } else if ((m = cli_opt_value(argc, argv, &i, "--max-examples", "-n", &val)) != 0) {
            char *end = NULL;
            if (m > 0)
                max_examples = strtol(val, &end, 10);
            if (m < 0 || *end || end == val || max_examples < 0 || max_examples > 1000000)
                return cli_fail(EXIT_USAGE, "data validate",
                                "--max-examples needs a number from 0 to 1000000");
        } else if (cli_flag(argv[i], "--json", NULL))
            json = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_fail(EXIT_USAGE, "data validate",
                            "unknown option '%s'; see `hops data validate --help`", argv[i]);
        else if (file)
            return cli_fail(EXIT_USAGE, "data validate", "one FILE at a time (got '%s' and '%s')",
                            file, argv[i]);
        else
            file = argv[i];
    }
    if (!file || !schema_path)
        return cli_fail(EXIT_USAGE, "data validate",
                        "%s; usage: hops data validate FILE --schema schema.json",
                        file ? "--schema is required" : "which file?");
    if ((rc = read_schema(schema_path, &schema)) != 0)
        return rc;
    if ((rc = hops_data_schema_check(schema, schema_path)) != HOPS_OK) {
        free(schema);
        return cli_status("data validate", rc);
    }
    if ((rc = cli_data_path("data validate", file, &path, &ro)) != 0) {
        free(schema);
        return rc;
    }
    rc = hops_data_validate_json(path, schema, &ro, quarantine, (size_t)max_examples, &report,
                                 &failed);
    free(path);
    free(schema);
    if (rc != HOPS_OK)
        return cli_status("data validate", rc);
    if (json)
        printf("%s\n", report);
    else {
        json_t *rep = json_loads(report, 0, NULL);
        if (!rep) {
            hops_free(report);
            return cli_fail(EXIT_FAIL, "data validate", "internal error: bad JSON from libhops");
        }
        print_report(rep, file, schema_path);
        json_decref(rep);
    }
    hops_free(report);
    return failed ? EXIT_FAIL : EXIT_OK;
}
