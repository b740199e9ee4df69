/* http.c - libmicrohttpd glue for api_handle() (see http.h): collects the
 * body, hands the request to the transport-free core, sends its answer with
 * the headers it asked for, and times every request for the metrics. */
#include "http.h"
#include "reqstats.h"
#include "../server/log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

struct conn_state {
    char *buf;
    size_t len, cap;
    int too_large;
    int begun;                /* the access handler has seen the request */
    struct timespec start;    /* CLOCK_MONOTONIC when the request line was read */
    /* The request target as sent, percent-encoding intact, cut at '?' into
     * path and query. MHD's own url argument is decoded into a C string: a
     * %00 would cut it short and route to another endpoint. */
    char *target;
    const char *query;        /* inside target, or NULL */
};

static const char *query_get(void *arg, const char *key)
{
    return MHD_lookup_connection_value(arg, MHD_GET_ARGUMENT_KIND, key);
}

static const char *header_get(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Seconds since start on the monotonic clock (clock.h's milliseconds are
 * too coarse for the 0.5 ms histogram bucket). */
static double elapsed_since(const struct timespec *start)
{
    struct timespec now;
    if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
        return 0;
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* The headers api_handle() asked for; -1 when MHD cannot add one (out of
 * memory, or a value it refuses), and the connection is then dropped. */
static int add_headers(struct MHD_Response *resp, const struct api_resp *r)
{
    const struct {
        const char *name, *value;
    } h[] = {
        { MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type },
        { MHD_HTTP_HEADER_CACHE_CONTROL, r->cache_control },
        { MHD_HTTP_HEADER_ETAG, r->etag[0] != '\0' ? r->etag : NULL },
        { MHD_HTTP_HEADER_ALLOW, r->allow[0] != '\0' ? r->allow : NULL },
        { MHD_HTTP_HEADER_WWW_AUTHENTICATE, r->status == 401 ? "Bearer" : NULL },
    };
    for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++)
        if (h[i].value != NULL && MHD_add_response_header(resp, h[i].name, h[i].value) != MHD_YES)
            return -1;
    return 0;
}

/* Queue r. An owned body passes to MHD (freed with free() when sent);
 * static data is sent in place. HEAD and 304 bodies are never sent: MHD
 * drops them and keeps the Content-Length of the GET. */
static enum MHD_Result send_resp(struct MHD_Connection *c, struct api_resp *r)
{
    enum MHD_ResponseMemoryMode mode =
        r->owned != NULL ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT;
    struct MHD_Response *resp = MHD_create_response_from_buffer(r->len, (void *)r->body, mode);
    if (resp == NULL) {
        api_resp_release(r);
        return MHD_NO;
    }
    r->owned = NULL;
    if (add_headers(resp, r) != 0) {
        ctl_log_warning("http: cannot add response headers (out of memory?)");
        MHD_destroy_response(resp);
        return MHD_NO;
    }
    enum MHD_Result ret = MHD_queue_response(c, (unsigned int)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* MHD_OPTION_URI_LOG_CALLBACK: called with the raw request target before
 * MHD parses it, once per request. Its result becomes the request's
 * *con_cls (freed by on_completed, which MHD calls for every request this
 * was called for); NULL (out of memory) drops the connection. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    struct conn_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    if (clock_gettime(CLOCK_MONOTONIC, &st->start) != 0)
        memset(&st->start, 0, sizeof(st->start));
    if ((st->target = strdup(uri)) == NULL) {
        free(st);
        return NULL;
    }
    char *q = strchr(st->target, '?');
    if (q != NULL) {
        *q = '\0';
        st->query = q + 1;
    }
    return st;
}

/* First call of the access handler: an early look at Content-Length so a
 * huge body is never buffered. */
static enum MHD_Result request_begin(struct MHD_Connection *c, struct conn_state *st)
{
    st->begun = 1;
    const char *cl = header_get(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL && strtoull(cl, NULL, 10) > API_BODY_LIMIT)
        st->too_large = 1;
    return MHD_YES;
}

/* What api_handle() checks of the header block: the number of Host
 * fields and the size of them all. */
struct header_facts {
    int hosts;
    size_t bytes;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    struct header_facts *h = cls;
    h->bytes += strlen(key) + (value != NULL ? strlen(value) : 0) + 4;   /* ": ", CRLF */
    if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
        h->hosts++;
    return MHD_YES;
}

/* One chunk of the body; past the limit the rest is drained, not kept. */
static enum MHD_Result request_chunk(struct conn_state *st, const char *data, size_t n)
{
    if (st->too_large)
        return MHD_YES;                     /* drain, answer 413 at the end */
    if (st->len + n > API_BODY_LIMIT) {
        st->too_large = 1;
        free(st->buf);
        st->buf = NULL;
        st->len = st->cap = 0;
        return MHD_YES;
    }
    if (st->len + n + 1 > st->cap) {
        size_t cap = st->cap ? st->cap : 4096;
        while (cap < st->len + n + 1)
            cap *= 2;
        char *p = realloc(st->buf, cap);
        if (p == NULL)
            return MHD_NO;
        st->buf = p;
        st->cap = cap;
    }
    memcpy(st->buf + st->len, data, n);
    st->len += n;
    st->buf[st->len] = '\0';
    return MHD_YES;
}

static void answer_too_large(const char *method, const char *url, struct api_resp *resp)
{
    struct api_match m;
    api_resp_init(resp);
    api_route_match(method, url, &m);
    resp->row = m.row;                      /* counted under its route all the same */
    api_error(resp, 413, "payload_too_large", "request body is larger than %d bytes",
              API_BODY_LIMIT);
}

/* The request as api_handle() takes it: the raw target, the transport
 * facts it checks (version, Host, header size) and the body. */
static void handle(struct api_ctx *ctx, struct MHD_Connection *c, const char *method,
                   const char *version, struct conn_state *st, struct api_resp *resp)
{
    struct header_facts h = { 0, 0 };
    if (MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &h) < 0)
        h.hosts = 1;                    /* cannot tell: let the request through */
    struct api_req req = {
        .method = method,
        .path = st->target,
        .query_string = st->query,
        .query = query_get,
        .query_arg = c,
        .body = st->buf,
        .body_len = st->len,
        .authorization = header_get(c, MHD_HTTP_HEADER_AUTHORIZATION),
        .if_none_match = header_get(c, MHD_HTTP_HEADER_IF_NONE_MATCH),
        .version = version,
        .host_headers = h.hosts,
        .header_bytes = h.bytes,
    };
    api_handle(ctx, &req, resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)url;                          /* decoded and NUL-truncated: st->target instead */
    struct api_ctx *ctx = cls;
    struct conn_state *st = *con_cls;
    if (st == NULL)
        return MHD_NO;                  /* on_uri ran out of memory */
    if (!st->begun)
        return request_begin(c, st);
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        return request_chunk(st, upload_data, n);
    }
    struct api_resp resp;
    if (st->too_large)
        answer_too_large(method, st->target, &resp);
    else
        handle(ctx, c, method, version, st, &resp);
    if (resp.status >= 500)
        ctl_log_verbose("http: %s %s -> %d", method, st->target, resp.status);
    api_reqstats_record(ctx->reqstats, resp.row, method, resp.status, elapsed_since(&st->start));
    return send_resp(c, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct conn_state *st = *con_cls;
    if (st != NULL) {
        free(st->buf);
        free(st->target);
        free(st);
    }
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[512];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    ctl_log_warning("http: %s", buf);
}

int api_http_start(struct api_server *s, struct api_ctx *ctx, const char *host, int port,
                   int threads, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    s->ctx = ctx;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_EPOLL;
    const char *h = strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, h, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, h, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, errlen, "http-bind: '%s' is not a numeric IPv4/IPv6 address", host);
        return -1;
    }
    s->daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, ctx,
                                 MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                 MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1000,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                                 MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
                                 /* Room above API_URL_MAX and API_HEADERS_MAX, so
                                  * that kvfleetd, not MHD, refuses what is over
                                  * them, in JSON (MHD's default is 32 KiB). */
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_CONN_MEMORY,
                                 MHD_OPTION_END);
    if (s->daemon == NULL) {
        snprintf(err, errlen, "cannot listen on %s:%d (address in use or not available)", host,
                 port);
        return -1;
    }
    return 0;
}

void api_http_stop(struct api_server *s)
{
    if (s->daemon != NULL)
        MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
}
