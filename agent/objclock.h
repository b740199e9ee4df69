/* objclock: the access clock every value carries in obj.lru, as Redis 7.0
 * keeps it in its 24-bit lru field. Under an LRU (or no) maxmemory policy
 * the field is a seconds clock of the last access; under an LFU policy it is
 * (16-bit minutes clock of the last decrement << 8 | 8-bit logarithmic
 * access counter). Switching policy at run time reinterprets the bits, as
 * in Redis: the data adjusts over time.
 *
 * The pure functions below take every input as an argument so they can be
 * unit tested; the objclock_* functions that take a server read its policy,
 * clock and lfu-* settings. */
#ifndef KV_OBJCLOCK_H
#define KV_OBJCLOCK_H
#include <stdint.h>
#include "object.h"

struct srv;

#define OBJCLOCK_LRU_MAX ((1u << 24) - 1)  /* Redis' LRU_CLOCK_MAX */
#define OBJCLOCK_LFU_INIT 5                /* Redis' LFU_INIT_VAL */
#define OBJCLOCK_LFU_MAX 255

/* The LRU clock (24 bits of unix seconds). */
uint32_t objclock_lru_of(int64_t unix_secs);
/* Seconds since an LRU stamp, wrapping at 24 bits the way Redis'
 * estimateObjectIdleTime does. */
uint64_t objclock_lru_idle(uint32_t stamp, uint32_t now_lru);
/* The LFU minutes clock (16 bits of unix minutes). */
uint16_t objclock_lfu_minutes_of(int64_t unix_secs);
/* Minutes from ldt to now on the wrapping 16-bit clock. */
uint32_t objclock_lfu_elapsed(uint16_t ldt, uint16_t now_min);
/* The counter of an LFU stamp after decay: one less per decay_time minutes
 * since the stamp's minutes (decay_time 0: no decay), never below 0. */
uint8_t objclock_lfu_decayed(uint32_t stamp, uint16_t now_min, long long decay_time);
/* One access: the counter grows with probability 1 / ((counter - INIT) *
 * log_factor + 1) (always below INIT), r uniform in [0, 1). */
uint8_t objclock_lfu_log_incr(uint8_t counter, long long log_factor, double r);
uint32_t objclock_lfu_pack(uint16_t minutes, uint8_t counter);

/* Policy classes of the server's maxmemory-policy. */
int objclock_policy_is_lfu(const struct srv *s);
int objclock_policy_is_lru(const struct srv *s);
/* Redis keeps no shared integers (OBJECT REFCOUNT 2147483647) for values
 * created while maxmemory is set with an LRU or LFU policy: every value
 * needs its own access clock then. */
int objclock_no_shared_integers(const struct srv *s);
/* Mark a newly stored int-encoded string unshared in that mode. */
void objclock_note_new_value(struct srv *s, obj *o);
/* A value just created: INIT counter now (LFU), or the current clock. */
void objclock_stamp_new(struct srv *s, obj *o);
/* A lookup that touches the value: decay then count (LFU), or refresh. */
void objclock_touch(struct srv *s, obj *o);
/* OBJECT FREQ: the decayed counter (not stored back, as in Redis). */
uint8_t objclock_freq(const struct srv *s, const obj *o);
/* OBJECT IDLETIME: seconds since the last access under LRU semantics. */
uint64_t objclock_idle_secs(const struct srv *s, const obj *o);
/* Apply a loaded or RESTOREd hint as Redis' objectSetLRUOrLFU does: freq
 * (0..255, -1 none) under an LFU policy, idle seconds (-1 none) otherwise.
 * Returns 1 if a hint applied. */
int objclock_apply_hint(struct srv *s, obj *o, long long freq, long long idle_secs);

#endif
