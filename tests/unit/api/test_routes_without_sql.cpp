// Route handlers decode, call a named function and encode; SQL lives in the stores
// (web-api/*_store.{hpp,cpp}, rbac.cpp, auth.cpp). This test greps the route files for the
// spellings of database access, so SQL cannot creep back into a handler.
//
// Each rule is {what, pattern, caught, passed}: the pattern is an ECMAScript regex matched per
// line of every web-api/routes_* file; `caught` are lines the route files once held (so the rule
// can fail), `passed` are legitimate route lines it must let through. Full-line comments are
// skipped.
#include "tests/support/grep_rules.hpp"

#include <string>
#include <vector>

namespace {

namespace grep = pilehub::test::grep;
using grep::Rule;

/// Where every rule searches: the route files, web-api/routes_*.
const std::vector<std::string> kRoutes{"web-api/routes_*"};

const std::vector<Rule>& rules() {
    static const std::vector<Rule> k{
        {"a route runs no statement (call a store function)",
         "db::Statement\\b",
         kRoutes,
         {},
         {R"(                  db::Statement st(*d, kRoles);)",
          R"(    db::Statement(d, kSaveDesired).bind_all(device, next, dw.str(), s.now()).run();)",
          R"(void write_admin(json::Writer& w, db::Database& d, db::Statement& st) {)"},
         {R"(                  for (const auto& role : AccessStore(*d).roles()) {)",
          R"(void write_config(json::Writer& w, Services& s, db::Database& d, const std::string& device) {)"}},
        {"a route opens no transaction (the store function that needs one owns it)",
         "db::Transaction\\b",
         kRoutes,
         {},
         {R"(                  db::Transaction tx(*d);)",
          R"(void charge_card_fee(Services& s, db::Database& d, db::Transaction& tx, std::int64_t account,)"},
         {R"(                  check_posting(accounts.issue_card(c, fee, *s.clock).fee);)"}},
        {"a route executes no SQL text",
         "\\bexec\\s*\\(",
         kRoutes,
         {},
         {R"(                  d->exec("DELETE FROM sms_codes");)", R"(    db.exec(kSchema);)"},
         {R"(                  const auto [version, message] = save_next_desired(s, *d, dev.id, req.document());)"}},
        {"a route spells no SQL (named constants live next to the store that uses them)",
         "\"[^\"]*\\b(SELECT|INSERT|UPDATE|DELETE|REPLACE|PRAGMA|CREATE|DROP|ALTER|FROM|WHERE|JOIN|VALUES|SET|ORDER "
         "BY|GROUP BY|ON CONFLICT|RETURNING)\\b",
         kRoutes,
         {},
         {R"(constexpr const char* kRoles = "SELECT name, description, builtin FROM roles ORDER BY name";)",
          R"(constexpr const char* kSetHome = "UPDATE accounts SET home_station_id = ? WHERE id = ?";)",
          R"(    "INSERT INTO device_config(device_id, desired_version, desired, updated_at) VALUES (?1, ?2, ?3, ?4) ")",
          R"(    "ON CONFLICT(device_id) DO UPDATE SET desired_version = ?2, desired = ?3, updated_at = ?4";)",
          R"(    "d.id = l.device_id WHERE (?1 = '' OR l.device_id = ?1) AND (?2 IS NULL OR d.station_id = ?2) AND ")",
          R"(constexpr const char* kClearRolePermissions = "DELETE FROM role_permissions WHERE role = ?";)",
          R"(    "FROM admins a LEFT JOIN admin_access x ON x.admin_id = a.id ";)",
          R"(                  db::Statement st(*d, "SELECT 1");)"},
         {R"(    r.add(Route::make(Method::Delete, "/api/v1/admin/devices/{id}", "admin.devices.delete", "admin-devices",)",
          R"(              .q(str("from", false, 40, "From (RFC 3339 or YYYY-MM-DD)."))",
          R"~(                      "Remove a device that never charged (others: disable them)")~",
          R"(                  w.field("opened_at", when(s, f.opened_at)).end_object();)",
          R"~(                  return Response::json(R"({"changed":true,"relogin":true})");)~"}},
    };
    return k;
}

} // namespace

TEST_CASE("routes without SQL: every rule's pattern catches the old route lines and lets handler lines pass") {
    grep::check_patterns(rules());
    CHECK(grep::comment_line("    // the store runs SELECT ... FROM presence_log"));
    CHECK_FALSE(grep::comment_line(R"(    "SELECT 1" // liveness)"));
}

TEST_CASE("routes without SQL: no route file touches the database but through a store") {
    // routes_common.{hpp,cpp} and one file per route module (app.cpp registers them).
    REQUIRE(grep::files_of(kRoutes).size() >= 10);
    grep::check_tree(rules(), 10);
}
