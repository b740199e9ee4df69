/* hll: Redis' HyperLogLog representation as a pure data structure over a
 * kstr, byte-compatible with Redis 7.0 so an HLL string can travel between
 * kvfleet and real Redis (GET/SET, DUMP/RESTORE, RDB, replication).
 *
 * Layout: a 16-byte header ("HYLL", encoding byte, 3 unused bytes, the
 * cached cardinality as 64-bit little endian whose top bit marks the cache
 * stale), then 16384 six-bit registers, either dense (12288 packed bytes) or
 * sparse (run-length opcodes ZERO, XZERO and VAL). */
#ifndef KV_HLL_H
#define KV_HLL_H
#include <stddef.h>
#include <stdint.h>
#include "kstr.h"

#define HLL_P 14
#define HLL_Q (64 - HLL_P)
#define HLL_REGISTERS (1 << HLL_P)
#define HLL_BITS 6
#define HLL_HDR_SIZE 16
#define HLL_DENSE_SIZE (HLL_HDR_SIZE + (HLL_REGISTERS * HLL_BITS + 7) / 8)
#define HLL_DENSE 0
#define HLL_SPARSE 1

/* MurmurHash64A, the hash Redis feeds the registers with (seed 0xadc83b19). */
uint64_t hll_murmur64a(const void *key, size_t len, uint64_t seed);
/* Register index and run length (1..51) an element maps to. */
int hll_pattern(const void *ele, size_t len, long *index);

/* A new empty HLL: sparse, cached cardinality 0. */
kstr hll_new(void);
/* The header checks PFADD/PFCOUNT/PFMERGE apply before using a string as
 * an HLL (magic, known encoding, dense size). 1 when it passes. */
int hll_is_valid(const char *p, size_t len);

/* Add an element. Returns 1 when a register changed, 0 when not, -1 when
 * the sparse data is corrupt. *s may move (sparse growth or promotion to
 * dense once the sparse form would pass sparse_max bytes). */
int hll_add(kstr *s, const void *ele, size_t len, size_t sparse_max);
/* Raise register index to count if lower; same returns as hll_add. */
int hll_set(kstr *s, long index, uint8_t count, size_t sparse_max);
/* Convert sparse to dense in place (no-op when dense); -1 if corrupt. */
int hll_to_dense(kstr *s);

/* Cached cardinality in the header. */
int hll_cache_valid(const char *p);
uint64_t hll_cache_get(const char *p);
void hll_cache_set(char *p, uint64_t card);
void hll_cache_invalidate(char *p);

/* Estimate the cardinality of an HLL string (ignores the cache); -1 when
 * the sparse data is corrupt. */
int hll_count(const char *p, size_t len, uint64_t *card);
/* Estimate from a plain array of HLL_REGISTERS register values. */
uint64_t hll_count_registers(const uint8_t *regs);
/* max[i] = max(max[i], register i) over an HLL string; -1 if corrupt. */
int hll_merge_into(uint8_t *max, const char *p, size_t len);

/* PFDEBUG helpers. Register i of a dense HLL. */
unsigned hll_dense_register(const char *p, long i);
/* The sparse opcodes as text ("Z:8436 v:1,1 z:3 ..."), as PFDEBUG DECODE. */
kstr hll_sparse_describe(const char *p, size_t len);

#endif
