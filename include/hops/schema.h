/* hops — data schemas: infer one from a file, check a file against one.
 *
 * A schema is a small JSON document meant to be read and edited by people
 * (in the spirit of TensorFlow Data Validation's schema). One as inferred,
 * then edited by hand (the "unique", "regex" and rows.max were added):
 *
 *   {
 *     "version": 1,
 *     "inferred_from": {"file": "data.csv", "format": "csv", "rows": 1000},
 *     "columns": [
 *       {"name": "id", "type": "int", "nullable": false, "min": 1, "max": 1000, "unique": true},
 *       {"name": "age", "type": "int", "nullable": true, "min": 0, "max": 99},
 *       {"name": "score", "type": "float", "nullable": false, "min": -1.5, "max": 2.25},
 *       {"name": "country", "type": "category", "nullable": false, "values": ["DK", "NO", "SE"]},
 *       {"name": "member", "type": "bool", "nullable": false, "values": [false, true]},
 *       {"name": "joined", "type": "timestamp", "nullable": false,
 *        "min": "2020-01-01", "max": "2024-06-30T12:00:00Z"},
 *       {"name": "email", "type": "string", "nullable": false, "regex": "[^@ ]+@[^@ ]+"}
 *     ],
 *     "rows": {"min": 1, "max": 1000000}
 *   }
 *
 * Top level: "columns" (required), "rows", "version" (1), "description";
 * "inferred_from" is information for people and is not checked.
 * Per column ("name" and "type" required, every other key optional):
 *   type      int (64-bit integers), float (decimal numbers, no NaN or
 *             infinity; ints are floats too), bool (true/false in any letter case), string, category (a
 *             string from a small set, usually with "values") or timestamp
 *             (ISO 8601: YYYY-MM-DD, or a date and time
 *             YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]] with an optional Z or
 *             +HH:MM / -HH:MM / +HHMM / +HH offset; no offset means UTC).
 *   nullable  whether the column may hold nulls (an empty unquoted CSV field,
 *             a JSON null, a missing JSON Lines key); default true.
 *   min, max  inclusive bounds: numbers for int and float columns, ISO 8601
 *             strings for timestamp columns (compared as instants).
 *   values    the allowed values: strings for string/category columns,
 *             integers for int, numbers for float, true/false for bool, ISO
 *             8601 strings for timestamps.
 *   regex     a POSIX extended regular expression (regcomp with REG_EXTENDED,
 *             in the process's locale: the hops CLI's is C, so byte-wise)
 *             that the whole value must match, as if written ^(...)$;
 *             applied to the value's text.
 *   unique    true: no non-null value may repeat (checked exactly, with a hash
 *             set of every value seen, so memory grows with the number of
 *             distinct values of that column).
 * rows: "min" / "max", inclusive bounds on the number of records.
 * Unknown keys are errors (a misspelled "nulable" must not silently do
 * nothing); "description" is allowed at the top level and in each column.
 *
 * Inference (hops_data_schema_infer_json) reads the whole file once, on
 * several threads, and picks for each column, from its non-null values:
 * bool when all are true/false; int when all are integers; float when all
 * are numbers (a mix of ints and floats is float); timestamp when all are ISO
 * 8601 dates or datetimes; otherwise category when the column has at most 20
 * distinct values (each at most 256 bytes) seen twice each on average, else
 * string. A column with no non-null value is a nullable string. It writes
 * nullable (whether any null was seen), min/max for int, float and timestamp
 * columns (the extreme values seen; timestamps as written in the file), the
 * value set for bool and category columns, and rows {"min": 1} for a file
 * with records. It never writes "unique" or "regex": add them by hand.
 * Inference fails on a file that does not read as a table (ragged rows,
 * an unterminated quote, ...), naming file, line and column.
 *
 * Errors in a schema document are HOPS_EPARSE with a message that names the
 * schema, line and column: "schema.json:7:17: column 'age': unknown type
 * 'integer' (types: int, float, bool, string, category, timestamp)".
 * Documents handed out are owned by the caller (hops_free).
 */
#ifndef HOPS_SCHEMA_H
#define HOPS_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Infer the schema of PATH (CSV or JSON Lines, plain or .gz; O may be NULL
 * for defaults) as described above. *OUT receives the schema document, one
 * column per line, ending in a newline; the result does not depend on the
 * thread count. Errors are the reader's (HOPS_ENOTFOUND, HOPS_EIO,
 * HOPS_EPARSE naming file:line:column). */
HOPS_EXTERN hops_status hops_data_schema_infer_json(const char *path, const hops_read_options *o,
                                                    char **out);

/* Check that SCHEMA_JSON is a well-formed schema: valid JSON, known keys and
 * types, values of the right kind, compilable regexes, min <= max. SOURCE
 * names the document in messages (a file name; NULL: "schema"). HOPS_EPARSE
 * with "SOURCE:LINE:COLUMN: what is wrong" otherwise. */
HOPS_EXTERN hops_status hops_data_schema_check(const char *schema_json, const char *source);

/* Check SCHEMA_JSON (as hops_data_schema_check does) and write it to
 * OUT_PATH atomically: the file appears whole or not at all. */
HOPS_EXTERN hops_status hops_data_schema_write(const char *schema_json, const char *out_path);

/* Check every record of PATH against SCHEMA_JSON.
 *
 * Rules: "columns" (a schema column missing from the file, or a file column
 * the schema does not know), "rows" (the record count is outside rows.min /
 * rows.max), "ragged" (a CSV record with more or fewer fields than the
 * header), and per column "type", "not_null", "min", "max", "values",
 * "regex" and "unique". A null value is only checked by not_null; a value of
 * the wrong type only by type; a ragged record only by ragged. Nulls never
 * count as repeats for unique; the first occurrence of a value is fine and
 * every later one is a violation naming the line of the first.
 *
 * *REPORT_JSON_OUT receives:
 *   {"file": "bad.csv", "format": "csv", "rows": 100, "passed": false,
 *    "violations": 9,          # all violations found
 *    "failed_rows": 7,         # records with at least one violation
 *    "rules": [                # every rule checked: the file's, then each column's
 *      {"rule": "min", "column": "age", "check": "min 0", "count": 2,
 *       "examples": [{"line": 12, "column": "age", "value": "-5",
 *                     "message": "'-5' is below min 0"}, ...]}, ...],
 *    "quarantine": {"path": "bad.csv", "rows": 7}}   # with QUARANTINE_PATH
 * "examples" holds the first MAX_EXAMPLES violations of each rule in file
 * order; "line" is the physical line where the record starts (null for
 * rules about the whole file), "value" the field's text (null for a null;
 * at most 200 bytes shown, invalid UTF-8 bytes written as \xNN).
 * *FAILED_OUT (may be NULL) gets 1 when any rule failed, else 0.
 *
 * QUARANTINE_PATH (NULL: none) receives every failing record's bytes exactly
 * as in PATH, in file order, each ended by the file's line ending (CRLF when
 * PATH's first line ends in CRLF, else LF); for a CSV file with a header the
 * header line comes first. It is written to a temp file beside it, fsynced and
 * renamed at the end, so it appears whole or not at all, and it is written
 * even when no record fails (then it holds only the header).
 *
 * The report and the quarantine file do not depend on the thread count.
 * Returns HOPS_OK whenever the check ran, whether or not rules failed;
 * HOPS_EPARSE for a bad schema ("schema:LINE:COLUMN: ...") or a file that
 * cannot be read as a table, HOPS_ENOTFOUND / HOPS_EIO for unreadable files. */
HOPS_EXTERN hops_status hops_data_validate_json(const char *path, const char *schema_json,
                                                const hops_read_options *o,
                                                const char *quarantine_path, size_t max_examples,
                                                char **report_json_out, int *failed_out);

/* Parse an ISO 8601 date or datetime (the forms listed above) of LEN bytes
 * into seconds since 1970-01-01T00:00:00Z. 1 and *EPOCH_OUT on success, 0
 * when S is not such a timestamp (or the date does not exist). */
HOPS_EXTERN int hops_data_parse_timestamp(const char *s, size_t len, double *epoch_out);

/* Parse "true" / "false" in any letter case: 1 and *VALUE_OUT (1 or 0) on
 * success, 0 otherwise. */
HOPS_EXTERN int hops_data_parse_bool(const char *s, size_t len, int *value_out);

#ifdef __cplusplus
}
#endif
#endif
