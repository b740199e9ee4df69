/* mem: allocation wrappers that count live bytes, so INFO used_memory and
 * maxmemory have a number to work with. Out of memory aborts with a log line,
 * as a half-applied write would be worse than a restart. */
#ifndef KV_MEM_H
#define KV_MEM_H
#include <stddef.h>

void *mem_alloc(size_t size);
void *mem_calloc(size_t size);
void *mem_realloc(void *ptr, size_t size);
void mem_free(void *ptr);
/* As mem_alloc / mem_calloc, but NULL instead of aborting when the block
 * cannot be had, or is larger than the machine's physical memory (which
 * overcommit would grant and the OOM killer collect): for sizes a client
 * or a file chose (LCS's table, DEBUG POPULATE's keyspace), which deserve
 * an error reply, not a restart. */
void *mem_try_alloc(size_t size);
void *mem_try_calloc(size_t size);
char *mem_strdup(const char *s);
void *mem_memdup(const void *p, size_t len);
/* Bytes currently allocated through this module (usable sizes). */
size_t mem_used(void);
/* Resident set size of this process in bytes, 0 when unknown. */
size_t mem_rss(void);

#endif
