/* listpack: bounds-checked forward iteration over listpack blobs (see
 * listpack.h for the layout). Besides decoding each entry we check its
 * backlen, as that is where a truncated or shuffled blob shows first. */
#include <string.h>
#include "listpack.h"
#include "util.h"

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

/* ---- encoding ---- */

static size_t lp_backlen_write(unsigned char *out, size_t l)
{
    size_t n = lp_backlen_size(l);
    /* Most significant 7-bit group first; all but the first byte carry the
     * continuation bit, so the blob can be walked from its end. */
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)((l >> (7 * (n - 1 - i))) & 127);
        out[i] = i == 0 ? b : (unsigned char)(b | 128);
    }
    return n;
}

/* Bytes of an integer's encoding byte(s) and data, without backlen. */
static size_t lp_int_body(long long v)
{
    if (v >= 0 && v <= 127) return 1;
    if (v >= -4096 && v <= 4095) return 2;
    if (v >= INT16_MIN && v <= INT16_MAX) return 3;
    if (v >= -8388608 && v <= 8388607) return 4;
    if (v >= INT32_MIN && v <= INT32_MAX) return 5;
    return 9;
}

size_t lp_int_size(long long v)
{
    size_t b = lp_int_body(v);
    return b + lp_backlen_size(b);
}

static size_t lp_str_hdr(size_t len)
{
    return len < 64 ? 1 : len < 4096 ? 2 : 5;
}

/* Redis stores a string as an integer when it is a canonical int64 no
 * longer than 20 characters. */
static int lp_str_as_int(const void *s, size_t len, long long *v)
{
    return len > 0 && len <= 20 && util_str_to_ll(s, len, v);
}

size_t lp_str_size(const void *s, size_t len)
{
    long long v;
    if (lp_str_as_int(s, len, &v))
        return lp_int_size(v);
    size_t b = lp_str_hdr(len) + len;
    return b + lp_backlen_size(b);
}

size_t lp_encode_int(unsigned char *out, long long v)
{
    uint64_t u = (uint64_t)v;
    size_t n = lp_int_body(v);
    if (n == 1) {
        out[0] = (unsigned char)v;
    } else if (n == 2) {
        u &= 0x1fff;
        out[0] = (unsigned char)(0xC0 | (u >> 8));
        out[1] = (unsigned char)(u & 0xff);
    } else {
        static const unsigned char enc[] = {0, 0, 0, 0xF1, 0xF2, 0xF3, 0, 0, 0, 0xF4};
        out[0] = enc[n];
        for (size_t i = 0; i + 1 < n; i++)
            out[1 + i] = (unsigned char)(u >> (8 * i));
    }
    return n + lp_backlen_write(out + n, n);
}

size_t lp_encode_str(unsigned char *out, const void *s, size_t len)
{
    long long v;
    if (lp_str_as_int(s, len, &v))
        return lp_encode_int(out, v);
    size_t hdr = lp_str_hdr(len);
    if (hdr == 1) {
        out[0] = (unsigned char)(0x80 | len);
    } else if (hdr == 2) {
        out[0] = (unsigned char)(0xE0 | (len >> 8));
        out[1] = (unsigned char)(len & 0xff);
    } else {
        out[0] = 0xF0;
        for (int i = 0; i < 4; i++)
            out[1 + i] = (unsigned char)(len >> (8 * i));
    }
    if (len)
        memcpy(out + hdr, s, len);
    return hdr + len + lp_backlen_write(out + hdr + len, hdr + len);
}

void lp_set_header(unsigned char *lp, size_t total, size_t count)
{
    unsigned c = count < LP_COUNT_UNKNOWN ? (unsigned)count : LP_COUNT_UNKNOWN;
    for (int i = 0; i < 4; i++)
        lp[i] = (unsigned char)(total >> (8 * i));
    lp[4] = (unsigned char)(c & 0xff);
    lp[5] = (unsigned char)(c >> 8);
}

uint32_t lp_total_bytes(const unsigned char *lp)
{
    return lp_u32(lp);
}

unsigned lp_header_count(const unsigned char *lp)
{
    return (unsigned)lp[4] | ((unsigned)lp[5] << 8);
}

/* ---- trusted walking ---- */

/* Encoding+data size of the element at p. */
static size_t lp_elem_body(const unsigned char *p)
{
    unsigned b = p[0];
    if ((b & 0x80) == 0) return 1;
    if ((b & 0xC0) == 0x80) return 1 + (b & 0x3f);
    if ((b & 0xE0) == 0xC0) return 2;
    if ((b & 0xF0) == 0xE0) return 2 + (((size_t)(b & 0x0f) << 8) | p[1]);
    switch (b) {
    case 0xF0: return 5 + (size_t)lp_u32(p + 1);
    case 0xF1: return 3;
    case 0xF2: return 4;
    case 0xF3: return 5;
    default: return 9;
    }
}

size_t lp_elem_size(const unsigned char *p)
{
    size_t b = lp_elem_body(p);
    return b + lp_backlen_size(b);
}

void lp_elem_get(const unsigned char *p, lp_entry *e)
{
    unsigned b = p[0];
    memset(e, 0, sizeof(*e));
    e->is_int = 1;
    if ((b & 0x80) == 0) {
        e->ival = b & 0x7f;
    } else if ((b & 0xE0) == 0xC0) {
        e->ival = lp_sext(((uint64_t)(b & 0x1f) << 8) | p[1], 13);
    } else if (b >= 0xF1 && b <= 0xF4) {
        int n = b == 0xF1 ? 2 : b == 0xF2 ? 3 : b == 0xF3 ? 4 : 8;
        e->ival = lp_sext(lp_uint_le(p + 1, n), n * 8);
    } else {
        size_t hdr = (b & 0xC0) == 0x80 ? 1 : (b & 0xF0) == 0xE0 ? 2 : 5;
        e->is_int = 0;
        e->sval = p + hdr;
        e->slen = lp_elem_body(p) - hdr;
    }
}

long long lp_elem_int(const unsigned char *p)
{
    lp_entry e;
    long long v = 0;
    lp_elem_get(p, &e);
    if (e.is_int)
        return e.ival;
    if (!util_str_to_ll((const char *)e.sval, e.slen, &v))
        return 0;
    return v;
}
