#pragma once
#include "common/db.hpp"
#include "common/money.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

/// Roles, permissions and station scopes of operators' staff.
namespace pilehub::api::rbac {

/// Every permission a route may require (the closed list; roles hold subsets of it).
const std::vector<std::string_view>& all_permissions();
bool is_permission(std::string_view p);

/// A built-in role and what it may do.
struct BuiltinRole {
    std::string_view name;
    std::string_view description;
    std::vector<std::string_view> permissions;
};
/// `admin` (everything), `operator`, `finance`, `maintenance`, `viewer`.
const std::vector<BuiltinRole>& builtin_roles();

/// Creates or refreshes the built-in roles (their permission lists follow the code).
void ensure_builtin_roles(db::Database& d, EpochMs now);

/// The permissions of a role (empty for an unknown role).
std::set<std::string> role_permissions(db::Database& d, const std::string& role);
bool role_exists(db::Database& d, const std::string& role);

/// One entry of an operator's scope.
struct ScopeEntry {
    std::string kind; ///< provider, property, station
    std::int64_t id = 0;
};

/// An operator's access: unscoped, or the stations under its scope entries.
struct Access {
    bool all_stations = false;
    std::vector<ScopeEntry> entries;
    std::set<std::int64_t> station_ids; ///< resolved from entries
};

/// Reads an admin's access; an admin without an admin_access row (pilehubctl) is unscoped.
Access load_access(db::Database& d, std::int64_t admin_id);
/// Replaces an admin's access (one transaction is the caller's).
void save_access(db::Database& d, std::int64_t admin_id, bool all_stations, const std::vector<ScopeEntry>& entries,
                 const std::string& display_name, EpochMs now);

} // namespace pilehub::api::rbac
