#include "web-api/rbac.hpp"

namespace pilehub::api::rbac {
namespace {

constexpr const char* kUpsertRole = "INSERT INTO roles(name, description, builtin, created_at) VALUES (?, ?, 1, ?) "
                                    "ON CONFLICT(name) DO UPDATE SET description = excluded.description, builtin = 1";
constexpr const char* kClearPermissions = "DELETE FROM role_permissions WHERE role = ?";
constexpr const char* kAddPermission =
    "INSERT INTO role_permissions(role, permission) VALUES (?, ?) ON CONFLICT DO NOTHING";
constexpr const char* kRolePermissions = "SELECT permission FROM role_permissions WHERE role = ?";
constexpr const char* kRoleExists = "SELECT 1 FROM roles WHERE name = ?";
constexpr const char* kAccess = "SELECT all_stations FROM admin_access WHERE admin_id = ?";
constexpr const char* kScopes = "SELECT kind, ref_id FROM admin_scopes WHERE admin_id = ? ORDER BY kind, ref_id";
constexpr const char* kScopeStations =
    "SELECT s.id FROM stations s LEFT JOIN properties p ON p.id = s.property_id "
    "WHERE s.id IN (SELECT ref_id FROM admin_scopes WHERE admin_id = ?1 AND kind = 'station') "
    "   OR s.property_id IN (SELECT ref_id FROM admin_scopes WHERE admin_id = ?1 AND kind = 'property') "
    "   OR p.provider_id IN (SELECT ref_id FROM admin_scopes WHERE admin_id = ?1 AND kind = 'provider')";
constexpr const char* kUpsertAccess =
    "INSERT INTO admin_access(admin_id, all_stations, display_name, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT(admin_id) DO UPDATE SET all_stations = excluded.all_stations, display_name = excluded.display_name, "
    "updated_at = excluded.updated_at";
constexpr const char* kClearScopes = "DELETE FROM admin_scopes WHERE admin_id = ?";
constexpr const char* kAddScope =
    "INSERT INTO admin_scopes(admin_id, kind, ref_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING";

} // namespace

const std::vector<std::string_view>& all_permissions() {
    static const std::vector<std::string_view> k{
        "stations.read", "stations.write", "devices.read",  "devices.write", "devices.command", "devices.config",
        "tariffs.read",  "tariffs.write",  "users.read",    "users.write",   "wallet.recharge", "wallet.refund",
        "cards.read",    "cards.write",    "sessions.read", "sessions.stop", "monitor.read",    "dashboard.read",
        "exports.read",  "packages.write", "admins.manage", "audit.read",    "service.read",    "service.write",
    };
    return k;
}

bool is_permission(std::string_view p) {
    for (auto q : all_permissions())
        if (q == p)
            return true;
    return false;
}

const std::vector<BuiltinRole>& builtin_roles() {
    static const std::vector<BuiltinRole> k = [] {
        std::vector<BuiltinRole> r;
        r.push_back({"admin", "Everything, including staff accounts, roles and the audit log.", all_permissions()});
        std::vector<std::string_view> op;
        for (auto p : all_permissions())
            if (p != "admins.manage" && p != "audit.read")
                op.push_back(p);
        r.push_back({"operator", "Runs stations: hierarchy, devices, tariffs, users, cards, sessions, reports.", op});
        r.push_back({"finance",
                     "Money: users, recharges, refunds, cards, sessions, dashboard, exports.",
                     {"stations.read", "users.read", "wallet.recharge", "wallet.refund", "cards.read", "sessions.read",
                      "dashboard.read", "exports.read", "tariffs.read"}});
        r.push_back({"maintenance",
                     "Field staff: devices, commands, configuration, presence and faults, force-ending sessions.",
                     {"stations.read", "devices.read", "devices.command", "devices.config", "monitor.read",
                      "sessions.read", "sessions.stop", "tariffs.read", "service.read", "service.write"}});
        std::vector<std::string_view> ro;
        for (auto p : all_permissions())
            if (p.ends_with(".read") && p != "audit.read")
                ro.push_back(p);
        r.push_back({"viewer", "Reads everything in scope, changes nothing.", ro});
        return r;
    }();
    return k;
}

void ensure_builtin_roles(db::Database& d, EpochMs now) {
    db::Transaction tx(d);
    for (const auto& role : builtin_roles()) {
        db::Statement(d, kUpsertRole).bind_all(role.name, role.description, now).run();
        db::Statement(d, kClearPermissions).bind_all(role.name).run();
        for (auto p : role.permissions)
            db::Statement(d, kAddPermission).bind_all(role.name, p).run();
    }
    tx.commit();
}

std::set<std::string> role_permissions(db::Database& d, const std::string& role) {
    std::set<std::string> out;
    db::Statement st(d, kRolePermissions);
    st.bind_all(role);
    while (st.step())
        out.insert(st.text(0));
    return out;
}

bool role_exists(db::Database& d, const std::string& role) {
    db::Statement st(d, kRoleExists);
    st.bind_all(role);
    return st.step();
}

Access load_access(db::Database& d, std::int64_t admin_id) {
    Access a;
    db::Statement st(d, kAccess);
    st.bind_all(admin_id);
    if (!st.step()) {
        a.all_stations = true;
        return a;
    }
    a.all_stations = st.int64(0) != 0;
    db::Statement sc(d, kScopes);
    sc.bind_all(admin_id);
    while (sc.step())
        a.entries.push_back({sc.text(0), sc.int64(1)});
    if (!a.all_stations) {
        db::Statement ss(d, kScopeStations);
        ss.bind_all(admin_id);
        while (ss.step())
            a.station_ids.insert(ss.int64(0));
    }
    return a;
}

void save_access(db::Database& d, std::int64_t admin_id, bool all_stations, const std::vector<ScopeEntry>& entries,
                 const std::string& display_name, EpochMs now) {
    db::Statement(d, kUpsertAccess).bind_all(admin_id, all_stations ? 1 : 0, display_name, now).run();
    db::Statement(d, kClearScopes).bind_all(admin_id).run();
    for (const auto& e : entries)
        db::Statement(d, kAddScope).bind_all(admin_id, e.kind, e.id).run();
}

} // namespace pilehub::api::rbac
