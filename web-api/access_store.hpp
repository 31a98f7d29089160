#pragma once
#include "common/db.hpp"
#include "common/money.hpp"
#include "web-api/rbac.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

/// Operators' staff (schema/core/005_api.sql): roles and their permissions, staff accounts with
/// their station scopes, the operator login's lookups and the audit log. All SQL of these tables
/// that the routes need lives here (rbac.hpp keeps the role and scope rules it shares with auth).
namespace pilehub::api {

struct RoleRow {
    std::string name, description;
    bool builtin = false;
};

/// A staff account as the console lists it.
struct AdminRow {
    std::int64_t id = 0;
    std::string username, role;
    bool enabled = false;
    EpochMs created_at = 0;
    std::string display_name; ///< empty if none was given
};

/// What an operator login checks.
struct AdminLogin {
    std::int64_t id = 0;
    std::string password_hash;
    bool enabled = false;
    std::string role;
};

/// A new staff account (the password already hashed).
struct NewAdmin {
    std::string username, password_hash, role, display_name;
    std::string operator_name; ///< the operator it belongs to (created if missing)
    bool all_stations = false;
    std::vector<rbac::ScopeEntry> scope;
};

/// A change of a staff account: each field given is written, the others stay.
struct AdminChange {
    std::optional<std::string> role;
    std::optional<bool> enabled;
    std::optional<std::string> password_hash;
    std::optional<std::string> display_name;
    std::optional<std::pair<bool, std::vector<rbac::ScopeEntry>>> scope; ///< all_stations and entries
};

struct AuditRow {
    std::int64_t id = 0;
    EpochMs at = 0;
    std::optional<std::int64_t> admin_id;
    std::string username, action, method, path, target;
    std::int64_t status = 0;
    std::string detail; ///< JSON text (may be empty)
    std::string ip;
};

struct AuditFilter {
    std::string username, action;    ///< empty: any
    std::optional<EpochMs> from, to; ///< `at` in [from, to)
    std::int64_t limit = 50, offset = 0;
};

class AccessStore {
public:
    explicit AccessStore(db::Database& d) : db_(d) {}

    // roles
    /// Every role, by name.
    std::vector<RoleRow> roles();
    /// Whether a role is built in; nullopt if there is no such role.
    std::optional<bool> role_builtin(const std::string& name);
    /// Adds a custom role with its permissions (one transaction).
    void add_role(const std::string& name, const std::string& description, const std::vector<std::string>& permissions,
                  EpochMs now);
    /// Changes a role's description and/or replaces its permissions (one transaction).
    void update_role(const std::string& name, const std::optional<std::string>& description,
                     const std::optional<std::vector<std::string>>& permissions);

    // staff accounts
    /// Every staff account, by id.
    std::vector<AdminRow> admins();
    std::optional<AdminRow> admin(std::int64_t id);
    /// Adds a staff account of the operator with its scope (one transaction); returns its id.
    std::int64_t add_admin(const NewAdmin& a, EpochMs now);
    /// Applies a change (one transaction); a new scope or display name rewrites the access row,
    /// keeping what was not given.
    void update_admin(std::int64_t id, const AdminChange& c, EpochMs now);

    // login
    std::optional<AdminLogin> login(const std::string& username);
    /// The stored password hash of a staff account, if it exists.
    std::optional<std::string> password_hash(std::int64_t id);
    void set_password_hash(std::int64_t id, const std::string& hash);
    /// Adds an entry to the audit log (its id is the log's).
    void record(const AuditRow& e);
    /// Records a successful login in the audit log (action `admin.login`, POST, status 200).
    void record_login(EpochMs at, std::int64_t admin_id, const std::string& username, const std::string& path,
                      const std::string& ip);

    // audit log
    /// The entries of a filter, newest first, one page.
    std::vector<AuditRow> audit(const AuditFilter& f);

private:
    db::Database& db_;
};

} // namespace pilehub::api
