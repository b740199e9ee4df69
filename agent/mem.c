/* mem: the one place the agent allocates heap memory. Every block's usable
 * size (as the allocator reports it, so jemalloc's size classes are counted
 * honestly) is added to a process-wide counter, which INFO's used_memory and
 * the maxmemory policy read. Allocation failure aborts: a write applied to
 * half of its keys would be worse than a restart. */
#include "mem.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static size_t mem_used_bytes;

/* Relaxed ordering: the counter is a statistic, nothing synchronises on it. */
static void mem_count_add(void *p)
{
    __atomic_add_fetch(&mem_used_bytes, malloc_usable_size(p), __ATOMIC_RELAXED);
}

static void mem_count_sub(void *p)
{
    __atomic_sub_fetch(&mem_used_bytes, malloc_usable_size(p), __ATOMIC_RELAXED);
}

static void mem_oom(size_t size)
{
    /* Plain fprintf rather than the log module: it must work even when the
     * log module itself cannot allocate. */
    fprintf(stderr, "kvfleet: out of memory allocating %zu bytes\n", size);
    fflush(stderr);
    abort();
}

void *mem_alloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        mem_oom(size);
    mem_count_add(p);
    return p;
}

void *mem_calloc(size_t size)
{
    void *p = calloc(1, size ? size : 1);
    if (p == NULL)
        mem_oom(size);
    mem_count_add(p);
    return p;
}

/* Physical memory in bytes, SIZE_MAX when unknown. A block larger than
 * that can never be filled: with overcommit malloc would still hand it
 * out, and writing it would bring the OOM killer instead of an error. */
static size_t mem_phys_bytes(void)
{
    static size_t phys;
    if (phys == 0) {
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        phys = pages > 0 && page > 0 && (unsigned long)pages <= SIZE_MAX / (unsigned long)page
                   ? (size_t)pages * (size_t)page : SIZE_MAX;
    }
    return phys;
}

void *mem_try_alloc(size_t size)
{
    if (size > mem_phys_bytes())
        return NULL;
    void *p = malloc(size ? size : 1);
    if (p != NULL)
        mem_count_add(p);
    return p;
}

void *mem_try_calloc(size_t size)
{
    if (size > mem_phys_bytes())
        return NULL;
    void *p = calloc(1, size ? size : 1);
    if (p != NULL)
        mem_count_add(p);
    return p;
}

void *mem_realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return mem_alloc(size);
    if (size == 0)
        size = 1;
    size_t old = malloc_usable_size(ptr);
    void *p = realloc(ptr, size);
    if (p == NULL)
        mem_oom(size);
    __atomic_sub_fetch(&mem_used_bytes, old, __ATOMIC_RELAXED);
    mem_count_add(p);
    return p;
}

void mem_free(void *ptr)
{
    if (ptr == NULL)
        return;
    mem_count_sub(ptr);
    free(ptr);
}

char *mem_strdup(const char *s)
{
    return mem_memdup(s, strlen(s) + 1);
}

void *mem_memdup(const void *p, size_t len)
{
    void *q = mem_alloc(len);
    if (len)
        memcpy(q, p, len);
    return q;
}

size_t mem_used(void)
{
    return __atomic_load_n(&mem_used_bytes, __ATOMIC_RELAXED);
}

size_t mem_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    unsigned long size_pages = 0, rss_pages = 0;
    int n = fscanf(f, "%lu %lu", &size_pages, &rss_pages);
    fclose(f);
    if (n != 2)
        return 0;
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        page = 4096;
    return (size_t)rss_pages * (size_t)page;
}
