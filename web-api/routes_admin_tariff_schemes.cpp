// The tariff library (issue 14): named schemes assigned to stations, areas and devices, and which
// level's tariff a device's sockets are priced by. Assigning copies the scheme into a new tariff
// version of each target (docs/billing.md "Tariff levels and the library").
#include "common/registry.hpp"
#include "web-api/device_placement.hpp"
#include "web-api/openapi_schemas_admin.hpp"
#include "web-api/routes_common.hpp"
#include "web-api/tariff_scheme_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace pilehub::api {
namespace {

constexpr std::size_t kMaxTargets = 500; ///< per list of one assignment
constexpr std::size_t kMaxDescriptionLen = 500;
constexpr std::size_t kMaxNameLen = 100;
constexpr std::size_t kMaxTimeLen = 64; ///< effective_from

/// The operator that owns the library (the installation's one operator).
std::int64_t library_owner(Services& s, db::Database& d) {
    return registry::Store(d).ensure_operator(s.settings.operator_name, s.now());
}

void write_scheme(json::Writer& w, const Services& s, const TariffSchemeRow& r) {
    w.begin_object().field("id", r.id).field("name", r.name).field("description", r.description);
    w.field("archived", r.archived).field("created_by", r.created_by);
    w.field("created_at", when(s, r.created_at)).field("updated_at", when(s, r.updated_at));
    w.key("tariff");
    if (auto doc = json::parse(r.document); doc)
        w.raw_value(*doc);
    else
        w.null();
    w.end_object();
}

std::string scheme_schema() {
    using namespace oas;
    return obj({{"id", kInt},
                {"name", kStr},
                {"description", kStr},
                {"archived", kBool},
                {"created_by", kStr},
                {"created_at", kTime},
                {"updated_at", kTime},
                {"tariff", kAnyObjN}});
}

/// `{scheme_id, versions: [...]}`: the versions an assignment saved.
std::string versions_reply(const Services& s, std::int64_t scheme_id, const std::vector<TariffRow>& rows) {
    json::Writer w;
    w.begin_object().field("scheme_id", scheme_id).key("versions").begin_array();
    for (const auto& row : rows)
        write_tariff_row(w, s, row);
    w.end_array().end_object();
    return w.str();
}

/// The library's scheme the path's `{id}` names; not_found if there is none.
TariffSchemeRow addressed_scheme(Services& s, db::Database& d, const Request& req) {
    auto row = TariffSchemeStore(d).get(library_owner(s, d), req.param_int("id"));
    if (!row)
        fail(ErrorCode::NotFound, "no such tariff scheme");
    return *row;
}

/// The validated tariff document in member `tariff` of the body, in its stored form.
std::string tariff_document(const Request& req) {
    const auto* raw = req.document();
    auto it = raw->FindMember("tariff");
    auto t = billing::parse_tariff(it->value, "tariff");
    if (!t)
        fail(ErrorCode::InvalidRequest, t.error());
    return billing::to_json(*t);
}

/// When assigned versions take effect: `effective_from` ("now" or a time), never before now (a
/// saved version never reprices the past); now when absent.
EpochMs assignment_start(const Services& s, const std::optional<std::string>& text) {
    const auto now = s.now();
    if (!text || *text == "now")
        return now;
    const auto at = parse_time(s, *text);
    if (!at)
        fail(ErrorCode::InvalidRequest, "effective_from must be \"now\" or an RFC 3339 time");
    return std::max(*at, now);
}

/// The targets named by station_ids, area_ids and device_ids, each checked: it exists and the operator
/// sees its station (else not_found / unknown_device naming it, and nothing is saved).
std::vector<TariffTarget> assignment_targets(CatalogStore& cat, const Principal& who, json::Object& b) {
    std::set<std::int64_t> stations, areas;
    std::set<std::string> devices;
    auto st = b.opt_arr("station_ids", kMaxTargets);
    for (std::size_t i = 0; i < st.size(); ++i)
        if (auto id = st.int_at(i, 1, INT64_MAX))
            stations.insert(*id);
    auto ar = b.opt_arr("area_ids", kMaxTargets);
    for (std::size_t i = 0; i < ar.size(); ++i)
        if (auto id = ar.int_at(i, 1, INT64_MAX))
            areas.insert(*id);
    auto dv = b.opt_arr("device_ids", kMaxTargets);
    for (std::size_t i = 0; i < dv.size(); ++i)
        if (auto id = dv.str_at(i, 48))
            devices.insert(*id);
    if (!b.ok())
        return {};
    std::vector<TariffTarget> out;
    for (auto id : stations) {
        if (!cat.station(id) || !who.sees_station(id))
            fail(ErrorCode::NotFound, fmt::format("no such station: {}", id));
        out.push_back(TariffTarget{id, std::nullopt, std::nullopt});
    }
    for (auto id : areas) {
        const auto a = cat.area(id);
        if (!a || !who.sees_station(a->station_id))
            fail(ErrorCode::NotFound, fmt::format("no such area: {}", id));
        out.push_back(TariffTarget{a->station_id, id, std::nullopt});
    }
    for (const auto& id : devices) {
        const auto d = cat.device(id);
        if (!d || !sees_device(who, *d))
            fail(ErrorCode::UnknownDevice, fmt::format("no such device: {}", id));
        if (!d->station_id) // a version is saved for a station's device; install it first
            fail(ErrorCode::DeviceNotInstalled, fmt::format("device {} is not installed at a station", id));
        out.push_back(TariffTarget{*d->station_id, std::nullopt, id});
    }
    if (out.empty())
        fail(ErrorCode::InvalidRequest, "name at least one of station_ids, area_ids, device_ids");
    return out;
}

/// "station 3", "area 5 of station 3", "device P1".
std::string target_words(const TariffRow& v) {
    if (v.device_id)
        return fmt::format("device {}", *v.device_id);
    if (v.area_id)
        return fmt::format("area {} of station {}", *v.area_id, v.station_id);
    return fmt::format("station {}", v.station_id);
}

/// The targets where the scheme is in force now (for apply_to_assigned); forbidden unless the operator
/// sees every one of them (an edit never reaches past the caller's scope), checked before anything is saved.
std::vector<TariffTarget> in_force_targets(db::Database& d, const Principal& who, std::int64_t id, EpochMs now) {
    CatalogStore cat(d);
    std::vector<TariffTarget> out;
    for (const auto& a : TariffSchemeStore(d).assignments(id, now)) {
        if (!a.in_force)
            continue;
        auto t = TariffTarget{a.version.station_id, a.version.area_id, a.version.device_id};
        if (t.device_id)
            if (const auto dev = cat.device(*t.device_id); dev && dev->station_id)
                t.station_id = *dev->station_id; // its versions follow a device that moved
        if (!who.sees_station(t.station_id))
            fail(ErrorCode::Forbidden, "the scheme is in force at stations outside your scope: apply_to_assigned "
                                       "needs an operator who sees them all");
        out.push_back(t);
    }
    return out;
}

/// The assignments of a scheme the operator may see (targets at stations in scope).
std::vector<SchemeAssignment> visible_assignments(TariffSchemeStore& lib, const Principal& who, std::int64_t id,
                                                  EpochMs now) {
    auto all = lib.assignments(id, now);
    std::erase_if(all, [&who](const SchemeAssignment& a) { return !who.sees_station(a.version.station_id); });
    return all;
}

} // namespace

void add_admin_tariff_scheme_routes(Router& r, Services& s) {
    r.add(Route::make(Method::Get, "/api/v1/admin/tariff-schemes", "admin.tariff_schemes.list", "admin-tariffs",
                      "The tariff library: named schemes to assign to stations, areas and devices")
              .admin("tariffs.read")
              .q(boolean("archived", false, "Also list archived schemes."))
              .returns(oas::list_of("schemes", scheme_schema()))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  TariffSchemeStore lib(*d);
                  json::Writer w;
                  w.begin_object().key("schemes").begin_array();
                  for (const auto& row : lib.list(library_owner(s, *d), req.query_bool("archived").value_or(false)))
                      write_scheme(w, s, row);
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/tariff-schemes", "admin.tariff_schemes.create", "admin-tariffs",
                      "Add a scheme to the library (a validated tariff document, BILLING.md §1); nothing is priced by "
                      "it until it is assigned")
              .admin("tariffs.write")
              .field(str("name", true, static_cast<std::int64_t>(kMaxNameLen),
                         "Name, unique among the schemes not archived."))
              .field(str("description", false, static_cast<std::int64_t>(kMaxDescriptionLen), "Free text."))
              .field(object("tariff", true, "The tariff document (BILLING.md §1)."))
              .ok(201)
              .refuses({ErrorCode::Duplicate})
              .returns(scheme_schema())
              .handle([&s](Request& req) {
                  auto b = req.body();
                  TariffSchemeRow row;
                  row.name = b.req_str("name", kMaxNameLen);
                  row.description = b.opt_str("description", kMaxDescriptionLen).value_or("");
                  req.check_body();
                  if (row.name.empty())
                      fail(ErrorCode::InvalidRequest, "name must not be empty");
                  row.document = tariff_document(req);
                  auto d = s.core->get();
                  TariffSchemeStore lib(*d);
                  row.operator_id = library_owner(s, *d);
                  row.created_by = req.who.name;
                  row.created_at = row.updated_at = s.now();
                  const auto id = lib.add(row);
                  if (!id)
                      fail(ErrorCode::Duplicate, fmt::format("a tariff scheme is already called \"{}\"", row.name));
                  row.id = *id;
                  json::Writer w;
                  write_scheme(w, s, row);
                  return Response::json(w.str(), 201);
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/tariff-schemes/{id}", "admin.tariff_schemes.get", "admin-tariffs",
                      "One scheme of the library")
              .admin("tariffs.read")
              .param(id_param())
              .refuses({ErrorCode::NotFound})
              .returns(scheme_schema())
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  json::Writer w;
                  write_scheme(w, s, addressed_scheme(s, *d, req));
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Put, "/api/v1/admin/tariff-schemes/{id}", "admin.tariff_schemes.update", "admin-tariffs",
                      "Edit a scheme. What is in force does not change: targets keep the version copied when the "
                      "scheme was assigned, unless apply_to_assigned is true (then every target where the scheme is "
                      "in force gets a new version of it, from effective_from)")
              .admin("tariffs.write")
              .param(id_param())
              .field(str("name", false, static_cast<std::int64_t>(kMaxNameLen), "Name."))
              .field(str("description", false, static_cast<std::int64_t>(kMaxDescriptionLen), "Free text."))
              .field(object("tariff", false, "The new tariff document (BILLING.md §1)."))
              .field(boolean("apply_to_assigned", false,
                             "Also save the edited document as a new version wherever the scheme is in force now."))
              .field(str("effective_from", false, static_cast<std::int64_t>(kMaxTimeLen),
                         "With apply_to_assigned: \"now\" (default) or a later time."))
              .answers("{scheme, versions}: the scheme and the versions apply_to_assigned saved (else empty).")
              .refuses({ErrorCode::NotFound, ErrorCode::Duplicate, ErrorCode::Conflict})
              .returns(oas::obj({{"scheme", scheme_schema()}, {"versions", oas::arr(oas::tariff_row())}}))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto name = b.opt_str("name", kMaxNameLen);
                  const auto description = b.opt_str("description", kMaxDescriptionLen);
                  const bool apply = b.opt_bool("apply_to_assigned").value_or(false);
                  const auto from_text = b.opt_str("effective_from", kMaxTimeLen);
                  req.check_body();
                  if (name && name->empty())
                      fail(ErrorCode::InvalidRequest, "name must not be empty");
                  auto d = s.core->get();
                  TariffSchemeStore lib(*d);
                  auto row = addressed_scheme(s, *d, req);
                  if (row.archived)
                      fail(ErrorCode::Conflict, "the tariff scheme is archived");
                  row.name = name.value_or(row.name);
                  row.description = description.value_or(row.description);
                  if (req.document()->HasMember("tariff"))
                      row.document = tariff_document(req);
                  row.updated_at = s.now();
                  const auto from = assignment_start(s, from_text);
                  std::vector<TariffTarget> targets;
                  if (apply)
                      targets = in_force_targets(*d, req.who, row.id, s.now());
                  if (!lib.update(row))
                      fail(ErrorCode::Duplicate, fmt::format("a tariff scheme is already called \"{}\"", row.name));
                  std::vector<TariffRow> saved;
                  if (apply)
                      saved = lib.assign(row, targets, from, s.now(), req.who.name);
                  json::Writer w;
                  w.begin_object().key("scheme");
                  write_scheme(w, s, row);
                  w.key("versions").begin_array();
                  for (const auto& v : saved)
                      write_tariff_row(w, s, v);
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Delete, "/api/v1/admin/tariff-schemes/{id}", "admin.tariff_schemes.delete",
                      "admin-tariffs",
                      "Archive a scheme (kept for the versions copied from it); refused (conflict, naming where) while "
                      "it is in force or scheduled somewhere")
              .admin("tariffs.write")
              .param(id_param())
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .returns(scheme_schema())
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  TariffSchemeStore lib(*d);
                  auto row = addressed_scheme(s, *d, req);
                  const auto used = lib.assignments(row.id, s.now());
                  if (!used.empty()) {
                      std::vector<std::string> where;
                      for (const auto& a : used)
                          if (req.who.sees_station(a.version.station_id))
                              where.push_back(target_words(a.version));
                      const auto hidden = used.size() - where.size();
                      fail(ErrorCode::Conflict,
                           fmt::format("the tariff scheme is in force or scheduled at {}{}", fmt::join(where, ", "),
                                       hidden ? fmt::format("{}{} target(s) outside your scope",
                                                            where.empty() ? "" : " and ", hidden)
                                              : ""));
                  }
                  lib.archive(row.id, s.now());
                  row.archived = true;
                  row.updated_at = s.now();
                  json::Writer w;
                  write_scheme(w, s, row);
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/tariff-schemes/{id}/assign", "admin.tariff_schemes.assign",
                      "admin-tariffs",
                      "Assign a scheme to stations, areas and devices (bulk, all or nothing): each target gets a new "
                      "tariff version copied from it; sessions already started keep theirs")
              .admin("tariffs.write")
              .param(id_param())
              .field(array("station_ids", false, "Stations (their own tariff: sockets without an area or device one)."))
              .field(array("area_ids", false, "Areas."))
              .field(array("device_ids", false, "Devices."))
              .field(str("effective_from", false, static_cast<std::int64_t>(kMaxTimeLen),
                         "\"now\" (default) or a later RFC 3339 time."))
              .answers("{scheme_id, versions}: the versions saved, one per target.")
              .refuses(
                  {ErrorCode::NotFound, ErrorCode::UnknownDevice, ErrorCode::DeviceNotInstalled, ErrorCode::Conflict})
              .returns(oas::obj({{"scheme_id", oas::kInt}, {"versions", oas::arr(oas::tariff_row())}}))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto from_text = b.opt_str("effective_from", kMaxTimeLen);
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  const auto targets = assignment_targets(cat, req.who, b);
                  req.check_body();
                  const auto scheme = addressed_scheme(s, *d, req);
                  if (scheme.archived)
                      fail(ErrorCode::Conflict, "the tariff scheme is archived");
                  const auto from = assignment_start(s, from_text);
                  return Response::json(versions_reply(
                      s, scheme.id, TariffSchemeStore(*d).assign(scheme, targets, from, s.now(), req.who.name)));
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/tariff-schemes/{id}/assignments", "admin.tariff_schemes.assignments",
                      "admin-tariffs",
                      "Where the scheme is in force now (state in_force) or will be (scheduled): each target's "
                      "version copied from it")
              .admin("tariffs.read")
              .param(id_param())
              .refuses({ErrorCode::NotFound})
              .returns(oas::obj({{"scheme_id", oas::kInt},
                                 {"assignments", oas::arr(oas::obj({{"state", oas::words_of({"in_force", "scheduled"})},
                                                                    {"version", oas::tariff_row()}}))}}))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  TariffSchemeStore lib(*d);
                  const auto scheme = addressed_scheme(s, *d, req);
                  json::Writer w;
                  w.begin_object().field("scheme_id", scheme.id).key("assignments").begin_array();
                  for (const auto& a : visible_assignments(lib, req.who, scheme.id, s.now())) {
                      w.begin_object().field("state", a.in_force ? "in_force" : "scheduled").key("version");
                      write_tariff_row(w, s, a.version);
                      w.end_object();
                  }
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/devices/{id}/tariff", "admin.devices.tariff", "admin-tariffs",
                      "The tariff that prices the device's sockets now and which level it comes from (device, area or "
                      "station: the most specific with a version in effect), and the device's own versions")
              .admin("tariffs.read")
              .param(key_param("id", "The device id."))
              .refuses({ErrorCode::UnknownDevice})
              .returns(oas::obj({{"device_id", oas::kStr},
                                 {"station_id", oas::kIntN},
                                 {"area_id", oas::kIntN},
                                 {"level", oas::level_words(true)},
                                 {"in_force", oas::nullable(oas::tariff_row())},
                                 {"versions", oas::arr(oas::tariff_row())}}))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  const auto dev = cat.device(req.param("id"));
                  if (!dev || !sees_device(req.who, *dev))
                      fail(ErrorCode::UnknownDevice, "no such device");
                  const auto now = s.now();
                  json::Writer w;
                  w.begin_object().field("device_id", dev->id);
                  w.nullable_field("station_id", dev->station_id).nullable_field("area_id", dev->area_id);
                  auto t = dev->station_id ? cat.tariff_in_force(*dev->station_id, dev->area_id, dev->id, now)
                                           : std::nullopt; // in stock: nothing prices it
                  if (t) {
                      w.field("level", billing::to_string(t->first.level())).key("in_force");
                      write_tariff_row(w, s, t->first);
                  } else {
                      w.key("level").null().key("in_force").null();
                  }
                  w.key("versions").begin_array();
                  if (dev->station_id)
                      for (const auto& row : cat.target_tariffs(TariffTarget{*dev->station_id, std::nullopt, dev->id}))
                          write_tariff_row(w, s, row);
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));
}

} // namespace pilehub::api
