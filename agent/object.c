/* object: constructors, accessors and destruction for values. Strings that
 * are canonical integers are kept as a long long (the "int" encoding), which
 * saves memory for counters and makes INCR cheap. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "object.h"
#include "mem.h"
#include "util.h"
#include "deque.h"
#include "hmap.h"
#include "setobj.h"
#include "zset.h"
#include "stream.h"

/* Strings up to this length share one allocation with their object (as
 * Redis' embstr, whose limit is the same 44 bytes). */
#define OBJ_EMBSTR_MAX 44

static obj *obj_alloc(int type, int enc)
{
    obj *o = mem_alloc(sizeof(*o));
    o->type = (uint8_t)type;
    o->enc = (uint8_t)enc;
    o->reserved = OBJ_LRU_UNSET;
    o->lru = 0;
    o->v.ptr = NULL;
    return o;
}

obj *obj_string_new_text(const void *ptr, size_t len)
{
    if (len <= OBJ_EMBSTR_MAX) {
        obj *o = mem_alloc(sizeof(obj) + kstr_embed_size(len));
        o->type = OBJ_STRING;
        o->enc = OBJ_ENC_EMBSTR;
        o->reserved = OBJ_LRU_UNSET;
        o->lru = 0;
        o->v.str = kstr_embed(o + 1, ptr, len);
        return o;
    }
    obj *o = obj_alloc(OBJ_STRING, OBJ_ENC_RAW);
    o->v.str = kstr_new(ptr, len);
    return o;
}

obj *obj_string_new(const void *ptr, size_t len)
{
    long long v;
    /* Integers up to 20 chars can be stored as a number. */
    if (len > 0 && len <= 20 && util_str_to_ll(ptr, len, &v))
        return obj_string_from_ll(v);
    return obj_string_new_text(ptr, len);
}

obj *obj_string_from_ll(long long v)
{
    obj *o = obj_alloc(OBJ_STRING, OBJ_ENC_INT);
    o->v.ival = v;
    return o;
}

obj *obj_string_from_kstr(kstr s)
{
    size_t len = kstr_len(s);
    if (len <= OBJ_EMBSTR_MAX) {
        obj *o = obj_string_new(s, len);
        kstr_free(s);
        return o;
    }
    return obj_string_raw_from_kstr(s);
}

obj *obj_string_raw_from_kstr(kstr s)
{
    obj *o = obj_alloc(OBJ_STRING, OBJ_ENC_RAW);
    o->v.str = s;
    return o;
}

const char *obj_string_ptr(const obj *o, char *buf, size_t *len)
{
    if (o->enc == OBJ_ENC_INT) {
        *len = (size_t)util_ll_to_str(buf, 32, o->v.ival);
        return buf;
    }
    *len = kstr_len(o->v.str);
    return o->v.str;
}

size_t obj_string_len(const obj *o)
{
    if (o->enc == OBJ_ENC_INT) {
        char buf[32];
        return (size_t)util_ll_to_str(buf, sizeof(buf), o->v.ival);
    }
    return kstr_len(o->v.str);
}

kstr obj_string_raw(obj *o)
{
    if (o->enc == OBJ_ENC_EMBSTR) {
        /* The embedded bytes stay in the object's block, unused. */
        o->v.str = kstr_new(o->v.str, kstr_len(o->v.str));
        o->enc = OBJ_ENC_RAW;
    } else if (o->enc == OBJ_ENC_INT) {
        char buf[32];
        int n = util_ll_to_str(buf, sizeof(buf), o->v.ival);
        o->v.str = kstr_new(buf, (size_t)n);
        o->enc = OBJ_ENC_RAW;
    }
    return o->v.str;
}

void obj_string_set_raw(obj *o, kstr s)
{
    if (o->enc == OBJ_ENC_RAW && o->v.str != s)
        kstr_free(o->v.str);
    o->enc = OBJ_ENC_RAW;
    o->v.str = s;
}

obj *obj_list_new(void)
{
    obj *o = obj_alloc(OBJ_LIST, OBJ_ENC_CONTAINER);
    o->v.ptr = deque_new();
    return o;
}

obj *obj_set_new(void)
{
    obj *o = obj_alloc(OBJ_SET, OBJ_ENC_CONTAINER);
    o->v.ptr = setobj_new();
    return o;
}

obj *obj_zset_new(void)
{
    obj *o = obj_alloc(OBJ_ZSET, OBJ_ENC_CONTAINER);
    o->v.ptr = zset_new();
    return o;
}

obj *obj_hash_new(void)
{
    obj *o = obj_alloc(OBJ_HASH, OBJ_ENC_CONTAINER);
    o->v.ptr = hmap_new();
    return o;
}

obj *obj_stream_new(void)
{
    obj *o = obj_alloc(OBJ_STREAM, OBJ_ENC_CONTAINER);
    o->v.ptr = stream_new();
    return o;
}

void obj_free(obj *o)
{
    if (!o)
        return;
    switch (o->type) {
    case OBJ_STRING:
        if (o->enc == OBJ_ENC_RAW)
            kstr_free(o->v.str);
        break;
    case OBJ_LIST: deque_free(o->v.ptr); break;
    case OBJ_SET: setobj_free(o->v.ptr); break;
    case OBJ_ZSET: zset_free(o->v.ptr); break;
    case OBJ_HASH: hmap_free(o->v.ptr); break;
    case OBJ_STREAM: stream_free(o->v.ptr); break;
    default: break;
    }
    mem_free(o);
}

void obj_free_void(void *o)
{
    obj_free(o);
}

const char *obj_type_name(int type)
{
    switch (type) {
    case OBJ_STRING: return "string";
    case OBJ_LIST: return "list";
    case OBJ_SET: return "set";
    case OBJ_ZSET: return "zset";
    case OBJ_HASH: return "hash";
    case OBJ_STREAM: return "stream";
    default: return "unknown";
    }
}

size_t obj_mem(const obj *o)
{
    size_t n = sizeof(*o);
    switch (o->type) {
    case OBJ_STRING:
        if (o->enc == OBJ_ENC_RAW)
            n += kstr_alloc_size(o->v.str);
        break;
    case OBJ_LIST: n += deque_mem(o->v.ptr); break;
    case OBJ_SET: n += setobj_mem(o->v.ptr); break;
    case OBJ_ZSET: n += zset_mem(o->v.ptr); break;
    case OBJ_HASH: n += hmap_mem(o->v.ptr); break;
    case OBJ_STREAM: n += stream_memory(o->v.ptr); break;
    default: break;
    }
    return n;
}

static obj *obj_dup_list(const obj *o)
{
    deque *src = o->v.ptr;
    /* A copy keeps the source's node size and compression depth (COPY in
     * Redis duplicates the quicklist with its options). */
    obj *n = obj_alloc(OBJ_LIST, OBJ_ENC_CONTAINER);
    n->v.ptr = deque_new_like(src);
    for (size_t i = 0; i < deque_len(src); i++)
        deque_push_tail(n->v.ptr, kstr_dup(deque_get(src, i)));
    return n;
}

static obj *obj_dup_set(const obj *o)
{
    obj *n = obj_set_new();
    setobj_iter it;
    const char *m;
    size_t len;
    setobj_iter_init(o->v.ptr, &it);
    while (setobj_iter_next(&it, &m, &len))
        setobj_add(n->v.ptr, m, len);
    setobj_iter_release(&it);
    return n;
}

/* The copy keeps the source's encoding whatever the current limits, as
 * Redis' COPY does: the limits are lifted (small source) or zeroed (dict
 * source) while it is built, so hmap_set converts exactly when the source
 * had. */
static obj *obj_dup_hash(const obj *o)
{
    obj *n = obj_hash_new();
    size_t saved_entries = hmap_max_small_entries, saved_value = hmap_max_small_value;
    int small = hmap_is_small(o->v.ptr);
    hmap_max_small_entries = small ? SIZE_MAX : 0;
    hmap_max_small_value = small ? SIZE_MAX : 0;
    hmap_iter it;
    kstr f, v;
    hmap_iter_init(o->v.ptr, &it);
    while (hmap_iter_next(&it, &f, &v))
        hmap_set(n->v.ptr, f, kstr_len(f), v, kstr_len(v));
    hmap_iter_release(&it);
    hmap_max_small_entries = saved_entries;
    hmap_max_small_value = saved_value;
    return n;
}

/* The copy keeps the source's encoding even beyond the current limits, as
 * Redis' COPY does; a skiplist source's -0 scores stay -0 (a compact set
 * would read them back as 0). */
static obj *obj_dup_zset(const obj *o)
{
    obj *n = obj_zset_new();
    int compact = zset_is_compact(o->v.ptr);
    zset_set_compact(n->v.ptr, 0);
    for (zset_node *z = zset_first(o->v.ptr); z; z = zset_next(z)) {
        kstr m = zset_node_member(z);
        zset_add(n->v.ptr, m, kstr_len(m), zset_node_score(z));
    }
    zset_set_compact(n->v.ptr, compact);
    return n;
}

obj *obj_dup(const obj *o)
{
    switch (o->type) {
    case OBJ_STRING:
        /* The copy keeps the encoding, as Redis' COPY does. */
        if (o->enc == OBJ_ENC_INT) {
            obj *n = obj_string_from_ll(o->v.ival);
            n->reserved |= OBJ_INT_UNSHARED;
            return n;
        }
        if (o->enc == OBJ_ENC_EMBSTR)
            return obj_string_new_text(o->v.str, kstr_len(o->v.str));
        return obj_string_raw_from_kstr(kstr_new(o->v.str, kstr_len(o->v.str)));
    case OBJ_LIST: return obj_dup_list(o);
    case OBJ_SET: return obj_dup_set(o);
    case OBJ_HASH: return obj_dup_hash(o);
    case OBJ_ZSET: return obj_dup_zset(o);
    case OBJ_STREAM: {
        obj *n = obj_alloc(OBJ_STREAM, OBJ_ENC_CONTAINER);
        n->v.ptr = stream_dup(o->v.ptr);
        return n;
    }
    default: return NULL;
    }
}

void obj_prefetch_payload(const obj *o)
{
    if (o->type == OBJ_STRING && o->enc == OBJ_ENC_RAW)
        __builtin_prefetch(o->v.str - 1); /* kstr_free reads the type byte before the bytes */
    else if (o->enc == OBJ_ENC_CONTAINER)
        __builtin_prefetch(o->v.ptr);
}

void obj_prefetch_members(const obj *o, size_t n, const char *const *m, const size_t *lens)
{
    if (o->enc != OBJ_ENC_CONTAINER)
        return;
    switch (o->type) {
    case OBJ_SET: setobj_prefetch(o->v.ptr, n, m, lens); break;
    case OBJ_HASH: hmap_prefetch(o->v.ptr, n, m, lens); break;
    case OBJ_ZSET: zset_prefetch(o->v.ptr, n, m, lens); break;
    default: break;
    }
}
