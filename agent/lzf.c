/* lzf: an LZF compressor and a bounds-checked decompressor, written from
 * the format description in lzf.h. The compressor finds earlier occurrences
 * of each 3-byte sequence through a small hash table sized to the input, so
 * compressing a 100-byte value does not pay for clearing a large table. */
#include <stdint.h>
#include <string.h>
#include "lzf.h"

#define LZF_MAX_LIT 32               /* literal run length limit */
#define LZF_MAX_OFF (1u << 13)       /* back-reference distance limit */
#define LZF_MAX_REF (264)            /* 7 + 255 + 2 */
#define LZF_HLOG_MAX 14
#define LZF_HLOG_MIN 6

static inline uint32_t lzf_hash(const unsigned char *p, unsigned hlog)
{
    uint32_t v = ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
    return (v * 2654435761u) >> (32 - hlog);
}

static unsigned lzf_pick_hlog(size_t len)
{
    unsigned hlog = LZF_HLOG_MIN;
    while (hlog < LZF_HLOG_MAX && ((size_t)1 << hlog) < len)
        hlog++;
    return hlog;
}

size_t lzf_compress(const void *in, size_t in_len, void *out, size_t out_len)
{
    /* Positions are stored plus one so zero means "empty slot". */
    uint32_t htab[1u << LZF_HLOG_MAX];
    const unsigned char *base = in, *ip = base, *end = base + in_len;
    unsigned char *op = out, *oend = op + out_len, *lit_ctrl;
    unsigned hlog = lzf_pick_hlog(in_len);
    unsigned lit = 0;

    if (in_len == 0 || out_len == 0 || in_len >= 0xffffffffu)
        return 0;
    memset(htab, 0, sizeof(uint32_t) << hlog);
    lit_ctrl = op++;   /* control byte of the current literal run */

    while (ip + 2 < end) {
        uint32_t h = lzf_hash(ip, hlog);
        uint32_t slot = htab[h];
        htab[h] = (uint32_t)(ip - base) + 1;
        if (slot) {
            const unsigned char *ref = base + slot - 1;
            size_t off = (size_t)(ip - ref) - 1;
            if (off < LZF_MAX_OFF && ref[0] == ip[0] && ref[1] == ip[1] && ref[2] == ip[2]) {
                size_t maxlen = (size_t)(end - ip);
                size_t len = 3;
                if (maxlen > LZF_MAX_REF)
                    maxlen = LZF_MAX_REF;
                while (len < maxlen && ref[len] == ip[len])
                    len++;
                /* Close the literal run (or drop its unused control byte). */
                if (lit)
                    *lit_ctrl = (unsigned char)(lit - 1);
                else
                    op--;
                if ((size_t)(oend - op) < 4)   /* ref (up to 3) + next ctrl */
                    return 0;
                len -= 2;
                if (len < 7) {
                    *op++ = (unsigned char)((off >> 8) + (len << 5));
                } else {
                    *op++ = (unsigned char)((off >> 8) + (7 << 5));
                    *op++ = (unsigned char)(len - 7);
                }
                *op++ = (unsigned char)(off & 0xff);
                ip += len + 2;
                /* Remember the position just before the next one so runs of
                 * repeated data keep matching. */
                if (ip + 2 < end && ip - 1 > base)
                    htab[lzf_hash(ip - 1, hlog)] = (uint32_t)(ip - 1 - base) + 1;
                lit = 0;
                lit_ctrl = op++;
                continue;
            }
        }
        if (op >= oend)
            return 0;
        *op++ = *ip++;
        if (++lit == LZF_MAX_LIT) {
            *lit_ctrl = LZF_MAX_LIT - 1;
            lit = 0;
            if (op >= oend)
                return 0;
            lit_ctrl = op++;
        }
    }
    while (ip < end) {
        if (op >= oend)
            return 0;
        *op++ = *ip++;
        if (++lit == LZF_MAX_LIT) {
            *lit_ctrl = LZF_MAX_LIT - 1;
            lit = 0;
            if (op >= oend)
                return 0;
            lit_ctrl = op++;
        }
    }
    if (lit)
        *lit_ctrl = (unsigned char)(lit - 1);
    else
        op--;
    return (size_t)(op - (unsigned char *)out);
}

size_t lzf_decompress(const void *in, size_t in_len, void *out, size_t out_len)
{
    const unsigned char *ip = in, *iend = ip + in_len;
    unsigned char *start = out, *op = start, *oend = op + out_len;

    while (ip < iend) {
        unsigned ctrl = *ip++;
        if (ctrl < 32) {
            size_t n = ctrl + 1;
            if ((size_t)(iend - ip) < n || (size_t)(oend - op) < n)
                return 0;
            memcpy(op, ip, n);
            op += n;
            ip += n;
            continue;
        }
        size_t len = ctrl >> 5;
        if (len == 7) {
            if (ip >= iend)
                return 0;
            len += *ip++;
        }
        len += 2;
        if (ip >= iend)
            return 0;
        size_t back = ((size_t)(ctrl & 0x1f) << 8) + *ip++ + 1;
        if (back > (size_t)(op - start) || (size_t)(oend - op) < len)
            return 0;
        const unsigned char *ref = op - back;
        if (back >= len) {
            memcpy(op, ref, len);
            op += len;
        } else {
            /* Overlapping copy: a run that repeats its own output. */
            while (len--)
                *op++ = *ref++;
        }
    }
    return (size_t)(op - start);
}
