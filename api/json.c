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

/* A message may quote client input that is not UTF-8, which jansson
 * refuses: it is then sent with '?' for every byte outside ASCII rather
 * than turning a 4xx into a 500. */
static json_t *error_json(const char *code, char *msg)
{
    json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
    if (j != NULL)
        return j;
    for (char *p = msg; *p != '\0'; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    return json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
}

/* An error is JSON whatever the route serves, and never cached. node, when
 * not NULL, names the registered node a conflict is about. */
static void error_reply(struct api_resp *r, int status, const char *code, char *msg,
                        const char *node)
{
    r->etag[0] = '\0';
    r->cache_control = NULL;
    json_t *j = error_json(code, msg);
    json_t *err = json_object_get(j, "error");
    /* Without the name (out of memory) the error still goes out. */
    if (node != NULL && err != NULL)
        (void)json_object_set_new(err, "node", json_string(node));
    api_reply(r, status, j);
}

void api_error(struct api_resp *r, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    error_reply(r, status, code, msg, NULL);
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
    char msg[sizeof(e->msg)];
    snprintf(msg, sizeof(msg), "%s", e->msg);
    error_reply(r, e->status ? e->status : 500, code, msg, e->node[0] != '\0' ? e->node : NULL);
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

/* ---- ISO 8601 times ----------------------------------------------------- */

/* n decimal digits at s into *v; -1 when one of them is not a digit. */
static int take_digits(const char *s, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 0;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (pure
 * arithmetic: neither timegm nor the TZ environment are involved). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD" at p: days since the epoch; NULL when malformed. */
static const char *parse_date(const char *p, int64_t *days)
{
    int y, m, d;
    if (take_digits(p, 4, &y) != 0 || p[4] != '-' || take_digits(p + 5, 2, &m) != 0 ||
        p[7] != '-' || take_digits(p + 8, 2, &d) != 0)
        return NULL;
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return NULL;
    *days = days_from_civil(y, m, d);
    return p + 10;
}

/* "hh:mm[:ss[.f...]]" at p: milliseconds into the day (digits past the
 * third of a fraction are dropped, not rounded); NULL when malformed. */
static const char *parse_clock(const char *p, int64_t *ms)
{
    int h, mi, sec = 0, frac = 0;
    if (take_digits(p, 2, &h) != 0 || p[2] != ':' || take_digits(p + 3, 2, &mi) != 0)
        return NULL;
    p += 5;
    if (*p == ':') {
        if (take_digits(p + 1, 2, &sec) != 0)
            return NULL;
        p += 3;
        if (*p == '.' || *p == ',') {
            int digits = 0;
            for (p++; *p >= '0' && *p <= '9'; p++, digits++)
                if (digits < 3)
                    frac = frac * 10 + (*p - '0');
            if (digits == 0)
                return NULL;
            for (; digits < 3; digits++)
                frac *= 10;
        }
    }
    /* 60: a leap second, which the epoch count folds into the next one. */
    if (h > 23 || mi > 59 || sec > 60)
        return NULL;
    *ms = ((int64_t)h * 3600 + mi * 60 + sec) * 1000 + frac;
    return p;
}

/* The zone designator that ends the string: "Z", "+hh:mm", "+hhmm" or "+hh"
 * (or '-'), or nothing (UTC). *off: milliseconds east of UTC. A space
 * stands for '+': a '+' sent unencoded in a query string arrives decoded as
 * a space (form encoding), and nothing else can sit at this place. */
static int parse_zone(const char *p, int64_t *off)
{
    *off = 0;
    if (*p == '\0' || ((*p == 'Z' || *p == 'z') && p[1] == '\0'))
        return 0;
    if (*p != '+' && *p != '-' && *p != ' ')
        return -1;
    int sign = *p == '-' ? -1 : 1, h, m = 0;
    if (take_digits(p + 1, 2, &h) != 0)
        return -1;
    const char *q = p + 3;
    if (*q == ':')
        q++;
    if (*q != '\0' && (take_digits(q, 2, &m) != 0 || q[2] != '\0'))
        return -1;
    if (*q == '\0' && q[-1] == ':')
        return -1;                    /* "+02:" */
    if (h > 23 || m > 59)
        return -1;
    *off = sign * ((int64_t)h * 60 + m) * 60000;
    return 0;
}

/* Integer milliseconds since the epoch, or ISO 8601 / RFC 3339: a date
 * alone (midnight UTC), or a date, 'T', a time and an optional zone. */
int api_parse_time(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno == 0 && end != s && *end == '\0' && v >= 0 && s[0] >= '0' && s[0] <= '9') {
        *out = v;
        return 0;
    }
    int64_t days, ms = 0, off = 0;
    const char *p = parse_date(s, &days);
    if (p == NULL)
        return -1;
    if (*p != '\0') {
        if (*p != 'T' && *p != 't')
            return -1;
        if ((p = parse_clock(p + 1, &ms)) == NULL || parse_zone(p, &off) != 0)
            return -1;
    }
    int64_t t = days * 86400000 + ms - off;
    if (t < 0)
        return -1;
    *out = t;
    return 0;
}

/* ---- pages -------------------------------------------------------------- */

void api_page_init(struct api_page *p, int limit)
{
    p->arr = json_array();
    p->limit = limit;
    p->count = 0;
    p->last_id = 0;
    p->more = 0;
}

/* The store is asked for limit + 1 rows: the extra one only proves that a
 * next page exists, it is not shown. */
void api_page_add(struct api_page *p, int64_t id, json_t *item)
{
    if (p->count >= p->limit) {
        p->more = 1;
        json_decref(item);
        return;
    }
    if (item != NULL && p->arr != NULL)
        json_array_append_new(p->arr, item);
    else
        json_decref(item);
    p->last_id = id;
    p->count++;
}

json_t *api_page_cursor(const struct api_page *p)
{
    if (!p->more)
        return json_null();
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)p->last_id);
    return json_string(buf);
}
