/* repl_replica: the replica's link to its master, as a Redis 7.0 replica
 * runs it. A state machine over one outgoing connection:
 *
 *   CONNECT -> CONNECTING -> PING -> [AUTH] -> REPLCONF listening-port ->
 *   [REPLCONF ip-address] -> REPLCONF capa eof capa psync2 -> PSYNC ->
 *   +CONTINUE (partial: the stream goes on) or
 *   +FULLRESYNC -> TRANSFER ($<len> or $EOF:<mark> payload to a temp file,
 *   loaded into emptied dbs) -> CONNECTED.
 *
 * During the handshake and the transfer the link reads with its own libuv
 * callback (line replies, then raw payload). Once connected the socket is
 * handed to the normal input path (client_start_reading) as a CLIENT_MASTER
 * client whose replies are discarded; srv->on_master_stream then reports
 * the bytes of every applied command, which advance our offset and are
 * proxied to our own replicas (repl.c).
 *
 * A lost link keeps the replication id and offset ("cached master"), so the
 * next connection asks for a partial resync. Reconnection backs off from
 * the next cron tick to 5 s after repeated failures. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "repl_int.h"
#include "client.h"
#include "command.h"
#include "db.h"
#include "fence.h"
#include "log.h"
#include "mem.h"
#include "rdb.h"
#include "function.h"
#include "reply.h"
#include "server.h"
#include "util.h"

#define LINK_READ_BUF (64 * 1024)
#define LINK_EOF_MARK 40
#define LINK_MAX_BACKOFF_MS 5000

struct repl_link {
    int kind;
    repl_state *st;
    client *c;
    uint64_t gen;
    char *rbuf;               /* libuv reads land here */
    char *in;                 /* handshake / transfer bytes not yet used */
    size_t inlen, incap;
    int ip_sent;
    int auth_sent;
    /* transfer */
    int have_header;
    int fd;
    char tmpfile[128];
    long long size;           /* -1: EOF-marked */
    long long read;
    char mark[LINK_EOF_MARK];
    char tail[LINK_EOF_MARK]; /* withheld bytes that may be the mark */
    size_t taillen;
    char full_replid[41];
    long long full_offset;
    int64_t last_io_ms;
    int64_t last_progress_ms;
};

typedef struct link_connect_req {
    uv_connect_t req;
    repl_state *st;
    uint64_t gen;
} link_connect_req;

typedef struct link_write_req {
    uv_write_t req;
    char data[];
} link_write_req;

static void link_connect(repl_state *st);

client *repl_replica_master_client(repl_state *st)
{
    return st->link_state == LINK_CONNECTED && st->link ? st->link->c : NULL;
}

int repl_replica_link_up(repl_state *st)
{
    return st->link_state == LINK_CONNECTED;
}

/* ---- sending --------------------------------------------------------- */

static void link_on_write(uv_write_t *req, int status)
{
    (void)status;   /* a failed write shows up as a read error too */
    mem_free(req);
}

static void link_send(repl_link *l, const char *p, size_t len)
{
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)len);
    int w = uv_try_write((uv_stream_t *)&l->c->tcp, &b, 1);
    if (w == UV_EAGAIN || w == UV_ENOSYS)
        w = 0;
    if (w < 0)
        return;
    if ((size_t)w == len)
        return;
    link_write_req *r = mem_alloc(sizeof(*r) + len - (size_t)w);
    memcpy(r->data, p + w, len - (size_t)w);
    b = uv_buf_init(r->data, (unsigned)(len - (size_t)w));
    if (uv_write(&r->req, (uv_stream_t *)&l->c->tcp, &b, 1, link_on_write) != 0)
        mem_free(r);
}

static void link_send_cmd(repl_link *l, int argc, const char **argv)
{
    kstr o = kstr_catfmt(kstr_empty(128), "*%d\r\n", argc);
    for (int i = 0; i < argc; i++)
        o = kstr_catfmt(o, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    link_send(l, o, kstr_len(o));
    kstr_free(o);
}

void repl_replica_send_ack(repl_state *st)
{
    if (st->link_state != LINK_CONNECTED || !st->link)
        return;
    char off[32];
    snprintf(off, sizeof(off), "%lld", st->master_repl_offset);
    const char *argv[] = { "REPLCONF", "ACK", off };
    link_send_cmd(st->link, 3, argv);
    st->last_ack_ms = st->s->mstime;
}

/* ---- teardown -------------------------------------------------------- */

void repl_replica_link_free(repl_state *st, repl_link *l)
{
    srv *s = st->s;
    if (l->fd >= 0) {
        close(l->fd);
        unlink(l->tmpfile);
    }
    if (st->link == l) {
        if (st->link_state == LINK_CONNECTED) {
            log_msg(LOG_NOTICE, "Connection with master lost.");
            log_msg(LOG_NOTICE, "Caching the disconnected master state.");
            st->have_cached = 1;
            st->cached_db = l->c->db->id;
            st->down_since_ms = s->mstime;
            st->next_connect_ms = s->mstime;
            st->connect_failures = 0;
        } else {
            int64_t backoff = 1000LL << (st->connect_failures < 3 ? st->connect_failures : 3);
            if (backoff > LINK_MAX_BACKOFF_MS)
                backoff = LINK_MAX_BACKOFF_MS;
            st->next_connect_ms = s->mstime + (st->connect_failures ? backoff : 0);
            st->connect_failures++;
        }
        st->link = NULL;
        st->link_state = s->is_replica ? LINK_CONNECT : LINK_NONE;
        if (st->failover_state == 2)
            repl_failover_abort(st, "Failover target rejected psync request");
    }
    mem_free(l->rbuf);
    mem_free(l->in);
    mem_free(l);
}

/* Drop the connection; the cron reconnects. The link is freed when this
 * returns: callers must not touch it afterwards. */
static void link_fail(repl_link *l)
{
    client_close(l->c);
}

/* ---- transfer -------------------------------------------------------- */

static void link_become_connected(repl_link *l, const char *rest, size_t restlen, int dbid);

static int link_write_file(repl_link *l, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(l->fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            log_msg(LOG_WARNING, "Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA synchronization: %s",
                    strerror(errno));
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int link_open_tmpfile(repl_link *l)
{
    for (int tries = 0; tries < 5; tries++) {
        snprintf(l->tmpfile, sizeof(l->tmpfile), "temp-%ld.%ld.rdb", (long)time(NULL), (long)getpid());
        l->fd = open(l->tmpfile, O_CREAT | O_WRONLY | O_EXCL, 0644);
        if (l->fd >= 0)
            return 0;
        usleep(1000);
    }
    log_msg(LOG_WARNING, "Opening the temp file needed for MASTER <-> REPLICA synchronization: %s", strerror(errno));
    return -1;
}

/* The payload is in the temp file: replace our data with it. */
static void link_load(repl_link *l, const char *rest, size_t restlen)
{
    repl_state *st = l->st;
    srv *s = st->s;
    char err[1024];
    close(l->fd);
    l->fd = -1;
    log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: Flushing old data");
    /* Our replicas follow a stream that has ended: they resync with us. */
    repl_master_disconnect_replicas(st);
    for (int i = 0; i < s->dbnum; i++)
        db_flush(&s->dbs[i]);
    /* The master's libraries replace ours, as its data does. */
    function_flush_all(s);
    log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: Loading DB in memory");
    if (rdb_load_file(s, l->tmpfile, err, sizeof(err)) != 0) {
        log_msg(LOG_WARNING, "Failed trying to load the MASTER synchronization DB from disk, check server logs.");
        log_msg(LOG_WARNING, "%s", err);
        unlink(l->tmpfile);
        for (int i = 0; i < s->dbnum; i++)
            db_flush(&s->dbs[i]);
        link_fail(l);
        return;
    }
    /* As Redis does, the received file becomes our RDB file. */
    if (s->config.dbfilename && rename(l->tmpfile, s->config.dbfilename) != 0) {
        log_msg(LOG_WARNING, "Failed trying to rename the temp DB into %s in MASTER <-> REPLICA synchronization: %s",
                s->config.dbfilename, strerror(errno));
        unlink(l->tmpfile);
    }
    memcpy(st->replid, l->full_replid, sizeof(st->replid));
    st->master_repl_offset = l->full_offset;
    st->meaningful_offset = st->master_repl_offset;
    repl_clear_replid2(st);
    if (st->backlog)
        repl_backlog_reset(st->backlog, st->master_repl_offset);
    else
        repl_create_backlog(st);
    st->have_cached = 0;
    int usemark = l->size < 0;
    link_become_connected(l, rest, restlen, 0);
    log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: Finished with success");
    /* A diskless master starts the stream at our first ACK. */
    if (usemark)
        repl_replica_send_ack(st);
}

static void link_progress(repl_link *l)
{
    int64_t now = util_ms_now();
    if (now - l->last_progress_ms < 2000)
        return;
    l->last_progress_ms = now;
    if (l->size >= 0)
        log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: received %lld of %lld bytes (%.0f%%)", l->read, l->size,
                l->size ? 100.0 * (double)l->read / (double)l->size : 100.0);
    else
        log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: received %lld bytes", l->read);
}

/* Payload bytes. Returns the bytes consumed, or -1 when the link was
 * closed or handed over (the caller must stop). */
static long long link_payload(repl_link *l, const char *p, size_t len)
{
    if (l->size >= 0) {
        size_t n = (size_t)(l->size - l->read);
        if (n > len)
            n = len;
        if (link_write_file(l, p, n) != 0) {
            link_fail(l);
            return -1;
        }
        l->read += (long long)n;
        link_progress(l);
        if (l->read == l->size) {
            log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: received %lld bytes from master to disk", l->read);
            link_load(l, p + n, len - n);
            return -1;
        }
        return (long long)n;
    }
    /* EOF-marked: the last 40 bytes seen are withheld until we know they
     * are not the mark. */
    size_t total = l->taillen + len;
    char *buf = mem_alloc(total);
    memcpy(buf, l->tail, l->taillen);
    memcpy(buf + l->taillen, p, len);
    char *m = memmem(buf, total, l->mark, LINK_EOF_MARK);
    if (m) {
        size_t body = (size_t)(m - buf);
        int rc = link_write_file(l, buf, body);
        l->read += (long long)body;
        if (rc != 0) {
            mem_free(buf);
            link_fail(l);
            return -1;
        }
        log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: received %lld bytes of streamed RDB", l->read);
        /* Anything after the mark already belongs to the stream. */
        size_t after = body + LINK_EOF_MARK;
        char *rest = mem_memdup(buf + after, total - after);
        size_t restlen = total - after;
        mem_free(buf);
        link_load(l, rest, restlen);
        mem_free(rest);
        return -1;
    }
    size_t keep = total < LINK_EOF_MARK ? total : LINK_EOF_MARK;
    int rc = link_write_file(l, buf, total - keep);
    l->read += (long long)(total - keep);
    memcpy(l->tail, buf + total - keep, keep);
    l->taillen = keep;
    mem_free(buf);
    if (rc != 0) {
        link_fail(l);
        return -1;
    }
    link_progress(l);
    return (long long)len;
}

/* ---- handshake ------------------------------------------------------- */

static void link_send_psync(repl_link *l)
{
    repl_state *st = l->st;
    if (st->have_cached) {
        char off[32];
        snprintf(off, sizeof(off), "%lld", st->master_repl_offset + 1);
        log_msg(LOG_NOTICE, "Trying a partial resynchronization (request %s:%s).", st->replid, off);
        const char *argv[] = { "PSYNC", st->replid, off, "FAILOVER" };
        link_send_cmd(l, st->failover_state == 2 ? 4 : 3, argv);
    } else {
        log_msg(LOG_NOTICE, "Partial resynchronization not possible (no cached master)");
        const char *argv[] = { "PSYNC", "?", "-1", "FAILOVER" };
        link_send_cmd(l, st->failover_state == 2 ? 4 : 3, argv);
    }
    st->link_state = LINK_RECEIVE_PSYNC;
}

static void link_send_handshake(repl_link *l)
{
    repl_state *st = l->st;
    srv *s = st->s;
    const cfg *cf = &s->config;
    if (cf->masterauth && cf->masterauth[0]) {
        if (cf->masteruser && cf->masteruser[0]) {
            const char *argv[] = { "AUTH", cf->masteruser, cf->masterauth };
            link_send_cmd(l, 3, argv);
        } else {
            const char *argv[] = { "AUTH", cf->masterauth };
            link_send_cmd(l, 2, argv);
        }
        l->auth_sent = 1;
    }
    char port[16];
    snprintf(port, sizeof(port), "%d", cf->replica_announce_port ? cf->replica_announce_port : cf->port);
    const char *pargv[] = { "REPLCONF", "listening-port", port };
    link_send_cmd(l, 3, pargv);
    if (cf->replica_announce_ip && cf->replica_announce_ip[0]) {
        const char *iargv[] = { "REPLCONF", "ip-address", cf->replica_announce_ip };
        link_send_cmd(l, 3, iargv);
        l->ip_sent = 1;
    }
    const char *cargv[] = { "REPLCONF", "capa", "eof", "capa", "psync2" };
    link_send_cmd(l, 5, cargv);
    st->link_state = l->auth_sent ? LINK_RECEIVE_AUTH : LINK_RECEIVE_PORT;
}

/* +FULLRESYNC <replid> <offset> */
static int link_on_fullresync(repl_link *l, const char *line)
{
    /* The caller matched the 11 bytes of "+FULLRESYNC": the line may end
     * right there, so start at its terminator at the latest. */
    const char *id = line + 11;
    while (*id == ' ')
        id++;
    const char *sp = strchr(id, ' ');
    if (!sp || sp - id != 40) {
        log_msg(LOG_WARNING, "Master replied with wrong +FULLRESYNC syntax.");
        memset(l->full_replid, 0, sizeof(l->full_replid));
        return -1;
    }
    memcpy(l->full_replid, id, 40);
    l->full_replid[40] = '\0';
    l->full_offset = strtoll(sp + 1, NULL, 10);
    log_msg(LOG_NOTICE, "Full resync from master: %s:%lld", l->full_replid, l->full_offset);
    if (l->st->have_cached)
        log_msg(LOG_NOTICE, "Discarding previously cached master state.");
    l->st->have_cached = 0;
    l->st->link_state = LINK_TRANSFER;
    l->have_header = 0;
    return 0;
}

static void link_on_continue(repl_link *l, const char *line, const char *rest, size_t restlen)
{
    repl_state *st = l->st;
    log_msg(LOG_NOTICE, "Successful partial resynchronization with master.");
    const char *id = line + 9;
    while (*id == ' ')
        id++;
    if (strlen(id) >= 40 && strncmp(id, st->replid, 40) != 0) {
        /* The master changed id (it was promoted): the old one stays valid
         * up to here for replicas that still follow it. */
        memcpy(st->replid2, st->replid, sizeof(st->replid));
        st->second_replid_offset = st->master_repl_offset + 1;
        memcpy(st->replid, id, 40);
        st->replid[40] = '\0';
        log_msg(LOG_NOTICE, "Master replication ID changed to %s", st->replid);
        repl_master_disconnect_replicas(st);
    }
    log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
    repl_create_backlog(st);
    st->have_cached = 0;
    link_become_connected(l, rest, restlen, st->cached_db);
}

static int link_is_err(const char *line, const char *prefix)
{
    return strncmp(line, prefix, strlen(prefix)) == 0;
}

/* One reply line. Returns 0 to go on, -1 when the link is gone or handed
 * over. rest/restlen: the bytes that follow the line. */
static int link_on_line(repl_link *l, char *line, const char *rest, size_t restlen)
{
    repl_state *st = l->st;
    switch (st->link_state) {
    case LINK_RECEIVE_PING:
        if (line[0] == '\0')
            return 0;
        if (line[0] == '-' && !link_is_err(line, "-NOAUTH") && !link_is_err(line, "-NOPERM") &&
            !link_is_err(line, "-ERR operation not permitted")) {
            log_msg(LOG_WARNING, "Error reply to PING from master: '%s'", line);
            link_fail(l);
            return -1;
        }
        log_msg(LOG_NOTICE, "Master replied to PING, replication can continue...");
        link_send_handshake(l);
        return 0;
    case LINK_RECEIVE_AUTH:
        if (line[0] == '-') {
            log_msg(LOG_WARNING, "Unable to AUTH to MASTER: %s", line);
            link_fail(l);
            return -1;
        }
        st->link_state = LINK_RECEIVE_PORT;
        return 0;
    case LINK_RECEIVE_PORT:
        if (line[0] == '-')
            log_msg(LOG_NOTICE, "(Non critical) Master does not understand REPLCONF listening-port: %s", line);
        st->link_state = l->ip_sent ? LINK_RECEIVE_IP : LINK_RECEIVE_CAPA;
        return 0;
    case LINK_RECEIVE_IP:
        if (line[0] == '-')
            log_msg(LOG_NOTICE, "(Non critical) Master does not understand REPLCONF ip-address: %s", line);
        st->link_state = LINK_RECEIVE_CAPA;
        return 0;
    case LINK_RECEIVE_CAPA:
        if (line[0] == '-')
            log_msg(LOG_NOTICE, "(Non critical) Master does not understand REPLCONF capa: %s", line);
        link_send_psync(l);
        return 0;
    case LINK_RECEIVE_PSYNC:
        if (line[0] == '\0')
            return 0;   /* keep-alive newline */
        if (link_is_err(line, "+FULLRESYNC")) {
            repl_failover_done(st);
            if (link_on_fullresync(l, line) != 0) {
                link_fail(l);
                return -1;
            }
            return 0;
        }
        if (link_is_err(line, "+CONTINUE")) {
            repl_failover_done(st);
            link_on_continue(l, line, rest, restlen);
            return -1;
        }
        if (link_is_err(line, "-NOMASTERLINK") || link_is_err(line, "-LOADING"))
            log_msg(LOG_NOTICE, "Master is currently unable to PSYNC but should be in the future: %s", line);
        else
            log_msg(LOG_WARNING, "Unexpected reply to PSYNC from master: %s", line);
        link_fail(l);
        return -1;
    case LINK_TRANSFER:
        if (line[0] == '\0')
            return 0;   /* keep-alive newline while the master prepares */
        if (line[0] == '-') {
            log_msg(LOG_WARNING, "MASTER aborted replication with an error: %s", line);
            link_fail(l);
            return -1;
        }
        if (line[0] != '$') {
            log_msg(LOG_WARNING, "Bad protocol from MASTER, the first byte is not '$' (we received '%s'), are you sure the host and port are right?", line);
            link_fail(l);
            return -1;
        }
        if (strncmp(line + 1, "EOF:", 4) == 0 && strlen(line + 5) >= LINK_EOF_MARK) {
            memcpy(l->mark, line + 5, LINK_EOF_MARK);
            l->size = -1;
            log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
        } else {
            l->size = strtoll(line + 1, NULL, 10);
            log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync: receiving %lld bytes from master to disk", l->size);
        }
        l->read = 0;
        l->taillen = 0;
        l->last_progress_ms = util_ms_now();
        if (link_open_tmpfile(l) != 0) {
            link_fail(l);
            return -1;
        }
        l->have_header = 1;
        return 0;
    default:
        return 0;
    }
}

/* Consume l->in. Returns -1 when the link is gone or handed over. */
static int link_process(repl_link *l)
{
    size_t pos = 0;
    int rc = 0;
    while (pos < l->inlen) {
        if (l->st->link_state == LINK_TRANSFER && l->have_header) {
            long long n = link_payload(l, l->in + pos, l->inlen - pos);
            if (n < 0)
                return -1;
            pos += (size_t)n;
            continue;
        }
        char *nl = memchr(l->in + pos, '\n', l->inlen - pos);
        if (!nl)
            break;
        size_t end = (size_t)(nl - l->in);
        size_t next = end + 1;
        if (end > pos && l->in[end - 1] == '\r')
            end--;
        char line[512];
        size_t ll = end - pos < sizeof(line) - 1 ? end - pos : sizeof(line) - 1;
        memcpy(line, l->in + pos, ll);
        line[ll] = '\0';
        pos = next;
        if (link_on_line(l, line, l->in + pos, l->inlen - pos) != 0)
            return -1;
    }
    if (rc == 0 && pos > 0) {
        memmove(l->in, l->in + pos, l->inlen - pos);
        l->inlen -= pos;
    }
    if (l->inlen > 64 * 1024 && !(l->st->link_state == LINK_TRANSFER && l->have_header)) {
        log_msg(LOG_WARNING, "Master sent an overlong reply line during the handshake");
        link_fail(l);
        return -1;
    }
    return 0;
}

static void link_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    client *c = h->data;
    repl_link *l = c->repl;
    buf->base = l->rbuf;
    buf->len = LINK_READ_BUF;
}

static void link_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    client *c = stream->data;
    repl_link *l = c->repl;
    if (!l || l->kind != REPL_KIND_LINK || (c->flags & CLIENT_CLOSING))
        return;
    if (nread < 0) {
        log_msg(LOG_WARNING, "I/O error reading from MASTER during replication: %s",
                nread == UV_EOF ? "connection lost" : uv_strerror((int)nread));
        link_fail(l);
        return;
    }
    if (nread == 0)
        return;
    srv_update_time(l->st->s);
    l->last_io_ms = l->st->s->mstime;
    l->st->s->stats.net_input_bytes += nread;
    if (l->inlen + (size_t)nread > l->incap) {
        size_t cap = l->incap ? l->incap : LINK_READ_BUF;
        while (cap < l->inlen + (size_t)nread)
            cap *= 2;
        l->in = mem_realloc(l->in, cap);
        l->incap = cap;
    }
    memcpy(l->in + l->inlen, buf->base, (size_t)nread);
    l->inlen += (size_t)nread;
    link_process(l);
}

/* Hand the socket to the normal input path; rest holds stream bytes that
 * arrived with the last reply. */
static void link_become_connected(repl_link *l, const char *rest, size_t restlen, int dbid)
{
    repl_state *st = l->st;
    srv *s = st->s;
    client *c = l->c;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->flags |= CLIENT_MASTER | CLIENT_NO_REPLY | CLIENT_AUTHENTICATED;
    /* As Redis obeys its master whatever proto-max-bulk-len says; only a
     * kstr's limit remains (the flag makes cmd_string_limit give it). */
    c->parser.max_bulk_len = (size_t)cmd_string_limit(c);
    if (client_select_db(c, dbid) != 0)
        client_select_db(c, 0);
    st->link_state = LINK_CONNECTED;
    st->connect_failures = 0;
    st->down_since_ms = 0;
    c->last_interaction_ms = s->mstime;
    if (restlen) {
        c->qbuf = mem_realloc(c->qbuf, restlen + 16 * 1024);
        c->qbuf_cap = restlen + 16 * 1024;
        memcpy(c->qbuf, rest, restlen);
        c->qbuf_len = restlen;
        c->qbuf_pos = 0;
    }
    mem_free(l->in);
    l->in = NULL;
    l->inlen = l->incap = 0;
    if (client_start_reading(c) != 0) {
        link_fail(l);
        return;
    }
    repl_replica_send_ack(st);
    if (restlen)
        client_process_input(c);
}

/* ---- connecting ------------------------------------------------------ */

static void link_on_connect(uv_connect_t *req, int status)
{
    link_connect_req *cr = (link_connect_req *)req;
    repl_state *st = cr->st;
    uint64_t gen = cr->gen;
    mem_free(cr);
    if (status == UV_ECANCELED || !st->link || st->link->gen != gen)
        return;
    repl_link *l = st->link;
    srv_update_time(st->s);
    if (status < 0) {
        log_msg(LOG_WARNING, "Error condition on socket for SYNC: %s", uv_strerror(status));
        link_fail(l);
        return;
    }
    log_msg(LOG_NOTICE, "Non blocking connect for SYNC fired the event.");
    client_update_addrs(l->c);
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&l->c->tcp, &fd) == 0)
        l->c->fd = fd;
    if (!st->s->config.repl_disable_tcp_nodelay)
        uv_tcp_nodelay(&l->c->tcp, 1);
    l->last_io_ms = st->s->mstime;
    if (uv_read_start((uv_stream_t *)&l->c->tcp, link_alloc_cb, link_read_cb) != 0) {
        link_fail(l);
        return;
    }
    st->link_state = LINK_RECEIVE_PING;
    const char *argv[] = { "PING" };
    link_send_cmd(l, 1, argv);
}

static int link_resolve(const char *host, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
        return 0;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0)
        return 0;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
        return -1;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    freeaddrinfo(res);
    return 0;
}

static void link_connect(repl_state *st)
{
    srv *s = st->s;
    const char *host = s->config.replicaof_host;
    int port = s->config.replicaof_port;
    struct sockaddr_storage ss;
    log_msg(LOG_NOTICE, "Connecting to MASTER %s:%d", host, port);
    if (link_resolve(host, port, &ss) != 0) {
        log_msg(LOG_WARNING, "Unable to connect to MASTER: can't resolve '%s'", host);
        st->next_connect_ms = s->mstime + 1000;
        return;
    }
    client *c = client_new_outgoing(s);
    if (!c) {
        st->next_connect_ms = s->mstime + 1000;
        return;
    }
    repl_link *l = mem_calloc(sizeof(*l));
    l->kind = REPL_KIND_LINK;
    l->st = st;
    l->c = c;
    l->fd = -1;
    l->gen = ++st->link_gen;
    l->rbuf = mem_alloc(LINK_READ_BUF);
    l->last_io_ms = s->mstime;
    c->repl = l;
    snprintf(c->addr, sizeof(c->addr), "%s:%d", host, port);
    st->link = l;
    st->link_state = LINK_CONNECTING;
    link_connect_req *cr = mem_alloc(sizeof(*cr));
    cr->st = st;
    cr->gen = l->gen;
    int r = uv_tcp_connect(&cr->req, &c->tcp, (struct sockaddr *)&ss, link_on_connect);
    if (r != 0) {
        mem_free(cr);
        log_msg(LOG_WARNING, "Unable to connect to MASTER: %s", uv_strerror(r));
        link_fail(l);
        return;
    }
    log_msg(LOG_NOTICE, "MASTER <-> REPLICA sync started");
}

/* ---- role changes ---------------------------------------------------- */

static void repl_unblock_waiters_role_change(repl_state *st)
{
    while (st->waiters) {
        repl_waiter *w = st->waiters;
        client *c = w->c;
        c->repl = NULL;
        repl_master_waiter_free(st, w);
        reply_error(c, "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)");
        client_schedule_write(c);
    }
}

void repl_replica_set_master(repl_state *st, const char *host, int port)
{
    srv *s = st->s;
    int was_master = !s->is_replica;
    mem_free(s->config.replicaof_host);
    s->config.replicaof_host = mem_strdup(host);
    s->config.replicaof_port = port;
    s->is_replica = 1;
    /* A replica is read-only anyway: only a master is ever fenced. */
    fence_became_replica(s, host, port);
    log_set_role_char('S');
    repl_unblock_waiters_role_change(st);
    repl_master_disconnect_replicas(st);
    if (st->link)
        client_close(st->link->c);
    if (was_master) {
        long long extra = st->master_repl_offset - st->meaningful_offset;
        if (extra > 0 && st->backlog && (long long)st->backlog->histlen >= extra) {
            log_msg(LOG_NOTICE, "Trimming %lld bytes of trailing PINGs from the replication backlog", extra);
            repl_backlog_trim(st->backlog, (size_t)extra);
            st->master_repl_offset -= extra;
        }
        log_msg(LOG_NOTICE, "Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.");
        st->have_cached = 1;
        st->cached_db = st->slaveseldb < 0 ? 0 : st->slaveseldb;
        st->down_since_ms = 0;
    }
    st->link_state = LINK_CONNECT;
    st->connect_failures = 0;
    st->next_connect_ms = s->mstime;
    link_connect(st);
}

void repl_replica_unset_master(repl_state *st)
{
    srv *s = st->s;
    if (st->link)
        client_close(st->link->c);
    mem_free(s->config.replicaof_host);
    s->config.replicaof_host = NULL;
    s->config.replicaof_port = 0;
    s->is_replica = 0;
    log_set_role_char('M');
    repl_shift_replid(st);
    repl_master_disconnect_replicas(st);
    st->have_cached = 0;
    st->link_state = LINK_NONE;
    st->slaveseldb = -1;
    st->down_since_ms = 0;
    st->no_replicas_since_ms = s->mstime;
    repl_create_backlog(st);
}

/* ---- cron and INFO --------------------------------------------------- */

void repl_replica_cron(repl_state *st)
{
    srv *s = st->s;
    if (!s->is_replica)
        return;
    int64_t now = s->mstime;
    int64_t timeout = (int64_t)s->config.repl_timeout * 1000;
    repl_link *l = st->link;
    switch (st->link_state) {
    case LINK_CONNECT:
        if (!st->link && now >= st->next_connect_ms)
            link_connect(st);
        break;
    case LINK_CONNECTED:
        if (l && now - l->c->last_interaction_ms > timeout) {
            log_msg(LOG_WARNING, "MASTER timeout: no data nor PING received...");
            link_fail(l);
            break;
        }
        if (now - st->last_ack_ms >= 1000)
            repl_replica_send_ack(st);
        break;
    case LINK_TRANSFER:
        if (l && now - l->last_io_ms > timeout) {
            log_msg(LOG_WARNING, "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.");
            link_fail(l);
        }
        break;
    case LINK_NONE:
        break;
    default:
        if (l && now - l->last_io_ms > timeout) {
            log_msg(LOG_WARNING, "Timeout connecting to the MASTER...");
            link_fail(l);
        }
        break;
    }
}

const char *repl_replica_state_name(repl_state *st)
{
    switch (st->link_state) {
    case LINK_NONE: return "none";
    case LINK_CONNECT: return "connect";
    case LINK_CONNECTING: return "connecting";
    case LINK_TRANSFER: return "sync";
    case LINK_CONNECTED: return "connected";
    default: return "handshake";
    }
}

kstr repl_replica_info(repl_state *st, kstr o)
{
    srv *s = st->s;
    const cfg *cf = &s->config;
    int64_t now = s->mstime;
    client *mc = repl_replica_master_client(st);
    long long off = (mc || st->have_cached) ? st->master_repl_offset : 1;
    o = kstr_catfmt(o,
        "role:slave\r\n"
        "master_host:%s\r\n"
        "master_port:%d\r\n"
        "master_link_status:%s\r\n"
        "master_last_io_seconds_ago:%d\r\n"
        "master_sync_in_progress:%d\r\n"
        "slave_read_repl_offset:%lld\r\n"
        "slave_repl_offset:%lld\r\n",
        cf->replicaof_host ? cf->replicaof_host : "", cf->replicaof_port,
        st->link_state == LINK_CONNECTED ? "up" : "down",
        mc ? (int)((now - mc->last_interaction_ms) / 1000) : -1,
        st->link_state == LINK_TRANSFER, off, off);
    if (st->link_state == LINK_TRANSFER && st->link) {
        repl_link *l = st->link;
        long long total = l->have_header ? l->size : 0;
        long long left = total >= 0 ? total - l->read : 0;
        o = kstr_catfmt(o,
            "master_sync_total_bytes:%lld\r\n"
            "master_sync_read_bytes:%lld\r\n"
            "master_sync_left_bytes:%lld\r\n"
            "master_sync_perc:%.2f\r\n"
            "master_sync_last_io_seconds_ago:%d\r\n",
            total, l->read, left, total > 0 ? 100.0 * (double)l->read / (double)total : 0.0,
            (int)((now - l->last_io_ms) / 1000));
    }
    if (st->link_state != LINK_CONNECTED)
        o = kstr_catfmt(o, "master_link_down_since_seconds:%lld\r\n",
                        st->down_since_ms ? (long long)((now - st->down_since_ms) / 1000) : -1LL);
    return kstr_catfmt(o,
        "slave_priority:%d\r\n"
        "slave_read_only:%d\r\n"
        "replica_announced:%d\r\n",
        cf->replica_priority, cf->replica_read_only, cf->replica_announced);
}

void repl_replica_release(repl_state *st)
{
    if (st->link) {
        client *c = st->link->c;
        repl_link *l = st->link;
        c->repl = NULL;
        st->link = NULL;
        repl_replica_link_free(st, l);
    }
}
