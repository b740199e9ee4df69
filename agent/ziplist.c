/* ziplist: bounds-checked forward iteration over ziplist blobs (see
 * ziplist.h). Each entry's prevlen must equal the size of the entry before
 * it and the header's tail offset must point at the last entry: those are
 * the checks that catch a blob cut or spliced in the middle. */
#include <string.h>
#include "ziplist.h"

#define ZL_HDR 10
#define ZL_END 0xFF
#define ZL_BIG_PREVLEN 0xFE

static uint32_t zl_u32le(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static long long zl_sint_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    int bits = n * 8;
    if (bits < 64) {
        uint64_t m = 1ULL << (bits - 1);
        v = (v ^ m) - m;
    }
    return (long long)v;
}

int zl_iter_init(zl_iter *it, const void *blob, size_t len)
{
    const unsigned char *b = blob;
    memset(it, 0, sizeof(*it));
    if (len < ZL_HDR + 1) {
        it->err = "ziplist shorter than its header";
        return -1;
    }
    if (zl_u32le(b) != len) {
        it->err = "ziplist total-bytes header does not match its size";
        return -1;
    }
    if (b[len - 1] != ZL_END) {
        it->err = "ziplist not terminated by 0xFF";
        return -1;
    }
    it->tail = zl_u32le(b + 4);
    if (it->tail > len - 1) {
        it->err = "ziplist tail offset out of range";
        return -1;
    }
    unsigned cnt = (unsigned)b[8] | ((unsigned)b[9] << 8);
    it->count = cnt == 0xFFFF ? SIZE_MAX : cnt;
    it->start = b;
    it->p = b + ZL_HDR;
    it->end = b + len - 1;
    it->last_off = ZL_HDR;
    return 0;
}

static int zl_fail(zl_iter *it, const char *why)
{
    it->err = why;
    return -1;
}

/* Decode the encoding at p: header bytes in *hdr, data bytes in *dlen. */
static int zl_decode_encoding(zl_iter *it, const unsigned char *p, size_t avail,
                              size_t *hdr, size_t *dlen, lp_entry *e)
{
    unsigned b = p[0];
    switch (b >> 6) {
    case 0:
        *hdr = 1;
        *dlen = b & 0x3f;
        return 0;
    case 1:
        if (avail < 2)
            return zl_fail(it, "ziplist entry truncated");
        *hdr = 2;
        *dlen = ((size_t)(b & 0x3f) << 8) | p[1];
        return 0;
    case 2:
        if (b != 0x80)
            return zl_fail(it, "ziplist entry has an invalid string encoding");
        if (avail < 5)
            return zl_fail(it, "ziplist entry truncated");
        *hdr = 5;
        *dlen = ((size_t)p[1] << 24) | ((size_t)p[2] << 16) | ((size_t)p[3] << 8) | p[4];
        return 0;
    default:
        break;
    }
    int n;
    switch (b) {
    case 0xC0: n = 2; break;
    case 0xD0: n = 4; break;
    case 0xE0: n = 8; break;
    case 0xF0: n = 3; break;
    case 0xFE: n = 1; break;
    default:
        if (b >= 0xF1 && b <= 0xFD) {   /* 4-bit immediate, value 0..12 */
            *hdr = 1;
            *dlen = 0;
            e->is_int = 1;
            e->ival = (long long)(b & 0x0f) - 1;
            return 0;
        }
        return zl_fail(it, "ziplist entry has an invalid encoding byte");
    }
    if (avail < (size_t)n + 1)
        return zl_fail(it, "ziplist entry truncated");
    *hdr = 1;
    *dlen = (size_t)n;
    e->is_int = 1;
    e->ival = zl_sint_le(p + 1, n);
    return 0;
}

int zl_iter_next(zl_iter *it, lp_entry *e)
{
    const unsigned char *p = it->p;
    size_t avail = (size_t)(it->end - p);
    size_t plen_size, prevlen, hdr = 0, dlen = 0;

    if (it->err)
        return -1;
    if (avail == 0) {
        if (it->count != SIZE_MAX && it->seen != it->count)
            return zl_fail(it, "ziplist element count does not match its header");
        if (it->tail != (it->seen ? it->last_off : ZL_HDR))
            return zl_fail(it, "ziplist tail offset does not point at the last entry");
        return 0;
    }
    memset(e, 0, sizeof(*e));
    if (p[0] == ZL_BIG_PREVLEN) {
        if (avail < 5)
            return zl_fail(it, "ziplist entry truncated");
        plen_size = 5;
        prevlen = zl_u32le(p + 1);
    } else {
        plen_size = 1;
        prevlen = p[0];
    }
    if (prevlen != it->prev_len)
        return zl_fail(it, "ziplist entry prevlen does not match the previous entry");
    if (plen_size >= avail)
        return zl_fail(it, "ziplist entry truncated");
    if (zl_decode_encoding(it, p + plen_size, avail - plen_size, &hdr, &dlen, e) < 0)
        return -1;
    size_t head = plen_size + hdr;
    if (dlen > avail || head > avail - dlen)
        return zl_fail(it, "ziplist entry runs past the end");
    if (!e->is_int) {
        e->sval = p + head;
        e->slen = dlen;
    }
    it->last_off = (size_t)(p - it->start);
    it->prev_len = head + dlen;
    it->p = p + head + dlen;
    it->seen++;
    if (it->count != SIZE_MAX && it->seen > it->count)
        return zl_fail(it, "ziplist holds more elements than its header says");
    return 1;
}

long long zl_validate(const void *blob, size_t len, const char **err)
{
    zl_iter it;
    lp_entry e;
    int r;
    if (zl_iter_init(&it, blob, len) < 0) {
        *err = it.err;
        return -1;
    }
    while ((r = zl_iter_next(&it, &e)) == 1)
        ;
    if (r < 0) {
        *err = it.err;
        return -1;
    }
    return (long long)it.seen;
}
