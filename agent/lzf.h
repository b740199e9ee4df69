/* lzf: the LZF compression format Redis uses for long strings in RDB files.
 * A stream of control bytes: c < 32 starts a run of c+1 literal bytes;
 * otherwise the top three bits are a match length minus 2 (7 = one extra
 * length byte follows) and the low five plus the next byte a 13-bit
 * backwards distance minus 1. Pure functions, no allocation. */
#ifndef KV_LZF_H
#define KV_LZF_H
#include <stddef.h>

/* Compress into out (at most out_len bytes). Returns the compressed size,
 * or 0 when the result would not fit (the caller then stores the bytes
 * uncompressed). */
size_t lzf_compress(const void *in, size_t in_len, void *out, size_t out_len);

/* Decompress into out (capacity out_len). Returns the decompressed size, or
 * 0 when the input is malformed or the output would not fit. */
size_t lzf_decompress(const void *in, size_t in_len, void *out, size_t out_len);

#endif
