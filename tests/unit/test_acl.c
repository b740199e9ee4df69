/* test_acl: the ACL rule parser (every rule and every error of ACL SETUSER,
 * applied to a detached user and read back as ACL LIST's rule string, the
 * strings redis-server 7.0.15 prints for the same rules), the config-file
 * check of `user` directives, and the -NOPERM paths through the command
 * dispatcher with ACL LOG entries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "harness.h"
#include "acl.h"

/* Applies the space-separated rules to a new user; returns ACL LIST's rule
 * string, or "ERR <reason>" for the first failing rule (static buffer). */
static const char *rules_of(const char *rules)
{
    static char out[4096];
    acl_user *u = acl_user_new_detached("t");
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", rules);
    char *save = NULL;
    for (char *r = strtok_r(buf, " ", &save); r; r = strtok_r(NULL, " ", &save)) {
        const char *err = NULL;
        if (acl_user_apply(u, r, strlen(r), &err) != 0) {
            snprintf(out, sizeof(out), "ERR %s", err);
            acl_user_free(u);
            return out;
        }
    }
    char *d = acl_user_describe(u);
    snprintf(out, sizeof(out), "%s", d);
    mem_free(d);
    acl_user_free(u);
    return out;
}

#define RULES(in, want) assert_string_equal(rules_of(in), (want))

static void test_flags_and_passwords(void **state)
{
    (void)state;
    RULES("", "off resetchannels -@all");
    RULES("on", "on resetchannels -@all");
    RULES("on off", "off resetchannels -@all");
    RULES("nopass", "off nopass resetchannels -@all");
    RULES(">abc", "off #ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad resetchannels -@all");
    RULES(">abc >abc", "off #ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad resetchannels -@all");
    RULES(">abc <abc", "off resetchannels -@all");
    RULES("#ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
          "off #ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad resetchannels -@all");
    RULES(">abc !ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "off resetchannels -@all");
    RULES(">abc nopass", "off nopass resetchannels -@all");
    RULES("nopass >abc", "off #ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad resetchannels -@all");
    RULES(">abc resetpass", "off resetchannels -@all");
    RULES("skip-sanitize-payload", "off skip-sanitize-payload resetchannels -@all");
    RULES("sanitize-payload", "off sanitize-payload resetchannels -@all");
    RULES("on >abc ~k &c +get reset", "off sanitize-payload resetchannels -@all");
}

static void test_password_errors(void **state)
{
    (void)state;
    RULES("<nope", "ERR The password you are trying to remove from the user does not exist");
    RULES("!ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
          "ERR The password you are trying to remove from the user does not exist");
    RULES("#abc", "ERR The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters");
    RULES("#BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
          "ERR The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters");
    RULES("#zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
          "ERR The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters");
}

static void test_keys_and_channels(void **state)
{
    (void)state;
    RULES("~k*", "off ~k* resetchannels -@all");
    RULES("%R~r* %W~w* %RW~b*", "off %R~r* %W~w* ~b* resetchannels -@all");
    RULES("~a %R~a", "off ~a resetchannels -@all");
    RULES("%R~b %W~b", "off ~b resetchannels -@all");
    RULES("%R", "off %R~ resetchannels -@all");
    RULES("allkeys", "off ~* resetchannels -@all");
    RULES("~a ~*", "off ~* resetchannels -@all");
    RULES("~a resetkeys ~b", "off ~b resetchannels -@all");
    RULES("&c*", "off resetchannels &c* -@all");
    RULES("&c* &c*", "off resetchannels &c* -@all");
    RULES("allchannels", "off &* -@all");
    RULES("&a resetchannels &b", "off resetchannels &b -@all");
    RULES("allkeys ~x", "ERR Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns");
    RULES("allchannels &x", "ERR Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels");
    RULES("%X~a", "ERR Syntax error");
    RULES("%~a", "ERR Syntax error");
}

static void test_command_rules(void **state)
{
    (void)state;
    RULES("+get", "off resetchannels -@all +get");
    RULES("+GET", "off resetchannels -@all +get");
    RULES("+get -get", "off resetchannels -@all");
    RULES("allcommands", "off resetchannels +@all");
    RULES("+@all -get", "off resetchannels +@all -get");
    RULES("+@all nocommands", "off resetchannels -@all");
    RULES("+@hash", "off resetchannels -@all +@hash");
    RULES("+@HASH -hget", "off resetchannels -@all +@hash -hget");
    RULES("+@all -@hash +hget", "off resetchannels +@all -@hash +hget");
    RULES("+@all -@write +set", "off resetchannels +@all -@write +set");
    RULES("+config -config|get", "off resetchannels -@all +config -config|get");
    RULES("+config|get +config", "off resetchannels -@all +config");
    RULES("+Config|GET", "off resetchannels -@all +config|get");
    RULES("+select|0", "off resetchannels -@all +select|0");
    RULES("+select|0 +select|1 -select", "off resetchannels -@all");
    RULES("+@all +select|0", "off resetchannels +@all");
    RULES("+@hash -@all +get", "off resetchannels -@all +get");
    RULES("+@hash +@string -hget -@hash", "off resetchannels -@all +@string");
    RULES("+@connection +@transaction", "off resetchannels -@all +@connection +@transaction");
}

static void test_command_errors(void **state)
{
    (void)state;
    RULES("foo", "ERR Syntax error");
    RULES("+nosuch", "ERR Unknown command or category name in ACL");
    RULES("-nosuch", "ERR Unknown command or category name in ACL");
    RULES("+", "ERR Unknown command or category name in ACL");
    RULES("+@nosuch", "ERR Unknown command or category name in ACL");
    RULES("-select|0", "ERR Unknown command or category name in ACL");
    RULES("+config|nosuch", "ERR Unknown command or category name in ACL");
    RULES("+nosuch|x", "ERR Unknown command or category name in ACL");
    RULES("+config|get|x", "ERR Allowing first-arg of a subcommand is not supported");
    RULES("+get|", "ERR Syntax error");
}

static void test_config_directive_check(void **state)
{
    (void)state;
    const char *ok[] = {"alice", "on", ">pw", "~k*", "+get"};
    assert_null(acl_config_user_check(5, ok));
    const char *bad[] = {"alice", "on", "foo"};
    assert_string_equal(acl_config_user_check(3, bad), "Syntax error");
    const char *badcmd[] = {"alice", "+nosuch"};
    assert_string_equal(acl_config_user_check(2, badcmd), "Unknown command or category name in ACL");
}

#define EXPECT(c, cmd, reply) assert_true(h_expect((c), (cmd), (reply)))

static void test_noperm_paths(void **state)
{
    (void)state;
    srv *s = h_srv_new();
    client *admin = h_client_new(s);
    client *c = h_client_new(s);
    EXPECT(admin, "ACL SETUSER u on >p ~a* &c* +get +publish +multi +exec", "+OK\r\n");
    EXPECT(c, "AUTH u wrong", "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    EXPECT(c, "AUTH u p", "+OK\r\n");
    EXPECT(c, "GET a1", "$-1\r\n");
    EXPECT(c, "GET b1", "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n");
    EXPECT(c, "SET a1 v", "-NOPERM this user has no permissions to run the 'set' command\r\n");
    EXPECT(c, "CONFIG GET x", "-NOPERM this user has no permissions to run the 'config|get' command\r\n");
    EXPECT(c, "PUBLISH d m", "-NOPERM this user has no permissions to access one of the channels used as arguments\r\n");
    EXPECT(c, "PUBLISH c1 m", ":0\r\n");
    EXPECT(c, "MULTI", "+OK\r\n");
    EXPECT(c, "SET a1 v", "-NOPERM this user has no permissions to run the 'set' command\r\n");
    EXPECT(c, "EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n");
    /* Newest first; the repeated SET grouped with the MULTI one apart. */
    char *log = h_run(admin, "ACL LOG 1");
    assert_non_null(strstr(log, "$7\r\ncontext\r\n$5\r\nmulti\r\n$6\r\nobject\r\n$3\r\nset\r\n$8\r\nusername\r\n$1\r\nu\r\n"));
    free(log);
    log = h_run(admin, "ACL LOG");
    assert_non_null(strstr(log, "$6\r\nreason\r\n$4\r\nauth\r\n"));
    assert_non_null(strstr(log, "$6\r\nreason\r\n$7\r\nchannel\r\n$7\r\ncontext\r\n$8\r\ntoplevel\r\n$6\r\nobject\r\n$1\r\nd\r\n"));
    assert_non_null(strstr(log, "$6\r\nreason\r\n$3\r\nkey\r\n$7\r\ncontext\r\n$8\r\ntoplevel\r\n$6\r\nobject\r\n$2\r\nb1\r\n"));
    free(log);
    EXPECT(admin, "ACL LOG RESET", "+OK\r\n");
    EXPECT(admin, "ACL LOG", "*0\r\n");
    EXPECT(admin, "ACL DELUSER u", ":1\r\n");
    h_client_free(c);
    h_client_free(admin);
    h_srv_free(s);
    acl_reset_all();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flags_and_passwords),
        cmocka_unit_test(test_password_errors),
        cmocka_unit_test(test_keys_and_channels),
        cmocka_unit_test(test_command_rules),
        cmocka_unit_test(test_command_errors),
        cmocka_unit_test(test_config_directive_check),
        cmocka_unit_test(test_noperm_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
