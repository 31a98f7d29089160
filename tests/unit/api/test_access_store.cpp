#include "web-api/access_store.hpp"

#include "api_test_util.hpp"
#include "tests/support/registry_seed.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace pilehub;
using namespace pilehub::api;

namespace {

using Names = std::set<std::string>;

struct World {
    db::Database d{testutil::temp_db("access")};
    std::int64_t a = test::register_piles(d, {"pa"}, 10, "A");
    std::int64_t b = test::register_piles(d, {"pb"}, 10, "B");
    AccessStore access{d};

    World() { rbac::ensure_builtin_roles(d, 1); }

    std::int64_t ann() {
        return access.add_admin(NewAdmin{"ann", "hash-1", "viewer", "Ann", "op", false, {{"station", a}}}, 10);
    }
};

} // namespace

TEST_CASE("access: a custom role keeps its permissions until a change gives new ones") {
    World w;
    CHECK_FALSE(w.access.role_builtin("night").has_value());
    w.access.add_role("night", "night shift", {"devices.read", "users.read", "devices.read"}, 5);
    CHECK(w.access.role_builtin("night") == false);
    CHECK(w.access.role_builtin("admin") == true);
    CHECK(rbac::role_permissions(w.d, "night") == Names{"devices.read", "users.read"});

    w.access.update_role("night", std::string("late shift"), std::nullopt);
    CHECK(rbac::role_permissions(w.d, "night") == Names{"devices.read", "users.read"});
    const auto roles = w.access.roles();
    const auto night = std::find_if(roles.begin(), roles.end(), [](const RoleRow& r) { return r.name == "night"; });
    REQUIRE(night != roles.end());
    CHECK(night->description == "late shift");
    CHECK_FALSE(night->builtin);

    w.access.update_role("night", std::nullopt, std::vector<std::string>{"sessions.read"});
    CHECK(rbac::role_permissions(w.d, "night") == Names{"sessions.read"});
    w.access.update_role("night", std::nullopt, std::vector<std::string>{});
    CHECK(rbac::role_permissions(w.d, "night").empty());
}

TEST_CASE("access: a staff account is created with its operator, display name and scope") {
    World w;
    const auto id = w.ann();
    const auto row = w.access.admin(id);
    REQUIRE(row);
    CHECK(row->username == "ann");
    CHECK(row->role == "viewer");
    CHECK(row->enabled);
    CHECK(row->created_at == 10);
    CHECK(row->display_name == "Ann");
    const auto access = rbac::load_access(w.d, id);
    CHECK_FALSE(access.all_stations);
    CHECK(access.station_ids == std::set<std::int64_t>{w.a});
    CHECK(w.access.login("ann")->password_hash == "hash-1");
    CHECK_FALSE(w.access.login("bob").has_value());
    CHECK_FALSE(w.access.admin(id + 100).has_value());
}

TEST_CASE("access: a staff account's change writes what it gives and keeps the rest") {
    World w;
    const auto id = w.ann();
    struct Case {
        const char* what;
        AdminChange change;
        std::string role, display;
        bool enabled;
        std::set<std::int64_t> stations;
        bool all_stations;
    };
    AdminChange role_only;
    role_only.role = "operator";
    AdminChange display_only;
    display_only.display_name = "Ann L.";
    AdminChange scope_only;
    scope_only.scope = std::make_pair(false, std::vector<rbac::ScopeEntry>{{"station", w.b}});
    AdminChange disabled_unscoped;
    disabled_unscoped.enabled = false;
    disabled_unscoped.scope = std::make_pair(true, std::vector<rbac::ScopeEntry>{});
    // The cases run in order, each on the account the previous one left.
    const std::vector<Case> cases{
        {"role only: display name and scope stay", role_only, "operator", "Ann", true, {w.a}, false},
        {"display name only: the scope stays", display_only, "operator", "Ann L.", true, {w.a}, false},
        {"scope only: the display name stays", scope_only, "operator", "Ann L.", true, {w.b}, false},
        {"disabled and unscoped", disabled_unscoped, "operator", "Ann L.", false, {}, true},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        w.access.update_admin(id, c.change, 20);
        const auto row = w.access.admin(id);
        REQUIRE(row);
        CHECK(row->role == c.role);
        CHECK(row->display_name == c.display);
        CHECK(row->enabled == c.enabled);
        const auto access = rbac::load_access(w.d, id);
        CHECK(access.all_stations == c.all_stations);
        if (!c.all_stations)
            CHECK(access.station_ids == c.stations);
    }
    AdminChange password;
    password.password_hash = "hash-2";
    w.access.update_admin(id, password, 30);
    CHECK(w.access.password_hash(id) == "hash-2");
    w.access.set_password_hash(id, "hash-3");
    CHECK(w.access.login("ann")->password_hash == "hash-3");
    CHECK_FALSE(w.access.password_hash(id + 100).has_value());
}

TEST_CASE("access: the audit log is read newest first through its filters") {
    World w;
    const auto id = w.ann();
    w.access.record_login(1000, id, "ann", "/api/v1/admin/login", "10.0.0.1");
    w.access.record_login(2000, id, "bob", "/api/v1/admin/login", "10.0.0.2");
    w.access.record(AuditRow{0, 3000, std::nullopt, "ann", "admin.roles.create", "POST", "/api/v1/admin/roles", "", 201,
                             R"({"name":"night"})", "10.0.0.1"});
    const auto ids = [&](const AuditFilter& f) {
        std::vector<EpochMs> out;
        for (const auto& e : w.access.audit(f))
            out.push_back(e.at);
        return out;
    };
    using Ats = std::vector<EpochMs>;
    AuditFilter f;
    CHECK(ids(f) == Ats{3000, 2000, 1000});
    const auto rows = w.access.audit(f);
    CHECK_FALSE(rows.front().admin_id.has_value());
    CHECK(rows.back().admin_id == id);
    CHECK(rows.back().action == "admin.login");
    CHECK(rows.back().method == "POST");
    CHECK(rows.back().status == 200);
    CHECK(rows.back().ip == "10.0.0.1");
    CHECK(rows.back().detail == "{}");
    CHECK(rows.back().target.empty());
    CHECK(rows.front().detail == R"({"name":"night"})");
    CHECK(rows.front().status == 201);
    f.username = "ann";
    CHECK(ids(f) == Ats{3000, 1000});
    f.action = "admin.login";
    CHECK(ids(f) == Ats{1000});
    f = AuditFilter{};
    f.from = 2000;
    f.to = 3000;
    CHECK(ids(f) == Ats{2000});
    f = AuditFilter{};
    f.limit = 1;
    f.offset = 1;
    CHECK(ids(f) == Ats{2000});
}
