/* deque: the list type's container. A ring buffer of kstr pointers: push and
 * pop at both ends are O(1), and so is indexed access (LINDEX, LSET), which
 * Redis' quicklist cannot offer. The buffer's capacity is always a power of
 * two so the physical slot of a logical index is a mask, not a modulo. It
 * doubles when full and halves when at most a quarter is used, so memory
 * follows LTRIM / LPOP shrinking a big list. */
#include <string.h>
#include "deque.h"
#include "mem.h"

#define DEQUE_MIN_CAP 4

struct deque {
    kstr *buf;
    size_t cap;     /* power of two, >= DEQUE_MIN_CAP */
    size_t head;    /* physical slot of logical index 0 */
    size_t len;
};

static size_t deque_slot(const deque *q, size_t idx)
{
    return (q->head + idx) & (q->cap - 1);
}

/* Copy the elements into a fresh buffer of newcap slots, starting at 0. */
static void deque_resize(deque *q, size_t newcap)
{
    kstr *nb = mem_alloc(newcap * sizeof(kstr));
    size_t first = q->cap - q->head;   /* elements before the wrap */
    if (first > q->len)
        first = q->len;
    memcpy(nb, q->buf + q->head, first * sizeof(kstr));
    memcpy(nb + first, q->buf, (q->len - first) * sizeof(kstr));
    mem_free(q->buf);
    q->buf = nb;
    q->cap = newcap;
    q->head = 0;
}

static void deque_grow_if_full(deque *q)
{
    if (q->len == q->cap)
        deque_resize(q, q->cap * 2);
}

/* Halve while at most a quarter is used: the hysteresis keeps a list that
 * oscillates around a size from reallocating on every push/pop. */
static void deque_shrink_if_sparse(deque *q)
{
    while (q->cap > DEQUE_MIN_CAP && q->len <= q->cap / 4)
        deque_resize(q, q->cap / 2);
}

deque *deque_new(void)
{
    deque *q = mem_alloc(sizeof(*q));
    q->cap = DEQUE_MIN_CAP;
    q->buf = mem_alloc(q->cap * sizeof(kstr));
    q->head = 0;
    q->len = 0;
    return q;
}

void deque_free(deque *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->len; i++)
        kstr_free(q->buf[deque_slot(q, i)]);
    mem_free(q->buf);
    mem_free(q);
}

size_t deque_len(const deque *q)
{
    return q->len;
}

void deque_push_head(deque *q, kstr v)
{
    deque_grow_if_full(q);
    q->head = (q->head + q->cap - 1) & (q->cap - 1);
    q->buf[q->head] = v;
    q->len++;
}

void deque_push_tail(deque *q, kstr v)
{
    deque_grow_if_full(q);
    q->buf[deque_slot(q, q->len)] = v;
    q->len++;
}

kstr deque_pop_head(deque *q)
{
    if (q->len == 0)
        return NULL;
    kstr v = q->buf[q->head];
    q->head = (q->head + 1) & (q->cap - 1);
    q->len--;
    deque_shrink_if_sparse(q);
    return v;
}

kstr deque_pop_tail(deque *q)
{
    if (q->len == 0)
        return NULL;
    kstr v = q->buf[deque_slot(q, q->len - 1)];
    q->len--;
    deque_shrink_if_sparse(q);
    return v;
}

kstr deque_get(const deque *q, size_t idx)
{
    if (idx >= q->len)
        return NULL;
    return q->buf[deque_slot(q, idx)];
}

void deque_set(deque *q, size_t idx, kstr v)
{
    if (idx >= q->len)
        return;
    size_t s = deque_slot(q, idx);
    kstr_free(q->buf[s]);
    q->buf[s] = v;
}

/* Insert by shifting the shorter side, so LINSERT near either end is cheap. */
void deque_insert(deque *q, size_t idx, kstr v)
{
    if (idx > q->len)
        idx = q->len;
    if (idx == 0) {
        deque_push_head(q, v);
        return;
    }
    if (idx == q->len) {
        deque_push_tail(q, v);
        return;
    }
    deque_grow_if_full(q);
    if (idx < q->len / 2) {
        /* open a slot before the head, move [0, idx) one step left */
        q->head = (q->head + q->cap - 1) & (q->cap - 1);
        q->len++;
        for (size_t i = 0; i < idx; i++)
            q->buf[deque_slot(q, i)] = q->buf[deque_slot(q, i + 1)];
    } else {
        /* move [idx, len) one step right */
        for (size_t i = q->len; i > idx; i--)
            q->buf[deque_slot(q, i)] = q->buf[deque_slot(q, i - 1)];
        q->len++;
    }
    q->buf[deque_slot(q, idx)] = v;
}

void deque_remove(deque *q, size_t idx)
{
    if (idx >= q->len)
        return;
    kstr_free(q->buf[deque_slot(q, idx)]);
    if (idx < q->len / 2) {
        for (size_t i = idx; i > 0; i--)
            q->buf[deque_slot(q, i)] = q->buf[deque_slot(q, i - 1)];
        q->head = (q->head + 1) & (q->cap - 1);
    } else {
        for (size_t i = idx; i + 1 < q->len; i++)
            q->buf[deque_slot(q, i)] = q->buf[deque_slot(q, i + 1)];
    }
    q->len--;
    deque_shrink_if_sparse(q);
}

size_t deque_mem(const deque *q)
{
    size_t total = sizeof(*q) + q->cap * sizeof(kstr);
    for (size_t i = 0; i < q->len; i++)
        total += kstr_alloc_size(q->buf[deque_slot(q, i)]);
    return total;
}
