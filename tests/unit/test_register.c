/* Unit tests for agent/register.c's request bodies (JSON escaping). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "register.h"
#include "mem.h"

static void test_node_body(void **state)
{
    (void)state;
    char *b = register_node_body("127.0.0.1", 6380, "db-1");
    assert_string_equal(b, "{\"host\":\"127.0.0.1\",\"port\":6380,\"name\":\"db-1\"}");
    mem_free(b);
    b = register_node_body("h", 1, "we\"ird\\name\n");
    assert_string_equal(b, "{\"host\":\"h\",\"port\":1,\"name\":\"we\\\"ird\\\\name\\u000a\"}");
    mem_free(b);
}

static void test_join_and_cluster_bodies(void **state)
{
    (void)state;
    char *b = register_join_body("db-2");
    assert_string_equal(b, "{\"node\":\"db-2\"}");
    mem_free(b);
    b = register_cluster_body("orders", "db-1");
    assert_string_equal(b, "{\"name\":\"orders\",\"master\":\"db-1\",\"replicas\":[]}");
    mem_free(b);
}

static void test_nothing_configured(void **state)
{
    (void)state;
    cfg c;
    cfg_init(&c);
    assert_int_equal(register_start(&c), 0);   /* no controller: no thread */
    register_stop();
    cfg_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_body),
        cmocka_unit_test(test_join_and_cluster_bodies),
        cmocka_unit_test(test_nothing_configured),
    };
    return cmocka_run_group_tests_name("register", tests, NULL, NULL);
}
