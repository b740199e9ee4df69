/* Unit tests for agent/script_conv.c: the RESP2 <-> Lua conversions Redis
 * documents for scripts, both ways, including the gotchas (3.99 -> 3, a
 * table's array part stopping at the first nil, nil bulk -> false) and
 * malformed input; and the RESP3 ones (redis.setresp(3) replies as typed
 * tables, typed tables returned to RESP2 and RESP3 callers). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "script_conv.h"
#include "kstr.h"

static int setup(void **state)
{
    lua_State *L = luaL_newstate();
    if (L == NULL)
        return -1;
    luaL_openlibs(L);
    *state = L;
    return 0;
}

static int teardown(void **state)
{
    lua_close(*state);
    return 0;
}

/* Convert the value the Lua snippet returns, as a script's reply. */
static kstr resp_of_lua(lua_State *L, const char *chunk)
{
    assert_int_equal(luaL_dostring(L, chunk), 0);
    kstr out = script_conv_lua_to_resp(L, -1, kstr_empty(16));
    lua_settop(L, 0);
    return out;
}

static void assert_lua_gives_len(lua_State *L, const char *chunk, const char *resp, size_t len)
{
    kstr out = resp_of_lua(L, chunk);
    assert_int_equal(kstr_len(out), len);
    assert_memory_equal(out, resp, len);
    kstr_free(out);
}

static void assert_lua_gives(lua_State *L, const char *chunk, const char *resp)
{
    assert_lua_gives_len(L, chunk, resp, strlen(resp));
}

static void test_lua_scalars(void **state)
{
    lua_State *L = *state;
    assert_lua_gives(L, "return 42", ":42\r\n");
    assert_lua_gives(L, "return 3.99", ":3\r\n");
    assert_lua_gives(L, "return -3.99", ":-3\r\n");
    assert_lua_gives(L, "return 'hello'", "$5\r\nhello\r\n");
    assert_lua_gives(L, "return ''", "$0\r\n\r\n");
    assert_lua_gives_len(L, "return 'a\\0b'", "$3\r\na\0b\r\n", 9);
    assert_lua_gives(L, "return true", ":1\r\n");
    assert_lua_gives(L, "return false", "$-1\r\n");
    assert_lua_gives(L, "return nil", "$-1\r\n");
    assert_lua_gives(L, "return function() end", "$-1\r\n");
}

static void test_lua_numbers_out_of_range(void **state)
{
    lua_State *L = *state;
    /* What redis-server's cast gives on x86-64, without undefined behaviour. */
    assert_lua_gives(L, "return 0/0", ":-9223372036854775808\r\n");
    assert_lua_gives(L, "return 1/0", ":-9223372036854775808\r\n");
    assert_lua_gives(L, "return -1/0", ":-9223372036854775808\r\n");
    assert_lua_gives(L, "return 2^62", ":4611686018427387904\r\n");
}

static void test_lua_tables(void **state)
{
    lua_State *L = *state;
    assert_lua_gives(L, "return {}", "*0\r\n");
    assert_lua_gives(L, "return {1, 'a'}", "*2\r\n:1\r\n$1\r\na\r\n");
    assert_lua_gives(L, "return {1, 2, nil, 4}", "*2\r\n:1\r\n:2\r\n");
    assert_lua_gives(L, "return {a = 1, b = 2}", "*0\r\n");
    assert_lua_gives(L, "return {1, {2, {3}}}", "*2\r\n:1\r\n*2\r\n:2\r\n*1\r\n:3\r\n");
    assert_lua_gives(L, "return {false, true}", "*2\r\n$-1\r\n:1\r\n");
}

static void test_lua_status_and_error(void **state)
{
    lua_State *L = *state;
    assert_lua_gives(L, "return {ok = 'fine'}", "+fine\r\n");
    assert_lua_gives(L, "return {err = 'ERR bad'}", "-ERR bad\r\n");
    /* err wins over ok, and both over the array part */
    assert_lua_gives(L, "return {1, ok = 'a', err = 'b'}", "-b\r\n");
    assert_lua_gives(L, "return {1, ok = 'a'}", "+a\r\n");
    /* a line cannot hold CR or LF */
    assert_lua_gives(L, "return {ok = 'a\\r\\nb'}", "+a  b\r\n");
    assert_lua_gives(L, "return {err = 'a\\nb'}", "-a b\r\n");
    /* only a string field counts */
    assert_lua_gives(L, "return {ok = 1}", "*0\r\n");
    assert_lua_gives(L, "return {1, {err = 'e'}}", "*2\r\n:1\r\n-e\r\n");
}

static void test_lua_self_reference_is_bounded(void **state)
{
    lua_State *L = *state;
    kstr out = resp_of_lua(L, "local t = {} t[1] = t return t");
    const char *tail = "-ERR reached lua stack limit\r\n";
    size_t n = kstr_len(out);
    assert_true(n > strlen(tail));
    assert_memory_equal(out + n - strlen(tail), tail, strlen(tail));
    kstr_free(out);
}

/* Push the Lua value of a RESP reply and describe it through a snippet. */
static void assert_resp_gives(lua_State *L, const char *resp, const char *check)
{
    size_t used = script_conv_resp_to_lua(L, resp, strlen(resp));
    assert_int_equal(used, strlen(resp));
    assert_int_equal(lua_gettop(L), 1);
    lua_setglobal(L, "v");
    char chunk[512];
    snprintf(chunk, sizeof(chunk), "return (%s)", check);
    assert_int_equal(luaL_dostring(L, chunk), 0);
    assert_true(lua_toboolean(L, -1));
    lua_settop(L, 0);
}

static void test_resp_to_lua(void **state)
{
    lua_State *L = *state;
    assert_resp_gives(L, ":42\r\n", "type(v) == 'number' and v == 42");
    assert_resp_gives(L, ":-7\r\n", "v == -7");
    assert_resp_gives(L, "$5\r\nhello\r\n", "v == 'hello'");
    assert_resp_gives(L, "$0\r\n\r\n", "v == ''");
    assert_resp_gives(L, "$4\r\na\r\nb\r\n", "v == 'a\\r\\nb'");
    assert_resp_gives(L, "$-1\r\n", "v == false");
    assert_resp_gives(L, "*-1\r\n", "v == false");
    assert_resp_gives(L, "*0\r\n", "type(v) == 'table' and #v == 0");
    assert_resp_gives(L, "+OK\r\n", "type(v) == 'table' and v.ok == 'OK'");
    assert_resp_gives(L, "-ERR bad\r\n", "type(v) == 'table' and v.err == 'ERR bad'");
    assert_resp_gives(L, "*3\r\n:1\r\n$1\r\na\r\n$-1\r\n", "#v == 3 and v[1] == 1 and v[2] == 'a' and v[3] == false");
    assert_resp_gives(L, "*2\r\n*1\r\n:1\r\n+x\r\n", "v[1][1] == 1 and v[2].ok == 'x'");
}

static void test_resp_malformed(void **state)
{
    lua_State *L = *state;
    static const char *const bad[] = {
        "", ":", ":12", ":abc\r\n", "$5\r\nhel\r\n", "$3\r\nabcde", "$x\r\n", "*2\r\n:1\r\n",
        "*1\r\n", "?\r\n", "$3\r\nabcXY",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(script_conv_resp_to_lua(L, bad[i], strlen(bad[i])), 0);
        assert_int_equal(lua_gettop(L), 0);
    }
    /* Only the first reply is used when more follow. */
    assert_int_equal(script_conv_resp_to_lua(L, ":1\r\n:2\r\n", 8), 4);
    lua_settop(L, 0);
}

static void test_round_trip(void **state)
{
    lua_State *L = *state;
    static const char *const replies[] = {
        ":0\r\n", ":-9007199254740992\r\n", "$3\r\nabc\r\n", "*0\r\n", "+PONG\r\n", "-WRONGTYPE x\r\n",
        "*3\r\n:1\r\n*1\r\n$1\r\nz\r\n-E e\r\n",
    };
    for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
        size_t len = strlen(replies[i]);
        assert_int_equal(script_conv_resp_to_lua(L, replies[i], len), len);
        kstr out = script_conv_lua_to_resp(L, -1, kstr_empty(8));
        assert_int_equal(kstr_len(out), len);
        assert_memory_equal(out, replies[i], len);
        kstr_free(out);
        lua_settop(L, 0);
    }
}

/* Convert the snippet's value for a caller speaking caller_resp from a
 * script whose redis.setresp is script_resp. */
static void assert_lua_gives_proto(lua_State *L, const char *chunk, int caller_resp, int script_resp,
                                   const char *resp)
{
    assert_int_equal(luaL_dostring(L, chunk), 0);
    kstr out = script_conv_lua_to_resp_proto(L, -1, kstr_empty(16), caller_resp, script_resp);
    lua_settop(L, 0);
    assert_int_equal(kstr_len(out), strlen(resp));
    assert_memory_equal(out, resp, strlen(resp));
    kstr_free(out);
}

static void test_lua_to_resp3(void **state)
{
    lua_State *L = *state;
    /* nil and a RESP2 script's false: a null in the caller's protocol */
    assert_lua_gives_proto(L, "return nil", 3, 2, "_\r\n");
    assert_lua_gives_proto(L, "return false", 3, 2, "_\r\n");
    assert_lua_gives_proto(L, "return true", 3, 2, ":1\r\n");
    /* a RESP3 script's booleans stay booleans (1/0 for a RESP2 caller) */
    assert_lua_gives_proto(L, "return false", 3, 3, "#f\r\n");
    assert_lua_gives_proto(L, "return true", 3, 3, "#t\r\n");
    assert_lua_gives_proto(L, "return false", 2, 3, ":0\r\n");
    assert_lua_gives_proto(L, "return {double = 3.5}", 3, 2, ",3.5\r\n");
    assert_lua_gives_proto(L, "return {double = 3.5}", 2, 2, "$3\r\n3.5\r\n");
    assert_lua_gives_proto(L, "return {double = 1/0}", 3, 2, ",inf\r\n");
    assert_lua_gives_proto(L, "return {double = 'x'}", 3, 2, "*0\r\n");
    assert_lua_gives_proto(L, "return {big_number = '12\\r\\n3'}", 3, 2, "(12  3\r\n");
    assert_lua_gives_proto(L, "return {big_number = '123'}", 2, 2, "$3\r\n123\r\n");
    assert_lua_gives_proto(L, "return {big_number = '1\\n2'}", 2, 2, "$3\r\n1 2\r\n");
    assert_lua_gives_proto(L, "return {verbatim_string = {format = 'txt', string = 'hi'}}", 3, 2,
                           "=6\r\ntxt:hi\r\n");
    assert_lua_gives_proto(L, "return {verbatim_string = {format = 'txt', string = 'hi'}}", 2, 2,
                           "$2\r\nhi\r\n");
    assert_lua_gives_proto(L, "return {verbatim_string = {format = 'txt'}}", 3, 2, "*0\r\n");
    assert_lua_gives_proto(L, "return {map = {a = 1}}", 3, 2, "%1\r\n$1\r\na\r\n:1\r\n");
    assert_lua_gives_proto(L, "return {map = {a = 1}}", 2, 2, "*2\r\n$1\r\na\r\n:1\r\n");
    assert_lua_gives_proto(L, "return {set = {a = true}}", 3, 2, "~1\r\n$1\r\na\r\n");
    assert_lua_gives_proto(L, "return {set = {}}", 2, 2, "*0\r\n");
    assert_lua_gives_proto(L, "return {map = {k = {set = {x = true}}}}", 3, 2,
                           "%1\r\n$1\r\nk\r\n~1\r\n$1\r\nx\r\n");
    /* err and ok come first, as in Redis */
    assert_lua_gives_proto(L, "return {err = 'E', double = 1}", 3, 2, "-E\r\n");
    assert_lua_gives_proto(L, "return {1, {double = 2}, false}", 3, 3, "*3\r\n:1\r\n,2\r\n#f\r\n");
}

static void test_resp3_to_lua(void **state)
{
    lua_State *L = *state;
    assert_resp_gives(L, "_\r\n", "v == nil");
    assert_resp_gives(L, "#t\r\n", "v == true");
    assert_resp_gives(L, "#f\r\n", "v == false");
    assert_resp_gives(L, ",1.5\r\n", "type(v) == 'table' and v.double == 1.5");
    assert_resp_gives(L, ",-inf\r\n", "v.double == -1/0");
    assert_resp_gives(L, "(12345678901234567890\r\n", "v.big_number == '12345678901234567890'");
    assert_resp_gives(L, "=9\r\ntxt:a\r\nbc\r\n",
                      "v.verbatim_string.format == 'txt' and v.verbatim_string.string == 'a\\r\\nbc'");
    assert_resp_gives(L, "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n#t\r\n", "v.map.a == 1 and v.map.b == true");
    assert_resp_gives(L, "~2\r\n$1\r\nx\r\n:7\r\n", "v.set.x == true and v.set[7] == true");
    assert_resp_gives(L, "%0\r\n", "next(v.map) == nil");
    /* a null key cannot index a Lua table: the pair is dropped */
    assert_resp_gives(L, "%1\r\n_\r\n:1\r\n", "next(v.map) == nil");
    /* an attribute is skipped: the value it annotates is what converts */
    assert_resp_gives(L, "|1\r\n$1\r\nk\r\n:1\r\n$4\r\nreal\r\n", "v == 'real'");
    assert_resp_gives(L, "*2\r\n_\r\n,2\r\n", "v[1] == nil and v[2].double == 2");
    static const char *const bad[] = {
        "#x\r\n", ",abc\r\n", "=3\r\ntxt\r\n", "=5\r\ntxt-a\r\n", "%1\r\n:1\r\n", "~2\r\n:1\r\n",
        "|1\r\n:1\r\n:2\r\n", "%x\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(script_conv_resp_to_lua(L, bad[i], strlen(bad[i])), 0);
        assert_int_equal(lua_gettop(L), 0);
    }
}

static void test_number_arguments(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(script_conv_number_arg(5, buf, sizeof(buf)), 1);
    assert_string_equal(buf, "5");
    script_conv_number_arg(3.7, buf, sizeof(buf));
    assert_string_equal(buf, "3.7000000000000002");
    script_conv_number_arg(1e20, buf, sizeof(buf));
    assert_string_equal(buf, "1e+20");
    script_conv_number_arg(-0.0, buf, sizeof(buf));
    assert_string_equal(buf, "-0");
}

static void test_table_string(void **state)
{
    lua_State *L = *state;
    assert_int_equal(luaL_dostring(L, "return {err = 'x', ok = 3}"), 0);
    size_t len = 0;
    const char *s = script_conv_table_string(L, -1, "err", &len);
    assert_non_null(s);
    assert_int_equal(len, 1);
    assert_null(script_conv_table_string(L, -1, "ok", NULL));
    assert_null(script_conv_table_string(L, -1, "nope", NULL));
    lua_pushnumber(L, 1);
    assert_null(script_conv_table_string(L, -1, "err", NULL));
    lua_settop(L, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lua_scalars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lua_numbers_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lua_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lua_status_and_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lua_self_reference_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resp_to_lua, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resp_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lua_to_resp3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resp3_to_lua, setup, teardown),
        cmocka_unit_test_setup_teardown(test_number_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_string, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
