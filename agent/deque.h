/* deque: the list type's container, a ring buffer of kstr pointers, so
 * push/pop at both ends is O(1) and LINDEX/LSET are O(1). */
#ifndef KV_DEQUE_H
#define KV_DEQUE_H
#include <stddef.h>
#include "kstr.h"

typedef struct deque deque;

deque *deque_new(void);
void deque_free(deque *q);
size_t deque_len(const deque *q);
void deque_push_head(deque *q, kstr v);   /* takes ownership */
void deque_push_tail(deque *q, kstr v);
kstr deque_pop_head(deque *q);            /* caller owns; NULL when empty */
kstr deque_pop_tail(deque *q);
kstr deque_get(const deque *q, size_t idx);  /* borrowed; idx < len */
void deque_set(deque *q, size_t idx, kstr v);/* frees the old element */
void deque_insert(deque *q, size_t idx, kstr v); /* before idx; idx==len appends */
void deque_remove(deque *q, size_t idx);     /* frees the element */
size_t deque_mem(const deque *q);

#endif
