/* json.c - response and request helpers shared by the handlers. */
#include "api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char oom_body[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";

void api_resp_init(struct api_resp *r)
{
    memset(r, 0, sizeof(*r));
    r->content_type = API_CT_JSON;
    r->row = -1;
}

void api_resp_release(struct api_resp *r)
{
    free(r->owned);
    r->owned = NULL;
    r->body = NULL;
    r->len = 0;
}

/* A failed allocation still answers: a static JSON 500 needs no memory. */
static void reply_oom(struct api_resp *r)
{
    api_reply_static(r, 500, API_CT_JSON, oom_body, sizeof(oom_body) - 1);
}

void api_reply_static(struct api_resp *r, int status, const char *content_type,
                      const void *data, size_t len)
{
    api_resp_release(r);
    r->status = status;
    r->content_type = content_type;
    r->body = data;
    r->len = len;
}

/* Every reply replaces an earlier one, so a handler that writes an error
 * after a partial reply neither leaks nor sends a mix. */
void api_reply_owned(struct api_resp *r, int status, char *data, size_t len)
{
    api_resp_release(r);
    if (data == NULL) {
        reply_oom(r);
        return;
    }
    r->status = status;
    r->owned = data;
    r->body = data;
    r->len = len;
}

static void reply_owned(struct api_resp *r, int status, char *text)
{
    api_reply_owned(r, status, text, text != NULL ? strlen(text) : 0);
}

void api_reply(struct api_resp *r, int status, json_t *j)
{
    char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    r->content_type = API_CT_JSON;
    reply_owned(r, status, text);
}

void api_reply_text(struct api_resp *r, int status, char *text)
{
    reply_owned(r, status, text);
}

void api_error(struct api_resp *r, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* An error is JSON whatever the route serves, and never cached. */
    r->etag[0] = '\0';
    r->cache_control = NULL;
    json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
    api_reply(r, status, j);
}

void api_fleet_error(struct api_resp *r, const struct fleet_err *e)
{
    const char *code;
    switch (e->status) {
    case 404: code = "not_found"; break;
    case 409: code = "conflict"; break;
    case 422: code = "unprocessable"; break;
    case 503: code = "unavailable"; break;
    default: code = "error"; break;
    }
    api_error(r, e->status ? e->status : 500, code, "%s", e->msg);
}

int api_check_fields(json_t *obj, const char *const *allowed, const char *prefix,
                     struct api_resp *r)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        int ok = 0;
        for (size_t i = 0; allowed[i] != NULL; i++)
            if (strcmp(allowed[i], key) == 0)
                ok = 1;
        if (!ok) {
            api_error(r, 400, "unknown_field", "unknown field '%s%s'", prefix, key);
            return -1;
        }
    }
    return 0;
}

json_t *api_parse_object(const struct api_req *req, struct api_resp *r,
                         const char *const *allowed)
{
    if (req->body == NULL || req->body_len == 0) {
        api_error(r, 400, "bad_request", "request body must be a JSON object");
        return NULL;
    }
    json_error_t err;
    json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
    if (j == NULL) {
        api_error(r, 400, "bad_json", "malformed JSON at line %d, column %d: %s", err.line,
                  err.column, err.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        api_error(r, 400, "bad_request", "request body must be a JSON object");
        return NULL;
    }
    if (api_check_fields(j, allowed, "", r) != 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

void api_time_iso(int64_t ms, char *buf, size_t len)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[32];
    if (strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        base[0] = '\0';
    snprintf(buf, len, "%s.%03dZ", base, (int)(ms % 1000));
}

json_t *api_time_json(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    char buf[40];
    api_time_iso(ms, buf, sizeof(buf));
    return json_string(buf);
}

const char *api_query(const struct api_req *req, const char *key)
{
    if (req->query == NULL)
        return NULL;
    return req->query(req->query_arg, key);
}

/* Accept integer milliseconds since the epoch or ISO 8601 UTC. */
int api_parse_time(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno == 0 && end != s && *end == '\0' && v >= 0) {
        *out = v;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (p == NULL)
        return -1;
    int ms = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
            digits++;
            p++;
        }
        for (; digits < 3; digits++)
            ms *= 10;
    }
    if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0 && *p != '\0')
        return -1;
    *out = (int64_t)timegm(&tm) * 1000 + ms;
    return 0;
}
