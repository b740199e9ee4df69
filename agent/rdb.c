/* rdb: the RDB writer and reader (see rdb.h). Everything here is pure: the
 * writer knows nothing of files, the reader nothing of servers; the
 * persistence commands and file handling live in rdb_save.c.
 *
 * Layout of a file: "REDIS" + 4 version digits, AUX fields, then per db a
 * SELECTDB and RESIZEDB, key records (optional expire, type byte, key,
 * value), EOF, and an 8-byte little-endian CRC-64 of everything before it.
 *
 * Lengths use Redis' variable encoding: 00xxxxxx (6 bits), 01xxxxxx + byte
 * (14 bits, big endian), 0x80 + u32 BE, 0x81 + u64 BE; 11xxxxxx marks a
 * specially encoded string: 0/1/2 = int8/16/32 (little endian), 3 = LZF. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "rdb.h"
#include "function.h"
#include "crc64.h"
#include "lzf.h"
#include "listpack.h"
#include "ziplist.h"
#include "mem.h"
#include "util.h"
#include "deque.h"
#include "hmap.h"
#include "setobj.h"
#include "zset.h"
#include "stream.h"
#include "stream_cg.h"
#include "dict.h"
#include "db.h"
#include "server.h"
#include "objclock.h"

#define RDB_6BITLEN 0
#define RDB_14BITLEN 1
#define RDB_32BITLEN 0x80
#define RDB_64BITLEN 0x81
#define RDB_ENCVAL 3
#define RDB_ENC_INT8 0
#define RDB_ENC_INT16 1
#define RDB_ENC_INT32 2
#define RDB_ENC_LZF 3

#define RDB_QUICKLIST_NODE_PLAIN 1
#define RDB_QUICKLIST_NODE_PACKED 2

#define RDB_WBUF_SIZE (64 * 1024)
#define RDB_RBUF_SIZE (256 * 1024)
/* Strings longer than this are read in growing pieces, so a corrupt length
 * cannot make us allocate gigabytes before noticing the input is short. */
#define RDB_STR_CHUNK (16u * 1024 * 1024)

/* ====================================================================== */
/* Writer                                                                  */
/* ====================================================================== */

static int w_fail(rdb_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int w_fail(rdb_writer *w, const char *fmt, ...)
{
    va_list ap;
    if (!w->failed) {
        va_start(ap, fmt);
        vsnprintf(w->err, sizeof(w->err), fmt, ap);
        va_end(ap);
    }
    w->failed = 1;
    return -1;
}

void rdb_writer_init(rdb_writer *w, rdb_write_fn *fn, void *priv, int compress, int checksum)
{
    memset(w, 0, sizeof(*w));
    w->write = fn;
    w->priv = priv;
    w->compress = compress;
    w->checksum = checksum;
    w->cap = RDB_WBUF_SIZE;
    w->buf = mem_alloc(w->cap);
    /* redis-server 7.0's defaults */
    w->hash_max_listpack_entries = 128;
    w->hash_max_listpack_value = 64;
    w->zset_max_listpack_entries = 128;
    w->zset_max_listpack_value = 64;
    w->list_max_listpack_size = -2;
    w->set_max_intset_entries = 512;
}

void rdb_writer_release(rdb_writer *w)
{
    mem_free(w->buf);
    mem_free(w->scratch);
    mem_free(w->lp);
    w->buf = w->scratch = w->lp = NULL;
}

int rdb_write_flush(rdb_writer *w)
{
    if (w->failed)
        return -1;
    if (w->used == 0)
        return 0;
    if (w->checksum)
        w->crc = crc64_update(w->crc, w->buf, w->used);
    if (w->write(w->priv, w->buf, w->used) < 0)
        return w_fail(w, "write error: %s", strerror(errno ? errno : EIO));
    w->written += w->used;
    w->used = 0;
    return 0;
}

static int w_bytes(rdb_writer *w, const void *p, size_t n)
{
    const unsigned char *s = p;
    if (w->failed)
        return -1;
    if (n <= w->cap - w->used) {
        memcpy(w->buf + w->used, s, n);
        w->used += n;
        return 0;
    }
    while (n) {
        if (w->used == w->cap && rdb_write_flush(w) < 0)
            return -1;
        size_t take = w->cap - w->used;
        if (take > n)
            take = n;
        memcpy(w->buf + w->used, s, take);
        w->used += take;
        s += take;
        n -= take;
    }
    return 0;
}

static int w_u8(rdb_writer *w, unsigned v)
{
    unsigned char b = (unsigned char)v;
    return w_bytes(w, &b, 1);
}

static int w_len(rdb_writer *w, uint64_t len)
{
    unsigned char b[9];
    size_t n;
    if (len < (1 << 6)) {
        b[0] = (unsigned char)len;
        n = 1;
    } else if (len < (1 << 14)) {
        b[0] = (unsigned char)((RDB_14BITLEN << 6) | (len >> 8));
        b[1] = (unsigned char)(len & 0xff);
        n = 2;
    } else if (len <= UINT32_MAX) {
        b[0] = RDB_32BITLEN;
        for (int i = 0; i < 4; i++)
            b[1 + i] = (unsigned char)(len >> (24 - 8 * i));
        n = 5;
    } else {
        b[0] = RDB_64BITLEN;
        for (int i = 0; i < 8; i++)
            b[1 + i] = (unsigned char)(len >> (56 - 8 * i));
        n = 9;
    }
    return w_bytes(w, b, n);
}

/* The int8/16/32 string encodings; returns 0 when v does not fit. */
static size_t rdb_encode_int(long long v, unsigned char *b)
{
    if (v >= INT8_MIN && v <= INT8_MAX) {
        b[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT8;
        b[1] = (unsigned char)(v & 0xff);
        return 2;
    }
    if (v >= INT16_MIN && v <= INT16_MAX) {
        b[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT16;
        b[1] = (unsigned char)(v & 0xff);
        b[2] = (unsigned char)((v >> 8) & 0xff);
        return 3;
    }
    if (v >= INT32_MIN && v <= INT32_MAX) {
        b[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT32;
        for (int i = 0; i < 4; i++)
            b[1 + i] = (unsigned char)((v >> (8 * i)) & 0xff);
        return 5;
    }
    return 0;
}

static int w_ll_string(rdb_writer *w, long long v)
{
    unsigned char b[5];
    size_t n = rdb_encode_int(v, b);
    if (n)
        return w_bytes(w, b, n);
    char s[32];
    int sl = util_ll_to_str(s, sizeof(s), v);
    if (w_len(w, (uint64_t)sl) < 0)
        return -1;
    return w_bytes(w, s, (size_t)sl);
}

/* LZF-compress a string; returns 1 if written compressed, 0 if it did not
 * shrink enough to be worth it, -1 on error. */
static int w_lzf_string(rdb_writer *w, const char *s, size_t len)
{
    size_t outcap = len - 4;   /* must save at least 4 bytes */
    if (w->scratch_cap < outcap) {
        mem_free(w->scratch);
        w->scratch_cap = outcap < 4096 ? 4096 : outcap;
        w->scratch = mem_alloc(w->scratch_cap);
    }
    size_t clen = lzf_compress(s, len, w->scratch, outcap);
    if (clen == 0)
        return 0;
    if (w_u8(w, (RDB_ENCVAL << 6) | RDB_ENC_LZF) < 0 || w_len(w, clen) < 0 ||
        w_len(w, len) < 0 || w_bytes(w, w->scratch, clen) < 0)
        return -1;
    return 1;
}

static int w_string(rdb_writer *w, const char *s, size_t len)
{
    /* Short canonical integers are stored as numbers, as Redis does. */
    if (len > 0 && len <= 11) {
        long long v;
        unsigned char b[5];
        size_t n;
        if (util_str_to_ll(s, len, &v) && (n = rdb_encode_int(v, b)) != 0)
            return w_bytes(w, b, n);
    }
    if (w->compress && len > 20) {
        int r = w_lzf_string(w, s, len);
        if (r != 0)
            return r < 0 ? -1 : 0;
    }
    if (w_len(w, len) < 0)
        return -1;
    return w_bytes(w, s, len);
}

static int w_aux(rdb_writer *w, const char *k, const char *v)
{
    if (w_u8(w, RDB_OPCODE_AUX) < 0 || w_string(w, k, strlen(k)) < 0)
        return -1;
    return w_string(w, v, strlen(v));
}

static int w_aux_ll(rdb_writer *w, const char *k, long long v)
{
    char s[32];
    util_ll_to_str(s, sizeof(s), v);
    return w_aux(w, k, s);
}

int rdb_write_header(rdb_writer *w, const rdb_meta *meta)
{
    char magic[16];
    snprintf(magic, sizeof(magic), "REDIS%04d", RDB_VERSION);
    if (w_bytes(w, magic, 9) < 0)
        return -1;
    if (w_aux(w, "redis-ver", meta->redis_ver[0] ? meta->redis_ver : RDB_REDIS_VER) < 0 ||
        w_aux_ll(w, "redis-bits", meta->redis_bits ? meta->redis_bits : (int)(sizeof(void *) * 8)) < 0 ||
        w_aux_ll(w, "ctime", meta->ctime) < 0 ||
        w_aux_ll(w, "used-mem", meta->used_mem) < 0)
        return -1;
    if (meta->has_repl) {
        if (w_aux_ll(w, "repl-stream-db", meta->repl_stream_db) < 0 ||
            w_aux(w, "repl-id", meta->repl_id) < 0 ||
            w_aux_ll(w, "repl-offset", meta->repl_offset) < 0)
            return -1;
    }
    return w_aux_ll(w, "aof-base", meta->aof_base);
}

int rdb_write_select_db(rdb_writer *w, int dbid, uint64_t keys, uint64_t expires)
{
    if (w_u8(w, RDB_OPCODE_SELECTDB) < 0 || w_len(w, (uint64_t)dbid) < 0)
        return -1;
    if (w_u8(w, RDB_OPCODE_RESIZEDB) < 0 || w_len(w, keys) < 0)
        return -1;
    return w_len(w, expires);
}

static int w_obj_string(rdb_writer *w, const obj *o)
{
    if (o->enc == OBJ_ENC_INT)
        return w_ll_string(w, o->v.ival);
    return w_string(w, o->v.str, kstr_len(o->v.str));
}

/* ---- listpack / intset blobs (the encodings Redis writes) ---- */

static void lpw_reserve(rdb_writer *w, size_t more)
{
    if (w->lp_len + more <= w->lp_cap)
        return;
    size_t cap = w->lp_cap ? w->lp_cap : 256;
    while (cap < w->lp_len + more)
        cap *= 2;
    w->lp = mem_realloc(w->lp, cap);
    w->lp_cap = cap;
}

static void lpw_start(rdb_writer *w)
{
    w->lp_len = 0;
    lpw_reserve(w, 7);
    w->lp_len = 6;   /* header filled in by lpw_finish */
}

/* Append an element: canonical integers take an integer encoding, as
 * Redis' listpack does. Elements are encoded by listpack.c, the one
 * encoder shared with the stream nodes, so both match Redis' bytes. */
static void lpw_elem(rdb_writer *w, const char *s, size_t len)
{
    lpw_reserve(w, lp_str_size(s, len));
    w->lp_len += lp_encode_str(w->lp + w->lp_len, s, len);
}

static void lpw_finish(rdb_writer *w, size_t count)
{
    lpw_reserve(w, 1);
    w->lp[w->lp_len++] = LP_EOF_BYTE;
    lp_set_header(w->lp, w->lp_len, count);
}

/* Would Redis keep this hash as a listpack? */
static int hash_fits_listpack(const rdb_writer *w, hmap *h)
{
    if (w->hash_max_listpack_entries <= 0 || hmap_len(h) > (size_t)w->hash_max_listpack_entries)
        return 0;
    hmap_iter it;
    kstr f, v;
    int ok = 1;
    hmap_iter_init(h, &it);
    while (ok && hmap_iter_next(&it, &f, &v))
        if (kstr_len(f) > (size_t)w->hash_max_listpack_value || kstr_len(v) > (size_t)w->hash_max_listpack_value)
            ok = 0;
    hmap_iter_release(&it);
    return ok;
}

static int w_hash_listpack(rdb_writer *w, hmap *h)
{
    hmap_iter it;
    kstr f, v;
    lpw_start(w);
    hmap_iter_init(h, &it);
    while (hmap_iter_next(&it, &f, &v)) {
        lpw_elem(w, f, kstr_len(f));
        lpw_elem(w, v, kstr_len(v));
    }
    hmap_iter_release(&it);
    lpw_finish(w, hmap_len(h) * 2);
    return w_string(w, (const char *)w->lp, w->lp_len);
}

/* Redis writes a sorted set in the encoding it has, not the one the
 * current limits would pick (a listpack set stays one after CONFIG SET
 * lowers a limit): the compact flag stands for it. A writer limit of 0
 * entries still forces the plain form. */
static int zset_fits_listpack(const rdb_writer *w, zset *z)
{
    if (w->zset_max_listpack_entries <= 0)
        return 0;
    return zset_is_compact(z);
}

static int w_zset_listpack(rdb_writer *w, zset *z)
{
    lpw_start(w);
    for (zset_node *n = zset_first(z); n; n = zset_next(n)) {
        kstr m = zset_node_member(n);
        double d = zset_node_score(n);
        char buf[64];
        int bl;
        lpw_elem(w, m, kstr_len(m));
        /* As Redis' d2string: integral scores as integers, others %.17g. */
        if (isinf(d))
            bl = snprintf(buf, sizeof(buf), "%s", d > 0 ? "inf" : "-inf");
        else if (d == 0 && signbit(d))
            bl = snprintf(buf, sizeof(buf), "-0");
        /* Range first: converting a double outside long long's range is
         * undefined behaviour, so the cast may only follow the check. */
        else if (d >= -1e17 && d <= 1e17 && d == (double)(long long)d)
            bl = snprintf(buf, sizeof(buf), "%lld", (long long)d);
        else
            bl = snprintf(buf, sizeof(buf), "%.17g", d);
        lpw_elem(w, buf, (size_t)bl);
    }
    lpw_finish(w, zset_len(z) * 2);
    return w_string(w, (const char *)w->lp, w->lp_len);
}

/* list-max-listpack-size: > 0 caps the entries per node, -1..-5 the node
 * size at 4, 8, 16, 32 or 64 KB (Redis' semantics). */
static int list_node_full(const rdb_writer *w, size_t entries, size_t bytes, size_t next)
{
    long long lim = w->list_max_listpack_size;
    if (lim > 0)
        return entries >= (size_t)lim;
    if (lim < -5)
        lim = -5;
    size_t max = (size_t)4096 << (-lim - 1);
    return bytes + next > max;
}

/* Quicklist 2: node count, then per node (PACKED, listpack blob). Nodes
 * are cut as Redis cuts them, so the file looks like one Redis wrote. */
static int w_list_quicklist(rdb_writer *w, deque *q)
{
    size_t n = deque_len(q), nodes = 0, entries = 0, bytes = 7;
    /* First pass: count nodes. */
    for (size_t i = 0; i < n; i++) {
        size_t el = kstr_len(deque_get(q, i)) + 11;   /* upper bound of one entry */
        if (entries && list_node_full(w, entries, bytes, el)) {
            nodes++;
            entries = 0;
            bytes = 7;
        }
        entries++;
        bytes += el;
    }
    if (entries)
        nodes++;
    if (w_len(w, nodes) < 0)
        return -1;
    size_t i = 0;
    while (i < n) {
        lpw_start(w);
        entries = 0;
        bytes = 7;
        while (i < n) {
            kstr e = deque_get(q, i);
            size_t el = kstr_len(e) + 11;
            if (entries && list_node_full(w, entries, bytes, el))
                break;
            lpw_elem(w, e, kstr_len(e));
            entries++;
            bytes += el;
            i++;
        }
        lpw_finish(w, entries);
        if (w_len(w, RDB_QUICKLIST_NODE_PACKED) < 0 || w_string(w, (const char *)w->lp, w->lp_len) < 0)
            return -1;
    }
    return 0;
}

static int set_fits_intset(const rdb_writer *w, setobj *s)
{
    return setobj_is_intset(s) && w->set_max_intset_entries > 0 &&
           setobj_len(s) <= (size_t)w->set_max_intset_entries;
}

/* Intset blob: width (2/4/8), count, ascending values, all little endian. */
static int w_set_intset(rdb_writer *w, setobj *s)
{
    setobj_iter it;
    const char *m;
    size_t len, n = setobj_len(s);
    long long v, lo = 0, hi = 0;
    int first = 1;
    setobj_iter_init(s, &it);
    while (setobj_iter_next(&it, &m, &len)) {
        if (!util_str_to_ll(m, len, &v))
            v = 0;
        if (first || v < lo)
            lo = v;
        if (first || v > hi)
            hi = v;
        first = 0;
    }
    setobj_iter_release(&it);
    unsigned width = (lo >= INT16_MIN && hi <= INT16_MAX) ? 2 : (lo >= INT32_MIN && hi <= INT32_MAX) ? 4 : 8;
    w->lp_len = 0;
    lpw_reserve(w, 8 + n * width);
    unsigned char *p = w->lp;
    for (int i = 0; i < 4; i++) {
        p[i] = (unsigned char)(width >> (8 * i));
        p[4 + i] = (unsigned char)(n >> (8 * i));
    }
    p += 8;
    setobj_iter_init(s, &it);
    while (setobj_iter_next(&it, &m, &len)) {
        if (!util_str_to_ll(m, len, &v))
            v = 0;
        for (unsigned i = 0; i < width; i++)
            p[i] = (unsigned char)((uint64_t)v >> (8 * i));
        p += width;
    }
    setobj_iter_release(&it);
    w->lp_len = 8 + n * width;
    return w_string(w, (const char *)w->lp, w->lp_len);
}

static int w_list(rdb_writer *w, deque *q)
{
    size_t n = deque_len(q);
    if (w_len(w, n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        kstr e = deque_get(q, i);
        if (w_string(w, e, kstr_len(e)) < 0)
            return -1;
    }
    return 0;
}

static int w_set(rdb_writer *w, setobj *s)
{
    setobj_iter it;
    const char *m;
    size_t len;
    int rc = 0;
    if (w_len(w, setobj_len(s)) < 0)
        return -1;
    setobj_iter_init(s, &it);
    while (setobj_iter_next(&it, &m, &len))
        if ((rc = w_string(w, m, len)) < 0)
            break;
    setobj_iter_release(&it);
    return rc;
}

static int w_double_bin(rdb_writer *w, double d)
{
    uint64_t bits;
    unsigned char b[8];
    memcpy(&bits, &d, 8);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(bits >> (8 * i));
    return w_bytes(w, b, 8);
}

static int w_zset(rdb_writer *w, zset *z)
{
    if (w_len(w, zset_len(z)) < 0)
        return -1;
    /* Highest score first, as Redis writes it: the loader then inserts
     * each member at the head of the skiplist. */
    for (zset_node *n = zset_last(z); n; n = zset_prev(n)) {
        kstr m = zset_node_member(n);
        if (w_string(w, m, kstr_len(m)) < 0 || w_double_bin(w, zset_node_score(n)) < 0)
            return -1;
    }
    return 0;
}

static int w_hash(rdb_writer *w, hmap *h)
{
    hmap_iter it;
    kstr f, v;
    int rc = 0;
    if (w_len(w, hmap_len(h)) < 0)
        return -1;
    hmap_iter_init(h, &it);
    while (hmap_iter_next(&it, &f, &v))
        if ((rc = w_string(w, f, kstr_len(f))) < 0 || (rc = w_string(w, v, kstr_len(v))) < 0)
            break;
    hmap_iter_release(&it);
    return rc;
}

/* Type 19, as Redis 7.0 writes it: the nodes (16-byte big-endian master
 * ID, listpack as is), length, last ID, first ID, max deleted ID, entries
 * added, then the consumer groups (stream_cg.c). */
static int w_stream(rdb_writer *w, const stream *s)
{
    if (w_len(w, s->nnodes) < 0)
        return -1;
    for (size_t i = 0; i < s->nnodes; i++) {
        unsigned char key[16];
        stream_id_encode_key(key, &s->nodes[i].master);
        if (w_string(w, (const char *)key, sizeof(key)) < 0 ||
            w_string(w, (const char *)s->nodes[i].lp, stream_node_bytes(&s->nodes[i])) < 0)
            return -1;
    }
    const uint64_t fields[] = {
        s->length, s->last_id.ms, s->last_id.seq, s->first_id.ms, s->first_id.seq,
        s->max_deleted_id.ms, s->max_deleted_id.seq, s->entries_added,
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (w_len(w, fields[i]) < 0)
            return -1;
    return stream_cg_rdb_write(w, s);
}

/* The RDB type a value is written as. */
static int w_type_of(rdb_writer *w, const obj *val)
{
    switch (val->type) {
    case OBJ_STRING: return RDB_TYPE_STRING;
    case OBJ_LIST: return w->list_max_listpack_size ? RDB_TYPE_LIST_QUICKLIST_2 : RDB_TYPE_LIST;
    case OBJ_SET: return set_fits_intset(w, val->v.ptr) ? RDB_TYPE_SET_INTSET : RDB_TYPE_SET;
    case OBJ_ZSET: return zset_fits_listpack(w, val->v.ptr) ? RDB_TYPE_ZSET_LISTPACK : RDB_TYPE_ZSET_2;
    case OBJ_HASH: return hash_fits_listpack(w, val->v.ptr) ? RDB_TYPE_HASH_LISTPACK : RDB_TYPE_HASH;
    case OBJ_STREAM: return RDB_TYPE_STREAM_LISTPACKS_2;
    default: return -1;
    }
}

static int w_body(rdb_writer *w, const obj *val, int type)
{
    switch (type) {
    case RDB_TYPE_STRING: return w_obj_string(w, val);
    case RDB_TYPE_LIST: return w_list(w, val->v.ptr);
    case RDB_TYPE_LIST_QUICKLIST_2: return w_list_quicklist(w, val->v.ptr);
    case RDB_TYPE_SET: return w_set(w, val->v.ptr);
    case RDB_TYPE_SET_INTSET: return w_set_intset(w, val->v.ptr);
    case RDB_TYPE_ZSET_2: return w_zset(w, val->v.ptr);
    case RDB_TYPE_ZSET_LISTPACK: return w_zset_listpack(w, val->v.ptr);
    case RDB_TYPE_HASH: return w_hash(w, val->v.ptr);
    case RDB_TYPE_HASH_LISTPACK: return w_hash_listpack(w, val->v.ptr);
    case RDB_TYPE_STREAM_LISTPACKS_2: return w_stream(w, val->v.ptr);
    default: return w_fail(w, "cannot serialize object of type %d", val->type);
    }
}

int rdb_write_value(rdb_writer *w, const obj *val)
{
    int type = w_type_of(w, val);
    if (type < 0)
        return w_fail(w, "cannot serialize object of type %d", val->type);
    if (w_u8(w, (unsigned)type) < 0)
        return -1;
    return w_body(w, val, type);
}

/* The EXPIRETIME_MS record before a key that has a TTL (little-endian ms). */
static int w_expire(rdb_writer *w, int64_t expire_ms)
{
    if (expire_ms < 0)
        return 0;
    unsigned char b[9];
    b[0] = RDB_OPCODE_EXPIRETIME_MS;
    for (int i = 0; i < 8; i++)
        b[1 + i] = (unsigned char)((uint64_t)expire_ms >> (8 * i));
    return w_bytes(w, b, 9);
}

int rdb_write_key(rdb_writer *w, const char *key, size_t klen, const obj *val, int64_t expire_ms)
{
    if (w_expire(w, expire_ms) < 0)
        return -1;
    /* The type byte comes before the key, the value after it. */
    int type = w_type_of(w, val);
    if (type < 0)
        return w_fail(w, "cannot serialize object of type %d", val->type);
    if (w_u8(w, (unsigned)type) < 0 || w_string(w, key, klen) < 0)
        return -1;
    if (w_body(w, val, type) < 0)
        return -1;
    w->keys++;
    return 0;
}

int rdb_write_end(rdb_writer *w)
{
    unsigned char b[8];
    if (w_u8(w, RDB_OPCODE_EOF) < 0 || rdb_write_flush(w) < 0)
        return -1;
    /* With rdbchecksum no, Redis writes zero, which readers take as "not
     * checksummed". */
    uint64_t crc = w->checksum ? w->crc : 0;
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(crc >> (8 * i));
    if (w_bytes(w, b, 8) < 0)
        return -1;
    int saved = w->checksum;
    w->checksum = 0;   /* the checksum itself is not checksummed */
    int rc = rdb_write_flush(w);
    w->checksum = saved;
    return rc;
}

/* A key record with the access hint Redis writes for the policy in force:
 * the decayed LFU counter (FREQ) under LFU, the idle seconds (IDLE) under
 * LRU, nothing otherwise. Order as Redis: expire, hint, type, key. */
static int w_key_with_hint(rdb_writer *w, srv *s, const char *key, size_t klen, const obj *val,
                           int64_t expire_ms)
{
    if (w_expire(w, expire_ms) < 0)
        return -1;
    if (objclock_policy_is_lfu(s)) {
        if (w_u8(w, RDB_OPCODE_FREQ) < 0 || w_u8(w, objclock_freq(s, val)) < 0)
            return -1;
    } else if (objclock_policy_is_lru(s)) {
        if (w_u8(w, RDB_OPCODE_IDLE) < 0 || w_len(w, objclock_idle_secs(s, val)) < 0)
            return -1;
    }
    return rdb_write_key(w, key, klen, val, -1);
}

static int w_db(rdb_writer *w, kvdb *db)
{
    dict_iter it;
    dict_entry *e;
    int rc = 0;
    if (rdb_write_select_db(w, db->id, dict_size(db->keys), dict_size(db->expires)) < 0)
        return -1;
    dict_iter_init(db->keys, &it, 0);
    while ((e = dict_iter_next(&it)) != NULL) {
        int64_t exp = -1;
        size_t klen = kstr_len(e->key);
        if (dict_size(db->expires)) {
            dict_entry *x = dict_find(db->expires, e->key, klen);
            if (x)
                exp = x->v.i64;
        }
        if ((rc = w_key_with_hint(w, db->srv, e->key, klen, e->v.ptr, exp)) < 0)
            break;
        if (db->srv->config.rdb_key_save_delay)
            rdb_debug_delay(db->srv->config.rdb_key_save_delay);
    }
    dict_iter_release(&it);
    return rc;
}

void rdb_debug_delay(long long usec)
{
    if (usec < 0)
        usec = random() % -usec == 0 ? 1 : 0;
    if (usec > 0)
        usleep((useconds_t)(usec > 1000000 ? 1000000 : usec));
}

void rdb_writer_use_config(rdb_writer *w, const struct srv *s)
{
    w->hash_max_listpack_entries = s->config.hash_max_listpack_entries;
    w->hash_max_listpack_value = s->config.hash_max_listpack_value;
    w->zset_max_listpack_entries = s->config.zset_max_listpack_entries;
    w->zset_max_listpack_value = s->config.zset_max_listpack_value;
    w->list_max_listpack_size = s->config.list_max_listpack_size;
    w->set_max_intset_entries = s->config.set_max_intset_entries;
}

kstr rdb_serialize_value(const struct srv *s, const obj *val, int compress)
{
    kstr out = kstr_empty(64);
    rdb_writer w;
    rdb_writer_init(&w, rdb_kstr_write, &out, compress, 0);
    rdb_writer_use_config(&w, s);
    int rc = rdb_write_value(&w, val);
    if (rc == 0)
        rc = rdb_write_flush(&w);
    rdb_writer_release(&w);
    if (rc != 0) {
        kstr_free(out);
        return NULL;
    }
    return out;
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

kstr rdb_dump_footer_append(kstr payload)
{
    unsigned char footer[RDB_DUMP_FOOTER_LEN];
    put_le(footer, RDB_VERSION, 2);
    payload = kstr_cat(payload, footer, 2);
    put_le(footer + 2, crc64_update(0, payload, kstr_len(payload)), 8);
    return kstr_cat(payload, footer + 2, 8);
}

int rdb_dump_footer_ok(const void *payload, size_t len)
{
    const unsigned char *p = payload;
    if (len < RDB_DUMP_FOOTER_LEN)
        return 0;
    const unsigned char *footer = p + len - RDB_DUMP_FOOTER_LEN;
    if (get_le(footer, 2) > RDB_VERSION)
        return 0;
    return crc64_update(0, p, len - 8) == get_le(footer + 2, 8);
}

int rdb_write_snapshot(rdb_writer *w, struct srv *s, const rdb_meta *meta)
{
    rdb_writer_use_config(w, s);
    if (rdb_write_header(w, meta) < 0)
        return -1;
    /* Functions before the data, where 7.0 writes them. */
    if (function_write_rdb(s, w) < 0)
        return -1;
    for (int i = 0; i < s->dbnum; i++) {
        kvdb *db = &s->dbs[i];
        if (dict_size(db->keys) == 0)
            continue;
        if (w_db(w, db) < 0)
            return -1;
    }
    return rdb_write_end(w);
}

int rdb_write_function(rdb_writer *w, const char *code, size_t len)
{
    if (w_u8(w, RDB_OPCODE_FUNCTION2) < 0)
        return -1;
    return w_string(w, code, len);
}

int rdb_fd_write(void *priv, const void *buf, size_t len)
{
    int fd = *(int *)priv;
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int rdb_kstr_write(void *priv, const void *buf, size_t len)
{
    kstr *s = priv;
    /* A value can serialize to more than a kstr holds (a list of many GB):
     * fail the write, which the caller reports, rather than reach the kstr
     * limit's abort(). 10 bytes stay free for DUMP's footer. */
    if (len > KSTR_MAX_LEN - 10 - kstr_len(*s))
        return -1;
    *s = kstr_cat(*s, buf, len);
    return 0;
}

/* ====================================================================== */
/* Reader                                                                  */
/* ====================================================================== */

void rdb_reader_init(rdb_reader *r, rdb_read_fn *fn, void *priv)
{
    memset(r, 0, sizeof(*r));
    r->read = fn;
    r->rpriv = priv;
    r->cap = RDB_RBUF_SIZE;
    r->buf = mem_alloc(r->cap);
    r->own_buf = 1;
    r->verify_checksum = 1;
    r->cur_db = 0;
    r->meta.repl_stream_db = -1;
}

void rdb_reader_init_mem(rdb_reader *r, const void *data, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->buf = (unsigned char *)data;   /* never written to in memory mode */
    r->cap = r->len = len;
    r->size_hint = len;
    r->verify_checksum = 1;
    r->meta.repl_stream_db = -1;
}

void rdb_reader_release(rdb_reader *r)
{
    if (r->own_buf)
        mem_free(r->buf);
    r->buf = NULL;
    for (int i = 0; i < 2; i++) {
        mem_free(r->tmp[i]);
        r->tmp[i] = NULL;
        r->tmp_cap[i] = 0;
    }
    kstr_free(r->cur_key);
    r->cur_key = NULL;
}

uint64_t rdb_reader_offset(const rdb_reader *r)
{
    return r->base_off + r->pos;
}

int rdb_reader_fail(rdb_reader *r, const char *fmt, ...)
{
    char why[320];
    va_list ap;
    if (r->err[0])
        return -1;   /* keep the first (innermost) reason */
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (r->cur_key) {
        char shown[64];
        size_t kl = kstr_len(r->cur_key), n = 0;
        for (size_t i = 0; i < kl && n + 5 < sizeof(shown); i++) {
            unsigned char c = (unsigned char)r->cur_key[i];
            if (c >= 32 && c < 127 && c != '\'')
                shown[n++] = (char)c;
            else
                n += (size_t)snprintf(shown + n, sizeof(shown) - n, "\\x%02x", c);
        }
        shown[n] = 0;
        snprintf(r->err, sizeof(r->err), "offset %llu (db %d, key '%s'): %s",
                 (unsigned long long)rdb_reader_offset(r), r->cur_db, shown, why);
    } else {
        snprintf(r->err, sizeof(r->err), "offset %llu: %s",
                 (unsigned long long)rdb_reader_offset(r), why);
    }
    return -1;
}

/* Fold the consumed bytes of the buffer into the running checksum. */
static void r_fold_crc(rdb_reader *r)
{
    if (r->pos > r->crc_pos) {
        r->crc = crc64_update(r->crc, r->buf + r->crc_pos, r->pos - r->crc_pos);
        r->crc_pos = r->pos;
    }
}

/* Make at least `need` (<= cap) unread bytes available. */
static int r_fill(rdb_reader *r, size_t need)
{
    if (r->len - r->pos >= need)
        return 0;
    if (!r->read)
        return rdb_reader_fail(r, "unexpected end of file (truncated RDB)");
    r_fold_crc(r);
    size_t left = r->len - r->pos;
    memmove(r->buf, r->buf + r->pos, left);
    r->base_off += r->pos;
    r->pos = 0;
    r->crc_pos = 0;
    r->len = left;
    while (r->len < need) {
        ssize_t n = r->read(r->rpriv, r->buf + r->len, r->cap - r->len);
        if (n < 0)
            return rdb_reader_fail(r, "read error: %s", strerror(errno ? errno : EIO));
        if (n == 0)
            return rdb_reader_fail(r, "unexpected end of file (truncated RDB)");
        r->len += (size_t)n;
    }
    return 0;
}

static int r_bytes(rdb_reader *r, void *dst, size_t n)
{
    unsigned char *d = dst;
    while (n) {
        if (r->pos == r->len && r_fill(r, 1) < 0)
            return -1;
        size_t take = r->len - r->pos;
        if (take > n)
            take = n;
        memcpy(d, r->buf + r->pos, take);
        r->pos += take;
        d += take;
        n -= take;
    }
    return 0;
}

static int r_u8(rdb_reader *r, unsigned *v)
{
    if (r->pos == r->len && r_fill(r, 1) < 0)
        return -1;
    *v = r->buf[r->pos++];
    return 0;
}

/* Bytes still to come, when known (for sanity checks on lengths). */
static uint64_t r_remaining(const rdb_reader *r)
{
    if (!r->size_hint)
        return UINT64_MAX;
    uint64_t off = rdb_reader_offset(r);
    return off >= r->size_hint ? 0 : r->size_hint - off;
}

/* Read a length, or the marker of an encoded string (*encoded set). */
int rdb_read_opcode(rdb_reader *r, unsigned *op)
{
    return r_u8(r, op);
}

static int r_len_enc(rdb_reader *r, uint64_t *len, int *encoded)
{
    unsigned b, c;
    unsigned char x[8];
    if (encoded)
        *encoded = 0;
    if (r_u8(r, &b) < 0)
        return -1;
    switch (b >> 6) {
    case RDB_6BITLEN:
        *len = b & 0x3f;
        return 0;
    case RDB_14BITLEN:
        if (r_u8(r, &c) < 0)
            return -1;
        *len = ((uint64_t)(b & 0x3f) << 8) | c;
        return 0;
    case RDB_ENCVAL:
        if (!encoded)
            return rdb_reader_fail(r, "string encoding 0x%02x where a length was expected", b);
        *encoded = 1;
        *len = b & 0x3f;
        return 0;
    default:
        break;
    }
    if (b == RDB_32BITLEN) {
        if (r_bytes(r, x, 4) < 0)
            return -1;
        *len = ((uint64_t)x[0] << 24) | ((uint64_t)x[1] << 16) | ((uint64_t)x[2] << 8) | x[3];
        return 0;
    }
    if (b == RDB_64BITLEN) {
        if (r_bytes(r, x, 8) < 0)
            return -1;
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v = (v << 8) | x[i];
        *len = v;
        return 0;
    }
    return rdb_reader_fail(r, "invalid length encoding byte 0x%02x", b);
}

static int r_len(rdb_reader *r, uint64_t *len)
{
    return r_len_enc(r, len, NULL);
}

/* Read n raw bytes into a new kstr. Large strings grow as they arrive. */
static kstr r_raw_kstr(rdb_reader *r, uint64_t n)
{
    if (n > r_remaining(r)) {
        rdb_reader_fail(r, "string of %llu bytes runs past the end of the file",
                        (unsigned long long)n);
        return NULL;
    }
    if (n > KSTR_MAX_LEN) {
        rdb_reader_fail(r, "string length %llu too large", (unsigned long long)n);
        return NULL;
    }
    if (n <= RDB_STR_CHUNK) {
        kstr s = kstr_empty((size_t)n);
        if (r_bytes(r, s, (size_t)n) < 0) {
            kstr_free(s);
            return NULL;
        }
        kstr_set_len(s, (size_t)n);
        return s;
    }
    /* Large: grow as the bytes arrive. */
    kstr s = kstr_empty(RDB_STR_CHUNK);
    size_t got = 0;
    while (got < n) {
        size_t cap = kstr_cap(s);
        if (got == cap) {
            size_t ncap = cap * 2 > n ? (size_t)n : cap * 2;
            s = kstr_grow_zero(s, ncap);
            kstr_set_len(s, got);
            cap = kstr_cap(s);
        }
        size_t want = (cap > n ? (size_t)n : cap) - got;
        if (r_bytes(r, s + got, want) < 0) {
            kstr_free(s);
            return NULL;
        }
        got += want;
        kstr_set_len(s, got);
    }
    return s;
}

static kstr r_lzf_kstr(rdb_reader *r)
{
    uint64_t clen, len;
    if (r_len(r, &clen) < 0 || r_len(r, &len) < 0)
        return NULL;
    if (clen > r_remaining(r)) {
        rdb_reader_fail(r, "compressed string of %llu bytes runs past the end of the file",
                        (unsigned long long)clen);
        return NULL;
    }
    /* A back-reference of 3 bytes expands to at most 264: anything claiming
     * a larger ratio is corrupt (and would make us over-allocate). */
    if (len == 0 || len > KSTR_MAX_LEN || len > clen * 90 + 64) {
        rdb_reader_fail(r, "invalid LZF lengths (compressed %llu, plain %llu)",
                        (unsigned long long)clen, (unsigned long long)len);
        return NULL;
    }
    kstr c = r_raw_kstr(r, clen);
    if (!c)
        return NULL;
    kstr s = kstr_empty((size_t)len);
    size_t n = lzf_decompress(c, (size_t)clen, s, (size_t)len);
    kstr_free(c);
    if (n != len) {
        kstr_free(s);
        rdb_reader_fail(r, "invalid LZF compressed string");
        return NULL;
    }
    kstr_set_len(s, (size_t)len);
    s[len] = 0;
    return s;
}

/* The value of a specially encoded string (after its 11xxxxxx marker):
 * integers give their decimal text (and *is_int / *ival), LZF its bytes. */
static kstr r_encoded(rdb_reader *r, uint64_t enc, int *is_int, long long *ival)
{
    unsigned char b[4];
    long long v;
    switch (enc) {
    case RDB_ENC_INT8:
        if (r_bytes(r, b, 1) < 0)
            return NULL;
        v = (int8_t)b[0];
        break;
    case RDB_ENC_INT16:
        if (r_bytes(r, b, 2) < 0)
            return NULL;
        v = (int16_t)(uint16_t)(b[0] | (b[1] << 8));
        break;
    case RDB_ENC_INT32:
        if (r_bytes(r, b, 4) < 0)
            return NULL;
        v = (int32_t)((uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24));
        break;
    case RDB_ENC_LZF:
        return r_lzf_kstr(r);
    default:
        rdb_reader_fail(r, "unknown string encoding %llu", (unsigned long long)enc);
        return NULL;
    }
    if (is_int) {
        *is_int = 1;
        *ival = v;
    }
    return kstr_from_ll(v);
}

/* Read a string: raw, integer-encoded or LZF. Integer encodings give the
 * decimal text; *is_int/ *ival report them so callers can skip a parse. */
static kstr r_string_ex(rdb_reader *r, int *is_int, long long *ival)
{
    uint64_t len;
    int enc;
    if (is_int)
        *is_int = 0;
    if (r_len_enc(r, &len, &enc) < 0)
        return NULL;
    if (!enc)
        return r_raw_kstr(r, len);
    return r_encoded(r, len, is_int, ival);
}

/* Read a string into one of the reader's two reusable buffers, for values
 * the containers copy anyway (set members, hash fields and values, zset
 * members): one allocation less per element. Valid until the next call
 * with the same slot. */
static int r_string_tmp(rdb_reader *r, int slot, const char **p, size_t *len)
{
    uint64_t n;
    int enc;
    if (r_len_enc(r, &n, &enc) < 0)
        return -1;
    if (enc && n != RDB_ENC_LZF) {
        unsigned char b[4];
        long long v;
        size_t w = n == RDB_ENC_INT8 ? 1 : n == RDB_ENC_INT16 ? 2 : 4;
        if (n > RDB_ENC_INT32) {
            return rdb_reader_fail(r, "unknown string encoding %llu", (unsigned long long)n);
        }
        if (r_bytes(r, b, w) < 0)
            return -1;
        if (w == 1)
            v = (int8_t)b[0];
        else if (w == 2)
            v = (int16_t)(uint16_t)(b[0] | (b[1] << 8));
        else
            v = (int32_t)((uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24));
        if (r->tmp_cap[slot] < 32) {
            mem_free(r->tmp[slot]);
            r->tmp_cap[slot] = 64;
            r->tmp[slot] = mem_alloc(r->tmp_cap[slot]);
        }
        *len = (size_t)util_ll_to_str(r->tmp[slot], 32, v);
        *p = r->tmp[slot];
        return 0;
    }
    if (enc || n > RDB_STR_CHUNK) {
        /* LZF or huge: take the allocating path and keep the result. */
        kstr s = enc ? r_lzf_kstr(r) : r_raw_kstr(r, n);
        if (!s)
            return -1;
        mem_free(r->tmp[slot]);
        r->tmp_cap[slot] = kstr_len(s) + 1;
        r->tmp[slot] = mem_alloc(r->tmp_cap[slot]);
        memcpy(r->tmp[slot], s, kstr_len(s));
        *len = kstr_len(s);
        *p = r->tmp[slot];
        kstr_free(s);
        return 0;
    }
    if (n > r_remaining(r))
        return rdb_reader_fail(r, "string of %llu bytes runs past the end of the file",
                               (unsigned long long)n);
    if (r->tmp_cap[slot] < n + 1) {
        size_t cap = r->tmp_cap[slot] * 2 > n + 1 ? r->tmp_cap[slot] * 2 : (size_t)n + 1;
        if (cap < 64)
            cap = 64;
        mem_free(r->tmp[slot]);
        r->tmp[slot] = mem_alloc(cap);
        r->tmp_cap[slot] = cap;
    }
    if (r_bytes(r, r->tmp[slot], (size_t)n) < 0)
        return -1;
    *p = r->tmp[slot];
    *len = (size_t)n;
    return 0;
}

static kstr r_string(rdb_reader *r)
{
    return r_string_ex(r, NULL, NULL);
}

/* Old-style (type 3) score: a length byte, then ASCII; 253/254/255 stand
 * for NaN, +inf and -inf. */
static int r_double_str(rdb_reader *r, double *d)
{
    unsigned n;
    char buf[256];
    if (r_u8(r, &n) < 0)
        return -1;
    switch (n) {
    case 253: *d = NAN; return 0;
    case 254: *d = INFINITY; return 0;
    case 255: *d = -INFINITY; return 0;
    default: break;
    }
    if (r_bytes(r, buf, n) < 0)
        return -1;
    buf[n] = 0;
    char *end;
    errno = 0;
    *d = strtod(buf, &end);
    if (n == 0 || end != buf + n)
        return rdb_reader_fail(r, "invalid score '%s'", buf);
    return 0;
}

static int r_double_bin(rdb_reader *r, double *d)
{
    unsigned char b[8];
    uint64_t bits = 0;
    if (r_bytes(r, b, 8) < 0)
        return -1;
    for (int i = 7; i >= 0; i--)
        bits = (bits << 8) | b[i];
    memcpy(d, &bits, 8);
    return 0;
}

/* ---- plain types ---- */

static obj *r_list_plain(rdb_reader *r)
{
    uint64_t n;
    if (r_len(r, &n) < 0)
        return NULL;
    obj *o = obj_list_new();
    for (uint64_t i = 0; i < n; i++) {
        kstr e = r_string(r);
        if (!e) {
            obj_free(o);
            return NULL;
        }
        deque_push_tail(o->v.ptr, e);
    }
    return o;
}

static obj *r_set_plain(rdb_reader *r)
{
    uint64_t n;
    if (r_len(r, &n) < 0)
        return NULL;
    obj *o = obj_set_new();
    for (uint64_t i = 0; i < n; i++) {
        const char *e;
        size_t el;
        if (r_string_tmp(r, 0, &e, &el) < 0) {
            obj_free(o);
            return NULL;
        }
        if (!setobj_add(o->v.ptr, e, el)) {
            obj_free(o);
            rdb_reader_fail(r, "duplicate set member");
            return NULL;
        }
    }
    return o;
}

static obj *r_zset_plain(rdb_reader *r, int binary_scores)
{
    uint64_t n;
    if (r_len(r, &n) < 0)
        return NULL;
    obj *o = obj_zset_new();
    /* Redis loads a plain sorted set into a skiplist and converts it only
     * when small: too many members and it never passes through a listpack
     * (which would turn a -0 score into 0). */
    if (n > zset_max_listpack_entries)
        zset_set_compact(o->v.ptr, 0);
    for (uint64_t i = 0; i < n; i++) {
        double d;
        const char *m;
        size_t ml;
        if (r_string_tmp(r, 0, &m, &ml) < 0)
            goto fail;
        int rc = binary_scores ? r_double_bin(r, &d) : r_double_str(r, &d);
        if (rc < 0)
            goto fail;
        if (isnan(d)) {
            rdb_reader_fail(r, "sorted set score is NaN");
            goto fail;
        }
        if (!zset_add(o->v.ptr, m, ml, d)) {
            rdb_reader_fail(r, "duplicate sorted set member");
            goto fail;
        }
    }
    return o;
fail:
    obj_free(o);
    return NULL;
}

static obj *r_hash_plain(rdb_reader *r)
{
    uint64_t n;
    if (r_len(r, &n) < 0)
        return NULL;
    obj *o = obj_hash_new();
    for (uint64_t i = 0; i < n; i++) {
        const char *f, *v;
        size_t fl, vl;
        if (r_string_tmp(r, 0, &f, &fl) < 0 || r_string_tmp(r, 1, &v, &vl) < 0)
            goto fail;
        if (!hmap_set(o->v.ptr, f, fl, v, vl)) {
            rdb_reader_fail(r, "duplicate hash field");
            goto fail;
        }
    }
    return o;
fail:
    obj_free(o);
    return NULL;
}

/* ---- packed encodings (blobs inside a string) ---- */

/* The element as bytes: string entries point into the blob, integers are
 * formatted into buf. */
static const char *entry_bytes(const lp_entry *e, char *buf, size_t *len)
{
    if (e->is_int) {
        *len = (size_t)util_ll_to_str(buf, 32, e->ival);
        return buf;
    }
    *len = e->slen;
    return (const char *)e->sval;
}

/* One iterator type over either blob format. */
typedef struct packed_iter {
    int is_zl;
    lp_iter lp;
    zl_iter zl;
} packed_iter;

static int packed_init(rdb_reader *r, packed_iter *it, int is_zl, const kstr blob)
{
    it->is_zl = is_zl;
    int rc = is_zl ? zl_iter_init(&it->zl, blob, kstr_len(blob))
                   : lp_iter_init(&it->lp, blob, kstr_len(blob));
    if (rc < 0)
        return rdb_reader_fail(r, "%s", is_zl ? it->zl.err : it->lp.err);
    return 0;
}

static int packed_next(rdb_reader *r, packed_iter *it, lp_entry *e)
{
    int rc = it->is_zl ? zl_iter_next(&it->zl, e) : lp_iter_next(&it->lp, e);
    if (rc < 0)
        return rdb_reader_fail(r, "%s", it->is_zl ? it->zl.err : it->lp.err);
    return rc;
}

/* Append every element of a packed blob to a list. */
static int packed_to_list(rdb_reader *r, int is_zl, const kstr blob, deque *q)
{
    packed_iter it;
    lp_entry e;
    int rc;
    if (packed_init(r, &it, is_zl, blob) < 0)
        return -1;
    while ((rc = packed_next(r, &it, &e)) == 1) {
        char buf[32];
        size_t len;
        const char *p = entry_bytes(&e, buf, &len);
        deque_push_tail(q, kstr_new(p, len));
    }
    return rc;
}

static obj *r_list_ziplist(rdb_reader *r)
{
    kstr blob = r_string(r);
    if (!blob)
        return NULL;
    obj *o = obj_list_new();
    int rc = packed_to_list(r, 1, blob, o->v.ptr);
    kstr_free(blob);
    if (rc < 0) {
        obj_free(o);
        return NULL;
    }
    return o;
}

/* Quicklist (type 14: ziplist nodes) and quicklist 2 (type 18: listpack
 * nodes, each PACKED, or PLAIN for a single large element). */
static obj *r_list_quicklist(rdb_reader *r, int v2)
{
    uint64_t nodes;
    if (r_len(r, &nodes) < 0)
        return NULL;
    obj *o = obj_list_new();
    for (uint64_t i = 0; i < nodes; i++) {
        uint64_t container = RDB_QUICKLIST_NODE_PACKED;
        if (v2) {
            if (r_len(r, &container) < 0)
                goto fail;
            if (container != RDB_QUICKLIST_NODE_PACKED && container != RDB_QUICKLIST_NODE_PLAIN) {
                rdb_reader_fail(r, "invalid quicklist node container %llu", (unsigned long long)container);
                goto fail;
            }
        }
        kstr blob = r_string(r);
        if (!blob)
            goto fail;
        if (container == RDB_QUICKLIST_NODE_PLAIN) {
            deque_push_tail(o->v.ptr, blob);
            continue;
        }
        int rc = packed_to_list(r, !v2, blob, o->v.ptr);
        kstr_free(blob);
        if (rc < 0)
            goto fail;
    }
    return o;
fail:
    obj_free(o);
    return NULL;
}

static obj *r_set_intset(rdb_reader *r)
{
    kstr blob = r_string(r);
    if (!blob)
        return NULL;
    size_t bl = kstr_len(blob);
    const unsigned char *b = (const unsigned char *)blob;
    obj *o = NULL;
    if (bl < 8) {
        rdb_reader_fail(r, "intset shorter than its header");
        goto out;
    }
    uint32_t enc = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
    uint32_t n = (uint32_t)b[4] | ((uint32_t)b[5] << 8) | ((uint32_t)b[6] << 16) | ((uint32_t)b[7] << 24);
    if (enc != 2 && enc != 4 && enc != 8) {
        rdb_reader_fail(r, "intset has invalid encoding %u", enc);
        goto out;
    }
    if ((uint64_t)n * enc + 8 != bl) {
        rdb_reader_fail(r, "intset size does not match its length (%u elements)", n);
        goto out;
    }
    o = obj_set_new();
    long long prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *p = b + 8 + (size_t)i * enc;
        uint64_t u = 0;
        for (int k = (int)enc - 1; k >= 0; k--)
            u = (u << 8) | p[k];
        long long v;
        if (enc == 2)
            v = (int16_t)(uint16_t)u;
        else if (enc == 4)
            v = (int32_t)(uint32_t)u;
        else
            v = (long long)u;
        if (i > 0 && v <= prev) {
            rdb_reader_fail(r, "intset elements not in ascending order");
            obj_free(o);
            o = NULL;
            goto out;
        }
        prev = v;
        char buf[32];
        int len = util_ll_to_str(buf, sizeof(buf), v);
        setobj_add(o->v.ptr, buf, (size_t)len);
    }
out:
    kstr_free(blob);
    return o;
}

/* Hash from a ziplist (13) or listpack (16): field, value, field, ... */
static obj *r_hash_packed(rdb_reader *r, int is_zl)
{
    kstr blob = r_string(r);
    if (!blob)
        return NULL;
    packed_iter it;
    lp_entry f, v;
    obj *o = obj_hash_new();
    int rc;
    if (packed_init(r, &it, is_zl, blob) < 0)
        goto fail;
    while ((rc = packed_next(r, &it, &f)) == 1) {
        char fb[32], vb[32];
        size_t fl, vl;
        if ((rc = packed_next(r, &it, &v)) != 1) {
            if (rc == 0)
                rdb_reader_fail(r, "hash blob has a field without a value");
            goto fail;
        }
        const char *fp = entry_bytes(&f, fb, &fl);
        const char *vp = entry_bytes(&v, vb, &vl);
        if (!hmap_set(o->v.ptr, fp, fl, vp, vl)) {
            rdb_reader_fail(r, "duplicate hash field");
            goto fail;
        }
    }
    if (rc < 0)
        goto fail;
    kstr_free(blob);
    return o;
fail:
    kstr_free(blob);
    obj_free(o);
    return NULL;
}

static int entry_score(rdb_reader *r, const lp_entry *e, double *d)
{
    if (e->is_int) {
        *d = (double)e->ival;
        return 0;
    }
    char buf[128];
    if (e->slen == 0 || e->slen >= sizeof(buf))
        return rdb_reader_fail(r, "invalid sorted set score");
    memcpy(buf, e->sval, e->slen);
    buf[e->slen] = 0;
    char *end;
    *d = strtod(buf, &end);
    if (end != buf + e->slen || isnan(*d))
        return rdb_reader_fail(r, "invalid sorted set score '%s'", buf);
    return 0;
}

/* Sorted set from a ziplist (12) or listpack (17): member, score, ... */
static obj *r_zset_packed(rdb_reader *r, int is_zl)
{
    kstr blob = r_string(r);
    if (!blob)
        return NULL;
    packed_iter it;
    lp_entry m, sc;
    obj *o = obj_zset_new();
    int rc;
    if (packed_init(r, &it, is_zl, blob) < 0)
        goto fail;
    while ((rc = packed_next(r, &it, &m)) == 1) {
        char mb[32];
        size_t ml;
        double d = 0;
        if ((rc = packed_next(r, &it, &sc)) != 1) {
            if (rc == 0)
                rdb_reader_fail(r, "sorted set blob has a member without a score");
            goto fail;
        }
        if (entry_score(r, &sc, &d) < 0)
            goto fail;
        const char *mp = entry_bytes(&m, mb, &ml);
        if (!zset_add(o->v.ptr, mp, ml, d)) {
            rdb_reader_fail(r, "duplicate sorted set member");
            goto fail;
        }
    }
    if (rc < 0)
        goto fail;
    kstr_free(blob);
    /* A packed set stays packed unless it has too many members: Redis
     * checks only the count when it loads one (member sizes are not). */
    zset_set_compact(o->v.ptr, zset_len(o->v.ptr) <= zset_max_listpack_entries);
    return o;
fail:
    kstr_free(blob);
    obj_free(o);
    return NULL;
}

static obj *r_string_obj(rdb_reader *r)
{
    int is_int;
    long long v;
    kstr s = r_string_ex(r, &is_int, &v);
    if (!s)
        return NULL;
    if (is_int) {
        kstr_free(s);
        return obj_string_from_ll(v);
    }
    return obj_string_from_kstr(s);
}

static int obj_is_empty(const obj *o)
{
    switch (o->type) {
    case OBJ_LIST: return deque_len(o->v.ptr) == 0;
    case OBJ_SET: return setobj_len(o->v.ptr) == 0;
    case OBJ_ZSET: return zset_len(o->v.ptr) == 0;
    case OBJ_HASH: return hmap_len(o->v.ptr) == 0;
    default: return 0;
    }
}

/* One node of a stream record: the 16-byte master ID and the listpack,
 * which stream_load_node checks entry by entry before keeping it. */
static int r_stream_node(rdb_reader *r, stream *s)
{
    kstr key = r_string(r);
    if (!key)
        return -1;
    if (kstr_len(key) != 16) {
        kstr_free(key);
        return rdb_reader_fail(r, "stream node key is not the size of a stream ID");
    }
    stream_id master;
    stream_id_decode_key((const unsigned char *)key, &master);
    kstr_free(key);
    kstr blob = r_string(r);
    if (!blob)
        return -1;
    size_t len = kstr_len(blob);
    unsigned char *lp = mem_memdup(blob, len);
    kstr_free(blob);
    const char *err = NULL;
    if (stream_load_node(s, &master, lp, len, &err) < 0) {
        mem_free(lp);
        return rdb_reader_fail(r, "corrupt stream node: %s", err);
    }
    return 0;
}

/* Types 15 and 19 (see w_stream); type 15 lacks first ID, max deleted ID
 * and entries added, which Redis derives as done here. */
static obj *r_stream(rdb_reader *r, int type)
{
    obj *o = obj_stream_new();
    stream *s = o->v.ptr;
    uint64_t nodes, f[8] = {0};
    if (r_len(r, &nodes) < 0)
        goto fail;
    for (uint64_t i = 0; i < nodes; i++)
        if (r_stream_node(r, s) < 0)
            goto fail;
    size_t nf = type == RDB_TYPE_STREAM_LISTPACKS_2 ? 8 : 3;
    for (size_t i = 0; i < nf; i++)
        if (r_len(r, &f[i]) < 0)
            goto fail;
    s->last_id = (stream_id){f[1], f[2]};
    if (type == RDB_TYPE_STREAM_LISTPACKS_2) {
        s->first_id = (stream_id){f[3], f[4]};
        s->max_deleted_id = (stream_id){f[5], f[6]};
        s->entries_added = f[7];
    } else {
        s->entries_added = s->length;
        stream_update_first_id(s);
    }
    const char *err = NULL;
    if (stream_load_finish(s, f[0], &err) < 0) {
        rdb_reader_fail(r, "corrupt stream: %s", err);
        goto fail;
    }
    if (stream_cg_rdb_read(r, s, type) < 0)
        goto fail;
    return o;
fail:
    obj_free(o);
    return NULL;
}

static obj *r_value(rdb_reader *r, int type)
{
    switch (type) {
    case RDB_TYPE_STRING: return r_string_obj(r);
    case RDB_TYPE_LIST: return r_list_plain(r);
    case RDB_TYPE_SET: return r_set_plain(r);
    case RDB_TYPE_ZSET: return r_zset_plain(r, 0);
    case RDB_TYPE_ZSET_2: return r_zset_plain(r, 1);
    case RDB_TYPE_HASH: return r_hash_plain(r);
    case RDB_TYPE_LIST_ZIPLIST: return r_list_ziplist(r);
    case RDB_TYPE_SET_INTSET: return r_set_intset(r);
    case RDB_TYPE_ZSET_ZIPLIST: return r_zset_packed(r, 1);
    case RDB_TYPE_HASH_ZIPLIST: return r_hash_packed(r, 1);
    case RDB_TYPE_LIST_QUICKLIST: return r_list_quicklist(r, 0);
    case RDB_TYPE_HASH_LISTPACK: return r_hash_packed(r, 0);
    case RDB_TYPE_ZSET_LISTPACK: return r_zset_packed(r, 0);
    case RDB_TYPE_LIST_QUICKLIST_2: return r_list_quicklist(r, 1);
    case RDB_TYPE_STREAM_LISTPACKS:
    case RDB_TYPE_STREAM_LISTPACKS_2:
        return r_stream(r, type);
    case RDB_TYPE_MODULE:
    case RDB_TYPE_MODULE_2:
        rdb_reader_fail(r, "module keys (RDB type %d) are not supported", type);
        return NULL;
    case RDB_TYPE_HASH_ZIPMAP:
        rdb_reader_fail(r, "zipmap-encoded hashes (RDB type 9, Redis < 2.6) are not supported");
        return NULL;
    default:
        rdb_reader_fail(r, "unknown RDB value type %d", type);
        return NULL;
    }
}

obj *rdb_read_value(rdb_reader *r, int type)
{
    obj *o = r_value(r, type);
    if (o && obj_is_empty(o)) {
        obj_free(o);
        rdb_reader_fail(r, "empty key");
        return NULL;
    }
    return o;
}

/* ---- opcodes ---- */

static void r_aux_apply(rdb_reader *r, const kstr k, const kstr v)
{
    rdb_meta *m = &r->meta;
    long long n;
    int num = util_str_to_ll(v, kstr_len(v), &n);
    if (!strcmp(k, "redis-ver"))
        snprintf(m->redis_ver, sizeof(m->redis_ver), "%s", v);
    else if (!strcmp(k, "redis-bits") && num)
        m->redis_bits = (int)n;
    else if (!strcmp(k, "ctime") && num)
        m->ctime = n;
    else if (!strcmp(k, "used-mem") && num)
        m->used_mem = n;
    else if (!strcmp(k, "repl-stream-db") && num)
        m->repl_stream_db = (int)n;
    else if (!strcmp(k, "repl-id") && kstr_len(v) == 40) {
        memcpy(m->repl_id, v, 40);
        m->repl_id[40] = 0;
        m->has_repl = 1;
    } else if (!strcmp(k, "repl-offset") && num)
        m->repl_offset = n;
    else if (!strcmp(k, "aof-base") && num)
        m->aof_base = (int)n;
    /* Others (lua scripts of old versions, aof-preamble...) are ignored, as
     * Redis ignores AUX fields it does not know. */
}

static int r_aux(rdb_reader *r)
{
    kstr k = r_string(r);
    if (!k)
        return -1;
    kstr v = r_string(r);
    if (!v) {
        kstr_free(k);
        return -1;
    }
    r_aux_apply(r, k, v);
    kstr_free(k);
    kstr_free(v);
    return 0;
}

/* Module AUX data: a module id, a "when" pair, then typed values until an
 * EOF marker. Without modules we can only skip it, as redis-check-rdb does. */
static int r_skip_module_aux(rdb_reader *r)
{
    uint64_t id, when_op, when, op;
    if (r_len(r, &id) < 0 || r_len(r, &when_op) < 0 || r_len(r, &when) < 0)
        return -1;
    for (;;) {
        if (r_len(r, &op) < 0)
            return -1;
        switch (op) {
        case 0:   /* EOF */
            r->module_aux_skipped++;
            return 0;
        case 1:   /* signed int */
        case 2: { /* unsigned int */
            uint64_t x;
            if (r_len(r, &x) < 0)
                return -1;
            break;
        }
        case 3: { /* float */
            unsigned char b[4];
            if (r_bytes(r, b, 4) < 0)
                return -1;
            break;
        }
        case 4: { /* double */
            double d;
            if (r_double_bin(r, &d) < 0)
                return -1;
            break;
        }
        case 5: { /* string */
            kstr s = r_string(r);
            if (!s)
                return -1;
            kstr_free(s);
            break;
        }
        default:
            return rdb_reader_fail(r, "unknown module value opcode %llu", (unsigned long long)op);
        }
    }
}

static int r_header(rdb_reader *r)
{
    char magic[10];
    if (r_bytes(r, magic, 9) < 0)
        return -1;
    magic[9] = 0;
    if (memcmp(magic, "REDIS", 5) != 0) {
        r->pos = 0;
        return rdb_reader_fail(r, "wrong signature trying to load DB from file (not an RDB file)");
    }
    int v = 0;
    for (int i = 5; i < 9; i++) {
        if (magic[i] < '0' || magic[i] > '9')
            return rdb_reader_fail(r, "invalid RDB version field '%.4s'", magic + 5);
        v = v * 10 + (magic[i] - '0');
    }
    if (v < 1 || v > RDB_VERSION)
        return rdb_reader_fail(r, "Can't handle RDB format version %d (this server reads up to %d)",
                               v, RDB_VERSION);
    r->version = v;
    return 0;
}

static int r_checksum(rdb_reader *r)
{
    unsigned char b[8];
    r_fold_crc(r);
    uint64_t computed = r->crc;
    if (r_bytes(r, b, 8) < 0)
        return -1;
    uint64_t stored = 0;
    for (int i = 7; i >= 0; i--)
        stored = (stored << 8) | b[i];
    if (stored == 0 || !r->verify_checksum)
        return 0;   /* written with rdbchecksum no */
    if (stored != computed) {
        r->pos -= 8;
        return rdb_reader_fail(r, "wrong RDB checksum (stored %016llx, computed %016llx)",
                               (unsigned long long)stored, (unsigned long long)computed);
    }
    return 0;
}

/* The access hint read before a key (FREQ or IDLE opcode), handed to the
 * loader inside the value (obj.reserved says which): the reader knows no
 * server policy, the loader applies it as Redis' objectSetLRUOrLFU. */
typedef struct r_lru_hint {
    int kind;          /* 0, OBJ_LRU_HINT_FREQ or OBJ_LRU_HINT_IDLE */
    uint32_t value;    /* counter, or idle seconds (clamped to 32 bits) */
} r_lru_hint;

static int r_key(rdb_reader *r, int type, int64_t expire, r_lru_hint hint)
{
    kstr key = r_string(r);
    if (!key)
        return -1;
    r->cur_key = key;
    obj *val = r_value(r, type);
    r->cur_key = NULL;
    if (!val) {
        /* Re-attach the key just for the message, then drop it. */
        if (r->err[0] == 0)
            rdb_reader_fail(r, "invalid value");
        kstr_free(key);
        return -1;
    }
    if (obj_is_empty(val)) {
        /* Redis skips empty containers rather than failing the load. */
        r->empty_keys_skipped++;
        obj_free(val);
        kstr_free(key);
        return 0;
    }
    r->keys_read++;
    if (hint.kind) {
        val->reserved |= (uint16_t)hint.kind;
        val->lru = hint.value;
    }
    if (r->on_key) {
        if (r->on_key(r->cb_priv, r->cur_db, key, val, expire) < 0)
            return r->err[0] ? -1 : rdb_reader_fail(r, "load aborted");
    } else {
        kstr_free(key);
        obj_free(val);
    }
    return 0;
}

int rdb_read_all(rdb_reader *r)
{
    int64_t expire = -1;
    r_lru_hint hint = { 0, 0 };
    r->err[0] = 0;
    if (r_header(r) < 0)
        return -1;
    for (;;) {
        unsigned op;
        if (r->on_progress && r->progress_every && rdb_reader_offset(r) >= r->next_progress) {
            r->next_progress = rdb_reader_offset(r) + r->progress_every;
            r->on_progress(r->cb_priv, rdb_reader_offset(r));
        }
        if (r_u8(r, &op) < 0)
            return -1;
        switch (op) {
        case RDB_OPCODE_EXPIRETIME_MS: {
            unsigned char b[8];
            uint64_t v = 0;
            if (r_bytes(r, b, 8) < 0)
                return -1;
            for (int i = 7; i >= 0; i--)
                v = (v << 8) | b[i];
            expire = (int64_t)v;
            continue;
        }
        case RDB_OPCODE_EXPIRETIME: {
            unsigned char b[4];
            if (r_bytes(r, b, 4) < 0)
                return -1;
            int32_t secs = (int32_t)((uint32_t)b[0] | ((uint32_t)b[1] << 8) |
                                     ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24));
            expire = (int64_t)secs * 1000;
            continue;
        }
        case RDB_OPCODE_IDLE: {
            uint64_t idle;
            if (r_len(r, &idle) < 0)
                return -1;
            hint.kind = OBJ_LRU_HINT_IDLE;
            hint.value = idle > UINT32_MAX ? UINT32_MAX : (uint32_t)idle;
            continue;
        }
        case RDB_OPCODE_FREQ: {
            unsigned f;
            if (r_u8(r, &f) < 0)
                return -1;
            hint.kind = OBJ_LRU_HINT_FREQ;
            hint.value = f;
            continue;
        }
        case RDB_OPCODE_SELECTDB: {
            uint64_t id;
            if (r_len(r, &id) < 0)
                return -1;
            if (id > INT32_MAX || (r->max_dbs > 0 && id >= (uint64_t)r->max_dbs))
                return rdb_reader_fail(r, "FATAL: Data file was created with a Redis server "
                                       "configured to handle more than %d databases (db %llu)",
                                       r->max_dbs, (unsigned long long)id);
            r->cur_db = (int)id;
            continue;
        }
        case RDB_OPCODE_RESIZEDB: {
            uint64_t keys, expires;
            if (r_len(r, &keys) < 0 || r_len(r, &expires) < 0)
                return -1;
            /* A hint only: clamp it so a corrupt value cannot make the
             * caller pre-allocate a huge table. */
            uint64_t lim = r_remaining(r) == UINT64_MAX ? (1u << 24) : r_remaining(r) / 3 + 1;
            if (keys > lim)
                keys = lim;
            if (expires > lim)
                expires = lim;
            if (r->on_resize)
                r->on_resize(r->cb_priv, r->cur_db, keys, expires);
            continue;
        }
        case RDB_OPCODE_AUX:
            if (r_aux(r) < 0)
                return -1;
            continue;
        case RDB_OPCODE_MODULE_AUX:
            if (r_skip_module_aux(r) < 0)
                return -1;
            continue;
        case RDB_OPCODE_FUNCTION2: {
            kstr code = r_string(r);
            if (!code)
                return -1;
            if (r->on_function) {
                if (r->on_function(r->cb_priv, code) < 0)
                    return -1;
            } else {
                kstr_free(code);
                r->functions_skipped++;
            }
            continue;
        }
        case RDB_OPCODE_FUNCTION:
            return rdb_reader_fail(r, "pre-release function format not supported");
        case RDB_OPCODE_EOF:
            if (r->version >= 5 && r_checksum(r) < 0)
                return -1;
            return 0;
        default:
            break;
        }
        /* A value type: key record. */
        if (r_key(r, (int)op, expire, hint) < 0)
            return -1;
        expire = -1;
        hint.kind = 0;
    }
}

int rdb_write_len(rdb_writer *w, uint64_t len)
{
    return w_len(w, len);
}

int rdb_write_string(rdb_writer *w, const char *s, size_t len)
{
    return w_string(w, s, len);
}

int rdb_read_len(rdb_reader *r, uint64_t *len)
{
    return r_len(r, len);
}

kstr rdb_read_string(rdb_reader *r)
{
    return r_string(r);
}

ssize_t rdb_fd_read(void *priv, void *buf, size_t cap)
{
    int fd = *(int *)priv;
    for (;;) {
        ssize_t n = read(fd, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        return n;
    }
}
