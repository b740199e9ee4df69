/* test_digest: DEBUG DIGEST and DEBUG DIGEST-VALUE against the digests
 * redis-server 7.0.15 prints for the same data (its replies, taken once
 * from Debian's redis-server and written here as the reference): an empty
 * dataset, one string, then every type with a TTL on one key. The agent's
 * value must be byte-identical, so this fails on any change of the scheme
 * (mix/xor order, the type code, score formatting, the TTL marker). The
 * compat script tests/e2e/compat/introspection-digest.txt compares more
 * encodings against a live redis-server. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "harness.h"

static void expect_reply(client *c, const char *cmd, const char *want)
{
    char *r = h_run(c, cmd);
    assert_string_equal(r, want);
    free(r);
}

static void test_empty_and_one_string(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    expect_reply(c, "DEBUG DIGEST", "+0000000000000000000000000000000000000000\r\n");
    expect_reply(c, "SET a 1", "+OK\r\n");
    expect_reply(c, "DEBUG DIGEST", "+943d800368fb9c0e951138f1bc0e313ac769d91f\r\n");
    h_client_free(c);
    h_srv_free(s);
}

static void test_every_type(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *c = h_client_new(s);
    expect_reply(c, "SET a 1", "+OK\r\n");
    expect_reply(c, "RPUSH l x y z", ":3\r\n");
    expect_reply(c, "SADD s 1 2 3", ":3\r\n");
    expect_reply(c, "ZADD z 1.5 m -0 n", ":2\r\n");
    expect_reply(c, "HSET h f v", ":1\r\n");
    /* The TTL's value is not part of the digest, only that there is one. */
    expect_reply(c, "PEXPIRE a 100000", ":1\r\n");
    expect_reply(c, "DEBUG DIGEST", "+550d47fdd732aaf2f60247efe4abcb46ef83e1c6\r\n");
    expect_reply(c, "PEXPIRE a 200000", ":1\r\n");
    expect_reply(c, "DEBUG DIGEST", "+550d47fdd732aaf2f60247efe4abcb46ef83e1c6\r\n");
    expect_reply(c, "DEBUG DIGEST-VALUE a l s z h nosuch",
                 "*6\r\n"
                 "+5279988c5d1911f474bcbbf2f0a87012d40f8459\r\n"
                 "+048e07d5a045cd715a87e264ec663043b62ad0a8\r\n"
                 "+2a462a3f51a1db89738ebbeef0c47ce1bbc85246\r\n"
                 "+ca9c67805ef1be8cad5c9d659ad89015664330a0\r\n"
                 "+90c76e9e9f4c62d642a34fc97c7dad503b51f906\r\n"
                 "+0000000000000000000000000000000000000000\r\n");
    h_client_free(c);
    h_srv_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_one_string),
        cmocka_unit_test(test_every_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
