/* util: number <-> string conversions with Redis' exact acceptance rules,
 * glob matching and time helpers. Pure functions. */
#ifndef KV_UTIL_H
#define KV_UTIL_H
#include <stddef.h>
#include <stdint.h>

#include "strconv.h"
#include "strmatch.h"

/* Strict integer parse: no spaces, no '+', no leading zeros, fits in long
 * long. Returns 1 on success. (common/strconv.c; inline so the agent's
 * callers pay one call, as before the move.) */
static inline int util_str_to_ll(const char *s, size_t len, long long *out)
{
    return strconv_str_to_ll(s, len, out);
}
/* Double parse as Redis' getDoubleFromObject: no spaces, no NaN; "inf",
 * "-inf", "+inf" accepted. Returns 1 on success. */
int util_str_to_double(const char *s, size_t len, double *out);
/* Longest long double text Redis accepts or prints (its MAX_LONG_DOUBLE_CHARS);
 * size buffers for util_ldouble_to_str with it. */
#define UTIL_MAX_LDOUBLE_CHARS (5 * 1024)

/* long double parse for INCRBYFLOAT (as getLongDoubleFromObject). */
int util_str_to_ldouble(const char *s, size_t len, long double *out);
/* Writes v in decimal, returns length (buf needs 21 bytes). The formatters
 * below all NUL-terminate and return 0 (empty buf) when size is too small. */
static inline int util_ll_to_str(char *buf, size_t size, long long v)
{
    return strconv_ll_to_str(buf, size, v);
}
/* Format a double the way Redis replies with it (%.17g, "inf"/"-inf"). */
int util_double_to_str(char *buf, size_t size, double v);
/* Format a long double as INCRBYFLOAT/HINCRBYFLOAT do (humanfriendly). */
int util_ldouble_to_str(char *buf, size_t size, long double v);
/* Glob-style match as Redis' stringmatchlen ('*', '?', '[...]', '\\').
 * Exactly like Redis, the empty string matches only the empty pattern, not "*": KEYS and
 * the SCAN family must skip matching when the pattern is a lone "*" (as
 * Redis does) so that the empty key is listed. PSUBSCRIBE uses it as is.
 * (common/strmatch.c.) */
static inline int util_glob_match(const char *pat, size_t patlen, const char *str, size_t len,
                                  int nocase)
{
    return strmatch_glob(pat, patlen, str, len, nocase);
}
/* Wall clock. */
int64_t util_ms_now(void);
int64_t util_us_now(void);
/* Monotonic clock in microseconds. */
int64_t util_mono_us(void);
/* Ticks: the cheapest clock for timing hot paths (a command's duration, the
 * cached time of each command). After util_ticks_init() on x86-64 with an
 * invariant TSC a tick is a TSC cycle (about 10 ns to read here, against
 * 27 ns for clock_gettime); otherwise, and before init, a tick is a
 * CLOCK_MONOTONIC nanosecond. Use only differences, over short spans. */
void util_ticks_init(void);
uint64_t util_ticks(void);
int64_t util_ticks_to_us(uint64_t ticks);
/* Private_Dirty of this process in bytes (/proc/self/smaps_rollup): in a
 * fork child, the pages copy-on-write has had to copy. 0 if unknown. */
size_t util_private_dirty_bytes(void);
/* Read up to len bytes, retrying short reads and EINTR; returns the bytes
 * read (less than len at end of file or on error). */
size_t util_read_full(int fd, void *buf, size_t len);
uint64_t util_us_to_ticks(int64_t us);
/* len is the size of out: writes len-1 random hex characters and a NUL
 * (char id[41]; util_random_hex(id, sizeof id) for replication/run ids). */
void util_random_hex(char *out, size_t len);
/* Parse "1gb", "100mb", "512k", "42" as Redis' memtoull. Returns 1 on success. */
int util_parse_memory(const char *s, unsigned long long *out);
/* Case-insensitive compare of (a, alen) with the C string b; 0 if equal. */
int util_strcasecmp_len(const char *a, size_t alen, const char *b);

/* ---- size limits on client-chosen numbers ------------------------------
 * Arguments are any 64-bit integers; these helpers do the arithmetic Redis
 * does on them without overflowing (undefined behaviour in C, and a crash
 * under the sanitizer build), with the results Redis 7.0 gives. */

/* 1 when a string of size + append bytes would be longer than limit, the
 * sum taken without wrapping (Redis' checkStringLength, which also refuses
 * a sum that overflows). */
int util_string_too_long(unsigned long long size, unsigned long long append,
                         unsigned long long limit);
/* The SCAN family's iteration budget, COUNT * 10. Redis computes it in a
 * long that wraps for huge counts and decrements it until it reaches 0;
 * the same value as an unsigned number gives the same number of steps
 * with no overflow. */
uint64_t util_scan_budget(long long count);
/* A SCAN-family cursor as Redis' parseScanCursorOrReply reads it: strtoul
 * over the C string (an embedded NUL ends it), so "-1" wraps to 2^64-1,
 * "+5" and "007" are accepted and "" is 0, while a leading space, trailing
 * junk or a magnitude past 2^64-1 are refused. Returns 1 on success. */
int util_parse_scan_cursor(const char *s, size_t len, uint64_t *out);

#endif
