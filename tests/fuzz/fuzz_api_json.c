/* fuzz_api_json: the API's request-body validators (api/json.c):
 * api_parse_object (jansson's json_loadb with duplicate keys refused, an
 * object required, every key in the route's allowed list), api_check_fields
 * on nested objects, and api_parse_time (integer ms or ISO 8601) on every
 * string value, as the handlers apply it to `scheduled_at` and the
 * `since`/`until` query parameters.
 *
 * Byte 0 picks one of the handlers' allowed-field lists; the rest is the
 * body. Every 400 must be a JSON error object (a message quoting a key
 * that is not UTF-8 included); a time that parses must come back unchanged
 * through api_time_iso (for years 0000-9999). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"

#define FUZZ_MAX_INPUT (API_BODY_LIMIT)

static const char *const allow_node[] = { "host", "port", "name", "priority", "tags", NULL };
static const char *const allow_patch[] = { "priority", "maintenance", NULL };
static const char *const allow_cluster[] = { "name", "master", "replicas", "settings", NULL };
static const char *const allow_settings[] = { "max_lag_on_failover", "min_replicas_to_write", NULL };
static const char *const allow_switch[] = { "candidate", "timeout_ms", "scheduled_at", NULL };
static const char *const allow_failover[] = { "candidate", "force", NULL };
static const char *const allow_ack[] = { "comment", NULL };
static const char *const allow_none[] = { NULL };
static const char *const *const lists[] = {
    allow_node, allow_patch, allow_cluster, allow_settings, allow_switch, allow_failover,
    allow_ack, allow_none,
};

static void check_error_body(const struct api_resp *r)
{
    json_error_t e;
    if (r->status != 400 || r->body == NULL)
        abort();
    json_t *j = json_loadb(r->body, r->len, 0, &e);
    if (j == NULL || !json_is_object(json_object_get(j, "error")))
        abort();
    json_decref(j);
}

static void check_time(const char *s)
{
    int64_t t;
    if (api_parse_time(s, &t) != 0)
        return;
    if (t < 0)
        abort();
    if (t >= 253402300800000LL)   /* 10000-01-01: beyond ISO's 4 digits */
        return;
    char iso[64];
    int64_t back;
    api_time_iso(t, iso, sizeof(iso));
    if (api_parse_time(iso, &back) != 0 || back != t) {
        fprintf(stderr, "fuzz_api_json: '%s' -> %lld -> '%s' does not round-trip\n", s,
                (long long)t, iso);
        abort();
    }
}

static void walk(json_t *obj, int depth)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        if (json_is_string(v))
            check_time(json_string_value(v));
        else if (json_is_object(v) && depth < 4) {
            struct api_resp r;
            api_resp_init(&r);
            if (api_check_fields(v, allow_settings, "settings.", &r) != 0)
                check_error_body(&r);
            api_resp_release(&r);
            walk(v, depth + 1);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    const char *const *allowed = lists[data[0] % (sizeof(lists) / sizeof(lists[0]))];
    size_t len = size - 1;
    char *body = malloc(len ? len : 1);
    memcpy(body, data + 1, len);
    struct api_req req = { .method = "POST", .path = "/api/v1/nodes", .body = body, .body_len = len };
    struct api_resp r;
    api_resp_init(&r);
    json_t *j = api_parse_object(&req, &r, allowed);
    if (j == NULL) {
        check_error_body(&r);
    } else {
        walk(j, 0);
        json_decref(j);
    }
    api_resp_release(&r);
    /* the time parser alone, on the body as one NUL-terminated string */
    char *s = malloc(len + 1);
    memcpy(s, data + 1, len);
    s[len] = '\0';
    check_time(s);
    free(s);
    free(body);
    return 0;
}
