/* fuzz_repl_stream: what a replica does with the bytes its master sends
 * once the link is up: client_process_input() on the master's client
 * (agent/networking.c: RESP parsing, cmd_process with CLIENT_MASTER, so
 * no proto-max-bulk-len, no OOM or READONLY checks, replies discarded;
 * then srv->on_master_stream, which feeds our offset and the backlog that
 * our own replicas would read, agent/repl.c).
 *
 * The link is made as repl_replica.c makes it after +CONTINUE or a full
 * sync: an outgoing client (uv_tcp_t initialised, never connected) with
 * CLIENT_MASTER | CLIENT_NO_REPLY | CLIENT_AUTHENTICATED, the server a
 * replica whose link state is "connected". The handshake and the RDB
 * transfer before it (link_process / link_on_line / link_payload) are
 * static and do socket and temp-file I/O, so they are not reached here;
 * the RDB payload itself is fuzz_rdb's job.
 *
 * A master may send any command, so the input is screened first with the
 * same parser: commands that leave the process (SHUTDOWN, DEBUG, SAVE,
 * BGSAVE, REPLICAOF, CONFIG...), block, sleep, or take counts and offsets
 * large enough to allocate gigabytes (legal from a master, as in Redis,
 * but no bug) make the input uninteresting. A fresh client per input,
 * every database flushed after it; inputs over 64 KiB are ignored. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "server.h"
#include "client.h"
#include "command.h"
#include "db.h"
#include "log.h"
#include "mem.h"
#include "repl.h"
#include "repl_int.h"
#include "resp.h"
#include "harness.h"

#define FUZZ_MAX_INPUT (64 * 1024)
#define FUZZ_MAX_NUMBER 100000LL

static srv *S;

static const char *const denied[] = {
    "shutdown", "debug", "save", "bgsave", "bgrewriteaof", "config", "replicaof",
    "slaveof", "sync", "psync", "failover", "monitor", "client", "wait", "pfselftest",
    "blpop", "brpop", "brpoplpush", "blmove", "bzpopmin", "bzpopmax", "blmpop", "bzmpop",
    "lastsave", "sleep", "acl", "module", "script", "eval", "evalsha", "function", NULL,
};

static int is_denied(const resp_arg *a)
{
    for (int i = 0; denied[i]; i++)
        if (a->len == strlen(denied[i]) && strncasecmp(a->ptr, denied[i], a->len) == 0)
            return 1;
    return 0;
}

/* An argument that reads as a big number (also "#N" BITFIELD offsets):
 * SETRANGE/SETBIT offsets and SRANDMEMBER-style counts allocate or loop
 * that much. */
static int is_big_number(const resp_arg *a)
{
    const char *p = a->ptr;
    size_t n = a->len, i = 0;
    if (n && (p[0] == '#' || p[0] == '-' || p[0] == '+'))
        i++;
    size_t digits = 0;
    long long v = 0;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, digits++)
        if (v <= FUZZ_MAX_NUMBER)
            v = v * 10 + (p[i] - '0');
    /* 1e9 and friends: strtod-style numbers a count parser may accept */
    for (size_t j = 0; j < n; j++)
        if (p[j] == 'e' || p[j] == 'E')
            return digits > 0;
    return digits > 0 && v > FUZZ_MAX_NUMBER;
}

/* 1 when every command of the input may run. */
static int screen(const char *buf, size_t len)
{
    resp_parser p;
    size_t pos = 0;
    int ok = 1;
    resp_parser_init(&p, SIZE_MAX);
    while (ok && pos < len) {
        resp_arg *argv;
        int argc;
        size_t consumed = 0;
        int rc = resp_parse(&p, buf + pos, len - pos, &argv, &argc, &consumed);
        if (rc == RESP_PARSE_MORE || rc == RESP_PARSE_ERROR)
            break;
        if (rc == RESP_PARSE_DONE) {
            if (is_denied(&argv[0]))
                ok = 0;
            for (int i = 1; ok && i < argc; i++)
                if (is_big_number(&argv[i]))
                    ok = 0;
        }
        pos += consumed;
    }
    resp_parser_free(&p);
    return ok;
}

static void setup(void)
{
    char err[512];
    log_set_level(LOG_WARNING);
    log_set_file("/dev/null");
    S = h_srv_new_with("save \"\"\nappendonly no\n");
    if (repl_module_init(S, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_repl_stream setup: %s\n", err);
        abort();
    }
    S->is_replica = 1;
    repl_st(S)->link_state = LINK_CONNECTED;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    if (S == NULL)
        setup();
    if (!screen((const char *)data, size))
        return 0;
    client *c = client_new_outgoing(S);
    c->flags |= CLIENT_MASTER | CLIENT_NO_REPLY | CLIENT_AUTHENTICATED;
    c->parser.max_bulk_len = (size_t)cmd_string_limit(c);
    c->qbuf = mem_alloc(size ? size : 1);
    c->qbuf_cap = size ? size : 1;
    memcpy(c->qbuf, data, size);
    c->qbuf_len = size;
    srv_update_time(S);
    client_process_input(c);
    /* As the link ends: close, let libuv call back, the client is freed. */
    if (!(c->flags & CLIENT_CLOSING))
        client_close(c);
    uv_run(S->loop, UV_RUN_NOWAIT);
    for (int i = 0; i < S->dbnum; i++)
        db_flush(&S->dbs[i]);
    return 0;
}
