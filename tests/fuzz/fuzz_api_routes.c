/* fuzz_api_routes: the API's route matcher and query check (api/routes.c:
 * api_route_match, api_query_check), which see the raw request target of
 * every HTTP request before anything else does.
 *
 * Byte 0 picks the method (or, past the known ones, the method is the
 * input up to its first blank); the rest is the target, split at '?' into
 * the percent-encoded path and the query string. The answer must be one of
 * the documented ones: 0 with a route row whose method is the request's
 * (GET for HEAD) and parameters decoded within API_PARAM_MAX; 400 with a
 * reason; 404; or 405 with an Allow list. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"

#define FUZZ_MAX_INPUT (2 * API_URL_MAX)

static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static void check_match(const char *method, const struct api_match *m)
{
    switch (m->status) {
    case 0:
        if (m->route == API_R_NONE || m->row < 0 || (size_t)m->row >= api_route_count())
            abort();
        if (strcmp(api_route_method((size_t)m->row), method) != 0 &&
            !(strcmp(method, "HEAD") == 0 && strcmp(api_route_method((size_t)m->row), "GET") == 0))
            abort();
        if (m->nparams < 0 || m->nparams > API_MAX_PARAMS)
            abort();
        for (int i = 0; i < m->nparams; i++)
            if (memchr(m->params[i], '\0', API_PARAM_MAX + 1) == NULL)
                abort();
        break;
    case 400:
        if (m->why == NULL)
            abort();
        break;
    case 404:
        break;
    case 405:
        if (memchr(m->allow, '\0', sizeof(m->allow)) == NULL || m->allow[0] == '\0')
            abort();
        break;
    default:
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    const char *method;
    char *target = text;
    if (data[0] < NMETHODS * 32) {
        method = methods[data[0] % NMETHODS];
    } else {
        char *sp = strchr(text, ' ');
        method = text;
        target = sp ? sp + 1 : text + strlen(text);
        if (sp)
            *sp = '\0';
    }
    char *q = strchr(target, '?');
    if (q)
        *q++ = '\0';
    /* exact-size copies: no slack after the terminator for an over-read */
    char *path = strdup(target);
    struct api_match m;
    api_route_match(method, path, &m);
    check_match(method, &m);
    if (q) {
        char *qs = strdup(q);
        (void)api_query_check(qs);
        free(qs);
    }
    free(path);
    free(text);
    return 0;
}
