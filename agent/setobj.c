/* setobj: the container behind the set type. Like Redis, a set whose
 * members are all canonical integers (as util_str_to_ll accepts them) is
 * kept as a sorted int64 array, the "intset", which is compact and makes
 * SMEMBERS of such sets reply in ascending order, an order clients can see
 * and tests depend on. The first non-integer member, or growing past
 * setobj_max_intset_entries, converts the set to a dict (members as keys,
 * no values) for good: Redis never converts back, and neither do we, so the
 * reply order of later commands matches. */
#include "setobj.h"

#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "mem.h"
#include "util.h"

size_t setobj_max_intset_entries = 512;

struct setobj {
    int64_t *ints;      /* sorted ascending; NULL once converted */
    size_t nints;
    size_t cap;
    dict *d;            /* non-NULL once converted */
};

setobj *setobj_new(void)
{
    return mem_calloc(sizeof(setobj));
}

void setobj_free(setobj *s)
{
    if (!s)
        return;
    if (s->d)
        dict_free(s->d);
    mem_free(s->ints);
    mem_free(s);
}

size_t setobj_len(const setobj *s)
{
    return s->d ? dict_size(s->d) : s->nints;
}

int setobj_is_intset(const setobj *s)
{
    return s->d == NULL;
}

/* Binary search: index of v, or -(insertion point)-1 when absent. */
static long setobj_int_find(const setobj *s, int64_t v)
{
    size_t lo = 0, hi = s->nints;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ints[mid] == v)
            return (long)mid;
        if (s->ints[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(long)lo - 1;
}

/* Move every integer into a fresh dict; the intset array is released. */
static void setobj_convert(setobj *s)
{
    s->d = dict_create(&dict_type_plain);
    dict_expand(s->d, s->nints + 1);
    for (size_t i = 0; i < s->nints; i++) {
        char buf[32];
        int n = util_ll_to_str(buf, sizeof(buf), s->ints[i]);
        dict_entry *existing = NULL;
        dict_add(s->d, buf, (size_t)n, &existing);
    }
    mem_free(s->ints);
    s->ints = NULL;
    s->nints = s->cap = 0;
}

static void setobj_int_insert(setobj *s, size_t pos, int64_t v)
{
    if (s->nints == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 4;
        s->ints = mem_realloc(s->ints, ncap * sizeof(int64_t));
        s->cap = ncap;
    }
    memmove(s->ints + pos + 1, s->ints + pos, (s->nints - pos) * sizeof(int64_t));
    s->ints[pos] = v;
    s->nints++;
}

int setobj_add(setobj *s, const char *m, size_t len)
{
    long long v;
    if (!s->d) {
        if (util_str_to_ll(m, len, &v)) {
            long idx = setobj_int_find(s, v);
            if (idx >= 0)
                return 0;
            setobj_int_insert(s, (size_t)(-idx - 1), v);
            if (s->nints > setobj_max_intset_entries)
                setobj_convert(s);
            return 1;
        }
        setobj_convert(s);
    }
    dict_entry *existing = NULL;
    return dict_add(s->d, m, len, &existing) != NULL;
}

int setobj_remove(setobj *s, const char *m, size_t len)
{
    if (s->d)
        return dict_delete(s->d, m, len);
    long long v;
    if (!util_str_to_ll(m, len, &v))
        return 0;
    long idx = setobj_int_find(s, v);
    if (idx < 0)
        return 0;
    memmove(s->ints + idx, s->ints + idx + 1, (s->nints - (size_t)idx - 1) * sizeof(int64_t));
    s->nints--;
    return 1;
}

int setobj_contains(setobj *s, const char *m, size_t len)
{
    if (s->d)
        return dict_find(s->d, m, len) != NULL;
    long long v;
    if (!util_str_to_ll(m, len, &v))
        return 0;
    return setobj_int_find(s, v) >= 0;
}

void setobj_iter_init(setobj *s, setobj_iter *it)
{
    it->s = s;
    it->pos = 0;
    it->di = NULL;
    if (s->d) {
        /* Safe iterator: it pauses rehashing, so callers may look members
         * up in the set being walked (ZDIFF 2 s s, SINTER s s) without the
         * table moving under the iteration. */
        dict_iter *di = mem_alloc(sizeof(dict_iter));
        dict_iter_init(s->d, di, 1);
        it->di = di;
    }
}

int setobj_iter_next(setobj_iter *it, const char **m, size_t *len)
{
    if (it->di) {
        dict_entry *e = dict_iter_next(it->di);
        if (!e)
            return 0;
        *m = e->key;
        *len = kstr_len(e->key);
        return 1;
    }
    if (it->pos >= it->s->nints)
        return 0;
    int n = util_ll_to_str(it->buf, sizeof(it->buf), it->s->ints[it->pos++]);
    *m = it->buf;
    *len = (size_t)n;
    return 1;
}

void setobj_iter_release(setobj_iter *it)
{
    if (it->di) {
        dict_iter_release(it->di);
        mem_free(it->di);
        it->di = NULL;
    }
}

kstr setobj_random(setobj *s)
{
    if (s->d) {
        dict_entry *e = dict_random(s->d);
        return e ? kstr_dup(e->key) : NULL;
    }
    if (s->nints == 0)
        return NULL;
    return kstr_from_ll(s->ints[(size_t)random() % s->nints]);
}

typedef struct setobj_scan_ctx {
    setobj_scan_fn *fn;
    void *priv;
} setobj_scan_ctx;

static void setobj_scan_entry(void *priv, const dict_entry *e)
{
    setobj_scan_ctx *ctx = priv;
    ctx->fn(ctx->priv, e->key, kstr_len(e->key));
}

/* An intset is returned whole in one call with cursor 0, as Redis does for
 * its compact encodings. */
uint64_t setobj_scan(setobj *s, uint64_t cursor, setobj_scan_fn *fn, void *priv)
{
    if (s->d) {
        setobj_scan_ctx ctx = {fn, priv};
        return dict_scan(s->d, cursor, setobj_scan_entry, &ctx);
    }
    for (size_t i = 0; i < s->nints; i++) {
        char buf[32];
        int n = util_ll_to_str(buf, sizeof(buf), s->ints[i]);
        fn(priv, buf, (size_t)n);
    }
    return 0;
}

size_t setobj_mem(const setobj *s)
{
    size_t n = sizeof(*s);
    if (s->d)
        n += dict_mem(s->d);
    else
        n += s->cap * sizeof(int64_t);
    return n;
}

void setobj_prefetch(const setobj *s, size_t n, const char *const *m, const size_t *lens)
{
    if (s->d != NULL)
        dict_prefetch(s->d, n, m, lens, NULL);
}
