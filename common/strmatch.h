/* strmatch: glob-style matching with Redis' stringmatchlen rules ('*', '?',
 * '[...]' classes with ranges and '^', '\\' escapes), quirks included
 * (unterminated classes, reversed ranges). Shared by the agent (KEYS, SCAN
 * MATCH, PSUBSCRIBE) and kvfleetd's Sentinel port (PSUBSCRIBE). Pure. */
#ifndef KV_STRMATCH_H
#define KV_STRMATCH_H
#include <stddef.h>

/* 1 when str matches pat. As in Redis, the empty string matches only the
 * empty pattern, not "*": callers that list keys skip matching for a lone
 * "*" pattern. */
int strmatch_glob(const char *pat, size_t patlen, const char *str, size_t strlen, int nocase);

#endif
