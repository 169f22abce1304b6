/* hops — versioned datasets in a project.
 *
 * A dataset is a name with immutable versions 1, 2, ... Each version is a
 * copy of a CSV or JSON Lines file (plain or .gz) stored read-only under
 * `.hops/datasets/NAME/VERSION/` with its original file name, and a row in
 * hops.db with its SHA-256, size, row count, column names, schema and, for a
 * version made by a transform, its lineage: the source version and the
 * transform spec. Data commands take `NAME` (the latest version) or
 * `NAME:VERSION` wherever they take a path (see hops_dataset_resolve).
 *
 * Names: 1 to 100 characters of A-Z a-z 0-9 . _ -, not starting with '.' or
 * '-'. JSON documents handed out are owned by the caller (hops_free).
 */
#ifndef HOPS_DATASET_H
#define HOPS_DATASET_H

#include "data.h"
#include "project.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    unsigned version;
    const char *description; /* stored with the version; NULL: none */
    hops_read_options read;  /* how to read the file (format, delimiter, header, threads);
                                stored with the version */
} hops_dataset_add_options;

#define HOPS_DATASET_ADD_OPTIONS_VERSION 1
#define HOPS_DATASET_ADD_OPTIONS_INIT                                                              \
    {                                                                                              \
        HOPS_DATASET_ADD_OPTIONS_VERSION, NULL, HOPS_READ_OPTIONS_INIT                             \
    }

/* Store FILE as the next version of dataset NAME (created on first use).
 *
 * The file is copied (temp file, fsync, rename; mode 0444) and hashed in one
 * pass, then read to count rows and infer the schema; a file that does not
 * read as a table fails with the reader's message (file:line:column). The
 * version row is committed in one transaction after the files are in place;
 * a failed or interrupted add leaves no version behind (its folder is removed,
 * or swept by the next add after a crash).
 *
 * When FILE has the same SHA-256 as NAME's latest version no version is made:
 * *out_json then describes that version with "added": false.
 * O may be NULL (defaults). OUT_JSON may be NULL; otherwise it receives the
 * hops_dataset_show_json() document of the version plus "added": true|false.
 * HOPS_EINVAL for a bad name, HOPS_ENOTFOUND / HOPS_EIO when FILE cannot be
 * read, HOPS_EPARSE when it is not a well-formed table. */
HOPS_EXTERN hops_status hops_dataset_add(hops_project *p, const char *name, const char *file,
                                         const hops_dataset_add_options *o, char **out_json);

/* Like hops_dataset_add, for a file made from dataset version SOURCE_SPEC
 * ("NAME" or "NAME:VERSION", resolved now to a fixed version) by the
 * transform TRANSFORM_JSON (a JSON document, e.g. the transform's options;
 * NULL: none). Both are recorded with the new version as its lineage.
 * HOPS_ENOTFOUND when SOURCE_SPEC does not exist, HOPS_EINVAL when
 * TRANSFORM_JSON is not JSON. A file identical to NAME's latest version makes
 * no new version (as in hops_dataset_add) and records no lineage. */
HOPS_EXTERN hops_status hops_dataset_add_derived(hops_project *p, const char *name,
                                                 const char *file, const char *source_spec,
                                                 const char *transform_json,
                                                 const hops_dataset_add_options *o,
                                                 char **out_json);

/* Resolve SPEC, "NAME" (the latest version) or "NAME:VERSION", to the path of
 * the stored file. *path_out owned by the caller (hops_free). HOPS_ENOTFOUND
 * naming what is missing (and listing the names or versions there are),
 * HOPS_EINVAL for a malformed spec ("N:abc"). */
HOPS_EXTERN hops_status hops_dataset_resolve(hops_project *p, const char *spec, char **path_out);

/* Pin SPEC to the version it names now: "raw" -> "raw:3" (the latest),
 * "raw:2" -> "raw:2". Resolve an input with this before a transform so that
 * the lineage recorded after it names the version that was read. *spec_out
 * owned by the caller (hops_free). Errors as hops_dataset_resolve. */
HOPS_EXTERN hops_status hops_dataset_pin(hops_project *p, const char *spec, char **spec_out);

/* A JSON array, one object per dataset sorted by name: name, latest (version
 * number), versions (how many), rows, size, sha256, created (of the latest
 * version, seconds since the epoch), description. */
HOPS_EXTERN hops_status hops_dataset_list_json(hops_project *p, char **out_json);

/* A JSON array of NAME's versions, oldest first, each as in
 * hops_dataset_show_json without the schema. HOPS_ENOTFOUND for an unknown name. */
HOPS_EXTERN hops_status hops_dataset_versions_json(hops_project *p, const char *name,
                                                   char **out_json);

/* A JSON object with everything about one version: name, version, spec
 * ("NAME:VERSION"), latest, description, path (the stored file), file_name,
 * source_path (where it was added from), sha256, size, rows, columns, format,
 * read_options, schema (null when unknown), created, lineage (null, or
 * {"source": "NAME:VERSION", "source_sha256", "transform": {...}}), ancestry
 * (the chain of sources back to the first one, nearest first) and derived
 * (the specs of versions made from this one). */
HOPS_EXTERN hops_status hops_dataset_show_json(hops_project *p, const char *spec, char **out_json);

#ifdef __cplusplus
}
#endif
#endif
