/* listpack: bounds-checked forward iteration over listpack blobs (see
 * listpack.h for the layout). Besides decoding each entry we check its
 * backlen, as that is where a truncated or shuffled blob shows first. */
#include <string.h>
#include "listpack.h"

#define LP_HDR 6
#define LP_EOF 0xFF
#define LP_COUNT_UNKNOWN 65535

static uint32_t lp_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t lp_uint_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Sign-extend the low `bits` bits of v. */
static long long lp_sext(uint64_t v, int bits)
{
    uint64_t m = 1ULL << (bits - 1);
    v &= (bits == 64) ? ~0ULL : ((1ULL << bits) - 1);
    return (long long)((v ^ m) - m);
}

static size_t lp_backlen_size(size_t l)
{
    /* Redis' boundaries (one below each power of 128, except the first). */
    if (l <= 127) return 1;
    if (l < 16383) return 2;
    if (l < 2097151) return 3;
    if (l < 268435455) return 4;
    return 5;
}

/* Decode a backlen stored in the `n` bytes at p (most significant group
 * first, continuation bit on all but the first byte). */
static uint64_t lp_backlen_decode(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 7) | (p[i] & 127);
    return v;
}

int lp_iter_init(lp_iter *it, const void *blob, size_t len)
{
    const unsigned char *b = blob;
    memset(it, 0, sizeof(*it));
    if (len < LP_HDR + 1) {
        it->err = "listpack shorter than its header";
        return -1;
    }
    if (lp_u32(b) != len) {
        it->err = "listpack total-bytes header does not match its size";
        return -1;
    }
    if (b[len - 1] != LP_EOF) {
        it->err = "listpack not terminated by 0xFF";
        return -1;
    }
    unsigned cnt = (unsigned)b[4] | ((unsigned)b[5] << 8);
    it->count = cnt == LP_COUNT_UNKNOWN ? SIZE_MAX : cnt;
    it->p = b + LP_HDR;
    it->end = b + len - 1;
    return 0;
}

static int lp_fail(lp_iter *it, const char *why)
{
    it->err = why;
    return -1;
}

int lp_iter_next(lp_iter *it, lp_entry *e)
{
    const unsigned char *p = it->p;
    size_t avail = (size_t)(it->end - p);
    size_t hdr, dlen = 0;

    if (it->err)
        return -1;
    if (avail == 0) {
        if (it->count != SIZE_MAX && it->seen != it->count)
            return lp_fail(it, "listpack element count does not match its header");
        return 0;
    }
    unsigned b = p[0];
    memset(e, 0, sizeof(*e));
    if ((b & 0x80) == 0) {                  /* 7-bit unsigned int */
        hdr = 1;
        e->is_int = 1;
        e->ival = b & 0x7f;
    } else if ((b & 0xC0) == 0x80) {        /* 6-bit length string */
        hdr = 1;
        dlen = b & 0x3f;
    } else if ((b & 0xE0) == 0xC0) {        /* 13-bit signed int */
        hdr = 2;
        if (avail < 2)
            return lp_fail(it, "listpack entry truncated");
        e->is_int = 1;
        e->ival = lp_sext(((uint64_t)(b & 0x1f) << 8) | p[1], 13);
    } else if ((b & 0xF0) == 0xE0) {        /* 12-bit length string */
        hdr = 2;
        if (avail < 2)
            return lp_fail(it, "listpack entry truncated");
        dlen = ((size_t)(b & 0x0f) << 8) | p[1];
    } else {
        int ibytes = 0;
        switch (b) {
        case 0xF0:                          /* 32-bit length string */
            hdr = 5;
            if (avail < 5)
                return lp_fail(it, "listpack entry truncated");
            dlen = lp_u32(p + 1);
            break;
        case 0xF1: ibytes = 2; break;
        case 0xF2: ibytes = 3; break;
        case 0xF3: ibytes = 4; break;
        case 0xF4: ibytes = 8; break;
        default:
            return lp_fail(it, "listpack entry has an invalid encoding byte");
        }
        if (ibytes) {
            hdr = 1 + (size_t)ibytes;
            if (avail < hdr)
                return lp_fail(it, "listpack entry truncated");
            e->is_int = 1;
            e->ival = lp_sext(lp_uint_le(p + 1, ibytes), ibytes * 8);
        }
    }
    if (dlen > avail || hdr > avail - dlen)
        return lp_fail(it, "listpack string entry runs past the end");
    size_t elen = hdr + dlen;
    size_t bl = lp_backlen_size(elen);
    if (bl > avail - elen)
        return lp_fail(it, "listpack entry backlen runs past the end");
    if (lp_backlen_decode(p + elen, bl) != elen)
        return lp_fail(it, "listpack entry backlen does not match the entry size");
    if (!e->is_int) {
        e->sval = p + hdr;
        e->slen = dlen;
    }
    it->p = p + elen + bl;
    it->seen++;
    if (it->count != SIZE_MAX && it->seen > it->count)
        return lp_fail(it, "listpack holds more elements than its header says");
    return 1;
}

long long lp_validate(const void *blob, size_t len, const char **err)
{
    lp_iter it;
    lp_entry e;
    int r;
    if (lp_iter_init(&it, blob, len) < 0) {
        *err = it.err;
        return -1;
    }
    while ((r = lp_iter_next(&it, &e)) == 1)
        ;
    if (r < 0) {
        *err = it.err;
        return -1;
    }
    return (long long)it.seen;
}
