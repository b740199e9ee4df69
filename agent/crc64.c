/* crc64: slice-by-8 CRC-64/Jones (see crc64.h). The tables are derived at
 * first use from the polynomial rather than stored, so the only constant
 * here is the polynomial itself. */
#include <string.h>
#include "crc64.h"

/* 0xad93d23594c935a9 with its bits reversed: the reflected algorithm shifts
 * right, so it works with the mirrored polynomial. */
#define CRC64_POLY_REFLECTED 0x95ac9329ac4bc9b5ULL

static uint64_t crc64_table[8][256];
static int crc64_ready;

static void crc64_init_tables(void)
{
    for (int i = 0; i < 256; i++) {
        uint64_t c = (uint64_t)i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ CRC64_POLY_REFLECTED : c >> 1;
        crc64_table[0][i] = c;
    }
    /* Table k gives the effect of a byte followed by k zero bytes. */
    for (int k = 1; k < 8; k++)
        for (int i = 0; i < 256; i++) {
            uint64_t prev = crc64_table[k - 1][i];
            crc64_table[k][i] = (prev >> 8) ^ crc64_table[0][prev & 0xff];
        }
    crc64_ready = 1;
}

static inline uint64_t crc64_load_le(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

uint64_t crc64_update(uint64_t crc, const void *buf, size_t len)
{
    const unsigned char *p = buf;

    if (!crc64_ready)
        crc64_init_tables();
    while (len >= 8) {
        crc ^= crc64_load_le(p);
        crc = crc64_table[7][crc & 0xff] ^
              crc64_table[6][(crc >> 8) & 0xff] ^
              crc64_table[5][(crc >> 16) & 0xff] ^
              crc64_table[4][(crc >> 24) & 0xff] ^
              crc64_table[3][(crc >> 32) & 0xff] ^
              crc64_table[2][(crc >> 40) & 0xff] ^
              crc64_table[1][(crc >> 48) & 0xff] ^
              crc64_table[0][crc >> 56];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = crc64_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}
