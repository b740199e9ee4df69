/* http.h - libmicrohttpd front end of the REST API.
 *
 * MHD runs its own threads (a small pool, each with its own epoll loop), so
 * HTTP never blocks the monitor's loop and a slow request never blocks the
 * monitor. Bodies over 1 MiB are answered 413 without being buffered. The
 * limits against hostile clients (connection caps, idle timeout, request
 * deadline, memory per connection) come from the http-* directives and are
 * described in README "API limits". */
#ifndef KVFLEET_API_HTTP_H
#define KVFLEET_API_HTTP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "http_deadline.h"

struct api_server {
    struct MHD_Daemon *daemon;
    struct api_ctx *ctx;
    struct http_deadlines deadlines;
    int started;                  /* api_http_start succeeded: stop has work */
    atomic_size_t body_bytes;     /* request bodies buffered, all connections */
    /* Rate limit of MHD's own log lines (http.c: on_mhd_log). */
    pthread_mutex_t log_mu;
    int64_t log_second;
    unsigned int log_lines;
    unsigned long log_dropped;
};

/* Listen on host:port. s must stay at its address until api_http_stop():
 * MHD's callbacks get it. 0, or -1 with a reason in err. */
int api_http_start(struct api_server *s, struct api_ctx *ctx, const char *host, int port,
                   int threads, char *err, size_t errlen);
void api_http_stop(struct api_server *s);

#endif
