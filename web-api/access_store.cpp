#include "web-api/access_store.hpp"

#include "common/registry.hpp"

namespace pilehub::api {
namespace {

constexpr const char* kRoles = "SELECT name, description, builtin FROM roles ORDER BY name";
constexpr const char* kAddRole = "INSERT INTO roles(name, description, builtin, created_at) VALUES (?, ?, 0, ?)";
constexpr const char* kRoleBuiltin = "SELECT builtin FROM roles WHERE name = ?";
constexpr const char* kSetRoleDescription = "UPDATE roles SET description = ? WHERE name = ?";
constexpr const char* kClearRolePermissions = "DELETE FROM role_permissions WHERE role = ?";
constexpr const char* kAddRolePermission =
    "INSERT INTO role_permissions(role, permission) VALUES (?, ?) ON CONFLICT DO NOTHING";
constexpr const char* kAdminCols =
    "SELECT a.id, a.username, a.role, a.enabled, a.created_at, coalesce(x.display_name, '') "
    "FROM admins a LEFT JOIN admin_access x ON x.admin_id = a.id ";
constexpr const char* kSetAdminRole = "UPDATE admins SET role = ? WHERE id = ?";
constexpr const char* kSetAdminEnabled = "UPDATE admins SET enabled = ? WHERE id = ?";
constexpr const char* kSetAdminPassword = "UPDATE admins SET password_hash = ? WHERE id = ?";
constexpr const char* kAdminLogin = "SELECT id, password_hash, enabled, role FROM admins WHERE username = ?";
constexpr const char* kAdminPassword = "SELECT password_hash FROM admins WHERE id = ?";
constexpr const char* kRecord = "INSERT INTO audit_log(at, admin_id, username, action, method, path, target, status, "
                                "detail, ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kAudit =
    "SELECT id, at, admin_id, username, action, method, path, target, status, detail, ip FROM audit_log "
    "WHERE (?1 = '' OR username = ?1) AND (?2 = '' OR action = ?2) AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at "
    "< ?4) ORDER BY id DESC LIMIT ?5 OFFSET ?6";

AdminRow read_admin(db::Statement& st) {
    return AdminRow{st.int64(0), st.text(1), st.text(2), st.int64(3) != 0, st.int64(4), st.text(5)};
}

} // namespace

std::vector<RoleRow> AccessStore::roles() {
    std::vector<RoleRow> out;
    db::Statement st(db_, kRoles);
    while (st.step())
        out.push_back(RoleRow{st.text(0), st.text(1), st.int64(2) != 0});
    return out;
}

std::optional<bool> AccessStore::role_builtin(const std::string& name) {
    db::Statement st(db_, kRoleBuiltin);
    st.bind_all(name);
    if (!st.step())
        return std::nullopt;
    return st.int64(0) != 0;
}

void AccessStore::add_role(const std::string& name, const std::string& description,
                           const std::vector<std::string>& permissions, EpochMs now) {
    db::Transaction tx(db_);
    db::Statement(db_, kAddRole).bind_all(name, description, now).run();
    for (const auto& p : permissions)
        db::Statement(db_, kAddRolePermission).bind_all(name, p).run();
    tx.commit();
}

void AccessStore::update_role(const std::string& name, const std::optional<std::string>& description,
                              const std::optional<std::vector<std::string>>& permissions) {
    db::Transaction tx(db_);
    if (description)
        db::Statement(db_, kSetRoleDescription).bind_all(*description, name).run();
    if (permissions) {
        db::Statement(db_, kClearRolePermissions).bind_all(name).run();
        for (const auto& p : *permissions)
            db::Statement(db_, kAddRolePermission).bind_all(name, p).run();
    }
    tx.commit();
}

std::vector<AdminRow> AccessStore::admins() {
    std::vector<AdminRow> out;
    db::Statement st(db_, std::string(kAdminCols) + "ORDER BY a.id");
    while (st.step())
        out.push_back(read_admin(st));
    return out;
}

std::optional<AdminRow> AccessStore::admin(std::int64_t id) {
    db::Statement st(db_, std::string(kAdminCols) + "WHERE a.id = ?");
    st.bind_all(id);
    if (!st.step())
        return std::nullopt;
    return read_admin(st);
}

std::int64_t AccessStore::add_admin(const NewAdmin& a, EpochMs now) {
    registry::Store reg(db_);
    db::Transaction tx(db_);
    const auto id = reg.add_admin(a.username, a.password_hash, a.role, reg.ensure_operator(a.operator_name, now), now);
    rbac::save_access(db_, id, a.all_stations, a.scope, a.display_name, now);
    tx.commit();
    return id;
}

void AccessStore::update_admin(std::int64_t id, const AdminChange& c, EpochMs now) {
    db::Transaction tx(db_);
    if (c.role)
        db::Statement(db_, kSetAdminRole).bind_all(*c.role, id).run();
    if (c.enabled)
        db::Statement(db_, kSetAdminEnabled).bind_all(*c.enabled ? 1 : 0, id).run();
    if (c.password_hash)
        db::Statement(db_, kSetAdminPassword).bind_all(*c.password_hash, id).run();
    if (c.scope || c.display_name) {
        const auto access = rbac::load_access(db_, id);
        const auto display = c.display_name ? *c.display_name : admin(id).value_or(AdminRow{}).display_name;
        rbac::save_access(db_, id, c.scope ? c.scope->first : access.all_stations,
                          c.scope ? c.scope->second : access.entries, display, now);
    }
    tx.commit();
}

std::optional<AdminLogin> AccessStore::login(const std::string& username) {
    db::Statement st(db_, kAdminLogin);
    st.bind_all(username);
    if (!st.step())
        return std::nullopt;
    return AdminLogin{st.int64(0), st.text(1), st.int64(2) != 0, st.text(3)};
}

std::optional<std::string> AccessStore::password_hash(std::int64_t id) {
    db::Statement st(db_, kAdminPassword);
    st.bind_all(id);
    if (!st.step())
        return std::nullopt;
    return st.text(0);
}

void AccessStore::set_password_hash(std::int64_t id, const std::string& hash) {
    db::Statement(db_, kSetAdminPassword).bind_all(hash, id).run();
}

void AccessStore::record_login(EpochMs at, std::int64_t admin_id, const std::string& username, const std::string& path,
                               const std::string& ip) {
    record(AuditRow{0, at, admin_id, username, "admin.login", "POST", path, "", 200, "{}", ip});
}

void AccessStore::record(const AuditRow& e) {
    db::Statement(db_, kRecord)
        .bind_all(e.at, e.admin_id, e.username, e.action, e.method, e.path, e.target, e.status, e.detail, e.ip)
        .run();
}

std::vector<AuditRow> AccessStore::audit(const AuditFilter& f) {
    std::vector<AuditRow> out;
    db::Statement st(db_, kAudit);
    st.bind_all(f.username, f.action, f.from, f.to, f.limit, f.offset);
    while (st.step())
        out.push_back(AuditRow{st.int64(0), st.int64(1), st.opt_int64(2), st.text(3), st.text(4), st.text(5),
                               st.text(6), st.text(7), st.int64(8), st.text(9), st.text(10)});
    return out;
}

} // namespace pilehub::api
