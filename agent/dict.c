/* dict: the hash table behind the keyspace, hashes and sets.
 *
 * Chained hashing over power-of-two bucket arrays. A resize never happens in
 * one go: growing allocates a second table and every later add/find/delete
 * moves one bucket across (plus dict_rehash_ms from the server cron), so a
 * 10M-key table resizes without a latency spike. While both tables exist,
 * new entries go to the new one and lookups check both.
 *
 * Invariants:
 *  - table[0] is the table being emptied (or the only one), table[1] exists
 *    only while rehash_idx >= 0, and buckets of table[0] below rehash_idx
 *    are already empty.
 *  - rehash steps are skipped while pause > 0 (safe iterators), so an
 *    iterator never sees an entry move behind its back.
 *  - every entry is exactly {key, value, next}: 24 bytes, the cost per key
 *    that the memory benchmark against Redis measures.
 *
 * SCAN uses a reverse-binary cursor (see dict_scan) and keys are hashed with
 * SipHash-1-3 under a per-process seed so clients cannot craft collisions. */
#include "dict.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem.h"

#define DICT_INITIAL_SIZE 4

/* Entry tags. User-space pointers on x86-64 and arm64 Linux leave the top
 * 16 bits zero, so each chain link also carries hash bits 16..31 of its
 * entry's key. A lookup skips entries whose tag differs without touching
 * their keys, and growing a table of 2^16 buckets or more places entries
 * from the tag alone, without reading (missing on) every key. */
#if defined(__x86_64__) || defined(__aarch64__)
#define DICT_TAGS 1
#define DICT_TAG_SHIFT 48
#define DICT_PTR_MASK ((((uintptr_t)1) << DICT_TAG_SHIFT) - 1)
#else
#define DICT_TAGS 0
#define DICT_TAG_SHIFT 0
#define DICT_PTR_MASK (~(uintptr_t)0)
#endif
#define DICT_TAG_LOW_BIT 16          /* hash bit held in the tag's bit 0 */
#define DICT_TAG_BITS 16

static inline dict_entry *dict_next(const dict_entry *e)
{
    return (dict_entry *)(e->link & DICT_PTR_MASK);
}

static inline void dict_set_next(dict_entry *e, const dict_entry *next)
{
    e->link = (e->link & ~DICT_PTR_MASK) | (uintptr_t)next;
}

static inline unsigned dict_hash_tag(uint64_t h)
{
    return DICT_TAGS ? (unsigned)(h >> DICT_TAG_LOW_BIT) & 0xffffu : 0;
}

static inline unsigned dict_tag(const dict_entry *e)
{
    return DICT_TAGS ? (unsigned)((uint64_t)e->link >> DICT_TAG_SHIFT) : 0;
}

static inline void dict_link_init(dict_entry *e, uint64_t h, const dict_entry *next)
{
    e->link = (uintptr_t)((uint64_t)dict_hash_tag(h) << DICT_TAG_SHIFT) | (uintptr_t)next;
}

/* The bucket of e in a table of new_size buckets, moving from one of
 * old_size where it sat at old_idx; -1 when the key must be hashed. */
static inline long dict_rehash_index(const dict_entry *e, size_t old_idx, size_t old_size,
                                     size_t new_size)
{
    if (new_size <= old_size)
        return (long)(old_idx & (new_size - 1));
    if (!DICT_TAGS || old_size < ((size_t)1 << DICT_TAG_LOW_BIT) ||
        new_size > ((size_t)1 << (DICT_TAG_LOW_BIT + DICT_TAG_BITS)))
        return -1;
    size_t high = ((size_t)dict_tag(e) << DICT_TAG_LOW_BIT) & (new_size - 1) & ~(old_size - 1);
    return (long)(old_idx | high);
}
#define DICT_MIN_FILL_PERCENT 10
/* With resizing deferred (fork child alive), grow only past this load. */
#define DICT_FORCE_RESIZE_RATIO 5
/* Rehash work per step is bounded by buckets visited, empty ones included. */
#define DICT_EMPTY_VISITS_PER_BUCKET 10
/* dict_random draws this many candidates and picks one of them, which is
 * much closer to uniform than "random bucket, random chain position". */
#define DICT_FAIR_SAMPLE 15

struct dict {
    const dict_type *type;
    dict_entry **table[2];
    size_t size[2];       /* buckets, a power of two or 0 */
    size_t used[2];       /* entries */
    long rehash_idx;      /* next bucket of table[0] to move, -1 if none */
    int pause;            /* > 0: no rehash steps (safe iterators) */
};

const dict_type dict_type_plain = { NULL };

static int dict_resize_allowed = 1;

void dict_set_resize_allowed(int allowed)
{
    dict_resize_allowed = allowed;
}

/* ---- hashing ----------------------------------------------------------- */

/* Default seed so that hashing works (and tests are repeatable) before
 * dict_set_hash_seed is called at start-up. */
static uint8_t dict_seed[16] = {
    0x6b, 0x76, 0x66, 0x6c, 0x65, 0x65, 0x74, 0x2d,
    0x73, 0x69, 0x70, 0x68, 0x61, 0x73, 0x68, 0x21,
};

static uint64_t dict_rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

typedef struct sip_state {
    uint64_t v0, v1, v2, v3;
} sip_state;

static void sip_round(sip_state *s)
{
    s->v0 += s->v1;
    s->v1 = dict_rotl(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = dict_rotl(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = dict_rotl(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = dict_rotl(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = dict_rotl(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = dict_rotl(s->v2, 32);
}

static void sip_absorb(sip_state *s, uint64_t m, int crounds)
{
    s->v3 ^= m;
    for (int i = 0; i < crounds; i++)
        sip_round(s);
    s->v0 ^= m;
}

/* SipHash-c-d as specified by Aumasson and Bernstein: 8-byte little-endian
 * words, a last word carrying the length in its top byte, then d rounds
 * after xoring 0xff into v2. */
static uint64_t sip_hash(const uint8_t key[16], const void *data, size_t len, int crounds,
                         int drounds)
{
    uint64_t k0, k1;
    memcpy(&k0, key, 8);
    memcpy(&k1, key + 8, 8);
    k0 = le64toh(k0);
    k1 = le64toh(k1);
    sip_state s = {
        k0 ^ 0x736f6d6570736575ULL,
        k1 ^ 0x646f72616e646f6dULL,
        k0 ^ 0x6c7967656e657261ULL,
        k1 ^ 0x7465646279746573ULL,
    };
    const uint8_t *p = data;
    size_t whole = len & ~(size_t)7;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m;
        memcpy(&m, p + i, 8);
        sip_absorb(&s, le64toh(m), crounds);
    }
    uint64_t last = (uint64_t)(len & 0xff) << 56;
    for (size_t i = 0; i < (len & 7); i++)
        last |= (uint64_t)p[whole + i] << (8 * i);
    sip_absorb(&s, last, crounds);
    s.v2 ^= 0xff;
    for (int i = 0; i < drounds; i++)
        sip_round(&s);
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t dict_hash(const void *key, size_t len)
{
    return sip_hash(dict_seed, key, len, 1, 3);
}

void dict_set_hash_seed(const uint8_t seed[16])
{
    memcpy(dict_seed, seed, sizeof(dict_seed));
}

/* ---- random numbers for sampling --------------------------------------- */

/* xorshift64*: sampling needs speed and spread, not secrecy. */
static uint64_t dict_rng_state = 0x2545F4914F6CDD1DULL;

static uint64_t dict_rand(void)
{
    uint64_t x = dict_rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    dict_rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* ---- tables and rehashing ---------------------------------------------- */

dict *dict_create(const dict_type *type)
{
    dict *d = mem_calloc(sizeof(*d));
    d->type = type != NULL ? type : &dict_type_plain;
    d->rehash_idx = -1;
    return d;
}

size_t dict_size(const dict *d)
{
    return d->used[0] + d->used[1];
}

size_t dict_buckets(const dict *d)
{
    return d->size[0] + d->size[1];
}

int dict_is_rehashing(const dict *d)
{
    return d->rehash_idx >= 0;
}

/* Entries are 24 bytes, which the allocator would round up to 32. In the
 * server they come from a pool of 64KB slabs instead (8 bytes saved per key,
 * a million keys = 8MB). Freed entries go back to the pool's free list, not
 * to the allocator. Off by default so tests, valgrind and ASan see plain
 * allocations; the server turns it on at start-up. */
#define DICT_SLAB_BYTES (64 * 1024)
typedef union dict_cell {
    dict_entry entry;
    union dict_cell *next_free;
} dict_cell;
static dict_cell *dict_free_cells;
static int dict_pool_enabled;

void dict_use_entry_pool(int on)
{
#if defined(__SANITIZE_ADDRESS__)
    (void)on;
#else
    dict_pool_enabled = on;
#endif
}

/* The pool is all-or-nothing for the life of the process, decided before
 * the first entry is made, so no entry needs to remember where it came from. */
static dict_entry *dict_entry_alloc(void)
{
    if (!dict_pool_enabled)
        return mem_alloc(sizeof(dict_entry));
    if (!dict_free_cells) {
        size_t n = DICT_SLAB_BYTES / sizeof(dict_cell);
        dict_cell *slab = mem_alloc(n * sizeof(dict_cell));
        for (size_t i = 0; i < n; i++) {
            slab[i].next_free = dict_free_cells;
            dict_free_cells = &slab[i];
        }
    }
    dict_cell *c = dict_free_cells;
    dict_free_cells = c->next_free;
    return &c->entry;
}

static void dict_entry_release(dict_entry *e)
{
    if (!dict_pool_enabled) {
        mem_free(e);
        return;
    }
    dict_cell *c = (dict_cell *)e;
    c->next_free = dict_free_cells;
    dict_free_cells = c;
}

static void dict_free_entry(dict *d, dict_entry *e)
{
    kstr_free(e->key);
    if (d->type->val_free != NULL && e->v.ptr != NULL)
        d->type->val_free(e->v.ptr);
    dict_entry_release(e);
}

/* Moves up to n buckets from table[0] to table[1]. Returns 1 if rehashing
 * is still in progress afterwards. */
/* Rehashing reads every entry it moves, bucket after bucket, and writes it
 * into a random bucket of the new table: warm the entry 2*D buckets ahead
 * and, D buckets ahead (its entry was warmed D buckets ago), the new bucket
 * or, when the tag cannot place it, the key to hash. Later steps, in this
 * call's loop or on the next commands, then find all of it in cache. A
 * macro, not a function: GCC deems a function that only prefetches free of
 * effects and drops its calls. */
#define DICT_REHASH_AHEAD 12
#define DICT_REHASH_PREFETCH(d, idx)                                                  \
    do {                                                                              \
        size_t far_ = (idx) + 2 * DICT_REHASH_AHEAD, near_ = (idx) + DICT_REHASH_AHEAD; \
        if (far_ < (d)->size[0] && (d)->table[0][far_] != NULL)                       \
            __builtin_prefetch((d)->table[0][far_]);                                  \
        const dict_entry *near_e_ = near_ < (d)->size[0] ? (d)->table[0][near_] : NULL; \
        if (near_e_ != NULL) {                                                        \
            long to_ = dict_rehash_index(near_e_, near_, (d)->size[0], (d)->size[1]);  \
            if (to_ >= 0)                                                             \
                __builtin_prefetch(&(d)->table[1][to_], 1);                           \
            else                                                                      \
                __builtin_prefetch((const char *)near_e_->key - 1);                   \
        }                                                                             \
    } while (0)

static int dict_rehash(dict *d, size_t n)
{
    size_t empty_budget = n * DICT_EMPTY_VISITS_PER_BUCKET;
    if (!dict_is_rehashing(d))
        return 0;
    size_t mask1 = d->size[1] - 1;
    while (n-- && d->used[0] != 0) {
        while (d->table[0][d->rehash_idx] == NULL) {
            d->rehash_idx++;
            if (--empty_budget == 0)
                return 1;
        }
        DICT_REHASH_PREFETCH(d, (size_t)d->rehash_idx);
        dict_entry *e = d->table[0][d->rehash_idx];
        while (e != NULL) {
            dict_entry *next = dict_next(e);
            long tagged = dict_rehash_index(e, (size_t)d->rehash_idx, d->size[0], d->size[1]);
            size_t idx = tagged >= 0 ? (size_t)tagged : dict_hash(e->key, kstr_len(e->key)) & mask1;
            dict_set_next(e, d->table[1][idx]);
            d->table[1][idx] = e;
            d->used[0]--;
            d->used[1]++;
            e = next;
        }
        d->table[0][d->rehash_idx] = NULL;
        d->rehash_idx++;
    }
    if (d->used[0] != 0)
        return 1;
    /* Done: the new table becomes the only one. */
    mem_free(d->table[0]);
    d->table[0] = d->table[1];
    d->size[0] = d->size[1];
    d->used[0] = d->used[1];
    d->table[1] = NULL;
    d->size[1] = 0;
    d->used[1] = 0;
    d->rehash_idx = -1;
    return 0;
}

static void dict_rehash_step(dict *d)
{
    if (d->pause == 0)
        dict_rehash(d, 1);
}

static size_t dict_next_power(size_t size)
{
    size_t s = DICT_INITIAL_SIZE;
    while (s < size && s < ((size_t)1 << 62))
        s <<= 1;
    return s;
}

/* Starts a resize to the power of two >= size (or creates the first table).
 * Refused while rehashing or when size cannot hold the current entries.
 * A table whose byte size does not fit a size_t is refused too (sizes can
 * come from a client or a file; the product would wrap to a tiny block).
 * With may_fail, an allocation failure is reported (-1) instead of
 * aborting; 0 otherwise, including the refusals, which are harmless: the
 * table still grows as entries arrive. */
static int dict_resize_to_ex(dict *d, size_t size, int may_fail)
{
    if (dict_is_rehashing(d) || size < d->used[0])
        return 0;
    size_t real = dict_next_power(size);
    if (real == d->size[0])
        return 0;
    if (real > SIZE_MAX / sizeof(dict_entry *))
        return may_fail ? -1 : 0;
    dict_entry **t = may_fail ? mem_try_calloc(real * sizeof(*t)) : mem_calloc(real * sizeof(*t));
    if (t == NULL)
        return -1;
    if (d->table[0] == NULL) {
        d->table[0] = t;
        d->size[0] = real;
        return 0;
    }
    d->table[1] = t;
    d->size[1] = real;
    d->used[1] = 0;
    d->rehash_idx = 0;
    return 0;
}

static void dict_resize_to(dict *d, size_t size)
{
    /* Cannot fail: without may_fail, out of memory aborts in mem. */
    (void)dict_resize_to_ex(d, size, 0);
}

void dict_expand(dict *d, size_t size)
{
    dict_resize_to(d, size);
}

int dict_try_expand(dict *d, size_t size)
{
    return dict_resize_to_ex(d, size, 1);
}

void dict_maybe_shrink(dict *d)
{
    if (!dict_resize_allowed || dict_is_rehashing(d) || d->pause > 0 ||
        d->size[0] <= DICT_INITIAL_SIZE)
        return;
    if (d->used[0] * 100 / d->size[0] >= DICT_MIN_FILL_PERCENT)
        return;
    dict_resize_to(d, d->used[0] < DICT_INITIAL_SIZE ? DICT_INITIAL_SIZE : d->used[0]);
}

/* Load factor 1: grow (doubling) once entries reach the bucket count. */
static void dict_grow_if_needed(dict *d)
{
    if (dict_is_rehashing(d))
        return;
    if (d->size[0] == 0)
        dict_resize_to(d, DICT_INITIAL_SIZE);
    else if (d->used[0] >= d->size[0] &&
             (dict_resize_allowed || d->used[0] / d->size[0] > DICT_FORCE_RESIZE_RATIO))
        dict_resize_to(d, d->used[0] + 1);
}

int dict_rehash_ms(dict *d, int ms)
{
    if (d->pause > 0)
        return dict_is_rehashing(d);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (dict_rehash(d, 100)) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long elapsed_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (elapsed_ms >= ms)
            break;
    }
    return dict_is_rehashing(d);
}

/* ---- lookup and modification ------------------------------------------- */

/* Finds the entry for key; *prevp (if not NULL) receives the entry before
 * it in its chain (NULL for the head) and *tablep its table, so callers can
 * unlink without a second walk. */
static dict_entry *dict_lookup(dict *d, const void *key, size_t len, uint64_t h,
                               dict_entry **prevp, int *tablep)
{
    unsigned tag = dict_hash_tag(h);
    for (int t = 0; t <= 1; t++) {
        if (d->size[t] == 0)
            break;
        dict_entry *prev = NULL;
        for (dict_entry *e = d->table[t][h & (d->size[t] - 1)]; e != NULL; prev = e, e = dict_next(e)) {
            if (dict_tag(e) == tag && kstr_eq_buf(e->key, key, len)) {
                if (prevp != NULL)
                    *prevp = prev;
                if (tablep != NULL)
                    *tablep = t;
                return e;
            }
        }
        if (!dict_is_rehashing(d))
            break;
    }
    return NULL;
}

dict_entry *dict_find(dict *d, const void *key, size_t len)
{
    if (dict_size(d) == 0)
        return NULL;
    dict_rehash_step(d);
    return dict_lookup(d, key, len, dict_hash(key, len), NULL, NULL);
}

/* A key lives in table[0] or, once its bucket has moved or when it was added
 * during the rehash, in table[1]: a lookup may have to try both. */
static dict_entry *const *dict_bucket(const dict *d, int t, uint64_t h)
{
    return &d->table[t][h & (d->size[t] - 1)];
}

const dict_entry *dict_peek(const dict *d, const void *key, size_t len)
{
    if (dict_size(d) == 0 || d->size[0] == 0)
        return NULL;
    uint64_t h = dict_hash(key, len);
    unsigned tag = dict_hash_tag(h);
    for (int t = 0; t <= (dict_is_rehashing(d) ? 1 : 0); t++)
        for (const dict_entry *e = *dict_bucket(d, t, h); e != NULL; e = dict_next(e))
            if (dict_tag(e) == tag && kstr_eq_buf(e->key, key, len))
                return e;
    return NULL;
}

void dict_prefetch(const dict *d, size_t n, const char *const *keys, const size_t *lens,
                   const void **values)
{
    if (n > DICT_PREFETCH_MAX)
        n = DICT_PREFETCH_MAX;
    if (values != NULL)
        memset(values, 0, n * sizeof(*values));
    if (dict_size(d) == 0 || d->size[0] == 0)
        return;
    dict_entry *const *slot[DICT_PREFETCH_MAX];
    const dict_entry *head[DICT_PREFETCH_MAX];
    /* Each stage only touches lines the previous stage asked for, so the
     * loads of one stage are all in flight together. Mid-rehash the bucket
     * that holds the old keys is warmed (keys added since are missed). */
    for (size_t i = 0; i < n; i++) {
        uint64_t h = dict_hash(keys[i], lens[i]);
        int moved = dict_is_rehashing(d) && (long)(h & (d->size[0] - 1)) < d->rehash_idx;
        slot[i] = dict_bucket(d, moved ? 1 : 0, h);
        __builtin_prefetch(slot[i]);
        /* A key not found in the old table is looked for, then added, in
         * the new one. */
        if (dict_is_rehashing(d) && !moved)
            __builtin_prefetch(dict_bucket(d, 1, h));
    }
    for (size_t i = 0; i < n; i++) {
        head[i] = *slot[i];
        if (head[i] != NULL)
            __builtin_prefetch(head[i]);
    }
    /* Chains are short but often two long at load factor 1, and every key
     * in a chain may need a compare: the second entry is warmed as well. */
    const dict_entry *second[DICT_PREFETCH_MAX];
    for (size_t i = 0; i < n; i++) {
        second[i] = NULL;
        if (head[i] == NULL)
            continue;
        __builtin_prefetch((const char *)head[i]->key - 1); /* header byte(s) precede the data */
        if (values != NULL && head[i]->v.ptr != NULL) {
            values[i] = head[i]->v.ptr;
            __builtin_prefetch(values[i]);
        }
        second[i] = dict_next(head[i]);
        if (second[i] != NULL)
            __builtin_prefetch(second[i]);
    }
    for (size_t i = 0; i < n; i++)
        if (second[i] != NULL)
            __builtin_prefetch((const char *)second[i]->key - 1);
}

/* Inserts a new entry for key (which the dict then owns) unless present. */
static dict_entry *dict_insert(dict *d, const void *key, size_t len, kstr owned,
                               dict_entry **existing)
{
    dict_rehash_step(d);
    uint64_t h = dict_hash(key, len);
    dict_entry *found = dict_size(d) ? dict_lookup(d, key, len, h, NULL, NULL) : NULL;
    if (found != NULL) {
        if (existing != NULL)
            *existing = found;
        return NULL;
    }
    dict_grow_if_needed(d);
    int t = dict_is_rehashing(d) ? 1 : 0;
    dict_entry *e = dict_entry_alloc();
    e->key = owned != NULL ? owned : kstr_new(key, len);
    e->v.u64 = 0;
    size_t idx = h & (d->size[t] - 1);
    dict_link_init(e, h, d->table[t][idx]);
    d->table[t][idx] = e;
    d->used[t]++;
    return e;
}

dict_entry *dict_add(dict *d, const void *key, size_t len, dict_entry **existing)
{
    return dict_insert(d, key, len, NULL, existing);
}

dict_entry *dict_add_kstr(dict *d, kstr key, dict_entry **existing)
{
    return dict_insert(d, key, kstr_len(key), key, existing);
}

dict_entry *dict_unlink(dict *d, const void *key, size_t len)
{
    if (dict_size(d) == 0)
        return NULL;
    dict_rehash_step(d);
    dict_entry *prev;
    int t;
    uint64_t h = dict_hash(key, len);
    dict_entry *e = dict_lookup(d, key, len, h, &prev, &t);
    if (e == NULL)
        return NULL;
    if (prev != NULL)
        dict_set_next(prev, dict_next(e));
    else
        d->table[t][h & (d->size[t] - 1)] = dict_next(e);
    dict_set_next(e, NULL);
    d->used[t]--;
    return e;
}

void dict_free_unlinked(dict *d, dict_entry *e)
{
    if (e != NULL)
        dict_free_entry(d, e);
}

int dict_delete(dict *d, const void *key, size_t len)
{
    dict_entry *e = dict_unlink(d, key, len);
    if (e == NULL)
        return 0;
    dict_free_entry(d, e);
    return 1;
}

static void dict_clear_table(dict *d, int t)
{
    for (size_t i = 0; i < d->size[t] && d->used[t] > 0; i++) {
        dict_entry *e = d->table[t][i];
        while (e != NULL) {
            dict_entry *next = dict_next(e);
            dict_free_entry(d, e);
            d->used[t]--;
            e = next;
        }
    }
    mem_free(d->table[t]);
    d->table[t] = NULL;
    d->size[t] = 0;
    d->used[t] = 0;
}

void dict_clear(dict *d)
{
    dict_clear_table(d, 0);
    dict_clear_table(d, 1);
    d->rehash_idx = -1;
}

void dict_free(dict *d)
{
    if (d == NULL)
        return;
    dict_clear(d);
    mem_free(d);
}

size_t dict_mem(const dict *d)
{
    return sizeof(*d) + (d->size[0] + d->size[1]) * sizeof(dict_entry *) +
           dict_size(d) * sizeof(dict_entry);
}

/* ---- sampling ---------------------------------------------------------- */

size_t dict_sample(dict *d, dict_entry **out, size_t count)
{
    size_t total = dict_size(d);
    if (total == 0 || count == 0)
        return 0;
    if (count > total)
        count = total;
    /* Help a pending resize along in proportion to the work asked for. */
    for (size_t j = 0; j < count && dict_is_rehashing(d); j++)
        dict_rehash_step(d);

    int tables = dict_is_rehashing(d) ? 2 : 1;
    size_t maxmask = d->size[0] - 1;
    if (tables == 2 && d->size[1] - 1 > maxmask)
        maxmask = d->size[1] - 1;
    size_t i = dict_rand() & maxmask;
    size_t stored = 0, empty_run = 0;
    size_t steps = count * 10;
    while (stored < count && steps-- > 0) {
        for (int t = 0; t < tables; t++) {
            /* Buckets of table[0] below rehash_idx are empty: when the
             * other table is smaller than that point, jump past it. */
            if (tables == 2 && t == 0 && i < (size_t)d->rehash_idx) {
                if (i >= d->size[1])
                    i = (size_t)d->rehash_idx;
                else
                    continue;
            }
            if (i >= d->size[t])
                continue;
            dict_entry *e = d->table[t][i];
            if (e == NULL) {
                /* A long run of empty buckets: jump somewhere else. */
                if (++empty_run >= 5 && empty_run > count) {
                    i = dict_rand() & maxmask;
                    empty_run = 0;
                }
                continue;
            }
            empty_run = 0;
            for (; e != NULL && stored < count; e = dict_next(e))
                out[stored++] = e;
            if (stored == count)
                return stored;
        }
        i = (i + 1) & maxmask;
    }
    return stored;
}

/* Uniform over buckets, not entries: the fallback when sampling fails. */
static dict_entry *dict_random_bucket_entry(dict *d)
{
    dict_entry *head = NULL;
    while (head == NULL) {
        if (dict_is_rehashing(d)) {
            /* Skip table[0]'s already-moved prefix. */
            size_t span = d->size[0] + d->size[1] - (size_t)d->rehash_idx;
            size_t i = (size_t)d->rehash_idx + dict_rand() % span;
            head = i >= d->size[0] ? d->table[1][i - d->size[0]] : d->table[0][i];
        } else {
            head = d->table[0][dict_rand() & (d->size[0] - 1)];
        }
    }
    size_t chain = 0;
    for (dict_entry *e = head; e != NULL; e = dict_next(e))
        chain++;
    size_t pick = dict_rand() % chain;
    while (pick--)
        head = dict_next(head);
    return head;
}

dict_entry *dict_random(dict *d)
{
    if (dict_size(d) == 0)
        return NULL;
    dict_entry *cand[DICT_FAIR_SAMPLE];
    size_t n = dict_sample(d, cand, DICT_FAIR_SAMPLE);
    if (n > 0)
        return cand[dict_rand() % n];
    return dict_random_bucket_entry(d);
}

/* ---- scan -------------------------------------------------------------- */

static uint64_t dict_rev64(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
    return __builtin_bswap64(v);
}

/* Increments the cursor as a number whose bits are read from the top bit of
 * mask downwards: set every bit outside mask so the carry runs through them,
 * reverse, add one, reverse back. */
static uint64_t dict_cursor_next(uint64_t v, uint64_t mask)
{
    v |= ~mask;
    v = dict_rev64(v);
    v++;
    return dict_rev64(v);
}

static void dict_scan_bucket(const dict_entry *e, dict_scan_fn *fn, void *priv)
{
    while (e != NULL) {
        const dict_entry *next = dict_next(e);
        fn(priv, e);
        e = next;
    }
}

/* SCAN guarantees that an entry present for the whole scan is returned even
 * if the table grows or shrinks between calls. The cursor is a bucket index
 * incremented from its most significant bit down (reverse binary). In a
 * table of 2^n buckets, bucket b holds keys whose hash ends in b; after a
 * grow to 2^(n+k), those keys spread over the buckets ending in b. Because
 * the cursor advances the high bits first, the buckets already visited are,
 * in any larger or smaller table, exactly the ones whose low bits precede
 * the cursor's in reverse order, so nothing is skipped (after a shrink a
 * few entries may be returned twice).
 *
 * While rehashing, entries may be in either table. We visit the bucket of
 * the smaller table and then every bucket of the larger one that its keys
 * can map to (same low bits, all values of the extra high bits), and return
 * the cursor advanced within the smaller mask. */
uint64_t dict_scan(dict *d, uint64_t cursor, dict_scan_fn *fn, void *priv)
{
    if (dict_size(d) == 0)
        return 0;
    uint64_t v = cursor;
    /* The callback must not change the dict; no rehash step may run under
     * it either. */
    d->pause++;
    if (!dict_is_rehashing(d)) {
        uint64_t m0 = d->size[0] - 1;
        dict_scan_bucket(d->table[0][v & m0], fn, priv);
        v = dict_cursor_next(v, m0);
    } else {
        int small = d->size[0] <= d->size[1] ? 0 : 1;
        int large = 1 - small;
        uint64_t m0 = d->size[small] - 1;
        uint64_t m1 = d->size[large] - 1;
        dict_scan_bucket(d->table[small][v & m0], fn, priv);
        /* Expansions of that bucket: iterate the bits of m1 above m0; the
         * loop ends when they wrap to zero, which carries into (advances)
         * the small-table part of the cursor. */
        do {
            dict_scan_bucket(d->table[large][v & m1], fn, priv);
            v = dict_cursor_next(v, m1);
        } while (v & (m0 ^ m1));
    }
    d->pause--;
    return v;
}

/* ---- iterators --------------------------------------------------------- */

/* A digest of the table layout: any add, delete or rehash step changes it,
 * which is what an unsafe iterator promises will not happen. */
static uint64_t dict_fingerprint(const dict *d)
{
    uint64_t parts[6] = {
        (uint64_t)(uintptr_t)d->table[0], d->size[0], d->used[0],
        (uint64_t)(uintptr_t)d->table[1], d->size[1], d->used[1],
    };
    uint64_t h = 0;
    for (int i = 0; i < 6; i++) {
        h = (h + parts[i]) * 0x9E3779B97F4A7C15ULL;
        h ^= h >> 29;
    }
    return h;
}

void dict_iter_init(dict *d, dict_iter *it, int safe)
{
    it->d = d;
    it->table = 0;
    it->index = -1;
    it->safe = safe;
    it->entry = NULL;
    it->next_entry = NULL;
    it->fingerprint = 0;
}

static int dict_iter_started(const dict_iter *it)
{
    return !(it->index == -1 && it->table == 0);
}

dict_entry *dict_iter_next(dict_iter *it)
{
    dict *d = it->d;
    for (;;) {
        if (it->entry == NULL) {
            if (!dict_iter_started(it)) {
                if (it->safe)
                    d->pause++;
                else
                    it->fingerprint = dict_fingerprint(d);
            }
            it->index++;
            if ((size_t)it->index >= d->size[it->table]) {
                if (it->table == 0 && dict_is_rehashing(d)) {
                    it->table = 1;
                    it->index = 0;
                    if (d->size[1] == 0)
                        return NULL;
                } else {
                    return NULL;
                }
            }
            it->entry = d->table[it->table][it->index];
        } else {
            /* The saved successor lets a safe iterator's user delete the
             * entry it was just given. */
            it->entry = it->next_entry;
        }
        if (it->entry != NULL) {
            it->next_entry = dict_next(it->entry);
            return it->entry;
        }
    }
}

void dict_iter_release(dict_iter *it)
{
    if (!dict_iter_started(it))
        return;
    if (it->safe) {
        it->d->pause--;
    } else if (it->fingerprint != dict_fingerprint(it->d)) {
        fprintf(stderr, "kvfleet: dict modified during unsafe iteration\n");
        abort();
    }
    it->index = -1;
    it->table = 0;
}

