/* sentinel.c - the Sentinel port's server: a libuv TCP listener on the
 * controller's loop, its clients, and the event queue that publishers on any
 * thread feed (see sentinel.h). The commands themselves are in
 * sentinel_cmd.c; this file only moves bytes and enforces the limits.
 *
 * Limits, so that no client can crash kvfleetd or exhaust its memory, and
 * what happens at each, following Redis where Redis has the same limit:
 *  - SENTINEL_MAX_CLIENTS connections; the next one is told Redis' "max
 *    number of clients reached" and closed.
 *  - A client's unparsed input plus its parser's arrays may not exceed
 *    SENTINEL_QBUF_MAX (Redis' client-query-buffer-limit, 1 GB there, far
 *    more than any Sentinel command needs): the client is closed without a
 *    reply, as Redis does, with a log line. All clients together may not
 *    hold more than SENTINEL_INPUT_TOTAL_MAX of input.
 *  - Output: a client with SENTINEL_OUT_SOFT bytes not yet written is not
 *    read from (its pipelined commands wait) until the socket drains, so a
 *    reader that never reads costs at most that much plus one reply. A
 *    subscriber cannot be paused that way (events come from the controller,
 *    not from it): beyond SENTINEL_PUBSUB_OUT_MAX unsent bytes it is closed,
 *    as Redis' client-output-buffer-limit pubsub does.
 *  - Protocol errors get Redis' exact text, then the connection is closed
 *    once that reply is written.
 * Idle clients stay forever (Sentinel clients hold subscriptions for days).
 *
 * Every write is a uv_write of a buffer it owns (the reply batch is handed
 * over, not copied), freed in the write callback, so partial writes are
 * libuv's business and a closing client never leaves a dangling buffer. */
#include "sentinel.h"
#include "sentinel_cmd.h"

#include "log.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define SENTINEL_MAX_CLIENTS 1000
#define SENTINEL_QBUF_MAX (1024 * 1024)
#define SENTINEL_INPUT_TOTAL_MAX (64 * 1024 * 1024)
#define SENTINEL_READ_CHUNK (16 * 1024)
#define SENTINEL_OUT_SOFT (256 * 1024)
#define SENTINEL_PUBSUB_OUT_MAX (1024 * 1024)
#define SENTINEL_EVENT_MAX 8192             /* channel + message bytes */
#define SENTINEL_PROTO_MAX_BULK (512ULL * 1024 * 1024)  /* Redis' proto-max-bulk-len */

struct sentinel_event {
    struct sentinel_event *next;
    const char *message;        /* points into channel[] */
    char channel[];
};

struct sclient {
    struct sentinel *sen;
    uv_tcp_t tcp;
    struct sclient *prev, *next;
    struct sentinel_session sess;
    resp_parser parser;
    char *qbuf;                 /* unparsed input: qbuf[0] starts a command */
    size_t qlen, qcap;
    struct sentinel_out out;    /* replies not handed to libuv yet */
    size_t out_pending;         /* handed to uv_write, not written yet */
    size_t mem;                 /* this client's part of sen->input_mem */
    char addr[64];              /* "ip:port" for log lines */
    unsigned reading : 1;
    unsigned paused : 1;        /* too much unsent output: not reading */
    unsigned closing : 1;
    unsigned close_after_write : 1;
};

struct swrite {
    uv_write_t req;
    struct sclient *c;
    char *data;
    size_t len;
};

struct sentinel {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_async_t wake;
    int handles;                /* listener + wake not closed yet */
    int stopping;
    int failed_start;           /* free once the handles are closed */
    struct sentinel_provider provider;
    struct sentinel_ctx ctx;
    char os[200];
    char version[64];
    uint64_t start_mono_us;
    struct sclient *clients;
    size_t nclients;
    uint64_t next_id;
    size_t input_mem;           /* every client's input buffer and parser */
    /* Shared with publishers on other threads. */
    pthread_mutex_t mu;
    struct sentinel_event *qhead, *qtail;
    size_t queued;
    uint64_t dropped;           /* reported (and reset) on the loop */
    int closed;                 /* stopped: no more publishes */
};

static void client_process(struct sclient *c);

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------ */

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* nhex random hex digits and a NUL: Sentinel's 40-character ids. */
static void random_hex(char *out, size_t nhex)
{
    unsigned char raw[SENTINEL_RUNID_MAX / 2];
    size_t n = (nhex + 1) / 2 > sizeof(raw) ? sizeof(raw) : (nhex + 1) / 2;
    if (getrandom(raw, n, 0) != (ssize_t)n) {
        /* No entropy source: unique enough for an id nobody trusts. */
        uint64_t x = mono_us() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)wall_us();
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            raw[i] = (unsigned char)(x >> 56);
        }
    }
    for (size_t i = 0; i < nhex; i++)
        out[i] = "0123456789abcdef"[(raw[i / 2] >> (i % 2 ? 0 : 4)) & 15];
    out[nhex] = '\0';
}

static void peer_name(struct sclient *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    snprintf(c->addr, sizeof(c->addr), "?");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET6) {
        (void)uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof(ip));
        port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    } else if (ss.ss_family == AF_INET) {
        (void)uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof(ip));
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    sentinel_addr_name(c->addr, sizeof(c->addr), ip, port);
}

/* ------------------------------------------------------------------------
 * Clients: close, write
 * ------------------------------------------------------------------------ */

static void on_client_closed(uv_handle_t *h)
{
    struct sclient *c = h->data;
    c->sen->input_mem -= c->mem;
    free(c->qbuf);
    sentinel_out_free(&c->out);
    resp_parser_free(&c->parser);
    sentinel_session_free(&c->sess);
    free(c);
}

/* Unlinked at once (no more events, not counted), freed once libuv has
 * cancelled its writes and closed the socket. */
static void client_close(struct sclient *c)
{
    struct sentinel *s = c->sen;
    if (c->closing)
        return;
    c->closing = 1;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nclients--;
    uv_close((uv_handle_t *)&c->tcp, on_client_closed);
}

static void stop_reading(struct sclient *c)
{
    if (c->closing || !c->reading)
        return;
    (void)uv_read_stop((uv_stream_t *)&c->tcp);   /* always 0 for a TCP handle */
    c->reading = 0;
}

static void on_write(uv_write_t *req, int status)
{
    struct swrite *w = (struct swrite *)req;
    struct sclient *c = w->c;
    c->out_pending -= w->len;
    free(w->data);
    free(w);
    if (c->closing)
        return;
    if (status < 0) {
        ctl_log_verbose("Sentinel port: write to %s failed: %s", c->addr, uv_strerror(status));
        client_close(c);
        return;
    }
    if (c->close_after_write) {
        if (c->out_pending == 0 && c->out.len == 0)
            client_close(c);
        return;
    }
    if (c->paused && c->out_pending < SENTINEL_OUT_SOFT / 2) {
        c->paused = 0;
        client_process(c);     /* the commands that waited, then read again */
    }
}

/* Hand the pending replies to libuv; 0, or -1 when the client was closed. */
static int client_flush(struct sclient *c)
{
    if (c->out.failed) {
        ctl_log_warning("Sentinel port: out of memory replying to %s, closing it", c->addr);
        client_close(c);
        return -1;
    }
    if (c->out.len == 0) {
        if (c->close_after_write && c->out_pending == 0)
            client_close(c);
        return c->closing ? -1 : 0;
    }
    struct swrite *w = malloc(sizeof(*w));
    if (w == NULL) {
        client_close(c);
        return -1;
    }
    w->c = c;
    w->data = c->out.buf;       /* ownership moves to the write request */
    w->len = c->out.len;
    memset(&c->out, 0, sizeof(c->out));
    uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (rc != 0) {
        ctl_log_verbose("Sentinel port: cannot write to %s: %s", c->addr, uv_strerror(rc));
        free(w->data);
        free(w);
        client_close(c);
        return -1;
    }
    c->out_pending += w->len;
    return 0;
}

/* ------------------------------------------------------------------------
 * Clients: input
 * ------------------------------------------------------------------------ */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct sclient *c = h->data;
    (void)suggested;
    if (c->qcap - c->qlen < SENTINEL_READ_CHUNK) {
        /* Grow by doubling, so a large command costs O(n) copies; never
         * past one chunk over the limit, which is checked after the read. */
        size_t want = c->qlen + SENTINEL_READ_CHUNK, cap = c->qcap ? c->qcap : SENTINEL_READ_CHUNK;
        while (cap < want)
            cap *= 2;
        if (cap > SENTINEL_QBUF_MAX + SENTINEL_READ_CHUNK)
            cap = SENTINEL_QBUF_MAX + SENTINEL_READ_CHUNK;
        char *n = cap >= want ? realloc(c->qbuf, cap) : NULL;
        if (n == NULL) {
            *buf = uv_buf_init(NULL, 0);   /* on_read gets UV_ENOBUFS */
            return;
        }
        c->qbuf = n;
        c->qcap = cap;
    }
    *buf = uv_buf_init(c->qbuf + c->qlen, (unsigned)(c->qcap - c->qlen));
}

/* What INFO says about the process, as of now. */
static void ctx_refresh(struct sentinel *s)
{
    s->ctx.now_us = wall_us();
    s->ctx.uptime_s = (int64_t)((mono_us() - s->start_mono_us) / 1000000);
    s->ctx.clients = s->nclients;
}

/* Redis answers a protocol error, logs it and closes after the reply. */
static void client_protocol_error(struct sclient *c)
{
    ctl_log_verbose("Sentinel port: protocol error (%s) from client id=%llu addr=%s",
                    c->parser.errstr, (unsigned long long)c->sess.id, c->addr);
    sentinel_out_append(&c->out, "-", 1);
    sentinel_out_append(&c->out, c->parser.errstr, strlen(c->parser.errstr));
    sentinel_out_append(&c->out, "\r\n", 2);
    c->close_after_write = 1;
}

/* Parse and run every complete command in the buffer, unless the client
 * has too much unsent output (then the rest waits for on_write). Returns
 * the bytes consumed, or -1 when the client was closed. */
static ssize_t client_run(struct sclient *c)
{
    struct sentinel *s = c->sen;
    size_t pos = 0;
    ctx_refresh(s);
    while (pos < c->qlen && !c->close_after_write) {
        if (c->out_pending + c->out.len >= SENTINEL_OUT_SOFT) {
            c->paused = 1;
            break;
        }
        resp_arg *argv;
        int argc;
        size_t consumed;
        int r = resp_parse(&c->parser, c->qbuf + pos, c->qlen - pos, &argv, &argc, &consumed);
        if (r == RESP_PARSE_MORE)
            break;
        if (r == RESP_PARSE_ERROR) {
            client_protocol_error(c);
            pos = c->qlen;
            break;
        }
        pos += consumed;
        if (r == RESP_PARSE_EMPTY)
            continue;
        if (sentinel_cmd_exec(&s->ctx, &c->sess, argc, argv, &c->out) != 0) {
            ctl_log_warning("Sentinel port: out of memory running a command of %s, closing it",
                            c->addr);
            client_close(c);
            return -1;
        }
        if (c->sess.quit) {
            c->close_after_write = 1;
            pos = c->qlen;
        }
    }
    return (ssize_t)pos;
}

/* Input bookkeeping after a run: drop consumed bytes, free the buffer of
 * an idle client, enforce the per-client and total input limits. 0, or -1
 * when the client was closed. */
static int client_account(struct sclient *c, size_t consumed)
{
    struct sentinel *s = c->sen;
    if (consumed > 0) {
        memmove(c->qbuf, c->qbuf + consumed, c->qlen - consumed);
        c->qlen -= consumed;
    }
    if (c->qlen == 0 && c->qcap > 0) {
        free(c->qbuf);
        c->qbuf = NULL;
        c->qcap = 0;
    }
    size_t held = c->qlen + resp_parser_mem(&c->parser);
    if (held > SENTINEL_QBUF_MAX) {
        ctl_log_warning("Closing client that reached max query buffer length: id=%llu addr=%s "
                        "(%zu bytes, limit %d)", (unsigned long long)c->sess.id, c->addr, held,
                        SENTINEL_QBUF_MAX);
        client_close(c);
        return -1;
    }
    size_t mem = c->qcap + resp_parser_mem(&c->parser);
    s->input_mem = s->input_mem - c->mem + mem;
    c->mem = mem;
    if (s->input_mem > SENTINEL_INPUT_TOTAL_MAX) {
        ctl_log_warning("Sentinel port: clients hold %zu bytes of input (limit %d), closing "
                        "id=%llu addr=%s", s->input_mem, SENTINEL_INPUT_TOTAL_MAX,
                        (unsigned long long)c->sess.id, c->addr);
        client_close(c);
        return -1;
    }
    return 0;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

/* Run what is buffered, flush, and read again unless paused or closing. */
static void client_process(struct sclient *c)
{
    ssize_t consumed = client_run(c);
    if (consumed < 0 || client_account(c, (size_t)consumed) != 0 || client_flush(c) != 0)
        return;
    if (c->paused || c->close_after_write) {
        stop_reading(c);
    } else if (!c->reading) {
        int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
        if (rc != 0) {
            client_close(c);
            return;
        }
        c->reading = 1;
    }
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct sclient *c = stream->data;
    (void)buf;
    if (c->closing)
        return;
    if (nread < 0) {
        if (nread != UV_EOF)
            ctl_log_verbose("Sentinel port: closing %s: %s", c->addr, uv_strerror((int)nread));
        client_close(c);
        return;
    }
    if (nread == 0)
        return;
    c->qlen += (size_t)nread;
    client_process(c);
}

/* ------------------------------------------------------------------------
 * Accepting
 * ------------------------------------------------------------------------ */

/* A connection that never became a client: its sclient is only the
 * handle's memory. */
static void on_reject_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_reject_written(uv_write_t *req, int status)
{
    (void)status;
    uv_close((uv_handle_t *)req->handle, on_reject_closed);
    free(req);
}

/* Over the client limit: Redis' error, then close. The connection never
 * becomes a client, so it costs one handle and one small write. */
static void reject_client(uv_tcp_t *tcp)
{
    static const char msg[] = "-ERR max number of clients reached\r\n";
    uv_write_t *req = malloc(sizeof(*req));
    uv_buf_t b = uv_buf_init((char *)msg, sizeof(msg) - 1);
    if (req == NULL || uv_write(req, (uv_stream_t *)tcp, &b, 1, on_reject_written) != 0) {
        free(req);
        uv_close((uv_handle_t *)tcp, on_reject_closed);
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    struct sentinel *s = server->data;
    if (status < 0) {
        ctl_log_warning("Sentinel port: accept failed: %s", uv_strerror(status));
        return;
    }
    struct sclient *c = calloc(1, sizeof(*c));
    if (c == NULL || uv_tcp_init(s->loop, &c->tcp) != 0) {
        /* libuv holds the accepted socket until someone takes it: without
         * memory for a client, the connection waits in the backlog. */
        ctl_log_warning("Sentinel port: out of memory accepting a client");
        free(c);
        return;
    }
    c->sen = s;
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, on_reject_closed);
        return;
    }
    if (s->nclients >= SENTINEL_MAX_CLIENTS) {
        ctl_log_warning("Sentinel port: max number of clients reached (%d)", SENTINEL_MAX_CLIENTS);
        reject_client(&c->tcp);
        return;
    }
    (void)uv_tcp_nodelay(&c->tcp, 1);
    peer_name(c);
    resp_parser_init(&c->parser, SENTINEL_PROTO_MAX_BULK);
    sentinel_session_init(&c->sess, ++s->next_id);
    c->next = s->clients;
    if (s->clients)
        s->clients->prev = c;
    s->clients = c;
    s->nclients++;
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc != 0) {
        client_close(c);
        return;
    }
    c->reading = 1;
}

/* ------------------------------------------------------------------------
 * Events
 * ------------------------------------------------------------------------ */

static void deliver(struct sentinel *s, const struct sentinel_event *e)
{
    for (struct sclient *c = s->clients, *next; c != NULL; c = next) {
        next = c->next;
        if (!sentinel_session_subscribed(&c->sess) || c->close_after_write)
            continue;
        (void)sentinel_cmd_deliver(&c->sess, e->channel, e->message, &c->out);
        if (c->out_pending + c->out.len > SENTINEL_PUBSUB_OUT_MAX) {
            ctl_log_warning("Client id=%llu addr=%s closed for overcoming of output buffer "
                            "limits.", (unsigned long long)c->sess.id, c->addr);
            client_close(c);
        }
    }
}

static void on_wake(uv_async_t *a)
{
    struct sentinel *s = a->data;
    pthread_mutex_lock(&s->mu);
    struct sentinel_event *e = s->qhead;
    uint64_t dropped = s->dropped;
    s->qhead = s->qtail = NULL;
    s->queued = 0;
    s->dropped = 0;
    pthread_mutex_unlock(&s->mu);
    if (dropped > 0)
        ctl_log_warning("Sentinel port: %llu event(s) dropped (more than %d waiting)",
                        (unsigned long long)dropped, SENTINEL_QUEUE_MAX);
    while (e != NULL) {
        struct sentinel_event *next = e->next;
        deliver(s, e);
        free(e);
        e = next;
    }
    for (struct sclient *c = s->clients, *next; c != NULL; c = next) {
        next = c->next;
        if (c->out.len > 0 || c->out.failed)
            (void)client_flush(c);
    }
}

void sentinel_publish(struct sentinel *s, const char *channel, const char *message)
{
    if (s == NULL)
        return;
    size_t cl = strlen(channel), ml = strlen(message);
    struct sentinel_event *e = NULL;
    if (cl + ml <= SENTINEL_EVENT_MAX && (e = malloc(sizeof(*e) + cl + ml + 2)) != NULL) {
        e->next = NULL;
        memcpy(e->channel, channel, cl + 1);
        memcpy(e->channel + cl + 1, message, ml + 1);
        e->message = e->channel + cl + 1;
    }
    pthread_mutex_lock(&s->mu);
    if (e == NULL || s->closed || s->queued >= SENTINEL_QUEUE_MAX) {
        s->dropped++;
        pthread_mutex_unlock(&s->mu);
        free(e);
        return;
    }
    if (s->qtail)
        s->qtail->next = e;
    else
        s->qhead = e;
    s->qtail = e;
    s->queued++;
    /* Under the lock: sentinel_stop sets `closed` under it before closing
     * the async handle, so this never signals a closed handle. */
    (void)uv_async_send(&s->wake);
    pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------------
 * Start, stop
 * ------------------------------------------------------------------------ */

static void free_queue(struct sentinel *s)
{
    while (s->qhead != NULL) {
        struct sentinel_event *n = s->qhead->next;
        free(s->qhead);
        s->qhead = n;
    }
    s->qtail = NULL;
}

static void on_handle_closed(uv_handle_t *h)
{
    struct sentinel *s = h->data;
    if (--s->handles == 0 && s->failed_start) {
        free_queue(s);
        pthread_mutex_destroy(&s->mu);
        free(s);
    }
}

static int listen_on(struct sentinel *s, const struct sentinel_config *cfg, char *err, size_t errlen)
{
    struct addrinfo hints, *ai = NULL;
    char port[16];
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%d", cfg->port);
    int gai = getaddrinfo(cfg->host, port, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errlen, "sentinel-bind %s:%d: cannot resolve %s: %s", cfg->host, cfg->port,
                 cfg->host, gai_strerror(gai));
        return -1;
    }
    int rc = uv_tcp_bind(&s->listener, ai->ai_addr, 0);
    freeaddrinfo(ai);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, 511, on_connection);
    if (rc != 0) {
        snprintf(err, errlen, "sentinel-bind %s:%d: cannot listen for the Sentinel port: %s",
                 cfg->host, cfg->port, uv_strerror(rc));
        return -1;
    }
    return 0;
}

static void ctx_init(struct sentinel *s, const struct sentinel_config *cfg)
{
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(s->os, sizeof(s->os), "%s %s %s", u.sysname, u.release, u.machine);
    snprintf(s->version, sizeof(s->version), "%s", cfg->version ? cfg->version : "");
    s->ctx.provider = &s->provider;
    random_hex(s->ctx.myid, SENTINEL_RUNID_MAX);
    random_hex(s->ctx.run_id, SENTINEL_RUNID_MAX);
    s->ctx.version = s->version;
    s->ctx.os = s->os;
    s->ctx.pid = (long)getpid();
    s->ctx.port = cfg->port;
    s->ctx.max_clients = SENTINEL_MAX_CLIENTS;
    s->start_mono_us = mono_us();
}

int sentinel_start(struct sentinel **out, uv_loop_t *loop, const struct sentinel_config *cfg,
                   const struct sentinel_provider *provider, char *err, size_t errlen)
{
    struct sentinel *s = calloc(1, sizeof(*s));
    *out = NULL;
    if (s == NULL || pthread_mutex_init(&s->mu, NULL) != 0) {
        snprintf(err, errlen, "Sentinel port: out of memory");
        free(s);
        return -1;
    }
    s->loop = loop;
    s->provider = *provider;
    ctx_init(s, cfg);
    int rc = uv_tcp_init(loop, &s->listener);
    if (rc == 0) {
        s->listener.data = s;
        s->handles++;
        rc = uv_async_init(loop, &s->wake, on_wake);
        if (rc == 0) {
            s->wake.data = s;
            s->handles++;
        }
    }
    if (rc != 0)
        snprintf(err, errlen, "Sentinel port: cannot set up its handles: %s", uv_strerror(rc));
    else if (listen_on(s, cfg, err, errlen) == 0) {
        *out = s;
        return 0;
    }
    /* The handles close on the loop's next run (the caller's shutdown
     * path runs it); the memory goes with the last one. */
    s->stopping = 1;
    s->closed = 1;
    if (s->handles == 0) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        return -1;
    }
    s->failed_start = 1;
    if (s->handles == 2)
        uv_close((uv_handle_t *)&s->wake, on_handle_closed);
    uv_close((uv_handle_t *)&s->listener, on_handle_closed);
    return -1;
}

void sentinel_stop(struct sentinel *s)
{
    if (s == NULL || s->stopping)
        return;
    s->stopping = 1;
    pthread_mutex_lock(&s->mu);
    s->closed = 1;
    pthread_mutex_unlock(&s->mu);
    uv_close((uv_handle_t *)&s->listener, on_handle_closed);
    uv_close((uv_handle_t *)&s->wake, on_handle_closed);
    while (s->clients != NULL)
        client_close(s->clients);
}

void sentinel_free(struct sentinel *s)
{
    if (s == NULL)
        return;
    free_queue(s);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
