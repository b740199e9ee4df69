/* test_crc64: the CRC-64/Jones check value, agreement of the 8-byte path
 * with a bit-by-bit reference at every length and alignment, and that a
 * checksum can be continued across chunks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "crc64.h"

static uint64_t crc_bitwise(uint64_t crc, const unsigned char *p, size_t len)
{
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x95ac9329ac4bc9b5ULL : crc >> 1;
    }
    return crc;
}

static void test_check_value(void **state)
{
    (void)state;
    assert_true(crc64_update(0, "123456789", 9) == 0xe9c6d914c4b8d9caULL);
    assert_true(crc64_update(0, "", 0) == 0);
}

static void test_matches_reference(void **state)
{
    (void)state;
    unsigned char buf[300];
    srand(7);
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)rand();
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= sizeof(buf); len += 7)
            assert_true(crc64_update(0, buf + off, len) == crc_bitwise(0, buf + off, len));
}

static void test_chunks(void **state)
{
    (void)state;
    unsigned char buf[1000];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(i * 31 + 7);
    uint64_t whole = crc64_update(0, buf, sizeof(buf));
    for (size_t cut = 0; cut <= sizeof(buf); cut += 13) {
        uint64_t c = crc64_update(0, buf, cut);
        c = crc64_update(c, buf + cut, sizeof(buf) - cut);
        assert_true(c == whole);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_value),
        cmocka_unit_test(test_matches_reference),
        cmocka_unit_test(test_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
