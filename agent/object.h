/* object: the value stored under a key. Five types as in Redis; each type's
 * container lives in its own module (deque.h, hmap.h, setobj.h, zset.h). */
#ifndef KV_OBJECT_H
#define KV_OBJECT_H
#include <stddef.h>
#include <stdint.h>
#include "kstr.h"

typedef enum obj_type {
    OBJ_STRING = 0,
    OBJ_LIST = 1,
    OBJ_SET = 2,
    OBJ_ZSET = 3,
    OBJ_HASH = 4,
    OBJ_STREAM = 6,      /* Redis' number (5 is its module type) */
} obj_type;

typedef enum obj_enc {
    OBJ_ENC_RAW = 0,     /* string: v.str */
    OBJ_ENC_INT = 1,     /* string: v.ival (canonical decimal integer) */
    OBJ_ENC_CONTAINER = 2, /* list/set/zset/hash: v.ptr */
    OBJ_ENC_EMBSTR = 3     /* string: v.str lives inside the object's own
                            * allocation (short strings: one malloc, not two);
                            * obj_string_raw() before growing it */
} obj_enc;

/* Bits of obj.reserved. */
enum {
    /* An int-encoded string Redis would hold in its own object, not in a
     * shared integer (COPY's copy): OBJECT REFCOUNT 1 whatever the value. */
    OBJ_INT_UNSHARED = 1 << 0,
    /* lru not stamped yet: a new value, stamped when a db first stores it
     * (agent/objclock.h), as Redis stamps an object when it creates it. */
    OBJ_LRU_UNSET = 1 << 1,
    /* lru holds a hint read from an RDB file for the loader to apply:
     * an LFU counter (FREQ opcode) or idle seconds (IDLE opcode). */
    OBJ_LRU_HINT_FREQ = 1 << 2,
    OBJ_LRU_HINT_IDLE = 1 << 3,
};

typedef struct obj {
    uint8_t type;
    uint8_t enc;
    uint16_t reserved;   /* OBJ_INT_UNSHARED, OBJ_LRU_* */
    uint32_t lru;        /* 24 bits: LRU seconds clock or LFU minutes<<8|counter (objclock.h) */
    union {
        kstr str;
        long long ival;
        void *ptr;       /* deque*, setobj*, zset*, hmap*, stream* */
    } v;
} obj;

/* Strings. obj_string_new picks the integer encoding when the bytes are a
 * canonical integer (as Redis does), so INCR needs no parse. */
obj *obj_string_new(const void *ptr, size_t len);
obj *obj_string_from_ll(long long v);
/* Takes ownership of s and encodes it as Redis encodes a loaded value (RDB,
 * RESTORE): int, embstr up to 44 bytes, raw beyond. */
obj *obj_string_from_kstr(kstr s);
/* Takes ownership of s and keeps it raw, as Redis stores the strings it
 * builds byte by byte (BITOP, SETBIT, SETRANGE, HyperLogLog). */
obj *obj_string_raw_from_kstr(kstr s);
/* Never the int encoding: embstr up to 44 bytes, raw beyond (what Redis
 * stores for INCRBYFLOAT's result and COPY's copy of an embstr). */
obj *obj_string_new_text(const void *ptr, size_t len);
/* The bytes of a string object: for the int encoding they are written into
 * buf (at least 32 bytes). */
const char *obj_string_ptr(const obj *o, char *buf, size_t *len);
size_t obj_string_len(const obj *o);
/* Make sure o is RAW-encoded (before APPEND / SETRANGE), return its kstr. */
kstr obj_string_raw(obj *o);
void obj_string_set_raw(obj *o, kstr s);  /* replace value, frees old */

obj *obj_list_new(void);
obj *obj_set_new(void);
obj *obj_zset_new(void);
obj *obj_hash_new(void);
obj *obj_stream_new(void);   /* an empty stream (agent/stream.h) */

void obj_free(obj *o);
/* dict_type.val_free adapter. */
void obj_free_void(void *o);
/* Deep copy (COPY). */
obj *obj_dup(const obj *o);
const char *obj_type_name(int type);
/* Approximate bytes held, for MEMORY USAGE-style estimates and eviction. */
size_t obj_mem(const obj *o);
/* Cache warming for the start of a value's payload (a raw string's header,
 * a container's top structure). */
void obj_prefetch_payload(const obj *o);
/* Cache warming for members/fields of a set, hash or zset that are about to
 * be looked up; nothing for other types. */
void obj_prefetch_members(const obj *o, size_t n, const char *const *m, const size_t *lens);

#endif
