/* objclock: LRU clock and LFU counter of a value (see objclock.h). The
 * arithmetic follows Redis 7.0's evict.c so that OBJECT FREQ / IDLETIME,
 * RESTORE ... FREQ/IDLETIME, the RDB hints and eviction read the same as
 * on a redis-server fed the same commands. */
#include <stdlib.h>
#include "objclock.h"
#include "server.h"

uint32_t objclock_lru_of(int64_t unix_secs)
{
    return (uint32_t)((uint64_t)unix_secs & OBJCLOCK_LRU_MAX);
}

uint64_t objclock_lru_idle(uint32_t stamp, uint32_t now_lru)
{
    stamp &= OBJCLOCK_LRU_MAX;
    now_lru &= OBJCLOCK_LRU_MAX;
    if (now_lru >= stamp)
        return now_lru - stamp;
    /* The clock wrapped since the stamp. Redis counts up to LRU_CLOCK_MAX,
     * not past it, so the answer is one second short; kept for parity. */
    return (uint64_t)now_lru + (OBJCLOCK_LRU_MAX - stamp);
}

uint16_t objclock_lfu_minutes_of(int64_t unix_secs)
{
    return (uint16_t)(((uint64_t)unix_secs / 60) & 65535);
}

uint32_t objclock_lfu_elapsed(uint16_t ldt, uint16_t now_min)
{
    if (now_min >= ldt)
        return (uint32_t)(now_min - ldt);
    /* Wrapped: Redis counts to 65535, one short of the true distance. */
    return (uint32_t)(65535 - ldt + now_min);
}

uint8_t objclock_lfu_decayed(uint32_t stamp, uint16_t now_min, long long decay_time)
{
    uint16_t ldt = (uint16_t)((stamp >> 8) & 0xFFFF);
    uint8_t counter = (uint8_t)(stamp & 0xFF);
    if (decay_time <= 0)
        return counter;
    uint64_t periods = objclock_lfu_elapsed(ldt, now_min) / (uint64_t)decay_time;
    return periods >= counter ? 0 : (uint8_t)(counter - periods);
}

uint8_t objclock_lfu_log_incr(uint8_t counter, long long log_factor, double r)
{
    if (counter >= OBJCLOCK_LFU_MAX)
        return OBJCLOCK_LFU_MAX;
    /* The higher the counter, the less likely one more access counts: a
     * counter of 255 takes about a million accesses with factor 10. */
    double base = counter > OBJCLOCK_LFU_INIT ? (double)(counter - OBJCLOCK_LFU_INIT) : 0.0;
    double p = 1.0 / (base * (double)log_factor + 1.0);
    return r < p ? (uint8_t)(counter + 1) : counter;
}

uint32_t objclock_lfu_pack(uint16_t minutes, uint8_t counter)
{
    return ((uint32_t)minutes << 8) | counter;
}

int objclock_policy_is_lfu(const srv *s)
{
    int p = s->config.maxmemory_policy;
    return p == MAXMEM_ALLKEYS_LFU || p == MAXMEM_VOLATILE_LFU;
}

int objclock_policy_is_lru(const srv *s)
{
    int p = s->config.maxmemory_policy;
    return p == MAXMEM_ALLKEYS_LRU || p == MAXMEM_VOLATILE_LRU;
}

int objclock_no_shared_integers(const srv *s)
{
    return s->config.maxmemory != 0 && (objclock_policy_is_lru(s) || objclock_policy_is_lfu(s));
}

void objclock_note_new_value(srv *s, obj *o)
{
    if (o->type == OBJ_STRING && o->enc == OBJ_ENC_INT && objclock_no_shared_integers(s))
        o->reserved |= OBJ_INT_UNSHARED;
}

static uint16_t objclock_now_minutes(const srv *s)
{
    return objclock_lfu_minutes_of((int64_t)s->lru_clock);
}

void objclock_stamp_new(srv *s, obj *o)
{
    if (objclock_policy_is_lfu(s))
        o->lru = objclock_lfu_pack(objclock_now_minutes(s), OBJCLOCK_LFU_INIT);
    else
        o->lru = objclock_lru_of((int64_t)s->lru_clock);
}

void objclock_touch(srv *s, obj *o)
{
    if (!objclock_policy_is_lfu(s)) {
        o->lru = objclock_lru_of((int64_t)s->lru_clock);
        return;
    }
    uint16_t now = objclock_now_minutes(s);
    uint8_t counter = objclock_lfu_decayed(o->lru, now, s->config.lfu_decay_time);
    double r = (double)random() / ((double)RAND_MAX + 1.0);
    counter = objclock_lfu_log_incr(counter, s->config.lfu_log_factor, r);
    o->lru = objclock_lfu_pack(now, counter);
}

uint8_t objclock_freq(const srv *s, const obj *o)
{
    return objclock_lfu_decayed(o->lru, objclock_now_minutes(s), s->config.lfu_decay_time);
}

uint64_t objclock_idle_secs(const srv *s, const obj *o)
{
    return objclock_lru_idle(o->lru, objclock_lru_of((int64_t)s->lru_clock));
}

int objclock_apply_hint(srv *s, obj *o, long long freq, long long idle_secs)
{
    if (objclock_policy_is_lfu(s)) {
        if (freq < 0 || freq > OBJCLOCK_LFU_MAX)
            return 0;
        o->lru = objclock_lfu_pack(objclock_now_minutes(s), (uint8_t)freq);
        return 1;
    }
    if (idle_secs < 0)
        return 0;
    /* Redis scales seconds to its clock's milliseconds and back in a long
     * long (so huge values wrap), subtracts and keeps 24 bits. */
    long long idle = (long long)((unsigned long long)idle_secs * 1000u) / 1000;
    long long now = (long long)objclock_lru_of((int64_t)s->lru_clock);
    long long abs = (long long)((unsigned long long)now - (unsigned long long)idle);
    if (abs < 0)
        abs = (long long)((unsigned long long)abs + OBJCLOCK_LRU_MAX);
    o->lru = (uint32_t)((unsigned long long)abs & OBJCLOCK_LRU_MAX);
    return 1;
}
