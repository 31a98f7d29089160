// Operators' staff: accounts, roles with permissions, station scopes, the audit log.
#include "common/password.hpp"
#include "common/registry.hpp"
#include "web-api/auth.hpp"
#include "web-api/rbac.hpp"
#include "web-api/routes_common.hpp"

#include <fmt/format.h>

namespace pilehub::api {
namespace {

constexpr const char* kRoles = "SELECT name, description, builtin FROM roles ORDER BY name";
constexpr const char* kAddRole = "INSERT INTO roles(name, description, builtin, created_at) VALUES (?, ?, 0, ?)";
constexpr const char* kRoleBuiltin = "SELECT builtin FROM roles WHERE name = ?";
constexpr const char* kSetRoleDescription = "UPDATE roles SET description = ? WHERE name = ?";
constexpr const char* kClearRolePermissions = "DELETE FROM role_permissions WHERE role = ?";
constexpr const char* kAddRolePermission = "INSERT OR IGNORE INTO role_permissions(role, permission) VALUES (?, ?)";
constexpr const char* kAdmins =
    "SELECT a.id, a.username, a.role, a.enabled, a.created_at, coalesce(x.display_name, '') "
    "FROM admins a LEFT JOIN admin_access x ON x.admin_id = a.id ";
constexpr const char* kSetAdminRole = "UPDATE admins SET role = ? WHERE id = ?";
constexpr const char* kSetAdminEnabled = "UPDATE admins SET enabled = ? WHERE id = ?";
constexpr const char* kSetAdminPassword = "UPDATE admins SET password_hash = ? WHERE id = ?";
constexpr const char* kAudit =
    "SELECT id, at, admin_id, username, action, method, path, target, status, detail, ip FROM audit_log "
    "WHERE (?1 = '' OR username = ?1) AND (?2 = '' OR action = ?2) AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at "
    "< ?4) "
    "ORDER BY id DESC LIMIT ?5 OFFSET ?6";

bool valid_name(std::string_view s, std::size_t max) {
    if (s.empty() || s.size() > max)
        return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
            return false;
    return true;
}

std::vector<std::string> read_permissions(json::Object& b) {
    std::vector<std::string> out;
    auto arr = b.opt_arr("permissions", 64);
    for (std::size_t i = 0; i < arr.size(); ++i) {
        auto p = arr.str_at(i, 64);
        if (!p || !rbac::is_permission(*p))
            fail(ErrorCode::InvalidRequest,
                 fmt::format("permissions[{}] is not a permission (GET /api/v1/admin/permissions)", i));
        out.push_back(*p);
    }
    return out;
}

/// Reads the scope fields of an admin body; nullopt if none was given.
std::optional<std::pair<bool, std::vector<rbac::ScopeEntry>>> read_scope(json::Object& b, CatalogStore& cat) {
    const auto all = b.opt_bool("all_stations");
    std::vector<rbac::ScopeEntry> entries;
    bool any = all.has_value();
    for (const auto& [field, kind] :
         {std::pair{"provider_ids", "provider"}, {"property_ids", "property"}, {"station_ids", "station"}}) {
        auto arr = b.opt_arr(field, 1000);
        any = any || arr.present();
        for (std::size_t i = 0; i < arr.size(); ++i) {
            auto id = arr.int_at(i, 1, INT64_MAX);
            if (!id)
                fail(ErrorCode::InvalidRequest, fmt::format("{}[{}] must be a positive integer", field, i));
            const bool exists = std::string_view(kind) == "provider"   ? cat.provider(*id).has_value()
                                : std::string_view(kind) == "property" ? cat.property(*id).has_value()
                                                                       : cat.station(*id).has_value();
            if (!exists)
                fail(ErrorCode::NotFound, fmt::format("{}[{}]: no {} {}", field, i, kind, *id));
            entries.push_back({kind, *id});
        }
    }
    if (!any)
        return std::nullopt;
    return std::make_pair(all.value_or(false), entries);
}

void write_admin(json::Writer& w, db::Database& d, db::Statement& st) {
    const auto id = st.int64(0);
    w.begin_object().field("id", id).field("username", st.text(1)).field("role", st.text(2));
    w.field("enabled", st.int64(3) != 0).field("display_name", st.text(5));
    const auto access = rbac::load_access(d, id);
    w.field("all_stations", access.all_stations);
    w.key("scope").begin_array();
    for (const auto& e : access.entries)
        w.begin_object().field("kind", e.kind).field("id", e.id).end_object();
    w.end_array();
    w.key("station_ids").begin_array();
    for (auto s : access.station_ids)
        w.value(s);
    w.end_array().end_object();
}

} // namespace

void add_admin_access_routes(Router& r, Services& s) {
    r.add(Route::make(Method::Get, "/api/v1/admin/permissions", "admin.permissions", "admin-access",
                      "Every permission a role may hold")
              .admin("")
              .handle([](Request&) {
                  json::Writer w;
                  w.begin_object().key("permissions").begin_array();
                  for (auto p : rbac::all_permissions())
                      w.value(p);
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/roles", "admin.roles.list", "admin-access",
                      "Roles and their permissions")
              .admin("admins.manage")
              .handle([&s](Request&) {
                  auto d = s.core->get();
                  json::Writer w;
                  w.begin_object().key("roles").begin_array();
                  db::Statement st(*d, kRoles);
                  while (st.step()) {
                      w.begin_object()
                          .field("name", st.text(0))
                          .field("description", st.text(1))
                          .field("builtin", st.int64(2) != 0);
                      w.key("permissions").begin_array();
                      for (const auto& p : rbac::role_permissions(*d, st.text(0)))
                          w.value(p);
                      w.end_array().end_object();
                  }
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/roles", "admin.roles.create", "admin-access", "Create a role")
              .admin("admins.manage")
              .field(str("name", true, 64, "[A-Za-z0-9_.-]{1,64}"))
              .field(str("description", false, 256, "What the role is for."))
              .field(array("permissions", true, "Permission names."))
              .ok(201)
              .refuses({ErrorCode::Duplicate})
              .handle([&s](Request& req) {
                  require_unscoped(req.who, "managing roles");
                  auto b = req.body();
                  const auto name = b.req_str("name", 64);
                  const auto desc = b.opt_str("description", 256).value_or("");
                  const auto perms = read_permissions(b);
                  req.check_body();
                  if (!valid_name(name, 64))
                      fail(ErrorCode::InvalidRequest, "name must be [A-Za-z0-9_.-]{1,64}");
                  auto d = s.core->get();
                  if (rbac::role_exists(*d, name))
                      fail(ErrorCode::Duplicate, "a role with this name exists");
                  db::Transaction tx(*d);
                  db::Statement(*d, kAddRole).bind_all(name, desc, s.now()).run();
                  for (const auto& p : perms)
                      db::Statement(*d, kAddRolePermission).bind_all(name, p).run();
                  tx.commit();
                  json::Writer w;
                  w.begin_object().field("name", name).end_object();
                  return Response::json(w.str(), 201);
              }));

    r.add(Route::make(Method::Put, "/api/v1/admin/roles/{name}", "admin.roles.update", "admin-access",
                      "Change a custom role's description or permissions (built-in roles follow the code)")
              .admin("admins.manage")
              .param(key_param("name", "Role name."))
              .field(str("description", false, 256, "What the role is for."))
              .field(array("permissions", false, "Permission names (replaces the list)."))
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .handle([&s](Request& req) {
                  require_unscoped(req.who, "managing roles");
                  auto b = req.body();
                  const auto desc = b.opt_str("description", 256);
                  const bool has_perms = b.has("permissions");
                  const auto perms = read_permissions(b);
                  req.check_body();
                  const auto name = req.param("name");
                  auto d = s.core->get();
                  db::Statement st(*d, kRoleBuiltin);
                  st.bind_all(name);
                  if (!st.step())
                      fail(ErrorCode::NotFound, "no such role");
                  if (st.int64(0) != 0)
                      fail(ErrorCode::Conflict, "built-in roles cannot be changed; create a custom role");
                  st.reset();
                  db::Transaction tx(*d);
                  if (desc)
                      db::Statement(*d, kSetRoleDescription).bind_all(*desc, name).run();
                  if (has_perms) {
                      db::Statement(*d, kClearRolePermissions).bind_all(name).run();
                      for (const auto& p : perms)
                          db::Statement(*d, kAddRolePermission).bind_all(name, p).run();
                  }
                  tx.commit();
                  json::Writer w;
                  w.begin_object().field("name", name).field("updated", true).end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/admins", "admin.admins.list", "admin-access", "Staff accounts")
              .admin("admins.manage")
              .handle([&s](Request& req) {
                  require_unscoped(req.who, "managing staff");
                  auto d = s.core->get();
                  json::Writer w;
                  w.begin_object().key("admins").begin_array();
                  db::Statement st(*d, std::string(kAdmins) + "ORDER BY a.id");
                  while (st.step())
                      write_admin(w, *d, st);
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/admins", "admin.admins.create", "admin-access",
                      "Create a staff account with a role and a station scope")
              .admin("admins.manage")
              .field(str("username", true, 64, "[A-Za-z0-9_.-]{1,64}"))
              .field(str("password", true, 256, "At least 8 characters."))
              .field(str("role", true, 64, "A role name."))
              .field(str("display_name", false, 64, "Name shown in the console."))
              .field(boolean("all_stations", false, "Unscoped: sees every station."))
              .field(array("provider_ids", false, "Scope: every station of these providers."))
              .field(array("property_ids", false, "Scope: every station of these properties."))
              .field(array("station_ids", false, "Scope: these stations."))
              .ok(201)
              .refuses({ErrorCode::Duplicate, ErrorCode::NotFound})
              .handle([&s](Request& req) {
                  require_unscoped(req.who, "managing staff");
                  auto b = req.body();
                  const auto username = b.req_str("username", 64);
                  const auto pw = b.req_str("password", 256);
                  const auto role = b.req_str("role", 64);
                  const auto display = b.opt_str("display_name", 64).value_or("");
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  auto scope = read_scope(b, cat);
                  req.check_body();
                  if (!valid_name(username, 64))
                      fail(ErrorCode::InvalidRequest, "username must be [A-Za-z0-9_.-]{1,64}");
                  if (const auto why = password::password_problem(pw))
                      fail(ErrorCode::InvalidRequest, "password " + *why);
                  if (!rbac::role_exists(*d, role))
                      fail(ErrorCode::NotFound, "no such role");
                  if (!scope)
                      fail(ErrorCode::InvalidRequest,
                           "give all_stations: true or a scope (provider_ids, property_ids, station_ids)");
                  registry::Store reg(*d);
                  if (reg.admin_exists(username))
                      fail(ErrorCode::Duplicate, "this user name is taken");
                  const auto hash = password::hash(pw);
                  db::Transaction tx(*d);
                  const auto id = reg.add_admin(username, hash, role,
                                                reg.ensure_operator(s.settings.operator_name, s.now()), s.now());
                  rbac::save_access(*d, id, scope->first, scope->second, display, s.now());
                  tx.commit();
                  json::Writer w;
                  w.begin_object().field("id", id).field("username", username).field("role", role).end_object();
                  return Response::json(w.str(), 201);
              }));

    r.add(Route::make(Method::Put, "/api/v1/admin/admins/{id}", "admin.admins.update", "admin-access",
                      "Change a staff account's role, scope, password or enabled flag (tokens are revoked when it is "
                      "disabled or its password changes)")
              .admin("admins.manage")
              .param(id_param())
              .field(str("role", false, 64, "A role name."))
              .field(str("password", false, 256, "A new password."))
              .field(boolean("enabled", false, "false: the account can no longer log in."))
              .field(str("display_name", false, 64, "Name shown in the console."))
              .field(boolean("all_stations", false, "Unscoped: sees every station."))
              .field(array("provider_ids", false, "Scope: every station of these providers."))
              .field(array("property_ids", false, "Scope: every station of these properties."))
              .field(array("station_ids", false, "Scope: these stations."))
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .handle([&s](Request& req) {
                  require_unscoped(req.who, "managing staff");
                  auto b = req.body();
                  const auto role = b.opt_str("role", 64);
                  const auto pw = b.opt_str("password", 256);
                  const auto enabled = b.opt_bool("enabled");
                  const auto display = b.opt_str("display_name", 64);
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  auto scope = read_scope(b, cat);
                  req.check_body();
                  const auto id = req.param_int("id");
                  db::Statement st(*d, std::string(kAdmins) + "WHERE a.id = ?");
                  st.bind_all(id);
                  if (!st.step())
                      fail(ErrorCode::NotFound, "no such staff account");
                  const auto current_display = st.text(5);
                  st.reset();
                  if (role && !rbac::role_exists(*d, *role))
                      fail(ErrorCode::NotFound, "no such role");
                  if (const auto why = pw ? password::password_problem(*pw) : std::nullopt)
                      fail(ErrorCode::InvalidRequest, "password " + *why);
                  if (id == req.who.id && ((enabled && !*enabled) || (role && *role != req.who.role)))
                      fail(ErrorCode::Conflict, "you cannot disable yourself or change your own role");
                  const auto hash = pw ? std::optional<std::string>(password::hash(*pw)) : std::nullopt;
                  db::Transaction tx(*d);
                  if (role)
                      db::Statement(*d, kSetAdminRole).bind_all(*role, id).run();
                  if (enabled)
                      db::Statement(*d, kSetAdminEnabled).bind_all(*enabled ? 1 : 0, id).run();
                  if (hash)
                      db::Statement(*d, kSetAdminPassword).bind_all(*hash, id).run();
                  if (scope || display) {
                      const auto access = rbac::load_access(*d, id);
                      rbac::save_access(*d, id, scope ? scope->first : access.all_stations,
                                        scope ? scope->second : access.entries, display.value_or(current_display),
                                        s.now());
                  }
                  tx.commit();
                  if (hash || (enabled && !*enabled))
                      auth::TokenStore(*d, *s.clock).revoke_all("admin", id);
                  db::Statement again(*d, std::string(kAdmins) + "WHERE a.id = ?");
                  again.bind_all(id);
                  again.step();
                  json::Writer w;
                  write_admin(w, *d, again);
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/audit-log", "admin.audit_log", "admin-access",
                      "Operator actions that changed data, newest first")
              .admin("audit.read")
              .q(str("username", false, 64, "Only this operator."))
              .q(str("action", false, 64, "Only this action (a route's operationId)."))
              .q(str("from", false, 40, "From (RFC 3339 or YYYY-MM-DD)."))
              .q(str("to", false, 40, "Before (RFC 3339 or YYYY-MM-DD)."))
              .q(limit_param())
              .q(offset_param())
              .handle([&s](Request& req) {
                  require_unscoped(req.who, "reading the audit log");
                  auto d = s.core->get();
                  db::Statement st(*d, kAudit);
                  st.bind(1, req.query("username").value_or(""));
                  st.bind(2, req.query("action").value_or(""));
                  st.bind(3, query_time(s, req, "from"));
                  st.bind(4, query_time(s, req, "to"));
                  st.bind(5, req.query_int("limit").value_or(50));
                  st.bind(6, req.query_int("offset").value_or(0));
                  json::Writer w;
                  w.begin_object().key("entries").begin_array();
                  while (st.step()) {
                      w.begin_object().field("id", st.int64(0)).field("at", when(s, st.int64(1)));
                      w.key("admin_id");
                      if (st.is_null(2))
                          w.null();
                      else
                          w.value(st.int64(2));
                      w.field("username", st.text(3)).field("action", st.text(4)).field("method", st.text(5));
                      w.field("path", st.text(6)).field("target", st.text(7)).field("status", st.int64(8));
                      w.key("detail");
                      if (auto doc = json::parse(st.text(9)); doc)
                          w.raw_value(*doc);
                      else
                          w.null();
                      w.field("ip", st.text(10)).end_object();
                  }
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));
}

} // namespace pilehub::api
