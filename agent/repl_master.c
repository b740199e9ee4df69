/* repl_master: the master's side of replication. Replica clients (REPLCONF,
 * SYNC/PSYNC), the partial resync from the backlog, the full resync through
 * a forked snapshot, ACKs and WAIT.
 *
 * A full resync, step by step: the replica enters WAIT_BGSAVE_START; when a
 * snapshot starts (now, or after the diskless delay, or when the running
 * child is done) it gets +FULLRESYNC <replid> <offset-at-fork> and enters
 * WAIT_BGSAVE_END; from then on every stream byte is held in its `pending`
 * buffer. Disk target: the child writes a file; when it exits the file is
 * sent as $<len>\r\n<bytes> in chunks (client->on_drained asks for the next
 * one, so the whole file is never in memory), then the pending bytes follow
 * and the replica is online. Socket target (repl-diskless-sync): the child
 * writes $EOF:<mark>\r\n, the snapshot and the mark straight to the
 * replicas' sockets; the parent leaves those sockets alone meanwhile, and
 * starts the stream at the replica's first REPLCONF ACK, because a replica
 * that reads to the mark must not find stream bytes after it.
 *
 * A replica asking while a disk snapshot for replication is being made
 * shares it: it copies another waiting replica's pending bytes and
 * fork offset. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "repl_int.h"
#include "client.h"
#include "command.h"
#include "dict.h"
#include "fence.h"
#include "log.h"
#include "mem.h"
#include "rdb.h"
#include "reply.h"
#include "server.h"
#include "util.h"

#define REPL_BULK_CHUNK (1024 * 1024)
#define REPL_EOF_MARK_SIZE 40

static const char repl_ping_cmd[] = "*1\r\n$4\r\nPING\r\n";
static const char repl_getack_cmd[] = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";

static void repl_start_bgsave(repl_state *st);

/* ---- replica clients ------------------------------------------------- */

const char *repl_peer_ip(repl_peer *p, char *buf, size_t len)
{
    if (p->announced_ip[0]) {
        snprintf(buf, len, "%s", p->announced_ip);
        return buf;
    }
    snprintf(buf, len, "%s", p->c->addr);
    char *colon = strrchr(buf, ':');
    if (colon)
        *colon = '\0';
    return buf;
}

static const char *repl_peer_name(repl_peer *p, char *buf, size_t len)
{
    char ip[64];
    snprintf(buf, len, "%s:%d", repl_peer_ip(p, ip, sizeof(ip)), p->listening_port);
    return buf;
}

static repl_peer *repl_peer_get(client *c)
{
    if (c->repl)
        return *(int *)c->repl == REPL_KIND_PEER ? c->repl : NULL;
    repl_peer *p = mem_calloc(sizeof(*p));
    p->kind = REPL_KIND_PEER;
    p->c = c;
    p->rdb_fd = -1;
    c->repl = p;
    return p;
}

static void repl_peer_attach(repl_state *st, repl_peer *p)
{
    for (size_t i = 0; i < st->npeers; i++)
        if (st->peers[i] == p)
            return;
    if (st->npeers == st->peers_cap) {
        st->peers_cap = st->peers_cap ? st->peers_cap * 2 : 4;
        st->peers = mem_realloc(st->peers, st->peers_cap * sizeof(*st->peers));
    }
    st->peers[st->npeers++] = p;
    p->c->flags |= CLIENT_REPLICA;
}

void repl_master_peer_free(repl_state *st, repl_peer *p)
{
    for (size_t i = 0; i < st->npeers; i++) {
        if (st->peers[i] == p) {
            char name[128];
            if (p->state != PEER_NONE)
                log_msg(LOG_NOTICE, "Connection with replica %s lost.", repl_peer_name(p, name, sizeof(name)));
            memmove(&st->peers[i], &st->peers[i + 1], (st->npeers - i - 1) * sizeof(*st->peers));
            st->npeers--;
            break;
        }
    }
    if (st->npeers == 0)
        st->no_replicas_since_ms = st->s->mstime;
    if (p->rdb_fd >= 0)
        close(p->rdb_fd);
    p->c->on_drained = NULL;
    mem_free(p->pending);
    mem_free(p);
}

void repl_master_disconnect_replicas(repl_state *st)
{
    /* client_close detaches (and so unlinks) each one. */
    while (st->npeers > 0) {
        client *c = st->peers[st->npeers - 1]->c;
        size_t before = st->npeers;
        client_close(c);
        if (st->npeers == before) {
            /* Closing was deferred (the client is executing): forget it now. */
            repl_peer *p = st->peers[st->npeers - 1];
            c->repl = NULL;
            c->flags &= ~(uint32_t)CLIENT_REPLICA;
            repl_master_peer_free(st, p);
        }
    }
}

static void repl_pending_append(repl_peer *p, const char *buf, size_t len)
{
    if (p->plen + len > p->pcap) {
        size_t cap = p->pcap ? p->pcap : 64 * 1024;
        while (cap < p->plen + len)
            cap *= 2;
        p->pending = mem_realloc(p->pending, cap);
        p->pcap = cap;
    }
    memcpy(p->pending + p->plen, buf, len);
    p->plen += len;
    /* The held stream counts against the replica output limit, as Redis
     * counts it in the replica's output buffer. */
    const cfg_obuf_limit *lim = &p->c->srv->config.obuf_limits[1];
    if (lim->hard && p->plen >= lim->hard && !(p->c->flags & CLIENT_CLOSE_ASAP)) {
        char name[128];
        log_msg(LOG_WARNING, "Client %s closed for overcoming of output buffer limits.",
                repl_peer_name(p, name, sizeof(name)));
        p->c->srv->stats.client_obuf_limit_disconnections++;
        client_close_async(p->c);
    }
}

void repl_master_peer_feed(repl_peer *p, const char *buf, size_t len)
{
    switch (p->state) {
    case PEER_NONE:
    case PEER_WAIT_BGSAVE_START:
        return;
    case PEER_ONLINE:
        if (!p->start_on_ack) {
            reply_raw(p->c, buf, len);
            return;
        }
        /* fall through */
    default:
        repl_pending_append(p, buf, len);
    }
}

static void repl_put_online(repl_peer *p)
{
    char name[128];
    p->state = PEER_ONLINE;
    p->start_on_ack = 0;
    p->ack_time_ms = p->c->srv->mstime;
    if (p->plen)
        reply_raw(p->c, p->pending, p->plen);
    mem_free(p->pending);
    p->pending = NULL;
    p->plen = p->pcap = 0;
    log_msg(LOG_NOTICE, "Synchronization with replica %s succeeded", repl_peer_name(p, name, sizeof(name)));
}

/* ---- partial resync -------------------------------------------------- */

static void repl_emit_to_client(void *priv, const char *p, size_t len)
{
    reply_raw(priv, p, len);
}

/* 0 when the replica continues from the backlog; -1 when it needs a full
 * resync. */
static int repl_try_partial(repl_state *st, client *c, repl_peer *p)
{
    srv *s = st->s;
    char id[41], name[128];
    snprintf(id, sizeof(id), "%.*s", (int)(c->argv[1].len < 40 ? c->argv[1].len : 40), c->argv[1].ptr);
    long long offset;
    if (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &offset))
        offset = -1;
    int forced = strcmp(id, "?") == 0;
    if (strcasecmp(id, st->replid) != 0 &&
        (strcasecmp(id, st->replid2) != 0 || offset > st->second_replid_offset)) {
        if (!forced) {
            if (strcasecmp(id, st->replid) != 0 && strcasecmp(id, st->replid2) != 0)
                log_msg(LOG_NOTICE, "Partial resynchronization not accepted: Replication ID mismatch "
                        "(Replica asked for '%s', my replication IDs are '%s' and '%s')",
                        id, st->replid, st->replid2);
            else
                log_msg(LOG_NOTICE, "Partial resynchronization not accepted: Requested offset for "
                        "second ID was %lld, but I can reply up to %lld", offset, st->second_replid_offset);
        } else {
            log_msg(LOG_NOTICE, "Full resync requested by replica %s", repl_peer_name(p, name, sizeof(name)));
        }
        goto full;
    }
    if (!st->backlog || !repl_backlog_covers(st->backlog, offset)) {
        log_msg(LOG_NOTICE, "Unable to partial resync with replica %s for lack of backlog (Replica request was: %lld).",
                repl_peer_name(p, name, sizeof(name)), offset);
        if (offset > st->master_repl_offset)
            log_msg(LOG_WARNING, "Warning: replica %s tried to PSYNC with an offset that is greater than the master replication offset.",
                    repl_peer_name(p, name, sizeof(name)));
        goto full;
    }
    repl_peer_attach(st, p);
    p->state = PEER_ONLINE;
    p->ack_time_ms = s->mstime;
    if (p->capa & PEER_CAPA_PSYNC2) {
        char line[64];
        int n = snprintf(line, sizeof(line), "+CONTINUE %s\r\n", st->replid);
        reply_raw(c, line, (size_t)n);
    } else {
        reply_raw(c, "+CONTINUE\r\n", 11);
    }
    long long sent = repl_backlog_copy(st->backlog, offset, repl_emit_to_client, c);
    log_msg(LOG_NOTICE, "Partial resynchronization request from %s accepted. Sending %lld bytes of backlog starting from offset %lld.",
            repl_peer_name(p, name, sizeof(name)), sent, offset);
    s->stats.sync_partial_ok++;
    return 0;
full:
    if (!forced)
        s->stats.sync_partial_err++;
    return -1;
}

/* ---- full resync ----------------------------------------------------- */

static void repl_send_fullresync(repl_state *st, repl_peer *p, long long offset)
{
    p->psync_initial_offset = offset;
    p->state = PEER_WAIT_BGSAVE_END;
    p->plen = 0;
    if (!p->pre_psync) {
        char line[128];
        int n = snprintf(line, sizeof(line), "+FULLRESYNC %s %lld\r\n", st->replid, offset);
        reply_raw(p->c, line, (size_t)n);
    }
}

void repl_master_sync(client *c, int is_psync)
{
    srv *s = c->srv;
    repl_state *st = repl_st(s);
    char name[128];
    if (c->flags & CLIENT_REPLICA)
        return;
    if (is_psync && c->argc > 3 && util_strcasecmp_len(c->argv[3].ptr, c->argv[3].len, "failover") == 0) {
        /* The old master hands over: promote ourselves, then serve its
         * PSYNC as any other. */
        if (c->argv[1].len != 40 || strncasecmp(c->argv[1].ptr, st->replid, 40) != 0) {
            reply_error(c, "ERR PSYNC FAILOVER replid must match my replid.");
            return;
        }
        if (s->is_replica) {
            repl_replica_unset_master(st);
            kstr line = client_info_line(c, kstr_empty(256));
            log_msg(LOG_NOTICE, "MASTER MODE enabled (failover request from '%s')", line);
            kstr_free(line);
        }
    }
    if (st->failover_state) {
        reply_error(c, "NOMASTERLINK Can't SYNC while failing over");
        return;
    }
    if (s->is_replica && st->link_state != LINK_CONNECTED) {
        reply_error(c, "NOMASTERLINK Can't SYNC while not connected with my master");
        return;
    }
    /* A fenced master may be a stale one: a new replica must not copy it.
     * -NOMASTERLINK makes the replica retry later (fence.h). */
    if (s->fence.fenced) {
        reply_error(c, FENCE_ERR_SYNC);
        return;
    }
    if (client_output_bytes(c) != 0) {
        reply_error(c, "ERR SYNC and PSYNC are invalid with pending output");
        return;
    }
    repl_peer *p = repl_peer_get(c);
    if (!p) {
        reply_error(c, "ERR SYNC and PSYNC are invalid for this client");
        return;
    }
    log_msg(LOG_NOTICE, "Replica %s asks for synchronization", repl_peer_name(p, name, sizeof(name)));
    if (is_psync) {
        if (repl_try_partial(st, c, p) == 0)
            return;
    } else {
        p->pre_psync = 1;
    }
    s->stats.sync_full++;
    repl_peer_attach(st, p);
    p->state = PEER_WAIT_BGSAVE_START;
    p->wait_since_ms = s->mstime;
    p->ack_time_ms = s->mstime;
    if (st->npeers == 1 && !st->backlog) {
        repl_change_replid(st);
        repl_clear_replid2(st);
        repl_create_backlog(st);
        log_msg(LOG_NOTICE, "Replication backlog created, my new replication IDs are '%s' and '%s'",
                st->replid, st->replid2);
    }
    if (st->child_pid > 0) {
        repl_peer *other = NULL;
        if (st->child_type == CHILD_DISK) {
            for (size_t i = 0; i < st->npeers; i++) {
                repl_peer *q = st->peers[i];
                if (q != p && q->state == PEER_WAIT_BGSAVE_END && !q->socket_target) {
                    other = q;
                    break;
                }
            }
        }
        if (other) {
            repl_send_fullresync(st, p, other->psync_initial_offset);
            if (other->plen)
                repl_pending_append(p, other->pending, other->plen);
            log_msg(LOG_NOTICE, "Waiting for end of BGSAVE for SYNC");
        } else if (st->child_type == CHILD_SOCKET) {
            log_msg(LOG_NOTICE, "Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC");
        } else {
            log_msg(LOG_NOTICE, "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC");
        }
        return;
    }
    if (s->config.repl_diskless_sync && (p->capa & PEER_CAPA_EOF) && s->config.repl_diskless_sync_delay > 0) {
        log_msg(LOG_NOTICE, "Delay next BGSAVE for diskless SYNC");
        return;
    }
    repl_start_bgsave(st);
}

static void repl_child_signals(void)
{
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    log_set_role_char('C');
}

static void repl_fill_meta(repl_state *st, rdb_meta *m)
{
    srv *s = st->s;
    memset(m, 0, sizeof(*m));
    snprintf(m->redis_ver, sizeof(m->redis_ver), "%s", RDB_REDIS_VER);
    m->redis_bits = (int)(sizeof(void *) * 8);
    m->ctime = (int64_t)time(NULL);
    m->used_mem = (long long)srv_used_memory(s);
    m->has_repl = 1;
    memcpy(m->repl_id, st->replid, sizeof(m->repl_id));
    m->repl_offset = st->master_repl_offset;
    m->repl_stream_db = st->slaveseldb < 0 ? 0 : st->slaveseldb;
}

static void repl_child_disk(repl_state *st, const char *path)
{
    rdb_meta meta;
    rdb_writer w;
    repl_child_signals();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        log_msg(LOG_WARNING, "Failed opening the temp RDB file %s for saving: %s", path, strerror(errno));
        _exit(1);
    }
    repl_fill_meta(st, &meta);
    rdb_writer_init(&w, rdb_fd_write, &fd, st->s->config.rdbcompression, st->s->config.rdbchecksum);
    int rc = rdb_write_snapshot(&w, st->s, &meta);
    if (rc != 0)
        log_msg(LOG_WARNING, "Write error saving DB on disk: %s", w.err);
    if (close(fd) != 0)
        rc = -1;
    _exit(rc == 0 ? 0 : 1);
}

/* The diskless child writes to every target socket in turn. The sockets
 * are non-blocking (shared with the parent), so a full one is waited for
 * with poll. A failing replica is dropped; the others go on. */
typedef struct repl_sockset {
    int fds[64];
    int alive[64];
    int n;
    int timeout_ms;
} repl_sockset;

static int repl_sock_write_all(int fd, const char *p, size_t len, int timeout_ms)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w > 0) {
            p += w;
            len -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            int r = poll(&pfd, 1, timeout_ms);
            if (r <= 0)
                return -1;
            continue;
        }
        return -1;
    }
    return 0;
}

static int repl_sockset_write(void *priv, const void *buf, size_t len)
{
    repl_sockset *ss = priv;
    int ok = 0;
    for (int i = 0; i < ss->n; i++) {
        if (!ss->alive[i])
            continue;
        if (repl_sock_write_all(ss->fds[i], buf, len, ss->timeout_ms) != 0)
            ss->alive[i] = 0;
        else
            ok++;
    }
    if (ok == 0) {
        errno = EPIPE;
        return -1;
    }
    return 0;
}

static void repl_child_socket(repl_state *st, repl_sockset *ss, const char *mark)
{
    rdb_meta meta;
    rdb_writer w;
    char hdr[64];
    repl_child_signals();
    int n = snprintf(hdr, sizeof(hdr), "$EOF:%s\r\n", mark);
    if (repl_sockset_write(ss, hdr, (size_t)n) != 0)
        _exit(1);
    repl_fill_meta(st, &meta);
    rdb_writer_init(&w, repl_sockset_write, ss, st->s->config.rdbcompression, st->s->config.rdbchecksum);
    int rc = rdb_write_snapshot(&w, st->s, &meta);
    if (rc == 0)
        rc = repl_sockset_write(ss, mark, REPL_EOF_MARK_SIZE);
    _exit(rc == 0 ? 0 : 1);
}

static void repl_child_done(repl_state *st, int status);

static void repl_on_sigchld(uv_signal_t *h, int signum)
{
    (void)signum;
    repl_state *st = h->data;
    if (st->child_pid <= 0)
        return;
    int status;
    pid_t r = waitpid(st->child_pid, &status, WNOHANG);
    if (r == st->child_pid)
        repl_child_done(st, status);
}

static void repl_watch_children(repl_state *st)
{
    if (st->sigchld_on)
        return;
    st->sigchld = mem_alloc(sizeof(*st->sigchld));
    if (uv_signal_init(st->s->loop, st->sigchld) != 0) {
        mem_free(st->sigchld);
        st->sigchld = NULL;
        return;
    }
    st->sigchld->data = st;
    if (uv_signal_start(st->sigchld, repl_on_sigchld, SIGCHLD) != 0) {
        uv_close((uv_handle_t *)st->sigchld, repl_free_handle);
        st->sigchld = NULL;
        return;
    }
    st->sigchld_on = 1;
}

static int repl_waiting_count(repl_state *st, int *all_eof)
{
    int n = 0;
    *all_eof = 1;
    for (size_t i = 0; i < st->npeers; i++) {
        repl_peer *p = st->peers[i];
        if (p->state != PEER_WAIT_BGSAVE_START)
            continue;
        n++;
        if (!(p->capa & PEER_CAPA_EOF))
            *all_eof = 0;
    }
    return n;
}

/* Fork a snapshot for every replica in WAIT_BGSAVE_START. */
static void repl_start_bgsave(repl_state *st)
{
    srv *s = st->s;
    int all_eof;
    if (st->child_pid > 0 || rdb_bgsave_in_progress(s))
        return;   /* the cron retries when the other child is done */
    if (repl_waiting_count(st, &all_eof) == 0)
        return;
    int socket = s->config.repl_diskless_sync && all_eof;
    long long offset = st->master_repl_offset;
    repl_watch_children(st);
    log_msg(LOG_NOTICE, "Starting BGSAVE for SYNC with target: %s", socket ? "replicas sockets" : "disk");

    repl_sockset ss;
    char mark[REPL_EOF_MARK_SIZE + 1];
    memset(&ss, 0, sizeof(ss));
    if (socket) {
        util_random_hex(mark, sizeof(mark));
        for (size_t i = 0; i < st->npeers; i++) {
            repl_peer *p = st->peers[i];
            if (p->state == PEER_WAIT_BGSAVE_START && ss.n < 64)
                repl_send_fullresync(st, p, offset);
        }
        /* The child owns those sockets from the fork on: what the parent
         * queued for them (+FULLRESYNC) must be on the wire first. */
        client_flush_pending(s);
        for (size_t i = 0; i < st->npeers; i++) {
            repl_peer *p = st->peers[i];
            if (p->state != PEER_WAIT_BGSAVE_END || p->psync_initial_offset != offset || p->socket_target)
                continue;
            if (client_output_bytes(p->c) != 0 || p->c->write_in_flight || p->c->fd < 0 || ss.n >= 64) {
                client_close_async(p->c);
                continue;
            }
            p->socket_target = 1;
            ss.fds[ss.n] = p->c->fd;
            ss.alive[ss.n] = 1;
            ss.n++;
        }
        ss.timeout_ms = s->config.repl_timeout * 1000;
        if (ss.n == 0)
            return;
    } else {
        snprintf(st->child_file, sizeof(st->child_file), "temp-repl-%d-%lld.rdb", (int)getpid(),
                 (long long)s->mstime);
    }
    dict_set_resize_allowed(0);
    pid_t pid = fork();
    if (pid < 0) {
        dict_set_resize_allowed(1);
        log_msg(LOG_WARNING, "Can't save in background: fork: %s", strerror(errno));
        for (size_t i = 0; i < st->npeers; i++) {
            repl_peer *p = st->peers[i];
            if (p->state == PEER_WAIT_BGSAVE_START || p->socket_target)
                client_close_async(p->c);
        }
        return;
    }
    if (pid == 0) {
        if (socket)
            repl_child_socket(st, &ss, mark);
        repl_child_disk(st, st->child_file);
    }
    st->child_pid = pid;
    st->child_type = socket ? CHILD_SOCKET : CHILD_DISK;
    st->child_start_ms = util_ms_now();
    if (!socket) {
        for (size_t i = 0; i < st->npeers; i++) {
            repl_peer *p = st->peers[i];
            if (p->state == PEER_WAIT_BGSAVE_START)
                repl_send_fullresync(st, p, offset);
        }
        log_msg(LOG_NOTICE, "Background saving started by pid %ld", (long)pid);
    } else {
        log_msg(LOG_NOTICE, "Background RDB transfer started by pid %ld", (long)pid);
    }
    /* The snapshot is at `offset`; the stream after it must open with a
     * SELECT, whatever db the replicas' loaders end in. */
    st->slaveseldb = -1;
}

/* on_drained: the next chunk of the snapshot file, then the stream. */
static void repl_send_bulk_chunk(client *c)
{
    static char buf[REPL_BULK_CHUNK];
    repl_peer *p = c->repl;
    if (!p || p->kind != REPL_KIND_PEER || p->state != PEER_SEND_BULK)
        return;
    if (p->rdb_off < p->rdb_size) {
        size_t want = (size_t)(p->rdb_size - p->rdb_off);
        if (want > sizeof(buf))
            want = sizeof(buf);
        ssize_t n = pread(p->rdb_fd, buf, want, p->rdb_off);
        if (n <= 0) {
            log_msg(LOG_WARNING, "Read error sending DB to replica: %s", n < 0 ? strerror(errno) : "premature EOF");
            client_close_async(c);
            return;
        }
        p->rdb_off += n;
        reply_raw(c, buf, (size_t)n);
        return;
    }
    close(p->rdb_fd);
    p->rdb_fd = -1;
    c->on_drained = NULL;
    repl_put_online(p);
}

static void repl_disk_done(repl_state *st, int ok)
{
    char name[128];
    for (size_t i = 0; i < st->npeers; i++) {
        repl_peer *p = st->peers[i];
        if (p->state != PEER_WAIT_BGSAVE_END || p->socket_target)
            continue;
        if (!ok) {
            log_msg(LOG_WARNING, "SYNC failed. BGSAVE child returned an error");
            client_close_async(p->c);
            continue;
        }
        struct stat sb;
        int fd = open(st->child_file, O_RDONLY);
        if (fd < 0 || fstat(fd, &sb) != 0) {
            log_msg(LOG_WARNING, "SYNC failed. Can't open/stat DB after BGSAVE: %s", strerror(errno));
            if (fd >= 0)
                close(fd);
            client_close_async(p->c);
            continue;
        }
        p->rdb_fd = fd;
        p->rdb_off = 0;
        p->rdb_size = sb.st_size;
        p->state = PEER_SEND_BULK;
        char hdr[32];
        int n = snprintf(hdr, sizeof(hdr), "$%lld\r\n", (long long)sb.st_size);
        reply_raw(p->c, hdr, (size_t)n);
        p->c->on_drained = repl_send_bulk_chunk;
        log_msg(LOG_VERBOSE, "Sending %lld bytes of RDB to replica %s", (long long)sb.st_size,
                repl_peer_name(p, name, sizeof(name)));
    }
    /* Every reader has its descriptor: the name is no longer needed. */
    unlink(st->child_file);
}

static void repl_socket_done(repl_state *st, int ok)
{
    char name[128];
    for (size_t i = 0; i < st->npeers; i++) {
        repl_peer *p = st->peers[i];
        if (!p->socket_target)
            continue;
        p->socket_target = 0;
        if (!ok) {
            log_msg(LOG_WARNING, "Diskless rdb transfer to replica %s failed", repl_peer_name(p, name, sizeof(name)));
            client_close_async(p->c);
            continue;
        }
        p->state = PEER_ONLINE;
        p->start_on_ack = 1;
        p->ack_time_ms = st->s->mstime;
        log_msg(LOG_NOTICE, "Streamed RDB transfer with replica %s succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming",
                repl_peer_name(p, name, sizeof(name)));
        if (p->acked_in_transfer)
            repl_put_online(p);
        p->acked_in_transfer = 0;
    }
}

static void repl_child_done(repl_state *st, int status)
{
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    int type = st->child_type;
    st->child_pid = -1;
    st->child_type = CHILD_NONE;
    dict_set_resize_allowed(1);
    if (type == CHILD_DISK) {
        log_msg(ok ? LOG_NOTICE : LOG_WARNING, ok ? "Background saving terminated with success" : "Background saving error");
        repl_disk_done(st, ok);
    } else {
        log_msg(ok ? LOG_NOTICE : LOG_WARNING, ok ? "Background RDB transfer terminated with success" : "Background transfer error");
        repl_socket_done(st, ok);
    }
    /* Replicas that asked meanwhile get the next snapshot. */
    int all_eof;
    if (repl_waiting_count(st, &all_eof) > 0 && !(st->s->config.repl_diskless_sync && all_eof &&
                                                  st->s->config.repl_diskless_sync_delay > 0))
        repl_start_bgsave(st);
}

/* ---- REPLCONF -------------------------------------------------------- */

static int repl_arg_is(const resp_arg *a, const char *s)
{
    return util_strcasecmp_len(a->ptr, a->len, s) == 0;
}

static void repl_schedule_wake(repl_state *st);

static void repl_handle_ack(repl_state *st, client *c, const resp_arg *arg)
{
    repl_peer *p = c->repl;
    long long off;
    if (!(c->flags & CLIENT_REPLICA) || !p || p->kind != REPL_KIND_PEER)
        return;
    if (!util_str_to_ll(arg->ptr, arg->len, &off))
        return;
    if (off > p->ack_off)
        p->ack_off = off;
    p->ack_time_ms = st->s->mstime;
    if (p->state == PEER_ONLINE && p->start_on_ack)
        repl_put_online(p);
    else if (p->state == PEER_WAIT_BGSAVE_END && p->socket_target)
        p->acked_in_transfer = 1;   /* it read the mark: the child is done */
    if (st->waiters)
        repl_schedule_wake(st);
}

void repl_master_replconf(client *c)
{
    srv *s = c->srv;
    repl_state *st = repl_st(s);
    if ((c->argc % 2) == 0) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    for (int i = 1; i < c->argc; i += 2) {
        const resp_arg *opt = &c->argv[i], *val = &c->argv[i + 1];
        if (repl_arg_is(opt, "ack")) {
            /* Replicas never get a reply to an ACK. */
            repl_handle_ack(st, c, val);
            return;
        }
        if (repl_arg_is(opt, "getack")) {
            /* Answered once the GETACK itself is counted, so a master
             * waiting for our offset to match its own (FAILOVER, WAIT)
             * sees it match. */
            if ((c->flags & CLIENT_MASTER) && s->is_replica)
                st->ack_after_command = 1;
            return;
        }
    }
    repl_peer *p = repl_peer_get(c);
    for (int i = 1; i < c->argc; i += 2) {
        const resp_arg *opt = &c->argv[i], *val = &c->argv[i + 1];
        if (repl_arg_is(opt, "listening-port")) {
            long long port;
            if (!util_str_to_ll(val->ptr, val->len, &port) || port < 0 || port > 65535) {
                reply_error(c, ERR_NOT_INT);
                return;
            }
            if (p)
                p->listening_port = (int)port;
        } else if (repl_arg_is(opt, "ip-address")) {
            if (val->len >= sizeof(p->announced_ip)) {
                reply_errorf(c, "ERR REPLCONF ip-address provided by replica instance is too long: %zu bytes", val->len);
                return;
            }
            if (p)
                snprintf(p->announced_ip, sizeof(p->announced_ip), "%.*s", (int)val->len, val->ptr);
        } else if (repl_arg_is(opt, "capa")) {
            if (p && repl_arg_is(val, "eof"))
                p->capa |= PEER_CAPA_EOF;
            else if (p && repl_arg_is(val, "psync2"))
                p->capa |= PEER_CAPA_PSYNC2;
        } else if (repl_arg_is(opt, "rdb-only") || repl_arg_is(opt, "rdb-filter-only")) {
            /* accepted; nothing to filter */
        } else {
            reply_errorf(c, "ERR Unrecognized REPLCONF option: %.*s", (int)(opt->len > 128 ? 128 : opt->len), opt->ptr);
            return;
        }
    }
    reply_ok(c);
}

/* ---- WAIT ------------------------------------------------------------ */

static long long repl_count_acked(repl_state *st, long long offset)
{
    long long n = 0;
    for (size_t i = 0; i < st->npeers; i++) {
        repl_peer *p = st->peers[i];
        if (p->state == PEER_ONLINE && p->ack_off >= offset)
            n++;
    }
    return n;
}

static void repl_wake_cb(uv_timer_t *t)
{
    repl_state *st = t->data;
    repl_master_check_waiters(st);
}

static void repl_schedule_wake(repl_state *st)
{
    if (!uv_is_active((uv_handle_t *)st->wake_timer))
        uv_timer_start(st->wake_timer, repl_wake_cb, 0, 0);
}

void repl_master_request_acks(repl_state *st)
{
    if (st->npeers > 0 && !st->s->is_replica)
        repl_feed_stream(st, repl_getack_cmd, sizeof(repl_getack_cmd) - 1);
}

void repl_master_wait(client *c)
{
    srv *s = c->srv;
    repl_state *st = repl_st(s);
    long long num, timeout;
    if (s->is_replica) {
        reply_error(c, "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 "
                       "if a replica is configured to be writable (which is not the default) writes to replicas "
                       "are just local and are not propagated.");
        return;
    }
    if (!util_str_to_ll(c->argv[1].ptr, c->argv[1].len, &num)) {
        reply_error(c, ERR_NOT_INT);
        return;
    }
    if (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &timeout)) {
        reply_error(c, "ERR timeout is not an integer or out of range");
        return;
    }
    if (timeout < 0) {
        reply_error(c, ERR_TIMEOUT_NEGATIVE);
        return;
    }
    long long offset = st->master_repl_offset;
    long long acked = repl_count_acked(st, offset);
    if (acked >= num || (c->flags & CLIENT_IN_EXEC) || c->repl || (c->flags & CLIENT_FAKE)) {
        reply_int(c, acked);
        return;
    }
    repl_waiter *w = mem_calloc(sizeof(*w));
    w->kind = REPL_KIND_WAITER;
    w->c = c;
    w->offset = offset;
    w->numreplicas = num;
    w->timeout_ms = timeout > 0 ? s->mstime + timeout : 0;
    w->next = st->waiters;
    st->waiters = w;
    c->repl = w;
    c->flags |= CLIENT_BLOCKED;
    s->blocked_clients++;
    repl_master_request_acks(st);
}

static void repl_waiter_unlink(repl_state *st, repl_waiter *w)
{
    for (repl_waiter **pp = &st->waiters; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            return;
        }
    }
}

void repl_master_waiter_free(repl_state *st, repl_waiter *w)
{
    repl_waiter_unlink(st, w);
    if (w->c->flags & CLIENT_BLOCKED) {
        w->c->flags &= ~(uint32_t)CLIENT_BLOCKED;
        if (st->s->blocked_clients > 0)
            st->s->blocked_clients--;
    }
    mem_free(w);
}

void repl_master_check_waiters(repl_state *st)
{
    srv *s = st->s;
    srv_update_time(s);
    repl_waiter *w = st->waiters;
    while (w) {
        repl_waiter *next = w->next;
        client *c = w->c;
        if (!(c->flags & CLIENT_BLOCKED)) {
            /* CLIENT UNBLOCK already answered it. */
            c->repl = NULL;
            repl_waiter_unlink(st, w);
            mem_free(w);
        } else {
            long long acked = repl_count_acked(st, w->offset);
            if (acked >= w->numreplicas || (w->timeout_ms && s->mstime >= w->timeout_ms)) {
                c->repl = NULL;
                repl_master_waiter_free(st, w);
                reply_int(c, acked);
                client_process_input(c);
                client_schedule_write(c);
            }
        }
        w = next;
    }
}

/* ---- cron ------------------------------------------------------------ */

int repl_master_good_replicas(repl_state *st)
{
    int n = 0;
    int64_t lag_ms = (int64_t)st->s->config.min_replicas_max_lag * 1000;
    for (size_t i = 0; i < st->npeers; i++) {
        repl_peer *p = st->peers[i];
        if (p->state == PEER_ONLINE && st->s->mstime - p->ack_time_ms <= lag_ms)
            n++;
    }
    return n;
}

void repl_master_cron(repl_state *st)
{
    srv *s = st->s;
    int64_t now = s->mstime;
    char name[128];
    if (st->child_pid > 0) {
        int status;
        pid_t r = waitpid(st->child_pid, &status, WNOHANG);
        if (r == st->child_pid)
            repl_child_done(st, status);
    }
    /* Keep replicas waiting for a snapshot from timing out. */
    if (now - st->last_keepalive_ms >= 1000) {
        st->last_keepalive_ms = now;
        for (size_t i = 0; i < st->npeers; i++) {
            repl_peer *p = st->peers[i];
            if (p->state == PEER_WAIT_BGSAVE_START || (p->state == PEER_WAIT_BGSAVE_END && !p->socket_target))
                reply_raw(p->c, "\n", 1);
        }
    }
    if (!s->is_replica && st->npeers > 0 &&
        now - st->last_ping_ms >= (int64_t)s->config.repl_ping_replica_period * 1000) {
        st->last_ping_ms = now;
        /* PINGs a promoted replica never got must not cost the old master
         * its partial resync: remember the offset before them. */
        long long meaningful = st->meaningful_offset;
        repl_feed_stream(st, repl_ping_cmd, sizeof(repl_ping_cmd) - 1);
        st->meaningful_offset = meaningful;
    }
    for (size_t i = 0; i < st->npeers; i++) {
        repl_peer *p = st->peers[i];
        if (p->state == PEER_ONLINE && !p->pre_psync && !(p->c->flags & CLIENT_CLOSE_ASAP) &&
            now - p->ack_time_ms > (int64_t)s->config.repl_timeout * 1000) {
            log_msg(LOG_WARNING, "Disconnecting timedout replica (streaming sync): %s",
                    repl_peer_name(p, name, sizeof(name)));
            client_close_async(p->c);
        }
    }
    /* Snapshots waiting to start: diskless ones after the delay, so more
     * replicas can share one transfer. */
    int all_eof;
    if (st->child_pid <= 0 && repl_waiting_count(st, &all_eof) > 0) {
        int64_t oldest = now;
        for (size_t i = 0; i < st->npeers; i++)
            if (st->peers[i]->state == PEER_WAIT_BGSAVE_START && st->peers[i]->wait_since_ms < oldest)
                oldest = st->peers[i]->wait_since_ms;
        if (!(s->config.repl_diskless_sync && all_eof) ||
            now - oldest >= (int64_t)s->config.repl_diskless_sync_delay * 1000)
            repl_start_bgsave(st);
    }
    if (!s->is_replica && st->backlog && st->npeers == 0 && s->config.repl_backlog_ttl > 0 &&
        now - st->no_replicas_since_ms > s->config.repl_backlog_ttl * 1000) {
        repl_backlog_free(st->backlog);
        st->backlog = NULL;
        repl_change_replid(st);
        repl_clear_replid2(st);
        log_msg(LOG_NOTICE, "Replication backlog freed after %lld seconds without connected replicas.",
                s->config.repl_backlog_ttl);
    }
    if (st->waiters)
        repl_master_check_waiters(st);
}

void repl_master_release(repl_state *st)
{
    if (st->child_pid > 0) {
        int status;
        kill(st->child_pid, SIGUSR1);
        while (waitpid(st->child_pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (st->child_type == CHILD_DISK)
            unlink(st->child_file);
        st->child_pid = -1;
    }
    if (st->sigchld_on) {
        uv_signal_stop(st->sigchld);
        uv_close((uv_handle_t *)st->sigchld, repl_free_handle);
        st->sigchld = NULL;
        st->sigchld_on = 0;
    }
    while (st->waiters) {
        repl_waiter *w = st->waiters;
        w->c->repl = NULL;
        repl_master_waiter_free(st, w);
    }
    while (st->npeers > 0) {
        repl_peer *p = st->peers[st->npeers - 1];
        p->c->repl = NULL;
        repl_master_peer_free(st, p);
    }
}
