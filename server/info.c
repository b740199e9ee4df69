/* info.c - INFO replication parser (see info.h). Lines are "key:value\r\n";
 * slaveN values are comma separated key=value lists. Unknown keys are
 * ignored so newer servers and the kvfleet agent both parse. */
#include "info.h"
#include "health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_bounded(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int64_t to_i64(const char *s, size_t n)
{
    char buf[32];
    copy_bounded(buf, sizeof(buf), s, n);
    return strtoll(buf, NULL, 10);
}

static void parse_slave(const char *v, size_t vn, struct info_slave *sl)
{
    memset(sl, 0, sizeof(*sl));
    sl->lag = -1;
    sl->offset = -1;
    const char *p = v, *end = v + vn;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        if (comma == NULL)
            comma = end;
        const char *eq = memchr(p, '=', (size_t)(comma - p));
        if (eq != NULL) {
            size_t kn = (size_t)(eq - p), valn = (size_t)(comma - eq - 1);
            const char *val = eq + 1;
            if (kn == 2 && memcmp(p, "ip", 2) == 0)
                copy_bounded(sl->ip, sizeof(sl->ip), val, valn);
            else if (kn == 4 && memcmp(p, "port", 4) == 0)
                sl->port = (int)to_i64(val, valn);
            else if (kn == 5 && memcmp(p, "state", 5) == 0)
                copy_bounded(sl->state, sizeof(sl->state), val, valn);
            else if (kn == 6 && memcmp(p, "offset", 6) == 0)
                sl->offset = to_i64(val, valn);
            else if (kn == 3 && memcmp(p, "lag", 3) == 0)
                sl->lag = to_i64(val, valn);
        }
        p = comma + 1;
    }
}

/* "db3:keys=10,expires=0,avg_ttl=0": db_keys[3] = 10. */
static void parse_keyspace(const char *key, size_t kn, const char *v, size_t vn,
                           struct info_stats *st)
{
    int64_t db = to_i64(key + 2, kn - 2);
    if (db < 0 || db >= INFO_MAX_DBS || vn < 5 || memcmp(v, "keys=", 5) != 0)
        return;
    const char *comma = memchr(v, ',', vn);
    st->db_keys[db] = to_i64(v + 5, (size_t)((comma != NULL ? comma : v + vn) - v - 5));
}

static int is_db_key(const char *k, size_t kn)
{
    if (kn < 3 || k[0] != 'd' || k[1] != 'b')
        return 0;
    for (size_t i = 2; i < kn; i++)
        if (k[i] < '0' || k[i] > '9')
            return 0;
    return 1;
}

int info_parse_replication(const char *text, size_t len, struct info_repl *out)
{
    memset(out, 0, sizeof(*out));
    out->offset = -1;
    out->master_last_io_s = -1;
    out->link_down_since_s = -1;
    out->replica_priority = -1;
    out->uptime_s = -1;
    out->sync_full = -1;
    out->stats.connected_clients = -1;
    out->stats.used_memory = -1;
    out->stats.commands_processed = -1;
    for (int i = 0; i < INFO_MAX_DBS; i++)
        out->stats.db_keys[i] = -1;
    int64_t master_off = -1, slave_off = -1;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl != NULL ? nl : end;
        const char *ve = le;
        if (ve > p && ve[-1] == '\r')
            ve--;
        const char *colon = memchr(p, ':', (size_t)(ve - p));
        if (colon != NULL && *p != '#') {
            size_t kn = (size_t)(colon - p), vn = (size_t)(ve - colon - 1);
            const char *v = colon + 1;
#define KEY(s) (kn == sizeof(s) - 1 && memcmp(p, s, kn) == 0)
            if (KEY("role")) {
                if (vn == 6 && memcmp(v, "master", 6) == 0)
                    out->role = ROLE_MASTER;
                else if (vn == 5 && memcmp(v, "slave", 5) == 0)
                    out->role = ROLE_REPLICA;
                else if (vn == 7 && memcmp(v, "replica", 7) == 0)
                    out->role = ROLE_REPLICA;
            } else if (KEY("master_host")) {
                copy_bounded(out->master_host, sizeof(out->master_host), v, vn);
            } else if (KEY("master_port")) {
                out->master_port = (int)to_i64(v, vn);
            } else if (KEY("master_link_status")) {
                out->link = (vn == 2 && memcmp(v, "up", 2) == 0) ? LINK_UP : LINK_DOWN;
            } else if (KEY("master_last_io_seconds_ago")) {
                out->master_last_io_s = to_i64(v, vn);
            } else if (KEY("master_repl_offset")) {
                master_off = to_i64(v, vn);
            } else if (KEY("slave_repl_offset")) {
                slave_off = to_i64(v, vn);
            } else if (KEY("master_link_down_since_seconds")) {
                out->link_down_since_s = to_i64(v, vn);
            } else if (KEY("slave_priority") || KEY("replica_priority")) {
                out->replica_priority = (int)to_i64(v, vn);
            } else if (KEY("run_id")) {
                copy_bounded(out->run_id, sizeof(out->run_id), v, vn);
            } else if (KEY("master_replid")) {
                copy_bounded(out->replid, sizeof(out->replid), v, vn);
            } else if (KEY("uptime_in_seconds")) {
                out->uptime_s = to_i64(v, vn);
            } else if (KEY("loading")) {
                out->loading = to_i64(v, vn) != 0;
            } else if (KEY("kvfleet_fenced")) {
                out->fence_known = 1;
                out->fenced = to_i64(v, vn) != 0;
            } else if (KEY("sync_full")) {
                out->sync_full = to_i64(v, vn);
            } else if (KEY("master_failover_state")) {
                if (vn == 16 && memcmp(v, "waiting-for-sync", 16) == 0)
                    out->failover_state = 1;
                else if (vn == 20 && memcmp(v, "failover-in-progress", 20) == 0)
                    out->failover_state = 2;
            } else if (KEY("redis_version")) {
                copy_bounded(out->version, sizeof(out->version), v, vn);
            } else if (KEY("connected_clients")) {
                out->stats.connected_clients = to_i64(v, vn);
            } else if (KEY("used_memory")) {
                out->stats.used_memory = to_i64(v, vn);
                out->stats.present = 1;
            } else if (KEY("total_commands_processed")) {
                out->stats.commands_processed = to_i64(v, vn);
            } else if (is_db_key(p, kn)) {
                parse_keyspace(p, kn, v, vn, &out->stats);
            } else if (KEY("connected_slaves")) {
                out->connected_slaves = (int)to_i64(v, vn);
            } else if (kn > 5 && memcmp(p, "slave", 5) == 0 && p[5] >= '0' && p[5] <= '9') {
                if (out->nslaves < INFO_MAX_SLAVES)
                    parse_slave(v, vn, &out->slaves[out->nslaves++]);
            }
#undef KEY
        }
        p = le + 1;
    }
    if (out->role == ROLE_UNKNOWN)
        return -1;
    if (out->role == ROLE_REPLICA)
        out->offset = slave_off >= 0 ? slave_off : master_off;
    else
        out->offset = master_off;
    if (out->role != ROLE_REPLICA)
        out->link = LINK_NONE;
    else if (out->link == LINK_NONE)
        out->link = LINK_DOWN;
    return 0;
}
