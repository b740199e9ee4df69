/* http.h - libmicrohttpd front end of the REST API.
 *
 * MHD runs its own threads (internal polling thread plus a small pool), so
 * HTTP never blocks the monitor's loop and a slow request never blocks the
 * monitor. Bodies over 1 MiB are answered 413 without being buffered. */
#ifndef KVFLEET_API_HTTP_H
#define KVFLEET_API_HTTP_H

#include <stddef.h>

#include "api.h"

struct api_server {
    struct MHD_Daemon *daemon;
    struct api_ctx *ctx;
};

int api_http_start(struct api_server *s, struct api_ctx *ctx, const char *host, int port,
                   int threads, char *err, size_t errlen);
void api_http_stop(struct api_server *s);

#endif
