/* Names of the things a project stores by name (datasets, models), and the
 * NAME[:VERSION] specs that pick one version of them. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define MAX_NAME_LEN 100

hops_status hops__check_name(const char *what, const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0)
        return hops__error(HOPS_EINVAL, "empty %s", what);
    if (n > MAX_NAME_LEN)
        return hops__error(HOPS_EINVAL, "%s '%.40s...' is longer than %d characters", what, name,
                           MAX_NAME_LEN);
    if (name[0] == '.' || name[0] == '-')
        return hops__error(HOPS_EINVAL, "bad %s '%s': it may not start with '%c'", what, name,
                           name[0]);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return hops__error(HOPS_EINVAL,
                               "bad %s '%s': character %zu ('%c') is not allowed; "
                               "use letters, digits, '.', '_' and '-'",
                               what, name, i + 1, isprint(c) ? c : '?');
    }
    return HOPS_OK;
}

hops_status hops__parse_name_spec(const char *kind, const char *spec, char **name_out,
                                  int64_t *version_out)
{
    const char *colon;
    hops_status rc;
    *name_out = NULL;
    *version_out = 0;
    if (!spec || !*spec)
        return hops__error(HOPS_EINVAL, "empty %s spec; expected NAME or NAME:VERSION", kind);
    colon = strchr(spec, ':');
    if (colon) {
        const char *v = colon + 1;
        int64_t version = 0;
        if (!*v)
            return hops__error(HOPS_EINVAL, "bad %s spec '%s': no version after ':' (e.g. %.*s:1)",
                               kind, spec, (int)(colon - spec), spec);
        for (const char *q = v; *q; q++) {
            if (*q < '0' || *q > '9' || version > (INT64_MAX - 9) / 10)
                return hops__error(HOPS_EINVAL,
                                   "bad %s spec '%s': the version '%s' is not a positive "
                                   "integer (column %zu)",
                                   kind, spec, v, (size_t)(q - spec) + 1);
            version = version * 10 + (*q - '0');
        }
        if (version == 0)
            return hops__error(HOPS_EINVAL, "bad %s spec '%s': versions start at 1", kind, spec);
        *version_out = version;
    }
    *name_out = colon ? hops__strndup(spec, (size_t)(colon - spec)) : hops__strdup(spec);
    if (!*name_out)
        return hops__error(HOPS_ENOMEM, "out of memory");
    char what[64];
    snprintf(what, sizeof what, "%s name", kind);
    if ((rc = hops__check_name(what, *name_out)) != HOPS_OK) {
        free(*name_out);
        *name_out = NULL;
        return hops__error_prefix(rc, "bad %s spec '%s'", kind, spec);
    }
    return HOPS_OK;
}
