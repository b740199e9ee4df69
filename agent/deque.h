/* deque: the list type's container, packed like Redis' quicklist: a doubly
 * linked list of nodes, each a contiguous buffer of length-prefixed entries,
 * cut by list-max-listpack-size. Push/pop at both ends are O(1); indexed
 * access walks nodes from the nearer end or from the last position looked
 * at, so a scan by increasing or decreasing index is O(1) per step. */
#ifndef KV_DEQUE_H
#define KV_DEQUE_H
#include <stddef.h>
#include "kstr.h"

typedef struct deque deque;

/* list-max-listpack-size for deques created from now on (Redis semantics:
 * > 0 caps the entries per node, -1..-5 the node size at 4..64 KB). */
void deque_set_default_fill(long long fill);
/* list-compress-depth for deques created from now on: 0 keeps every node
 * raw, d > 0 LZF-compresses the nodes more than d nodes from both ends. */
void deque_set_default_compress(long long depth);

deque *deque_new(void);
/* An empty deque with q's node limits. */
deque *deque_new_like(const deque *q);
void deque_free(deque *q);
size_t deque_len(const deque *q);
void deque_push_head(deque *q, kstr v);   /* takes ownership (copied, then freed) */
void deque_push_tail(deque *q, kstr v);
void deque_push_head_buf(deque *q, const void *p, size_t len);   /* copies */
void deque_push_tail_buf(deque *q, const void *p, size_t len);
kstr deque_pop_head(deque *q);            /* caller owns; NULL when empty */
kstr deque_pop_tail(deque *q);
/* Remove n elements from an end without materialising them. */
void deque_drop_head(deque *q, size_t n);
void deque_drop_tail(deque *q, size_t n);
/* The bytes of element idx, in place: valid until the deque is modified.
 * Returns 0 when idx >= len. */
int deque_view(const deque *q, size_t idx, const char **p, size_t *len);
/* Element idx as a kstr borrowed from a per-thread scratch buffer: valid
 * until the next deque_get on any deque, or the deque is modified. NULL
 * when idx >= len. */
kstr deque_get(const deque *q, size_t idx);
void deque_set(deque *q, size_t idx, kstr v);/* takes ownership of v */
void deque_insert(deque *q, size_t idx, kstr v); /* before idx; idx==len appends */
void deque_remove(deque *q, size_t idx);
size_t deque_mem(const deque *q);
/* The list-compress-depth q was created with (DEBUG OBJECT's ql_compressed). */
int deque_compress_depth(const deque *q);
size_t deque_node_count(const deque *q);
/* Entries in node i (0 = head), for tests and DEBUG; 0 when out of range. */
size_t deque_node_entries(const deque *q, size_t i);

#endif
