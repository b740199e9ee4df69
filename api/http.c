/* http.c - libmicrohttpd glue for api_handle() (see http.h): collects the
 * body, hands the request to the transport-free core, sends its answer with
 * the headers it asked for, and times every request for the metrics.
 *
 * It also holds the line against hostile clients (README "API limits"):
 * connection caps in all and per address, an idle timeout and a request
 * deadline (http_deadline.h) against slow-loris clients, a fixed memory
 * pool per connection, bodies refused before they are read and a budget for
 * the ones being received, and MHD's own complaints rate-limited in the
 * log. */
#include "http.h"
#include "reqstats.h"
#include "../server/clock.h"
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

/* MHD's memory pool per connection: it holds the request line, every header
 * and the read buffer. Room above API_URL_MAX and API_HEADERS_MAX, so that
 * kvfleetd, not MHD, refuses what is over them in JSON up to about 120 KiB
 * of headers (MHD's default pool is 32 KiB); past the pool MHD answers its
 * own HTML 431, which 0.9.75 gives no way to replace. The pool is also the
 * bound on a connection's memory: http-max-connections times this. */
#define HTTP_CONN_MEMORY (128 * 1024)

/* A chunked body has no Content-Length to refuse up front, and MHD 0.9.75
 * takes no answer until the body is in: past API_BODY_LIMIT it is read and
 * dropped, then 413. Past this much it is not worth reading either, and
 * the connection is closed without an answer. */
#define HTTP_DRAIN_MAX (16 * (size_t)API_BODY_LIMIT)

/* Request bodies buffered at once, all connections together. Each body is
 * capped at API_BODY_LIMIT, but 256 connections each sending 1 MiB slowly
 * would hold 256 MiB: past this budget a body is drained instead of kept
 * and answered 503, so that bodies add at most this much to the
 * connections' own pools. Real API bodies are a few hundred bytes. */
#define HTTP_BODY_BUDGET (16 * (size_t)API_BODY_LIMIT)

/* How often the deadline watchdog looks: a tenth of the deadline, so a
 * slow-loris connection lives at most 10% past it. */
#define HTTP_DEADLINE_TICKS 10

/* MHD warns once per refused or timed-out connection: under a flood that is
 * the log's disk filling up. At most this many lines per second, then one
 * line counting what was dropped. */
#define HTTP_LOG_PER_SECOND 10

struct conn_state {
    char *buf;
    size_t len, cap;
    int too_large;
    int over_budget;          /* HTTP_BODY_BUDGET was spent: drained, then 503 */
    size_t drained;           /* body bytes read and dropped past the limit */
    size_t reserved;          /* bytes of buf counted in api_server.body_bytes */
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

/* The connection's deadline entry (NULL: none, out of memory at accept). */
static struct http_deadline_conn *conn_deadline(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci != NULL ? ci->socket_context : NULL;
}

/* The request is in and about to be answered: its deadline no longer
 * applies (on_completed arms the next one). */
static void request_received(struct api_server *s, struct MHD_Connection *c)
{
    struct http_deadline_conn *dl = conn_deadline(c);
    if (dl != NULL)
        http_deadlines_disarm(&s->deadlines, dl);
}

static void answer_too_large(const char *method, const char *url, struct api_resp *resp);
static enum MHD_Result send_resp(struct MHD_Connection *c, struct api_resp *r);
static void record(struct api_server *s, const char *method, const struct conn_state *st,
                   const struct api_resp *resp);

/* First call of the access handler, headers in: a body announced larger
 * than the limit is refused now, before a byte of it is read (MHD then
 * closes the connection rather than read the body; a client that sent
 * Expect: 100-continue never sends it). */
static enum MHD_Result request_begin(struct api_server *s, struct MHD_Connection *c,
                                     const char *method, struct conn_state *st)
{
    st->begun = 1;
    const char *cl = header_get(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl == NULL || strtoull(cl, NULL, 10) <= API_BODY_LIMIT)
        return MHD_YES;
    st->too_large = 1;
    request_received(s, c);
    struct api_resp resp;
    answer_too_large(method, st->target, &resp);
    record(s, method, st, &resp);
    return send_resp(c, &resp);
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

/* Give the body buffer and its share of the budget back. */
static void body_release(struct api_server *s, struct conn_state *st)
{
    atomic_fetch_sub(&s->body_bytes, st->reserved);
    st->reserved = 0;
    free(st->buf);
    st->buf = NULL;
    st->len = st->cap = 0;
}

/* Count `more` bytes against HTTP_BODY_BUDGET; 0, or -1 when over it. */
static int body_reserve(struct api_server *s, struct conn_state *st, size_t more)
{
    size_t before = atomic_fetch_add(&s->body_bytes, more);
    if (before + more > HTTP_BODY_BUDGET) {
        atomic_fetch_sub(&s->body_bytes, more);
        return -1;
    }
    st->reserved += more;
    return 0;
}

/* One chunk of the body; past the limit or the budget the rest is drained,
 * not kept, and past HTTP_DRAIN_MAX the connection is dropped. */
static enum MHD_Result request_chunk(struct api_server *s, struct conn_state *st,
                                     const char *data, size_t n)
{
    if (st->too_large || st->over_budget) {
        st->drained += n;                   /* answer 413 / 503 at the end */
        return st->drained <= HTTP_DRAIN_MAX ? MHD_YES : MHD_NO;
    }
    if (st->len + n > API_BODY_LIMIT) {
        st->too_large = 1;
        st->drained = st->len + n;
        body_release(s, st);
        return MHD_YES;
    }
    if (st->len + n + 1 > st->cap) {
        size_t cap = st->cap ? st->cap : 4096;
        while (cap < st->len + n + 1)
            cap *= 2;
        if (body_reserve(s, st, cap - st->cap) != 0) {
            st->over_budget = 1;
            st->drained = st->len + n;
            body_release(s, st);
            return MHD_YES;
        }
        char *p = realloc(st->buf, cap);
        if (p == NULL)
            return MHD_NO;                  /* on_completed gives the budget back */
        st->buf = p;
        st->cap = cap;
    }
    memcpy(st->buf + st->len, data, n);
    st->len += n;
    st->buf[st->len] = '\0';
    return MHD_YES;
}

/* Answered in the route's name, like the request would have been. */
static void answer_busy(const char *method, const char *url, struct api_resp *resp)
{
    struct api_match m;
    api_resp_init(resp);
    api_route_match(method, url, &m);
    resp->row = m.row;
    api_error(resp, 503, "unavailable",
              "too many request bodies in progress (%zu MiB in all); retry shortly",
              HTTP_BODY_BUDGET >> 20);
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

/* Count the answer in the route metrics; log server errors. */
static void record(struct api_server *s, const char *method, const struct conn_state *st,
                   const struct api_resp *resp)
{
    if (resp->status >= 500)
        ctl_log_verbose("http: %s %s -> %d", method, st->target, resp->status);
    api_reqstats_record(s->ctx->reqstats, resp->row, method, resp->status,
                        elapsed_since(&st->start));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)url;                          /* decoded and NUL-truncated: st->target instead */
    struct api_server *s = cls;
    struct conn_state *st = *con_cls;
    if (st == NULL)
        return MHD_NO;                  /* on_uri ran out of memory */
    if (!st->begun)
        return request_begin(s, c, method, st);
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        return request_chunk(s, st, upload_data, n);
    }
    request_received(s, c);
    struct api_resp resp;
    if (st->too_large)
        answer_too_large(method, st->target, &resp);
    else if (st->over_budget)
        answer_busy(method, st->target, &resp);
    else
        handle(s->ctx, c, method, version, st, &resp);
    record(s, method, st, &resp);
    return send_resp(c, &resp);
}

/* A request is over (answered or not): the connection's next request is
 * due within the deadline, counted from now. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct api_server *s = cls;
    (void)toe;
    struct http_deadline_conn *dl = conn_deadline(c);
    if (dl != NULL)
        http_deadlines_arm(&s->deadlines, dl);
    struct conn_state *st = *con_cls;
    if (st != NULL) {
        body_release(s, st);
        free(st->target);
        free(st);
    }
    *con_cls = NULL;
}

/* MHD_OPTION_NOTIFY_CONNECTION: every accepted connection is registered
 * with the deadline watchdog until MHD closes it. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct api_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        if (*socket_context != NULL)
            http_deadlines_remove(&s->deadlines, *socket_context);
        *socket_context = NULL;
        return;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    *socket_context = ci != NULL ? http_deadlines_add(&s->deadlines, ci->connect_fd) : NULL;
    if (*socket_context == NULL)
        ctl_log_warning("http: a connection has no request deadline (out of memory?)");
}

/* 1 when one more MHD line may be logged this second; counts the rest. */
static int log_allowed(struct api_server *s, unsigned long *dropped)
{
    int64_t sec = clock_mono_ms() / 1000;
    int ok;
    pthread_mutex_lock(&s->log_mu);
    *dropped = 0;
    if (sec != s->log_second) {
        *dropped = s->log_dropped;
        s->log_second = sec;
        s->log_lines = 0;
        s->log_dropped = 0;
    }
    ok = s->log_lines < HTTP_LOG_PER_SECOND;
    if (ok)
        s->log_lines++;
    else
        s->log_dropped++;
    pthread_mutex_unlock(&s->log_mu);
    return ok;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct api_server *s = cls;
    unsigned long dropped;
    int ok = log_allowed(s, &dropped);
    if (dropped > 0)
        ctl_log_warning("http: %lu more libmicrohttpd messages dropped (at most %d a second)",
                        dropped, HTTP_LOG_PER_SECOND);
    if (!ok)
        return;
    char buf[512];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    ctl_log_warning("http: %s", buf);
}

/* The listening address as MHD_OPTION_SOCK_ADDR takes it; -1 when host is
 * not a numeric address. */
static int bind_address(const char *host, int port, struct sockaddr_storage *ss,
                        unsigned int *flags)
{
    memset(ss, 0, sizeof(*ss));
    const char *h = strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, h, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        return 0;
    }
    if (inet_pton(AF_INET6, h, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        *flags |= MHD_USE_IPv6;
        return 0;
    }
    return -1;
}

/* Limits from the configuration (defaults when ctx has none: unit tests). */
struct http_limits {
    unsigned int timeout_s;      /* MHD's idle timeout, whole seconds */
    int64_t deadline_ms;
    unsigned int max_conns, max_conns_per_ip;
};

static void http_limits_from(const struct cfg *cfg, struct http_limits *l)
{
    int timeout_ms = cfg != NULL ? cfg->http_timeout_ms : 10000;
    l->deadline_ms = timeout_ms;
    l->timeout_s = (unsigned int)((timeout_ms + 999) / 1000);
    l->max_conns = (unsigned int)(cfg != NULL ? cfg->http_max_connections : 256);
    l->max_conns_per_ip = (unsigned int)(cfg != NULL ? cfg->http_max_connections_per_ip : 64);
}

/* The MHD daemon. Threading: one internal epoll loop per pool thread, so a
 * connection costs a slot and its pool, never a thread, and N slow clients
 * hold N slots while the threads go on serving the others. The caps bound
 * the slots: past http-max-connections MHD stops accepting (the kernel's
 * listen backlog, capped to the same number, holds the next ones), past the
 * per-address cap it accepts and closes at once. */
static struct MHD_Daemon *daemon_start(struct api_server *s, unsigned int flags, int threads,
                                       int port, const struct sockaddr_storage *ss,
                                       const struct http_limits *l)
{
    return MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, s,
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
                            MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)ss,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads,
                            MHD_OPTION_CONNECTION_TIMEOUT, l->timeout_s,
                            MHD_OPTION_CONNECTION_LIMIT, l->max_conns,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, l->max_conns_per_ip,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, l->max_conns,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
                            MHD_OPTION_END);
}

int api_http_start(struct api_server *s, struct api_ctx *ctx, const char *host, int port,
                   int threads, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    s->ctx = ctx;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_EPOLL;
    struct sockaddr_storage ss;
    if (bind_address(host, port, &ss, &flags) != 0) {
        snprintf(err, errlen, "http-bind: '%s' is not a numeric IPv4/IPv6 address", host);
        return -1;
    }
    struct http_limits l;
    http_limits_from(ctx->cfg, &l);
    if (pthread_mutex_init(&s->log_mu, NULL) != 0) {
        snprintf(err, errlen, "http: cannot create a mutex");
        return -1;
    }
    if (http_deadlines_init(&s->deadlines, l.deadline_ms) != 0) {
        pthread_mutex_destroy(&s->log_mu);
        snprintf(err, errlen, "http: cannot set up the request deadlines");
        return -1;
    }
    if (http_deadlines_start(&s->deadlines, (int)(l.deadline_ms / HTTP_DEADLINE_TICKS)) != 0) {
        http_deadlines_destroy(&s->deadlines);
        pthread_mutex_destroy(&s->log_mu);
        snprintf(err, errlen, "http: cannot start the request deadline thread");
        return -1;
    }
    /* MHD splits the connection cap among its pool threads, and a thread
     * left without a slot never wakes up again: MHD_stop_daemon then waits
     * for it forever (0.9.75). Never more threads than connections. */
    if ((unsigned int)threads > l.max_conns)
        threads = (int)l.max_conns;
    s->daemon = daemon_start(s, flags, threads, port, &ss, &l);
    if (s->daemon == NULL) {
        http_deadlines_destroy(&s->deadlines);
        pthread_mutex_destroy(&s->log_mu);
        snprintf(err, errlen, "cannot listen on %s:%d (address in use or not available)", host,
                 port);
        return -1;
    }
    s->started = 1;
    return 0;
}

/* MHD first: stopping it closes every connection, which empties the
 * deadline registry before the watchdog goes. */
void api_http_stop(struct api_server *s)
{
    if (!s->started)
        return;
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    http_deadlines_destroy(&s->deadlines);
    pthread_mutex_destroy(&s->log_mu);
    s->started = 0;
}
