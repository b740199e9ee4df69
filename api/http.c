/* http.c - libmicrohttpd glue for api_handle() (see http.h). */
#include "http.h"
#include "../server/log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct conn_state {
    char *buf;
    size_t len, cap;
    int too_large;
};

static const char *query_get(void *arg, const char *key)
{
    return MHD_lookup_connection_value(arg, MHD_GET_ARGUMENT_KIND, key);
}

static enum MHD_Result send_json(struct MHD_Connection *c, int status, char *body)
{
    size_t len = body != NULL ? strlen(body) : 0;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned int)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    struct api_ctx *ctx = cls;
    struct conn_state *st = *con_cls;
    if (st == NULL) {
        st = calloc(1, sizeof(*st));
        if (st == NULL)
            return MHD_NO;
        *con_cls = st;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL && strtoull(cl, NULL, 10) > API_BODY_LIMIT)
            st->too_large = 1;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (st->too_large)
            return MHD_YES;                 /* drain, answer 413 at the end */
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
        memcpy(st->buf + st->len, upload_data, n);
        st->len += n;
        st->buf[st->len] = '\0';
        return MHD_YES;
    }
    struct api_resp resp = { 0, NULL };
    if (st->too_large) {
        api_error(&resp, 413, "payload_too_large", "request body is larger than %d bytes",
                  API_BODY_LIMIT);
    } else {
        struct api_req req = {
            .method = method,
            .path = url,
            .query = query_get,
            .query_arg = c,
            .body = st->buf,
            .body_len = st->len,
            .authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                         MHD_HTTP_HEADER_AUTHORIZATION),
        };
        api_handle(ctx, &req, &resp);
    }
    if (resp.status >= 500)
        ctl_log_verbose("http: %s %s -> %d", method, url, resp.status);
    return send_json(c, resp.status, resp.body);
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
