/* etag.c - entity tags for conditional GETs (see conditional_get in
 * routes.c): a cheap strong tag of a body, and If-None-Match parsing. Pure
 * functions, no I/O. */
#include "api.h"

#include <stdio.h>
#include <string.h>

/* FNV-1a 64: a few cycles per byte and good enough spread for telling one
 * response body from the next (it is a cache validator, not a MAC). */
void api_etag_of(const void *data, size_t len, char out[API_ETAG_MAX])
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    snprintf(out, API_ETAG_MAX, "\"%016llx\"", (unsigned long long)h);
}

static const char *skip_separators(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
    return p;
}

/* End of one list member starting at p: a quoted tag, or (malformed) any
 * run up to the next separator, which is skipped rather than matched. */
static const char *member_end(const char *p)
{
    if (*p == '"') {
        const char *q = strchr(p + 1, '"');
        return q != NULL ? q + 1 : p + strlen(p);
    }
    while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
        p++;
    return p;
}

int api_etag_match(const char *if_none_match, const char *etag)
{
    if (if_none_match == NULL || etag == NULL || etag[0] == '\0')
        return 0;
    size_t elen = strlen(etag);
    const char *p = skip_separators(if_none_match);
    while (*p != '\0') {
        if (p[0] == '*' && skip_separators(p + 1)[0] == '\0')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        const char *end = member_end(p);
        if ((size_t)(end - p) == elen && memcmp(p, etag, elen) == 0)
            return 1;
        p = skip_separators(end);
    }
    return 0;
}
