/* strconv: integer <-> decimal text with Redis' exact rules, shared by the
 * agent and the controller (the RESP parser reads its counts with it, the
 * agent its command arguments, kvfleetd's Sentinel port its options).
 * Pure functions, no allocation. */
#ifndef KV_STRCONV_H
#define KV_STRCONV_H
#include <stddef.h>

/* Strict integer parse as Redis' string2ll: no spaces, no '+', no leading
 * zeros, no "-0", fits in long long. Returns 1 on success, 0 otherwise. */
int strconv_str_to_ll(const char *s, size_t len, long long *out);

/* Writes v in decimal and a NUL; returns the length (buf needs 21 bytes).
 * Returns 0 with buf[0] = NUL (when size > 0) if size is too small. */
int strconv_ll_to_str(char *buf, size_t size, long long v);

#endif
