/* lzf: an LZF compressor and a bounds-checked decompressor, written from
 * the format description in lzf.h.
 *
 * The compressor makes the choices liblzf 3.6 makes as Redis builds it
 * (a 2^16-slot table indexed by its "very fast" hash of three bytes, a
 * match only against the slot's previous position when it lies 1..8192
 * bytes back and not at offset 0, match lengths capped at 264, the two
 * positions before the end of a match hashed again, and the same
 * "does not fit" points), so DUMP payloads and RDB strings come out byte
 * for byte as redis-server writes them. One difference is deliberate:
 * liblzf leaves its table uninitialised, so stale slots from an earlier
 * call can offer it extra matches; here every call starts from an empty
 * table (a generation stamp per slot, so nothing is cleared per call). */
#include <stdint.h>
#include <string.h>
#include "lzf.h"

#define LZF_HLOG 16
#define LZF_HSIZE (1u << LZF_HLOG)
#define LZF_MAX_LIT 32               /* literal run length limit */
#define LZF_MAX_OFF (1u << 13)       /* back-reference distance limit */
#define LZF_MAX_REF 264              /* (1 << 8) + (1 << 3) */

/* The slot table of the calling thread: a position and the call it was
 * written in. */
static __thread uint32_t lzf_pos[LZF_HSIZE];
static __thread uint32_t lzf_gen[LZF_HSIZE];
static __thread uint32_t lzf_cur_gen;

/* liblzf's rolling value: the previous two bytes and the next one. */
static inline unsigned lzf_first(const unsigned char *p)
{
    return ((unsigned)p[0] << 8) | p[1];
}

static inline unsigned lzf_next(unsigned v, const unsigned char *p)
{
    return (v << 8) | p[2];
}

static inline unsigned lzf_idx(unsigned h)
{
    return (((h ^ (h << 5)) >> (3 * 8 - LZF_HLOG)) - h * 5) & (LZF_HSIZE - 1);
}

/* The slot's previous position (-1 for none) and the new one stored. */
static inline long lzf_swap_slot(unsigned idx, uint32_t pos)
{
    long prev = lzf_gen[idx] == lzf_cur_gen ? (long)lzf_pos[idx] : -1;
    lzf_pos[idx] = pos;
    lzf_gen[idx] = lzf_cur_gen;
    return prev;
}

static void lzf_new_generation(void)
{
    if (++lzf_cur_gen == 0) {
        memset(lzf_gen, 0, sizeof(lzf_gen));
        lzf_cur_gen = 1;
    }
}

/* Length of the match at ip against ref, in liblzf's counting: bytes 0..2
 * are known equal; the result is the index of the first difference, at
 * most maxlen once past the unrolled first 16 comparisons (which liblzf
 * makes without the maxlen test when maxlen > 16). */
static unsigned lzf_match_len(const unsigned char *ref, const unsigned char *ip, unsigned maxlen)
{
    unsigned len = 2;
    if (maxlen > 16) {
        for (int i = 0; i < 16; i++) {
            len++;
            if (ref[len] != ip[len])
                return len;
        }
    }
    do
        len++;
    while (len < maxlen && ref[len] == ip[len]);
    return len;
}

size_t lzf_compress(const void *in, size_t in_len, void *out, size_t out_len)
{
    const unsigned char *base = in, *ip = base, *in_end = base + in_len;
    unsigned char *op = out, *out_end = op + out_len;
    int lit = 0;

    if (in_len == 0 || out_len == 0 || in_len >= 0xffffffffu)
        return 0;
    lzf_new_generation();
    op++;   /* the first literal run's control byte */
    unsigned hval = in_len >= 2 ? lzf_first(ip) : 0;
    while (in_len >= 3 && ip < in_end - 2) {
        hval = lzf_next(hval, ip);
        long prev = lzf_swap_slot(lzf_idx(hval), (uint32_t)(ip - base));
        size_t here = (size_t)(ip - base);
        if (prev > 0 && (size_t)prev < here && here - (size_t)prev - 1 < LZF_MAX_OFF &&
            base[prev + 2] == ip[2] && base[prev] == ip[0] && base[prev + 1] == ip[1]) {
            const unsigned char *ref = base + prev;
            size_t off = here - (size_t)prev - 1;
            unsigned maxlen = (unsigned)(in_end - ip) - 2;
            if (maxlen > LZF_MAX_REF)
                maxlen = LZF_MAX_REF;
            if (op + 3 + 1 >= out_end && op - !lit + 3 + 1 >= out_end)
                return 0;
            op[-lit - 1] = (unsigned char)(lit - 1);   /* close the run */
            op -= !lit;                                /* or drop an empty one */
            unsigned len = lzf_match_len(ref, ip, maxlen) - 2;
            ip++;
            if (len < 7) {
                *op++ = (unsigned char)((off >> 8) + (len << 5));
            } else {
                *op++ = (unsigned char)((off >> 8) + (7 << 5));
                *op++ = (unsigned char)(len - 7);
            }
            *op++ = (unsigned char)off;
            lit = 0;
            op++;   /* the next run's control byte */
            ip += len + 1;
            if (ip >= in_end - 2)
                break;
            /* The two positions before the match's end enter the table. */
            ip -= 2;
            hval = lzf_first(ip);
            hval = lzf_next(hval, ip);
            lzf_swap_slot(lzf_idx(hval), (uint32_t)(ip - base));
            ip++;
            hval = lzf_next(hval, ip);
            lzf_swap_slot(lzf_idx(hval), (uint32_t)(ip - base));
            ip++;
        } else {
            if (op >= out_end)
                return 0;
            lit++;
            *op++ = *ip++;
            if (lit == LZF_MAX_LIT) {
                op[-lit - 1] = (unsigned char)(lit - 1);
                lit = 0;
                op++;
            }
        }
    }
    if (op + 3 > out_end)   /* at most 3 bytes are left to copy */
        return 0;
    while (ip < in_end) {
        lit++;
        *op++ = *ip++;
        if (lit == LZF_MAX_LIT) {
            op[-lit - 1] = (unsigned char)(lit - 1);
            lit = 0;
            op++;
        }
    }
    op[-lit - 1] = (unsigned char)(lit - 1);
    op -= !lit;
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
