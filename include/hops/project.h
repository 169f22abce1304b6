/* hops — projects.
 *
 * A project is a directory holding `.hops/` with `hops.db` (SQLite) and the
 * files of runs, models and datasets. Commands find it by walking up from a
 * start directory, like git, or through the HOPS_PROJECT environment variable.
 */
#ifndef HOPS_PROJECT_H
#define HOPS_PROJECT_H

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hops_project hops_project;

/* Make DIR (created if missing) a project: `.hops/`, `.hops/hops.db` with the
 * current schema. HOPS_EEXISTS if DIR already holds a project. */
HOPS_EXTERN hops_status hops_project_init(const char *dir);

/* Open the project that holds START (NULL: the current directory). When the
 * environment has HOPS_PROJECT it wins. HOPS_ENOPROJECT when there is none,
 * HOPS_ECORRUPT when hops.db is damaged or not a hops database (the file is
 * left untouched), HOPS_EVERSION when it was made by a newer hops.
 * The caller owns *out and frees it with hops_project_close(). */
HOPS_EXTERN hops_status hops_project_open(hops_project **out, const char *start);

/* Open exactly the project rooted at ROOT (no walking, no environment). */
HOPS_EXTERN hops_status hops_project_open_at(hops_project **out, const char *root);

HOPS_EXTERN void hops_project_close(hops_project *p);

/* Borrowed absolute paths: the project root and its `.hops` directory. */
HOPS_EXTERN const char *hops_project_root(const hops_project *p);
HOPS_EXTERN const char *hops_project_hops_dir(const hops_project *p);

/* The schema version this library writes. */
HOPS_EXTERN int hops_project_schema_version(void);

#ifdef __cplusplus
}
#endif
#endif
