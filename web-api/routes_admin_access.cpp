// Operators' staff: accounts, roles with permissions, station scopes, the audit log.
#include "common/password.hpp"
#include "common/registry.hpp"
#include "web-api/access_store.hpp"
#include "web-api/auth.hpp"
#include "web-api/openapi_schemas_admin.hpp"
#include "web-api/rbac.hpp"
#include "web-api/routes_common.hpp"

#include <fmt/format.h>

namespace pilehub::api {
namespace {

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

/// `{id, username, role, enabled, display_name, all_stations, scope: [{kind, id}], station_ids}`.
void write_admin(json::Writer& w, const AdminRow& a, const rbac::Access& access) {
    w.begin_object().field("id", a.id).field("username", a.username).field("role", a.role);
    w.field("enabled", a.enabled).field("display_name", a.display_name);
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

std::string admin_schema() {
    using namespace oas;
    return obj({{"id", kInt},
                {"username", kStr},
                {"role", kStr},
                {"enabled", kBool},
                {"display_name", kStr},
                {"all_stations", kBool},
                {"scope", arr(obj({{"kind", words_of({"provider", "property", "station"})}, {"id", kInt}}))},
                {"station_ids", arr(kInt)}});
}

std::string audit_entry_schema() {
    using namespace oas;
    return obj({{"id", kInt},
                {"at", kTime},
                {"admin_id", kIntN},
                {"username", kStr},
                {"action", kStr},
                {"method", kStr},
                {"path", kStr},
                {"target", kStr},
                {"status", kInt},
                {"detail", kAny},
                {"ip", kStr}});
}

} // namespace

void add_admin_access_routes(Router& r, Services& s) {
    r.add(Route::make(Method::Get, "/api/v1/admin/permissions", "admin.permissions", "admin-access",
                      "Every permission a role may hold")
              .admin("")
              .returns(oas::obj({{"permissions", oas::arr(oas::kStr)}}))
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
              .returns(oas::list_of("roles", oas::obj({{"name", oas::kStr},
                                                       {"description", oas::kStr},
                                                       {"builtin", oas::kBool},
                                                       {"permissions", oas::arr(oas::kStr)}})))
              .handle([&s](Request&) {
                  auto d = s.core->get();
                  json::Writer w;
                  w.begin_object().key("roles").begin_array();
                  for (const auto& role : AccessStore(*d).roles()) {
                      w.begin_object()
                          .field("name", role.name)
                          .field("description", role.description)
                          .field("builtin", role.builtin);
                      w.key("permissions").begin_array();
                      for (const auto& p : rbac::role_permissions(*d, role.name))
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
              .returns(oas::obj({{"name", oas::kStr}}))
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
                  AccessStore(*d).add_role(name, desc, perms, s.now());
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
              .returns(oas::obj({{"name", oas::kStr}, {"updated", oas::kBool}}))
              .handle([&s](Request& req) {
                  require_unscoped(req.who, "managing roles");
                  auto b = req.body();
                  const auto desc = b.opt_str("description", 256);
                  const bool has_perms = b.has("permissions");
                  const auto perms = read_permissions(b);
                  req.check_body();
                  const auto name = req.param("name");
                  auto d = s.core->get();
                  AccessStore access(*d);
                  const auto builtin = access.role_builtin(name);
                  if (!builtin)
                      fail(ErrorCode::NotFound, "no such role");
                  if (*builtin)
                      fail(ErrorCode::Conflict, "built-in roles cannot be changed; create a custom role");
                  access.update_role(name, desc, has_perms ? std::optional(perms) : std::nullopt);
                  json::Writer w;
                  w.begin_object().field("name", name).field("updated", true).end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/admins", "admin.admins.list", "admin-access", "Staff accounts")
              .admin("admins.manage")
              .returns(oas::list_of("admins", admin_schema()))
              .handle([&s](Request& req) {
                  require_unscoped(req.who, "managing staff");
                  auto d = s.core->get();
                  json::Writer w;
                  w.begin_object().key("admins").begin_array();
                  for (const auto& a : AccessStore(*d).admins())
                      write_admin(w, a, rbac::load_access(*d, a.id));
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
              .returns(oas::obj({{"id", oas::kInt}, {"username", oas::kStr}, {"role", oas::kStr}}))
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
                  NewAdmin admin{username,     password::hash(pw), role, display, s.settings.operator_name,
                                 scope->first, scope->second};
                  const auto id = AccessStore(*d).add_admin(admin, s.now());
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
              .returns(admin_schema())
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
                  AccessStore access(*d);
                  if (!access.admin(id))
                      fail(ErrorCode::NotFound, "no such staff account");
                  if (role && !rbac::role_exists(*d, *role))
                      fail(ErrorCode::NotFound, "no such role");
                  if (const auto why = pw ? password::password_problem(*pw) : std::nullopt)
                      fail(ErrorCode::InvalidRequest, "password " + *why);
                  if (id == req.who.id && ((enabled && !*enabled) || (role && *role != req.who.role)))
                      fail(ErrorCode::Conflict, "you cannot disable yourself or change your own role");
                  AdminChange change{role, enabled, pw ? std::optional(password::hash(*pw)) : std::nullopt, display,
                                     scope};
                  access.update_admin(id, change, s.now());
                  if (change.password_hash || (enabled && !*enabled))
                      auth::TokenStore(*d, *s.clock).revoke_all("admin", id);
                  json::Writer w;
                  write_admin(w, *access.admin(id), rbac::load_access(*d, id));
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
              .returns(oas::list_of("entries", audit_entry_schema()))
              .handle([&s](Request& req) {
                  require_unscoped(req.who, "reading the audit log");
                  auto d = s.core->get();
                  AuditFilter f;
                  f.username = req.query("username").value_or("");
                  f.action = req.query("action").value_or("");
                  f.from = query_time(s, req, "from");
                  f.to = query_time(s, req, "to");
                  f.limit = req.query_int("limit").value_or(50);
                  f.offset = req.query_int("offset").value_or(0);
                  json::Writer w;
                  w.begin_object().key("entries").begin_array();
                  for (const auto& e : AccessStore(*d).audit(f)) {
                      w.begin_object().field("id", e.id).field("at", when(s, e.at));
                      w.key("admin_id");
                      if (e.admin_id)
                          w.value(*e.admin_id);
                      else
                          w.null();
                      w.field("username", e.username).field("action", e.action).field("method", e.method);
                      w.field("path", e.path).field("target", e.target).field("status", e.status);
                      w.key("detail");
                      if (auto doc = json::parse(e.detail); doc)
                          w.raw_value(*doc);
                      else
                          w.null();
                      w.field("ip", e.ip).end_object();
                  }
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));
}

} // namespace pilehub::api
