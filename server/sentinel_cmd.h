/* sentinel_cmd.h - the Sentinel port's commands, as pure functions.
 *
 * One parsed command (argv) in, its reply's exact RESP2 bytes out, plus the
 * connection's own state (name, subscriptions, QUIT). No I/O, no clock, no
 * globals: what INFO shows about the process (ids, pid, time, client counts)
 * comes in a context the caller fills, and the topology from the provider
 * (sentinel.h). So tests/unit/test_sentinel.c checks every reply byte for
 * byte, and sentinel.c only moves bytes.
 *
 * Replies follow Redis 7.0.15's Sentinel: field names and order of SENTINEL
 * MASTERS/REPLICAS, INFO's sections, the pub/sub reply shapes, and the error
 * texts (arity, unknown command and subcommand, subscribed context). */
#ifndef KVFLEET_CTL_SENTINEL_CMD_H
#define KVFLEET_CTL_SENTINEL_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "resp.h"
#include "sentinel.h"

/* A growing reply buffer. An allocation failure is sticky (failed = 1): the
 * caller then drops the connection rather than send half a reply. */
struct sentinel_out {
    char *buf;
    size_t len, cap;
    int failed;
};

void sentinel_out_free(struct sentinel_out *o);
/* Appends n raw bytes (a protocol error line, a refusal). */
void sentinel_out_append(struct sentinel_out *o, const char *p, size_t n);

/* Bounds that keep one connection's state small whatever it sends. */
#define SENTINEL_MAX_SUBSCRIPTIONS 1024   /* channels + patterns per connection */
#define SENTINEL_MAX_MASTERS 100000       /* listed by one SENTINEL MASTERS */

/* One connection's state. */
struct sentinel_session {
    uint64_t id;               /* CLIENT ID */
    char *name;                /* CLIENT SETNAME; NULL: none */
    char **channels;           /* SUBSCRIBE: length-prefixed copies (sentinel_cmd.c) */
    size_t nchannels;
    char **patterns;           /* PSUBSCRIBE, the same */
    size_t npatterns;
    int quit;                  /* QUIT: close once the reply is written */
};

void sentinel_session_init(struct sentinel_session *s, uint64_t id);
void sentinel_session_free(struct sentinel_session *s);
/* In subscribed mode (Redis' RESP2 pub/sub context)? */
int sentinel_session_subscribed(const struct sentinel_session *s);

/* The process, as INFO and HELLO describe it. Filled by the caller. */
struct sentinel_ctx {
    const struct sentinel_provider *provider;
    char myid[SENTINEL_RUNID_MAX + 1];     /* SENTINEL MYID */
    char run_id[SENTINEL_RUNID_MAX + 1];   /* INFO run_id (Redis: another id) */
    const char *version;                   /* kvfleetd's version, INFO server */
    const char *os;                        /* "Linux 6.1.0 x86_64" */
    long pid;
    int port;                              /* tcp_port */
    int64_t now_us;                        /* wall clock, server_time_usec */
    int64_t uptime_s;
    size_t clients;                        /* connected_clients */
    size_t max_clients;
};

/* Run one command. Appends its reply to out (even errors are replies) and
 * may change the session. Returns 0, or -1 when out could not grow (then
 * close the connection). argc >= 1. */
int sentinel_cmd_exec(const struct sentinel_ctx *ctx, struct sentinel_session *s, int argc,
                      const resp_arg *argv, struct sentinel_out *out);

/* A published event: appends one "message" frame when the session
 * subscribed to channel, and one "pmessage" frame per matching pattern.
 * Returns the number of frames appended (0 on allocation failure too; see
 * out->failed). */
size_t sentinel_cmd_deliver(struct sentinel_session *s, const char *channel,
                            const char *message, struct sentinel_out *out);

/* "ip:port", or "[ip]:port" for an IPv6 address: Sentinel's instance name. */
int sentinel_addr_name(char *buf, size_t len, const char *ip, int port);

#endif
