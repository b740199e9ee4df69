/* digest: Redis 7.0's DEBUG DIGEST and DEBUG DIGEST-VALUE.
 *
 * The scheme (facts about Redis' interface, implemented here from its
 * description): two 20-byte operations over SHA1,
 *   xor(d, bytes):  d ^= SHA1(bytes)          (order-free combination)
 *   mix(d, bytes):  d  = SHA1(d ^ SHA1(bytes)) (order-sensitive chaining)
 * A value's digest starts from the key digest (mix of the key name, for
 * DEBUG DIGEST) or from zeros (DIGEST-VALUE), mixes the type as a 32-bit
 * big-endian number, then the value: a string's bytes are mixed; list
 * elements mixed in order; set members xored; each sorted-set member and
 * each hash field gets its own zero-started digest (member then score
 * printed as "%.17g", field then value) xored in; a key with a TTL xors
 * the marker "!!expire!!" (the TTL's value is not part of it). DEBUG
 * DIGEST mixes, per non-empty db, the db index as a 32-bit big-endian
 * number into the result and xors every key digest into it, so an empty
 * dataset is all zeros.
 *
 * SHA1 comes from Nettle (Debian's nettle-dev). */
#include <stdio.h>
#include <string.h>
#include <nettle/sha1.h>
#include "digest.h"
#include "server.h"
#include "db.h"
#include "dict.h"
#include "object.h"
#include "deque.h"
#include "setobj.h"
#include "hmap.h"
#include "zset.h"
#include "stream.h"
#include "stream_cg.h"

static void store_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* ---- the two digest operations ---------------------------------------- */

static void digest_xor_bytes(unsigned char d[DIGEST_LEN], const void *p, size_t len)
{
    unsigned char h[SHA1_DIGEST_SIZE];
    struct sha1_ctx ctx;
    sha1_init(&ctx);
    sha1_update(&ctx, len, p);
    sha1_digest(&ctx, sizeof(h), h);
    for (int i = 0; i < DIGEST_LEN; i++)
        d[i] ^= h[i];
}

static void digest_mix_bytes(unsigned char d[DIGEST_LEN], const void *p, size_t len)
{
    struct sha1_ctx ctx;
    digest_xor_bytes(d, p, len);
    sha1_init(&ctx);
    sha1_update(&ctx, DIGEST_LEN, d);
    sha1_digest(&ctx, DIGEST_LEN, d);
}

static void digest_mix_be32(unsigned char d[DIGEST_LEN], uint32_t v)
{
    unsigned char b[4];
    store_be32(b, v);
    digest_mix_bytes(d, b, sizeof(b));
}

/* A part (element or key digest) joins its aggregate through xor(), so it
 * is hashed once more on the way in, as Redis does. */
static void digest_xor_into(unsigned char d[DIGEST_LEN], const unsigned char part[DIGEST_LEN])
{
    digest_xor_bytes(d, part, DIGEST_LEN);
}

/* ---- values ------------------------------------------------------------ */

static void digest_zset(unsigned char d[DIGEST_LEN], const zset *z)
{
    char buf[128];
    for (zset_node *n = zset_first(z); n; n = zset_next(n)) {
        unsigned char one[DIGEST_LEN] = { 0 };
        kstr m = zset_node_member(n);
        digest_mix_bytes(one, m, kstr_len(m));
        int bl = snprintf(buf, sizeof(buf), "%.17g", zset_node_score(n));
        digest_mix_bytes(one, buf, (size_t)bl);
        digest_xor_into(d, one);
    }
}

static void digest_hash(unsigned char d[DIGEST_LEN], hmap *h)
{
    hmap_iter it;
    kstr f, v;
    hmap_iter_init(h, &it);
    while (hmap_iter_next(&it, &f, &v)) {
        unsigned char one[DIGEST_LEN] = { 0 };
        digest_mix_bytes(one, f, kstr_len(f));
        digest_mix_bytes(one, v, kstr_len(v));
        digest_xor_into(d, one);
    }
    hmap_iter_release(&it);
}

/* Each entry in order: its ID as "ms.seq" (Redis' format here, a dot), then
 * every field and value, all mixed (order matters). The groups add
 * nothing (stream_cg_digest says why). */
static void digest_stream(unsigned char d[DIGEST_LEN], const stream *s)
{
    stream_iter it;
    stream_id id;
    size_t nf;
    char buf[STREAM_ID_STR_MAX];
    stream_iter_start(&it, s, NULL, NULL, 0);
    while (stream_iter_next(&it, &id, &nf)) {
        int n = snprintf(buf, sizeof(buf), "%llu.%llu", (unsigned long long)id.ms,
                         (unsigned long long)id.seq);
        digest_mix_bytes(d, buf, (size_t)n);
        for (size_t i = 0; i < nf; i++) {
            stream_field f, v;
            stream_iter_field(&it, &f, &v);
            digest_mix_bytes(d, f.p, f.len);
            digest_mix_bytes(d, v.p, v.len);
        }
    }
    stream_iter_stop(&it);
    stream_cg_digest(s, d);
}

static void digest_object(unsigned char d[DIGEST_LEN], const obj *o, int has_ttl)
{
    char buf[64];
    size_t len;
    digest_mix_be32(d, o->type);
    switch (o->type) {
    case OBJ_STRING: {
        const char *p = obj_string_ptr(o, buf, &len);
        digest_mix_bytes(d, p, len);
        break;
    }
    case OBJ_LIST: {
        const deque *q = o->v.ptr;
        for (size_t i = 0; i < deque_len(q); i++) {
            kstr e = deque_get(q, i);
            digest_mix_bytes(d, e, kstr_len(e));
        }
        break;
    }
    case OBJ_SET: {
        setobj_iter it;
        const char *m;
        setobj_iter_init(o->v.ptr, &it);
        while (setobj_iter_next(&it, &m, &len))
            digest_xor_bytes(d, m, len);
        setobj_iter_release(&it);
        break;
    }
    case OBJ_ZSET:
        digest_zset(d, o->v.ptr);
        break;
    case OBJ_HASH:
        digest_hash(d, o->v.ptr);
        break;
    case OBJ_STREAM:
        digest_stream(d, o->v.ptr);
        break;
    }
    if (has_ttl)
        digest_xor_bytes(d, "!!expire!!", 10);
}

void digest_value(kvdb *db, const char *key, size_t len, unsigned char out[DIGEST_LEN])
{
    memset(out, 0, DIGEST_LEN);
    /* Logically expired keys count too: a debugging aid reads what is
     * stored, as Redis does. */
    const obj *o = db_peek(db, key, len);
    if (o)
        digest_object(out, o, db_expire_get(db, key, len) >= 0);
}

void digest_dataset(srv *s, unsigned char out[DIGEST_LEN])
{
    memset(out, 0, DIGEST_LEN);
    for (int i = 0; i < s->dbnum; i++) {
        kvdb *db = &s->dbs[i];
        if (db_size(db) == 0)
            continue;
        /* The db index, so the same data in another db digests differently. */
        digest_mix_be32(out, (uint32_t)i);
        dict_iter it;
        dict_iter_init(db->keys, &it, 0);
        dict_entry *e;
        while ((e = dict_iter_next(&it)) != NULL) {
            unsigned char kd[DIGEST_LEN] = { 0 };
            size_t klen = kstr_len(e->key);
            digest_mix_bytes(kd, e->key, klen);
            digest_object(kd, e->v.ptr, db_expire_get(db, e->key, klen) >= 0);
            digest_xor_into(out, kd);
        }
        dict_iter_release(&it);
    }
}

void digest_to_hex(const unsigned char d[DIGEST_LEN], char hex[2 * DIGEST_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < DIGEST_LEN; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[2 * DIGEST_LEN] = '\0';
}
