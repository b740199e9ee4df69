/* repl: the replication module's core: the replication ids and offset, the
 * backlog, encoding and feeding the stream, the commands (REPLICAOF/SLAVEOF,
 * REPLCONF, PSYNC, SYNC, WAIT, ROLE, FAILOVER), INFO replication, the guard
 * that refuses writes without enough good replicas, and the hooks into the
 * server. The two roles live in repl_master.c and repl_replica.c.
 *
 * PSYNC2 in one paragraph: a stream is named by a replication id; offsets
 * count its bytes. When a replica is promoted it keeps the id it followed
 * as replid2 (valid up to second_replid_offset) and takes a new replid, so
 * the old master's other replicas, asking for the old id at an offset it
 * has, can continue from its backlog instead of loading a new snapshot. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "repl.h"
#include "repl_int.h"
#include "client.h"
#include "command.h"
#include "config.h"
#include "fence.h"
#include "log.h"
#include "mem.h"
#include "rdb.h"
#include "reply.h"
#include "server.h"
#include "util.h"

repl_state *repl_st(srv *s)
{
    return s->repl;
}

void repl_change_replid(repl_state *st)
{
    util_random_hex(st->replid, sizeof(st->replid));
}

void repl_clear_replid2(repl_state *st)
{
    memset(st->replid2, '0', 40);
    st->replid2[40] = '\0';
    st->second_replid_offset = -1;
}

/* Promotion: remember the id we followed (valid up to the next byte we did
 * not get) and take a new one. */
void repl_shift_replid(repl_state *st)
{
    memcpy(st->replid2, st->replid, sizeof(st->replid));
    st->second_replid_offset = st->master_repl_offset + 1;
    repl_change_replid(st);
    log_msg(LOG_NOTICE, "Setting secondary replication ID to %s, valid up to offset: %lld. New replication ID is %s",
            st->replid2, st->second_replid_offset, st->replid);
}

void repl_create_backlog(repl_state *st)
{
    if (st->backlog)
        return;
    st->backlog = repl_backlog_create((size_t)st->s->config.repl_backlog_size, st->master_repl_offset);
}

int repl_current_position(srv *s, char *id, long long *offset)
{
    repl_state *st = repl_st(s);
    if (!st)
        return -1;
    memcpy(id, st->replid, 41);
    *offset = st->master_repl_offset;
    return 0;
}

/* ---- the stream ------------------------------------------------------ */

void repl_feed_stream(repl_state *st, const char *p, size_t len)
{
    if (st->backlog)
        repl_backlog_feed(st->backlog, p, len);
    st->master_repl_offset += (long long)len;
    st->meaningful_offset = st->master_repl_offset;
    /* Feeding a replica may close it (its output limit) and unlink it from
     * st->peers, shifting the ones after it down a slot: step on only when
     * the slot still holds the peer just fed, or the next replica would
     * miss these bytes and stay behind the master for good. */
    for (size_t i = 0; i < st->npeers;) {
        repl_peer *fed = st->peers[i];
        repl_master_peer_feed(fed, p, len);
        if (i < st->npeers && st->peers[i] == fed)
            i++;
    }
}

static kstr repl_enc_header(kstr o, char prefix, long long n)
{
    char hdr[RESP_LEN_HEADER_MAX];
    return kstr_cat(o, hdr, resp_len_header(hdr, prefix, n));
}

static kstr repl_enc_bulk(kstr o, const char *p, size_t len)
{
    o = repl_enc_header(o, '$', (long long)len);
    o = kstr_cat(o, p, len);
    return kstr_cat(o, "\r\n", 2);
}

void repl_feed_command(repl_state *st, int dbid, int argc, const resp_arg *argv)
{
    kstr o = st->encbuf;
    kstr_set_len(o, 0);
    if (dbid >= 0 && dbid != st->slaveseldb) {
        char num[24];
        int n = util_ll_to_str(num, sizeof(num), dbid);
        o = kstr_cat(o, "*2\r\n$6\r\nSELECT\r\n", 16);
        o = repl_enc_bulk(o, num, (size_t)n);
        st->slaveseldb = dbid;
    }
    o = repl_enc_header(o, '*', argc);
    for (int i = 0; i < argc; i++)
        o = repl_enc_bulk(o, argv[i].ptr, argv[i].len);
    st->encbuf = o;
    repl_feed_stream(st, o, kstr_len(o));
    /* Do not let one huge command pin a huge buffer. */
    if (kstr_cap(st->encbuf) > 1024 * 1024) {
        kstr_free(st->encbuf);
        st->encbuf = kstr_empty(256);
    }
}

/* srv->propagate: only a master originates a stream; a replica forwards its
 * master's bytes from repl_on_master_stream instead. */
static void repl_propagate(srv *s, int dbid, int argc, const resp_arg *argv)
{
    repl_state *st = repl_st(s);
    if (s->is_replica || (!st->backlog && st->npeers == 0))
        return;
    repl_feed_command(st, dbid, argc, argv);
}

static void repl_on_master_stream(srv *s, client *master, const char *bytes, size_t len)
{
    (void)master;
    repl_state *st = repl_st(s);
    if (st->link_state != LINK_CONNECTED)
        return;
    repl_feed_stream(st, bytes, len);
    if (st->ack_after_command) {
        st->ack_after_command = 0;
        repl_replica_send_ack(st);
    }
}

static void repl_on_client_free(srv *s, client *c)
{
    repl_state *st = repl_st(s);
    int kind = *(int *)c->repl;
    if (kind == REPL_KIND_PEER)
        repl_master_peer_free(st, c->repl);
    else if (kind == REPL_KIND_WAITER)
        repl_master_waiter_free(st, c->repl);
    else if (kind == REPL_KIND_LINK)
        repl_replica_link_free(st, c->repl);
    c->repl = NULL;
}

/* ---- RDB AUX fields -------------------------------------------------- */

static void repl_rdb_meta(srv *s, rdb_meta *m, void *priv)
{
    repl_state *st = priv;
    m->has_repl = 1;
    memcpy(m->repl_id, st->replid, sizeof(m->repl_id));
    m->repl_offset = st->master_repl_offset;
    if (s->is_replica) {
        client *mc = repl_replica_master_client(st);
        m->repl_stream_db = mc ? mc->db->id : st->cached_db;
    } else {
        m->repl_stream_db = st->slaveseldb < 0 ? 0 : st->slaveseldb;
    }
}

static int repl_stop_at_first_key(void *priv, int dbid, kstr key, obj *val, int64_t expire_ms)
{
    (void)priv;
    (void)dbid;
    (void)expire_ms;
    kstr_free(key);
    obj_free(val);
    return -1;
}

/* The AUX fields of the RDB loaded at start-up (they precede every key). */
static int repl_read_rdb_meta(const char *path, rdb_meta *out)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    rdb_reader r;
    rdb_reader_init(&r, rdb_fd_read, &fd);
    r.on_key = repl_stop_at_first_key;
    (void)rdb_read_all(&r);
    *out = r.meta;
    rdb_reader_release(&r);
    close(fd);
    return out->has_repl ? 0 : -1;
}

/* ---- guard ----------------------------------------------------------- */

static int repl_cmd_writes(client *c, const cmd_def *cmd)
{
    if (cmd->flags & CMD_WRITE)
        return 1;
    if (strcmp(cmd->name, "exec") == 0 && (c->flags & CLIENT_MULTI)) {
        for (int i = 0; i < c->mstate.count; i++)
            if (c->mstate.cmds[i].cmd->flags & CMD_WRITE)
                return 1;
    }
    return 0;
}

int repl_refuses_stale(srv *s)
{
    repl_state *st = s->repl;
    return st != NULL && s->is_replica && !s->config.replica_serve_stale_data && st->link_state != LINK_CONNECTED;
}

int repl_lacks_good_replicas(srv *s)
{
    repl_state *st = s->repl;
    return st != NULL && !s->is_replica && s->config.min_replicas_to_write > 0 &&
           s->config.min_replicas_max_lag > 0 && repl_master_good_replicas(st) < s->config.min_replicas_to_write;
}

/* A command a stale replica refuses: one without CMD_STALE, or an EXEC
 * (itself allowed) that queued one, since the link may have dropped after
 * the queuing, as 7.0 checks. */
static int repl_cmd_denied_stale(const client *c, const cmd_def *cmd)
{
    if (!(cmd->flags & CMD_STALE))
        return 1;
    if (strcmp(cmd->name, "exec") == 0 && (c->flags & CLIENT_MULTI)) {
        for (int i = 0; i < c->mstate.count; i++)
            if (!(c->mstate.cmds[i].cmd->flags & CMD_STALE))
                return 1;
    }
    return 0;
}

static const char *repl_guard(client *c, const cmd_def *cmd, void *priv)
{
    repl_state *st = priv;
    srv *s = c->srv;
    if (s->is_replica) {
        if (!s->config.replica_serve_stale_data && st->link_state != LINK_CONNECTED &&
            repl_cmd_denied_stale(c, cmd))
            return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
        return NULL;
    }
    if (s->config.min_replicas_to_write > 0 && s->config.min_replicas_max_lag > 0 &&
        repl_cmd_writes(c, cmd) && repl_master_good_replicas(st) < s->config.min_replicas_to_write)
        return "NOREPLICAS Not enough good replicas to write.";
    return NULL;
}

/* ---- INFO replication ------------------------------------------------ */

static const char *repl_failover_state_name(repl_state *st)
{
    switch (st->failover_state) {
    case 1: return "waiting-for-sync";
    case 2: return "failover-in-progress";
    default: return "no-failover";
    }
}

static const char *repl_peer_state_name(int state)
{
    switch (state) {
    case PEER_WAIT_BGSAVE_START:
    case PEER_WAIT_BGSAVE_END: return "wait_bgsave";
    case PEER_SEND_BULK: return "send_bulk";
    case PEER_ONLINE: return "online";
    default: return "none";
    }
}

static kstr repl_info(srv *s, void *priv, const char *section, kstr o)
{
    repl_state *st = priv;
    (void)section;
    o = kstr_cat_cstr(o, "# Replication\r\n");
    if (s->is_replica) {
        o = repl_replica_info(st, o);
    } else {
        o = kstr_cat_cstr(o, "role:master\r\n");
    }
    size_t connected = 0;
    for (size_t i = 0; i < st->npeers; i++)
        if (st->peers[i]->state != PEER_NONE)
            connected++;
    o = kstr_catfmt(o, "connected_slaves:%zu\r\n", connected);
    if (s->config.min_replicas_to_write && s->config.min_replicas_max_lag)
        o = kstr_catfmt(o, "min_slaves_good_slaves:%d\r\n", repl_master_good_replicas(st));
    int n = 0;
    for (size_t i = 0; i < st->npeers; i++) {
        repl_peer *p = st->peers[i];
        if (p->state == PEER_NONE)
            continue;
        char ip[64];
        long long lag = (s->mstime - p->ack_time_ms) / 1000;
        o = kstr_catfmt(o, "slave%d:ip=%s,port=%d,state=%s,offset=%lld,lag=%lld\r\n", n++,
                        repl_peer_ip(p, ip, sizeof(ip)), p->listening_port,
                        repl_peer_state_name(p->state), p->ack_off, lag);
    }
    long long first = 0, histlen = 0;
    if (st->backlog) {
        first = repl_backlog_first_offset(st->backlog);
        histlen = (long long)st->backlog->histlen;
    }
    return kstr_catfmt(o,
        "master_failover_state:%s\r\n"
        "master_replid:%s\r\n"
        "master_replid2:%s\r\n"
        "master_repl_offset:%lld\r\n"
        "second_repl_offset:%lld\r\n"
        "repl_backlog_active:%d\r\n"
        "repl_backlog_size:%llu\r\n"
        "repl_backlog_first_byte_offset:%lld\r\n"
        "repl_backlog_histlen:%lld\r\n",
        repl_failover_state_name(st), st->replid, st->replid2, st->master_repl_offset,
        st->second_replid_offset, st->backlog != NULL, s->config.repl_backlog_size, first, histlen);
}

/* ---- commands -------------------------------------------------------- */

static int repl_arg_is(const resp_arg *a, const char *s)
{
    return util_strcasecmp_len(a->ptr, a->len, s) == 0;
}

static void repl_client_desc(client *c, char *buf, size_t len)
{
    kstr line = client_info_line(c, kstr_empty(256));
    snprintf(buf, len, "%s", line);
    kstr_free(line);
}

static void cmd_replicaof(client *c)
{
    srv *s = c->srv;
    repl_state *st = repl_st(s);
    char desc[1024];
    if (st->failover_state) {
        reply_error(c, "ERR REPLICAOF not allowed while failing over.");
        return;
    }
    if (repl_arg_is(&c->argv[1], "no") && repl_arg_is(&c->argv[2], "one")) {
        if (s->is_replica) {
            repl_replica_unset_master(st);
            repl_client_desc(c, desc, sizeof(desc));
            log_msg(LOG_NOTICE, "MASTER MODE enabled (user request from '%s')", desc);
        } else if (s->fence.fenced) {
            /* The controller's confirmation that we are (still) the master. */
            repl_client_desc(c, desc, sizeof(desc));
            fence_confirm_master(s, desc);
        }
        reply_ok(c);
        return;
    }
    if (c->flags & CLIENT_REPLICA) {
        reply_error(c, "ERR Command is not valid when client is a replica.");
        return;
    }
    long long port;
    if (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &port) || port < 0 || port > 65535) {
        reply_error(c, "ERR Invalid master port");
        return;
    }
    char host[256];
    snprintf(host, sizeof(host), "%.*s", (int)(c->argv[1].len < 255 ? c->argv[1].len : 255), c->argv[1].ptr);
    if (s->is_replica && s->config.replicaof_host && strcasecmp(s->config.replicaof_host, host) == 0 &&
        s->config.replicaof_port == port) {
        log_msg(LOG_NOTICE, "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
        reply_simple(c, "OK Already connected to specified master");
        return;
    }
    repl_replica_set_master(st, host, (int)port);
    repl_client_desc(c, desc, sizeof(desc));
    log_msg(LOG_NOTICE, "REPLICAOF %s:%d enabled (user request from '%s')", host, (int)port, desc);
    reply_ok(c);
}

static void cmd_role(client *c)
{
    srv *s = c->srv;
    repl_state *st = repl_st(s);
    if (s->is_replica) {
        reply_array(c, 5);
        reply_bulk_cstr(c, "slave");
        reply_bulk_cstr(c, s->config.replicaof_host);
        reply_int(c, s->config.replicaof_port);
        reply_bulk_cstr(c, repl_replica_state_name(st));
        client *mc = repl_replica_master_client(st);
        reply_int(c, mc ? st->master_repl_offset : -1);
        return;
    }
    reply_array(c, 3);
    reply_bulk_cstr(c, "master");
    reply_int(c, st->master_repl_offset);
    size_t n = 0;
    for (size_t i = 0; i < st->npeers; i++)
        if (st->peers[i]->state != PEER_NONE)
            n++;
    reply_array(c, (long long)n);
    for (size_t i = 0; i < st->npeers; i++) {
        repl_peer *p = st->peers[i];
        if (p->state == PEER_NONE)
            continue;
        char ip[64];
        reply_array(c, 3);
        reply_bulk_cstr(c, repl_peer_ip(p, ip, sizeof(ip)));
        reply_bulk_ll(c, p->listening_port);
        reply_bulk_ll(c, p->ack_off);
    }
}

static void cmd_sync(client *c)
{
    repl_master_sync(c, 0);
}

static void cmd_psync(client *c)
{
    repl_master_sync(c, 1);
}

static void cmd_replconf(client *c)
{
    repl_master_replconf(c);
}

static void cmd_wait(client *c)
{
    repl_master_wait(c);
}

static void repl_failover_command(client *c);

static void cmd_failover(client *c)
{
    repl_failover_command(c);
}

const cmd_def repl_commands[] = {
    {"replicaof", cmd_replicaof, 3, CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE, 0, 0, 0, "@admin @slow @dangerous"},
    {"slaveof", cmd_replicaof, 3, CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE, 0, 0, 0, "@admin @slow @dangerous"},
    {"replconf", cmd_replconf, -1, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_ALLOW_BUSY, 0, 0, 0, "@admin @slow @dangerous"},
    {"psync", cmd_psync, -3, CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_MULTI, 0, 0, 0, "@admin @slow @dangerous"},
    {"sync", cmd_sync, 1, CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_MULTI, 0, 0, 0, "@admin @slow @dangerous"},
    {"wait", cmd_wait, 3, CMD_NOSCRIPT, 0, 0, 0, "@slow @connection"},
    {"role", cmd_role, 1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0, "@admin @fast @dangerous"},
    {"failover", cmd_failover, -1, CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE, 0, 0, 0, "@admin @slow @dangerous"},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};

/* ---- life cycle ------------------------------------------------------ */

static void repl_failover_cron(repl_state *st);

static void repl_cron(srv *s, void *priv)
{
    repl_state *st = priv;
    (void)s;
    /* CONFIG SET repl-backlog-size takes effect here. */
    if (st->backlog && st->backlog->size != (size_t)s->config.repl_backlog_size)
        repl_backlog_resize(st->backlog, (size_t)s->config.repl_backlog_size);
    repl_master_cron(st);
    repl_replica_cron(st);
    repl_failover_cron(st);
}

int repl_module_init(srv *s, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    if (s->repl)
        return 0;   /* already initialised: a second call is a no-op */
    repl_state *st = mem_calloc(sizeof(*st));
    st->s = s;
    st->slaveseldb = -1;
    st->child_pid = -1;
    st->encbuf = kstr_empty(256);
    st->cached_db = 0;
    /* 7.0 pings replicas every repl-ping-replica-period counted from the
     * start, not as soon as the first one attaches. */
    st->last_ping_ms = util_ms_now();
    repl_change_replid(st);
    repl_clear_replid2(st);
    st->wake_timer = mem_alloc(sizeof(*st->wake_timer));
    uv_timer_init(s->loop, st->wake_timer);
    st->wake_timer->data = st;
    s->repl = st;
    s->propagate = repl_propagate;
    s->on_master_stream = repl_on_master_stream;
    s->on_client_free = repl_on_client_free;
    srv_add_cron(s, repl_cron, st);
    srv_add_info(s, "replication", repl_info, st);
    cmd_add_guard(repl_guard, st);
    rdb_set_meta_provider(s, repl_rdb_meta, st);

    if (s->config.replicaof_host) {
        char host[256];
        snprintf(host, sizeof(host), "%s", s->config.replicaof_host);
        /* A restarted replica resumes the stream its RDB was cut from. */
        rdb_meta m;
        /* With appendonly yes the AOF is the data set: dump.rdb (older) must
         * not give the replication offset we resume from, as in 7.0. */
        if (s->config.dbfilename && !s->config.appendonly &&
            repl_read_rdb_meta(s->config.dbfilename, &m) == 0) {
            memcpy(st->replid, m.repl_id, sizeof(st->replid));
            st->master_repl_offset = m.repl_offset;
            st->meaningful_offset = m.repl_offset;
            st->cached_db = m.repl_stream_db >= 0 && m.repl_stream_db < s->dbnum ? m.repl_stream_db : 0;
            st->have_cached = 1;
            repl_create_backlog(st);
            log_msg(LOG_NOTICE, "Cached master state from RDB: replication id %s, offset %lld",
                    st->replid, st->master_repl_offset);
        }
        repl_replica_set_master(st, host, s->config.replicaof_port);
    }
    return 0;
}

/* Handles outlive the module state until libuv is done with them. */
void repl_free_handle(uv_handle_t *h)
{
    mem_free(h);
}

void repl_module_release(srv *s)
{
    repl_state *st = repl_st(s);
    if (!st)
        return;
    repl_replica_release(st);
    repl_master_release(st);
    s->propagate = NULL;
    s->on_master_stream = NULL;
    s->on_client_free = NULL;
    uv_timer_stop(st->wake_timer);
    uv_close((uv_handle_t *)st->wake_timer, repl_free_handle);
    repl_backlog_free(st->backlog);
    kstr_free(st->encbuf);
    mem_free(st->peers);
    mem_free(st);
    s->repl = NULL;
}

/* ---- FAILOVER -------------------------------------------------------- *
 *
 * The coordinated switchover of Redis 6.2+: the master stops taking writes,
 * waits until a replica (the named one, or the first) has acknowledged its
 * whole stream, then turns itself into a replica of it and asks it, with
 * PSYNC <replid> <offset> FAILOVER, to become a master. The target promotes
 * itself when the id matches and serves the PSYNC as a partial resync. Any
 * failure before that hand-off rolls back to the old master.
 *
 * Writes are held by not reading from ordinary clients while the failover
 * runs (a PAUSE ALL rather than Redis' PAUSE WRITE: it lasts one round trip
 * to the replica in the usual case). */

static void repl_failover_pause(repl_state *st, int pause)
{
    srv *s = st->s;
    if (st->failover_paused == pause)
        return;
    st->failover_paused = pause;
    for (client *c = s->clients; c; c = c->next) {
        if (c->flags & (CLIENT_MASTER | CLIENT_REPLICA | CLIENT_FAKE | CLIENT_CLOSING | CLIENT_CLOSE_ASAP))
            continue;
        if (c == s->current_client)
            continue;
        if (pause)
            uv_read_stop((uv_stream_t *)&c->tcp);
        else if (client_start_reading(c) == 0 && c->qbuf_len > c->qbuf_pos)
            client_process_input(c);
    }
}

static void repl_failover_clear(repl_state *st)
{
    st->failover_state = 0;
    st->failover_host[0] = '\0';
    st->failover_port = 0;
    st->failover_force = 0;
    st->failover_end_ms = 0;
    repl_failover_pause(st, 0);
}

void repl_failover_abort(repl_state *st, const char *why)
{
    if (!st->failover_state)
        return;
    if (st->failover_host[0])
        log_msg(LOG_NOTICE, "FAILOVER to %s:%d aborted: %s", st->failover_host, st->failover_port, why);
    else
        log_msg(LOG_NOTICE, "FAILOVER to any replica aborted: %s", why);
    if (st->failover_state == 2)
        repl_replica_unset_master(st);
    repl_failover_clear(st);
}

void repl_failover_done(repl_state *st)
{
    if (st->failover_state == 2)
        repl_failover_clear(st);
}

static repl_peer *repl_find_replica(repl_state *st, const char *host, int port)
{
    char ip[64];
    for (size_t i = 0; i < st->npeers; i++) {
        repl_peer *p = st->peers[i];
        if (p->listening_port == port && strcasecmp(repl_peer_ip(p, ip, sizeof(ip)), host) == 0)
            return p;
    }
    return NULL;
}

static void repl_failover_cron(repl_state *st)
{
    srv *s = st->s;
    if (st->failover_state != 1)
        return;
    /* Fenced by a stall while waiting for the target: handing over now
     * could end (abort) with us an unfenced master again. */
    if (s->fence.fenced) {
        repl_failover_abort(st, "this master got fenced");
        return;
    }
    if (st->failover_end_ms && st->failover_end_ms <= s->mstime) {
        if (st->failover_force) {
            log_msg(LOG_NOTICE, "FAILOVER to %s:%d time out exceeded, failing over.", st->failover_host, st->failover_port);
            st->failover_state = 2;
            repl_replica_set_master(st, st->failover_host, st->failover_port);
        } else {
            repl_failover_abort(st, "Replica never caught up before timeout");
        }
        return;
    }
    repl_peer *target = NULL;
    if (st->failover_host[0]) {
        target = repl_find_replica(st, st->failover_host, st->failover_port);
    } else {
        for (size_t i = 0; i < st->npeers; i++) {
            if (st->peers[i]->state == PEER_ONLINE && st->peers[i]->ack_off == st->master_repl_offset) {
                target = st->peers[i];
                repl_peer_ip(target, st->failover_host, sizeof(st->failover_host));
                st->failover_port = target->listening_port;
                break;
            }
        }
    }
    if (target && target->state == PEER_ONLINE && target->ack_off == st->master_repl_offset) {
        st->failover_state = 2;
        log_msg(LOG_NOTICE, "Failover target %s:%d is synced, failing over.", st->failover_host, st->failover_port);
        repl_replica_set_master(st, st->failover_host, st->failover_port);
        return;
    }
    repl_master_request_acks(st);
}

static void repl_failover_command(client *c)
{
    srv *s = c->srv;
    repl_state *st = repl_st(s);
    if (c->argc == 2 && repl_arg_is(&c->argv[1], "abort")) {
        if (!st->failover_state) {
            reply_error(c, "ERR No failover in progress.");
            return;
        }
        repl_failover_abort(st, "Failover manually aborted");
        reply_ok(c);
        return;
    }
    long long timeout = 0, port = 0;
    int force = 0;
    const resp_arg *host = NULL;
    for (int j = 1; j < c->argc; j++) {
        if (repl_arg_is(&c->argv[j], "timeout") && j + 1 < c->argc && timeout == 0) {
            if (!util_str_to_ll(c->argv[j + 1].ptr, c->argv[j + 1].len, &timeout)) {
                reply_error(c, ERR_NOT_INT);
                return;
            }
            if (timeout <= 0) {
                reply_error(c, "ERR FAILOVER timeout must be greater than 0");
                return;
            }
            j++;
        } else if (repl_arg_is(&c->argv[j], "to") && j + 2 < c->argc && !host) {
            if (!util_str_to_ll(c->argv[j + 2].ptr, c->argv[j + 2].len, &port)) {
                reply_error(c, ERR_NOT_INT);
                return;
            }
            host = &c->argv[j + 1];
            j += 2;
        } else if (repl_arg_is(&c->argv[j], "force") && !force) {
            force = 1;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (st->failover_state) {
        reply_error(c, "ERR FAILOVER already in progress.");
        return;
    }
    if (s->is_replica) {
        reply_error(c, "ERR FAILOVER is not valid when server is a replica.");
        return;
    }
    /* FAILOVER turns us into a replica and, when it aborts, back into an
     * unfenced master: only the controller may lift a fence. */
    if (s->fence.fenced) {
        reply_error(c, "ERR FAILOVER is not valid while this master is fenced: waiting for the kvfleet controller");
        return;
    }
    if (st->npeers == 0) {
        reply_error(c, "ERR FAILOVER requires connected replicas.");
        return;
    }
    if (force && (!timeout || !host)) {
        reply_error(c, "ERR FAILOVER with force option requires both a timeout and target HOST and IP.");
        return;
    }
    if (host) {
        char h[256];
        snprintf(h, sizeof(h), "%.*s", (int)(host->len < 255 ? host->len : 255), host->ptr);
        repl_peer *p = repl_find_replica(st, h, (int)port);
        if (!p) {
            reply_error(c, "ERR FAILOVER target HOST and PORT is not a replica.");
            return;
        }
        if (p->state != PEER_ONLINE) {
            reply_error(c, "ERR FAILOVER target replica is not online.");
            return;
        }
        snprintf(st->failover_host, sizeof(st->failover_host), "%s", h);
        st->failover_port = (int)port;
        log_msg(LOG_NOTICE, "FAILOVER requested to %s:%lld.", h, port);
    } else {
        log_msg(LOG_NOTICE, "FAILOVER requested to any replica.");
    }
    st->failover_end_ms = timeout ? s->mstime + timeout : 0;
    st->failover_force = force;
    st->failover_state = 1;
    repl_failover_pause(st, 1);
    repl_master_request_acks(st);
    reply_ok(c);
}
