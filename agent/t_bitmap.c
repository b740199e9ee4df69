/* t_bitmap: the bit commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
 * BITFIELD, BITFIELD_RO) over plain string values, as Redis 7.0.15 has
 * them: bits are numbered from the most significant bit of the first byte,
 * a missing key reads as an endless run of zero bits, and writes grow the
 * string with zero bytes up to the highest bit touched. Offsets are bounded
 * by proto-max-bulk-len like in Redis, so a bit command cannot allocate
 * more than a bulk argument could. */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include "notify.h"
#include "command.h"
#include "client.h"
#include "server.h"
#include "reply.h"
#include "db.h"
#include "util.h"
#include "mem.h"

#define BIT_ERR_OFFSET "ERR bit offset is not an integer or out of range"
#define BIT_ERR_VALUE "ERR bit is not an integer or out of range"
#define BIT_ERR_TYPE "ERR Invalid bitfield type. Use something like i16 u8. " \
    "Note that u64 is not supported but i64 is."

static int bit_arg_is(const resp_arg *a, const char *s)
{
    return util_strcasecmp_len(a->ptr, a->len, s) == 0;
}

static int bit_parse_ll(client *c, const resp_arg *a, long long *v)
{
    if (!util_str_to_ll(a->ptr, a->len, v)) {
        reply_error(c, ERR_NOT_INT);
        return -1;
    }
    return 0;
}

/* A bit offset argument. With allow_hash, "#N" means N * bits (BITFIELD's
 * typed offsets, wrapping like Redis' long multiplication). The limit keeps
 * the byte index below proto-max-bulk-len; our master's stream is trusted,
 * as Redis trusts it. Whoever sends it, the string must stay within what a
 * kstr holds, with room for the 8 bytes a 64-bit field past the offset
 * touches: a raised proto-max-bulk-len gets Redis' error, not an abort. */
static int bit_parse_offset(client *c, const resp_arg *a, int allow_hash, int bits, uint64_t *out)
{
    int hash = allow_hash && a->len > 0 && a->ptr[0] == '#';
    long long off;
    if (!util_str_to_ll(a->ptr + hash, a->len - (size_t)hash, &off)) {
        reply_error(c, BIT_ERR_OFFSET);
        return -1;
    }
    if (hash)
        off = (long long)((unsigned long long)off * (unsigned long long)bits);
    unsigned long long limit = cmd_string_limit(c);
    if (limit > KSTR_MAX_LEN - 8)
        limit = KSTR_MAX_LEN - 8;
    if (off < 0 || (unsigned long long)(off >> 3) >= limit) {
        reply_error(c, BIT_ERR_OFFSET);
        return -1;
    }
    *out = (uint64_t)off;
    return 0;
}

/* The string under the key for a bit write, created or zero-grown so that
 * bit maxbit exists. *grown tells whether the value was created or made
 * longer (a change even when no bit flips). NULL after replying WRONGTYPE. */
static obj *bit_lookup_for_write(client *c, uint64_t maxbit, int *grown)
{
    const resp_arg *key = &c->argv[1];
    size_t need = (size_t)(maxbit >> 3) + 1;
    obj *o = db_lookup_write(c->db, key->ptr, key->len);
    *grown = 0;
    if (!o) {
        o = obj_string_raw_from_kstr(kstr_grow_zero(kstr_empty(0), need));
        if (o->enc != OBJ_ENC_RAW)
            obj_string_raw(o);
        db_add(c->db, key->ptr, key->len, o);
        *grown = 1;
        return o;
    }
    if (o->type != OBJ_STRING) {
        reply_error(c, ERR_WRONGTYPE);
        return NULL;
    }
    kstr s = obj_string_raw(o);
    if (kstr_len(s) < need) {
        s = kstr_grow_zero(s, need);
        o->v.str = s;
        *grown = 1;
    }
    return o;
}

/* Reads a string key for a bit read; replies WRONGTYPE and returns -1 for
 * other types. *p / *len describe the bytes (len 0 for a missing key). */
static int bit_lookup_read(client *c, obj **o, char *buf, const unsigned char **p, size_t *len)
{
    *o = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
    *p = NULL;
    *len = 0;
    if (!*o)
        return 0;
    if ((*o)->type != OBJ_STRING) {
        reply_error(c, ERR_WRONGTYPE);
        return -1;
    }
    *p = (const unsigned char *)obj_string_ptr(*o, buf, len);
    return 0;
}

/* SETBIT and BITFIELD both say `setbit`, as Redis does. */
static void bit_modified(client *c, long long changes)
{
    notify_keyspace_event(c->db, CFG_NOTIFY_STRING, "setbit", c->argv[1].ptr, c->argv[1].len);
    db_signal_modified(c->db, c->argv[1].ptr, c->argv[1].len);
    c->srv->dirty += changes;
}

/* ---- SETBIT / GETBIT -------------------------------------------------- */

static void cmd_setbit(client *c)
{
    uint64_t off;
    long long on;
    if (bit_parse_offset(c, &c->argv[2], 0, 0, &off) != 0)
        return;
    if (!util_str_to_ll(c->argv[3].ptr, c->argv[3].len, &on) || (on & ~1LL)) {
        reply_error(c, BIT_ERR_VALUE);
        return;
    }
    int grown;
    obj *o = bit_lookup_for_write(c, off, &grown);
    if (!o)
        return;
    unsigned char *s = (unsigned char *)o->v.str;
    size_t byte = (size_t)(off >> 3);
    int bit = 7 - (int)(off & 7);
    int old = (s[byte] >> bit) & 1;
    /* A bit that does not change is no write, unless the string grew. */
    if (grown || old != on) {
        s[byte] = (unsigned char)((s[byte] & ~(1 << bit)) | ((int)on << bit));
        bit_modified(c, 1);
    }
    reply_int(c, old);
}

static void cmd_getbit(client *c)
{
    uint64_t off;
    if (bit_parse_offset(c, &c->argv[2], 0, 0, &off) != 0)
        return;
    obj *o;
    char buf[32];
    const unsigned char *p;
    size_t len;
    if (bit_lookup_read(c, &o, buf, &p, &len) != 0)
        return;
    size_t byte = (size_t)(off >> 3);
    int v = 0;
    if (o && byte < len)
        v = (p[byte] >> (7 - (off & 7))) & 1;
    reply_int(c, v);
}

/* ---- BITCOUNT / BITPOS ------------------------------------------------ */

static long long bit_popcount(const unsigned char *p, size_t n)
{
    long long count = 0;
    for (size_t i = 0; i < n; i++)
        count += __builtin_popcount(p[i]);
    return count;
}

/* Turns a user range into an inclusive range of bit positions, with
 * Redis' clamping (negative indexes from the end, then clamped to the
 * value). Returns 0 when the range is empty. */
static int bit_clamp_range(long long start, long long end, long long total, long long *s, long long *e)
{
    if (start < 0) start = total + start;
    if (end < 0) end = total + end;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= total) end = total - 1;
    *s = start;
    *e = end;
    return start <= end;
}

/* BYTE or BIT unit argument: 1 for BIT, 0 for BYTE, -1 after replying. */
static int bit_parse_unit(client *c, const resp_arg *a)
{
    if (bit_arg_is(a, "bit"))
        return 1;
    if (bit_arg_is(a, "byte"))
        return 0;
    reply_error(c, ERR_SYNTAX);
    return -1;
}

static long long bit_count_bits(const unsigned char *p, long long sbit, long long ebit)
{
    long long sbyte = sbit >> 3, ebyte = ebit >> 3;
    long long count = bit_popcount(p + sbyte, (size_t)(ebyte - sbyte + 1));
    /* Take away the bits of the edge bytes that lie outside the range. */
    unsigned head = (unsigned)(0xFF00 >> (sbit & 7)) & 0xFF;
    unsigned tail = (1u << (7 - (ebit & 7))) - 1;
    count -= __builtin_popcount(p[sbyte] & head);
    count -= __builtin_popcount(p[ebyte] & tail);
    return count;
}

static void cmd_bitcount(client *c)
{
    obj *o;
    char buf[32];
    const unsigned char *p;
    size_t len;
    /* As in Redis, the key is looked up before the range is parsed: a
     * missing key answers 0 whatever the arguments. */
    if (bit_lookup_read(c, &o, buf, &p, &len) != 0)
        return;
    if (!o) {
        reply_int(c, 0);
        return;
    }
    long long total = (long long)len, start, end;
    int isbit = 0;
    if (c->argc == 4 || c->argc == 5) {
        if (bit_parse_ll(c, &c->argv[2], &start) != 0 || bit_parse_ll(c, &c->argv[3], &end) != 0)
            return;
        if (start < 0 && end < 0 && start > end) {
            reply_int(c, 0);
            return;
        }
        if (c->argc == 5 && (isbit = bit_parse_unit(c, &c->argv[4])) < 0)
            return;
    } else if (c->argc == 2) {
        start = 0;
        end = total - 1;
    } else {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    if (isbit)
        total <<= 3;
    long long s, e;
    if (!bit_clamp_range(start, end, total, &s, &e)) {
        reply_int(c, 0);
        return;
    }
    if (!isbit) {
        s <<= 3;
        e = (e << 3) + 7;
    }
    reply_int(c, bit_count_bits(p, s, e));
}

/* First bit equal to bit in [sbit, ebit], or -1. */
static long long bit_find(const unsigned char *p, int bit, long long sbit, long long ebit)
{
    unsigned char skip = bit ? 0x00 : 0xFF;
    long long i = sbit;
    while (i <= ebit) {
        if ((i & 7) == 0 && i + 7 <= ebit && p[i >> 3] == skip) {
            i += 8;
            continue;
        }
        if (((p[i >> 3] >> (7 - (i & 7))) & 1) == bit)
            return i;
        i++;
    }
    return -1;
}

static void cmd_bitpos(client *c)
{
    long long bit;
    if (bit_parse_ll(c, &c->argv[2], &bit) != 0)
        return;
    if (bit != 0 && bit != 1) {
        reply_error(c, "ERR The bit argument must be 1 or 0.");
        return;
    }
    obj *o;
    char buf[32];
    const unsigned char *p;
    size_t len;
    if (bit_lookup_read(c, &o, buf, &p, &len) != 0)
        return;
    /* A missing key is an endless run of zeros. */
    if (!o) {
        reply_int(c, bit ? -1 : 0);
        return;
    }
    long long total = (long long)len, start = 0, end = total - 1;
    int isbit = 0, end_given = 0;
    if (c->argc >= 4 && c->argc <= 6) {
        if (bit_parse_ll(c, &c->argv[3], &start) != 0)
            return;
        if (c->argc == 6 && (isbit = bit_parse_unit(c, &c->argv[5])) < 0)
            return;
        if (c->argc >= 5) {
            if (bit_parse_ll(c, &c->argv[4], &end) != 0)
                return;
            end_given = 1;
        } else {
            end = isbit ? (total << 3) + 7 : total - 1;
        }
    } else if (c->argc != 3) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    if (isbit)
        total <<= 3;
    long long s, e;
    if (!bit_clamp_range(start, end, total, &s, &e)) {
        reply_int(c, -1);
        return;
    }
    if (!isbit) {
        s <<= 3;
        e = (e << 3) + 7;
    }
    long long pos = bit_find(p, (int)bit, s, e);
    /* Looking for a clear bit with no explicit end: the string continues
     * with zeros, so the answer is the first bit past its end. */
    if (pos < 0 && bit == 0 && !end_given)
        pos = (long long)len << 3;
    reply_int(c, pos);
}

/* ---- BITOP ------------------------------------------------------------ */

enum { BITOP_AND, BITOP_OR, BITOP_XOR, BITOP_NOT };

static int bitop_parse(const resp_arg *a)
{
    if (bit_arg_is(a, "and")) return BITOP_AND;
    if (bit_arg_is(a, "or")) return BITOP_OR;
    if (bit_arg_is(a, "xor")) return BITOP_XOR;
    if (bit_arg_is(a, "not")) return BITOP_NOT;
    return -1;
}

typedef struct bitop_src {
    const unsigned char *p;
    size_t len;
    char buf[32];
} bitop_src;

static kstr bitop_compute(int op, const bitop_src *src, int n, size_t maxlen)
{
    kstr res = kstr_grow_zero(kstr_empty(maxlen), maxlen);
    unsigned char *out = (unsigned char *)res;
    for (size_t j = 0; j < maxlen; j++) {
        unsigned char v = j < src[0].len ? src[0].p[j] : 0;
        if (op == BITOP_NOT)
            v = (unsigned char)~v;
        for (int i = 1; i < n; i++) {
            unsigned char b = j < src[i].len ? src[i].p[j] : 0;
            if (op == BITOP_AND) v &= b;
            else if (op == BITOP_OR) v |= b;
            else v ^= b;
        }
        out[j] = v;
    }
    return res;
}

static void cmd_bitop(client *c)
{
    int op = bitop_parse(&c->argv[1]);
    if (op < 0) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    if (op == BITOP_NOT && c->argc != 4) {
        reply_error(c, "ERR BITOP NOT must be called with a single source key.");
        return;
    }
    int n = c->argc - 3;
    bitop_src *src = mem_calloc(sizeof(*src) * (size_t)n);
    size_t maxlen = 0;
    for (int j = 0; j < n; j++) {
        const resp_arg *k = &c->argv[j + 3];
        obj *o = db_lookup_read(c->db, k->ptr, k->len);
        if (!o)
            continue;
        if (o->type != OBJ_STRING) {
            mem_free(src);
            reply_error(c, ERR_WRONGTYPE);
            return;
        }
        src[j].p = (const unsigned char *)obj_string_ptr(o, src[j].buf, &src[j].len);
        if (src[j].len > maxlen)
            maxlen = src[j].len;
    }
    const resp_arg *dst = &c->argv[2];
    if (maxlen) {
        /* The sources may include the destination: compute before storing. */
        kstr res = bitop_compute(op, src, n, maxlen);
        db_set(c->db, dst->ptr, dst->len, obj_string_raw_from_kstr(res), 0);
        notify_keyspace_event(c->db, CFG_NOTIFY_STRING, "set", dst->ptr, dst->len);
        c->srv->dirty++;
    } else if (db_delete(c->db, dst->ptr, dst->len)) {
        notify_keyspace_event(c->db, CFG_NOTIFY_GENERIC, "del", dst->ptr, dst->len);
        c->srv->dirty++;
    }
    mem_free(src);
    reply_int(c, (long long)maxlen);
}

/* ---- BITFIELD --------------------------------------------------------- */

enum { BF_GET, BF_SET, BF_INCRBY };
enum { BF_WRAP, BF_SAT, BF_FAIL };

typedef struct bf_op {
    uint64_t offset;
    int64_t value;
    int opcode;
    int overflow;
    int bits;
    int sign;
} bf_op;

static uint64_t bf_get_unsigned(const unsigned char *p, uint64_t offset, int bits)
{
    uint64_t v = 0;
    for (int j = 0; j < bits; j++, offset++)
        v = (v << 1) | ((p[offset >> 3] >> (7 - (offset & 7))) & 1);
    return v;
}

static int64_t bf_get_signed(const unsigned char *p, uint64_t offset, int bits)
{
    uint64_t u = bf_get_unsigned(p, offset, bits);
    if (bits < 64 && (u & ((uint64_t)1 << (bits - 1))))
        u |= UINT64_MAX << bits;
    return (int64_t)u;
}

static void bf_set(unsigned char *p, uint64_t offset, int bits, uint64_t v)
{
    for (int j = 0; j < bits; j++, offset++) {
        int b = (v >> (bits - 1 - j)) & 1;
        int shift = 7 - (int)(offset & 7);
        p[offset >> 3] = (unsigned char)((p[offset >> 3] & ~(1 << shift)) | (b << shift));
    }
}

/* Overflow checks with Redis' exact rules (including how a SET of an out of
 * range value is wrapped or saturated). Return nonzero on overflow, with
 * *limit the value to store for WRAP and SAT. Arithmetic is unsigned so
 * wrap-around is defined. */
static int bf_overflow_unsigned(uint64_t value, int64_t incr, int bits, int ow, uint64_t *limit)
{
    uint64_t max = bits == 64 ? UINT64_MAX : (((uint64_t)1 << bits) - 1);
    int64_t maxincr = (int64_t)(max - value);
    int64_t minincr = (int64_t)(0 - value);
    int over = 0;
    if (value > max || (bits != 64 && incr > maxincr) || (incr > 0 && incr > maxincr))
        over = 1;
    else if (incr < 0 && incr < minincr)
        over = -1;
    if (!over)
        return 0;
    if (ow == BF_WRAP)
        *limit = (value + (uint64_t)incr) & ~(UINT64_MAX << bits);
    else if (ow == BF_SAT)
        *limit = over > 0 ? max : 0;
    return over;
}

static int bf_overflow_signed(int64_t value, int64_t incr, int bits, int ow, int64_t *limit)
{
    int64_t max = bits == 64 ? INT64_MAX : (((int64_t)1 << (bits - 1)) - 1);
    int64_t min = -max - 1;
    int64_t maxincr = (int64_t)((uint64_t)max - (uint64_t)value);
    int64_t minincr = (int64_t)((uint64_t)min - (uint64_t)value);
    int over = 0;
    if (value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr))
        over = 1;
    else if (value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr))
        over = -1;
    if (!over)
        return 0;
    if (ow == BF_WRAP) {
        uint64_t r = (uint64_t)value + (uint64_t)incr;
        if (bits < 64) {
            uint64_t mask = UINT64_MAX << bits;
            r = (r & ((uint64_t)1 << (bits - 1))) ? r | mask : r & ~mask;
        }
        *limit = (int64_t)r;
    } else if (ow == BF_SAT) {
        *limit = over > 0 ? max : min;
    }
    return over;
}

/* "u8", "i64": case-sensitive as in Redis; u64 is refused. */
static int bf_parse_type(client *c, const resp_arg *a, int *sign, int *bits)
{
    long long n;
    if (a->len < 2 || (a->ptr[0] != 'i' && a->ptr[0] != 'u') ||
        !util_str_to_ll(a->ptr + 1, a->len - 1, &n) || n < 1 ||
        (a->ptr[0] == 'i' && n > 64) || (a->ptr[0] == 'u' && n > 63)) {
        reply_error(c, BIT_ERR_TYPE);
        return -1;
    }
    *sign = a->ptr[0] == 'i';
    *bits = (int)n;
    return 0;
}

/* Parses the subcommands into ops. Returns the count, or -1 after replying. */
static int bf_parse(client *c, bf_op *ops, int *readonly, uint64_t *highest)
{
    int n = 0, ow = BF_WRAP;
    *readonly = 1;
    *highest = 0;
    for (int j = 2; j < c->argc; j++) {
        int rem = c->argc - j - 1, opcode;
        const resp_arg *a = &c->argv[j];
        if (bit_arg_is(a, "get") && rem >= 2) {
            opcode = BF_GET;
        } else if (bit_arg_is(a, "set") && rem >= 3) {
            opcode = BF_SET;
        } else if (bit_arg_is(a, "incrby") && rem >= 3) {
            opcode = BF_INCRBY;
        } else if (bit_arg_is(a, "overflow") && rem >= 1) {
            const resp_arg *t = &c->argv[++j];
            if (bit_arg_is(t, "wrap")) ow = BF_WRAP;
            else if (bit_arg_is(t, "sat")) ow = BF_SAT;
            else if (bit_arg_is(t, "fail")) ow = BF_FAIL;
            else {
                reply_error(c, "ERR Invalid OVERFLOW type specified");
                return -1;
            }
            continue;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
        bf_op *op = &ops[n];
        memset(op, 0, sizeof(*op));
        if (bf_parse_type(c, &c->argv[j + 1], &op->sign, &op->bits) != 0 ||
            bit_parse_offset(c, &c->argv[j + 2], 1, op->bits, &op->offset) != 0)
            return -1;
        if (opcode != BF_GET) {
            long long v;
            *readonly = 0;
            if (*highest < op->offset + (uint64_t)op->bits - 1)
                *highest = op->offset + (uint64_t)op->bits - 1;
            if (bit_parse_ll(c, &c->argv[j + 3], &v) != 0)
                return -1;
            op->value = v;
        }
        op->opcode = opcode;
        op->overflow = ow;
        n++;
        j += opcode == BF_GET ? 2 : 3;
    }
    return n;
}

/* SET / INCRBY on the (already grown) string. Returns 1 when it changed a
 * value (or the string grew), replying the old (SET) or new (INCRBY) value,
 * or a null when OVERFLOW FAIL refused it. */
static int bf_write(client *c, const bf_op *op, unsigned char *p, int grown)
{
    uint64_t newv;
    int over;
    int64_t ret;
    if (op->sign) {
        int64_t oldv = bf_get_signed(p, op->offset, op->bits), wrapped = 0, nv;
        if (op->opcode == BF_INCRBY) {
            over = bf_overflow_signed(oldv, op->value, op->bits, op->overflow, &wrapped);
            nv = over ? wrapped : (int64_t)((uint64_t)oldv + (uint64_t)op->value);
            ret = nv;
        } else {
            nv = op->value;
            over = bf_overflow_signed(nv, 0, op->bits, op->overflow, &wrapped);
            if (over)
                nv = wrapped;
            ret = oldv;
        }
        newv = (uint64_t)nv;
        if (over && op->overflow == BF_FAIL) {
            reply_null(c);
            return 0;
        }
        reply_int(c, ret);
        bf_set(p, op->offset, op->bits, newv);
        return grown || oldv != nv;
    }
    uint64_t oldv = bf_get_unsigned(p, op->offset, op->bits), wrapped = 0;
    if (op->opcode == BF_INCRBY) {
        newv = oldv + (uint64_t)op->value;
        over = bf_overflow_unsigned(oldv, op->value, op->bits, op->overflow, &wrapped);
        ret = (int64_t)(over ? wrapped : newv);
    } else {
        newv = (uint64_t)op->value;
        over = bf_overflow_unsigned(newv, 0, op->bits, op->overflow, &wrapped);
        ret = (int64_t)oldv;
    }
    if (over)
        newv = wrapped;
    if (over && op->overflow == BF_FAIL) {
        reply_null(c);
        return 0;
    }
    reply_int(c, ret);
    bf_set(p, op->offset, op->bits, newv);
    return grown || oldv != newv;
}

/* GET reads through a zero-padded 9-byte window, so fields running past
 * the end of the string (or a missing key) read as zeros. */
static void bf_get(client *c, const bf_op *op, const unsigned char *src, size_t len)
{
    unsigned char win[9] = { 0 };
    uint64_t byte = op->offset >> 3;
    for (int i = 0; i < 9 && src && byte + (uint64_t)i < len; i++)
        win[i] = src[byte + (uint64_t)i];
    uint64_t off = op->offset - byte * 8;
    if (op->sign)
        reply_int(c, bf_get_signed(win, off, op->bits));
    else
        reply_int(c, (long long)bf_get_unsigned(win, off, op->bits));
}

static void bf_generic(client *c, int ro_command)
{
    bf_op *ops = mem_alloc(sizeof(bf_op) * (size_t)(c->argc / 2 + 1));
    int readonly;
    uint64_t highest;
    int n = bf_parse(c, ops, &readonly, &highest);
    if (n < 0) {
        mem_free(ops);
        return;
    }
    obj *o = NULL;
    int grown = 0;
    if (readonly) {
        o = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
        if (o && o->type != OBJ_STRING) {
            reply_error(c, ERR_WRONGTYPE);
            mem_free(ops);
            return;
        }
    } else if (ro_command) {
        reply_error(c, "ERR BITFIELD_RO only supports the GET subcommand");
        mem_free(ops);
        return;
    } else if (!(o = bit_lookup_for_write(c, highest, &grown))) {
        mem_free(ops);
        return;
    }
    reply_array(c, n);
    long long changes = 0;
    for (int j = 0; j < n; j++) {
        if (ops[j].opcode == BF_GET) {
            char buf[32];
            size_t len = 0;
            const unsigned char *src = o ? (const unsigned char *)obj_string_ptr(o, buf, &len) : NULL;
            bf_get(c, &ops[j], src, len);
        } else {
            changes += bf_write(c, &ops[j], (unsigned char *)o->v.str, grown);
        }
    }
    if (changes)
        bit_modified(c, changes);
    mem_free(ops);
}

static void cmd_bitfield(client *c) { bf_generic(c, 0); }
static void cmd_bitfield_ro(client *c) { bf_generic(c, 1); }

const cmd_def t_bitmap_commands[] = {
    { "setbit", cmd_setbit, 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @bitmap @slow" },
    { "getbit", cmd_getbit, 3, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @bitmap @fast" },
    { "bitcount", cmd_bitcount, -2, CMD_READONLY, 1, 1, 1, "@read @bitmap @slow" },
    { "bitpos", cmd_bitpos, -3, CMD_READONLY, 1, 1, 1, "@read @bitmap @slow" },
    { "bitop", cmd_bitop, -4, CMD_WRITE | CMD_DENYOOM, 2, -1, 1, "@write @bitmap @slow" },
    { "bitfield", cmd_bitfield, -2, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @bitmap @slow" },
    { "bitfield_ro", cmd_bitfield_ro, -2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @bitmap @fast" },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL },
};
