/* t_dump: DUMP and RESTORE with Redis' serialization, so a payload taken
 * from redis-server 7.0 restores here and the other way round. A payload is
 * the RDB encoding of one value (type byte and body, as in a key record of
 * an RDB file, written and read by rdb.c), then the RDB version as 2 bytes
 * little endian, then the CRC-64 of everything before it as 8 bytes little
 * endian. RESTORE refuses a payload whose version is newer than ours or
 * whose checksum does not match before it parses anything. */
#include <stdint.h>
#include <string.h>
#include "command.h"
#include "notify.h"
#include "client.h"
#include "server.h"
#include "reply.h"
#include "db.h"
#include "rdb.h"
#include "objclock.h"
#include "util.h"
#include "mem.h"


static int dump_arg_is(const resp_arg *a, const char *s)
{
    return util_strcasecmp_len(a->ptr, a->len, s) == 0;
}

/* The payload for one value, or NULL when the writer failed. The encodings
 * follow the server's current thresholds, as Redis' own DUMP reflects the
 * object's encoding. */
static kstr dump_payload(srv *s, const obj *val)
{
    kstr out = rdb_serialize_value(s, val, s->config.rdbcompression);
    return out ? rdb_dump_footer_append(out) : NULL;
}

static void cmd_dump(client *c)
{
    obj *o = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
    if (!o) {
        reply_null(c);
        return;
    }
    kstr p = dump_payload(c->srv, o);
    if (!p) {
        reply_error(c, "ERR DUMP failed to serialize the value");
        return;
    }
    reply_bulk_kstr(c, p);
    kstr_free(p);
}

typedef struct restore_opts {
    int replace, absttl;
    long long idle;     /* -1: not given */
    long long freq;     /* -1: not given */
} restore_opts;

static int restore_parse(client *c, restore_opts *o)
{
    o->replace = o->absttl = 0;
    o->idle = o->freq = -1;
    for (int j = 4; j < c->argc; j++) {
        int more = c->argc - j - 1;
        const resp_arg *a = &c->argv[j];
        if (dump_arg_is(a, "replace")) {
            o->replace = 1;
        } else if (dump_arg_is(a, "absttl")) {
            o->absttl = 1;
        } else if (dump_arg_is(a, "idletime") && more >= 1 && o->freq == -1) {
            if (!util_str_to_ll(c->argv[j + 1].ptr, c->argv[j + 1].len, &o->idle)) {
                reply_error(c, ERR_NOT_INT);
                return -1;
            }
            if (o->idle < 0) {
                reply_error(c, "ERR Invalid IDLETIME value, must be >= 0");
                return -1;
            }
            j++;
        } else if (dump_arg_is(a, "freq") && more >= 1 && o->idle == -1) {
            if (!util_str_to_ll(c->argv[j + 1].ptr, c->argv[j + 1].len, &o->freq)) {
                reply_error(c, ERR_NOT_INT);
                return -1;
            }
            if (o->freq < 0 || o->freq > 255) {
                reply_error(c, "ERR Invalid FREQ value, must be >= 0 and <= 255");
                return -1;
            }
            j++;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    return 0;
}

/* Decodes the value. As Redis does, the reader sees the whole payload after
 * the type byte (footer included): only the checksum guards the framing. */
static obj *restore_decode(const unsigned char *p, size_t len)
{
    rdb_reader r;
    rdb_reader_init_mem(&r, p + 1, len - 1);
    obj *o = rdb_read_value(&r, p[0]);
    rdb_reader_release(&r);
    return o;
}

/* Propagate a relative TTL as the absolute time it resolved to. */
static void restore_propagate_absttl(client *c, int64_t when)
{
    char buf[32];
    int n = util_ll_to_str(buf, sizeof(buf), when);
    resp_arg *argv = mem_alloc(sizeof(resp_arg) * (size_t)(c->argc + 1));
    for (int j = 0; j < c->argc; j++)
        argv[j] = c->argv[j];
    argv[2].ptr = buf;
    argv[2].len = (size_t)n;
    argv[c->argc].ptr = "ABSTTL";
    argv[c->argc].len = 6;
    cmd_rewrite_argv(c, c->argc + 1, argv);
    mem_free(argv);
}

static void cmd_restore(client *c)
{
    restore_opts opt;
    if (restore_parse(c, &opt) != 0)
        return;
    const resp_arg *key = &c->argv[1];
    if (!opt.replace && db_lookup_write(c->db, key->ptr, key->len)) {
        reply_error(c, "BUSYKEY Target key name already exists.");
        return;
    }
    long long ttl;
    if (!util_str_to_ll(c->argv[2].ptr, c->argv[2].len, &ttl)) {
        reply_error(c, ERR_NOT_INT);
        return;
    }
    if (ttl < 0) {
        reply_error(c, "ERR Invalid TTL value, must be >= 0");
        return;
    }
    const unsigned char *p = (const unsigned char *)c->argv[3].ptr;
    size_t len = c->argv[3].len;
    if (!rdb_dump_footer_ok(p, len)) {
        reply_error(c, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    obj *val = restore_decode(p, len);
    if (!val) {
        reply_error(c, "ERR Bad data format");
        return;
    }
    int deleted = opt.replace && db_delete(c->db, key->ptr, key->len);
    if (ttl && !opt.absttl)
        ttl = (long long)((uint64_t)ttl + (uint64_t)c->srv->mstime);
    /* Already expired: the key is not created (a replaced one is gone). */
    if (ttl && ttl <= c->srv->mstime && !c->srv->is_replica && !c->srv->loading) {
        obj_free(val);
        if (deleted) {
            resp_arg argv[2] = { { "DEL", 3 }, *key };
            cmd_rewrite_argv(c, 2, argv);
            notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", key->ptr, key->len);
            c->srv->dirty++;
        }
        reply_ok(c);
        return;
    }
    db_add(c->db, key->ptr, key->len, val);
    if (ttl) {
        db_expire_set(c->db, key->ptr, key->len, ttl);
        if (!opt.absttl)
            restore_propagate_absttl(c, ttl);
    }
    /* FREQ sets the LFU counter under an LFU policy, IDLETIME sets the LRU
     * clock back otherwise (any value is accepted and wraps in the 24-bit
     * clock); the other one is ignored, as in Redis. */
    objclock_apply_hint(c->srv, val, opt.freq, opt.idle);
    db_signal_modified(c->db, key->ptr, key->len);
    notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "restore", key->ptr, key->len);
    c->srv->dirty++;
    reply_ok(c);
}

const cmd_def t_dump_commands[] = {
    { "dump", cmd_dump, 2, CMD_READONLY, 1, 1, 1, "@keyspace @read @slow" },
    { "restore", cmd_restore, -4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@keyspace @write @slow @dangerous" },
    /* what a cluster sends during a slot migration; the same RESTORE here */
    { "restore-asking", cmd_restore, -4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@keyspace @write @slow @dangerous" },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL },
};
