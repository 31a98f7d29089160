// The operator hierarchy above devices (providers, properties, stations, areas) and tariffs.
#include "common/log.hpp"
#include "common/pricing.hpp"
#include "common/registry.hpp"
#include "common/svc.hpp"
#include "web-api/geo.hpp"
#include "web-api/openapi_schemas_admin.hpp"
#include "web-api/prepaid_amounts.hpp"
#include "web-api/rbac.hpp"
#include "web-api/routes_common.hpp"

#include <fmt/format.h>

#include <cmath>

namespace pilehub::api {
namespace {

void write_provider(json::Writer& w, const Services& s, const ProviderRow& p) {
    w.begin_object().field("id", p.id).field("name", p.name).field("contact", p.contact).field("phone", p.phone);
    w.field("enabled", p.enabled).field("created_at", when(s, p.created_at)).end_object();
}

void write_property(json::Writer& w, const Services& s, const PropertyRow& p) {
    w.begin_object()
        .field("id", p.id)
        .field("provider_id", p.provider_id)
        .field("name", p.name)
        .field("contact", p.contact);
    w.field("phone", p.phone)
        .field("address", p.address)
        .field("enabled", p.enabled)
        .field("created_at", when(s, p.created_at));
    w.end_object();
}

std::string name_field(json::Object& b, bool required) {
    auto n = required ? std::optional<std::string>(b.req_str("name", 100)) : b.opt_str("name", 100);
    if (n && n->empty())
        fail(ErrorCode::InvalidRequest, "name must not be empty");
    return n.value_or("");
}

/// Whether a scoped operator's scope covers a property (by itself or by its provider).
bool scope_covers_property(db::Database& d, const Principal& who, std::int64_t property_id, std::int64_t provider_id) {
    if (who.all_stations)
        return true;
    for (const auto& e : rbac::load_access(d, who.id).entries)
        if ((e.kind == "property" && e.id == property_id) || (e.kind == "provider" && e.id == provider_id))
            return true;
    return false;
}

std::int64_t micro_degrees(double deg) {
    return std::llround(deg * 1e6);
} // coordinates, never money

/// The station's id when the operator sees it; else not_found (a scoped operator cannot tell another
/// station's from none).
std::int64_t station_in_scope(CatalogStore& cat, const Principal& who, std::int64_t id) {
    if (!cat.station(id))
        fail(ErrorCode::NotFound, "no such station");
    require_station(who, id);
    return id;
}

/// `{station_id, amounts_fen: [...]}`.
std::string prepaid_amounts_reply(std::int64_t station, const std::vector<std::int64_t>& amounts) {
    json::Writer w;
    w.begin_object().field("station_id", station).key("amounts_fen").begin_array();
    for (auto a : amounts)
        w.value(a);
    w.end_array().end_object();
    return w.str();
}

std::string provider_schema() {
    using namespace oas;
    return obj(
        {{"id", kInt}, {"name", kStr}, {"contact", kStr}, {"phone", kStr}, {"enabled", kBool}, {"created_at", kTime}});
}

std::string property_schema() {
    using namespace oas;
    return obj({{"id", kInt},
                {"provider_id", kInt},
                {"name", kStr},
                {"contact", kStr},
                {"phone", kStr},
                {"address", kStr},
                {"enabled", kBool},
                {"created_at", kTime}});
}

std::string area_schema() {
    using namespace oas;
    return obj({{"id", kInt}, {"station_id", kInt}, {"name", kStr}, {"enabled", kBool}});
}

std::string prepaid_amounts_schema() {
    using namespace oas;
    return obj({{"station_id", kInt}, {"amounts_fen", arr(kInt)}});
}

} // namespace

void add_admin_catalog_routes(Router& r, Services& s) {
    // ---- providers ----
    r.add(Route::make(Method::Get, "/api/v1/admin/providers", "admin.providers.list", "admin-hierarchy",
                      "Service providers")
              .admin("stations.read")
              .returns(oas::list_of("providers", provider_schema()))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  std::set<std::int64_t> visible;
                  if (!req.who.all_stations)
                      for (const auto& st : cat.stations(scope_of(req.who), std::nullopt, ""))
                          if (st.property_id)
                              if (auto p = cat.property(*st.property_id))
                                  visible.insert(p->provider_id);
                  json::Writer w;
                  w.begin_object().key("providers").begin_array();
                  for (const auto& p : cat.providers())
                      if (req.who.all_stations || visible.count(p.id))
                          write_provider(w, s, p);
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/providers", "admin.providers.create", "admin-hierarchy",
                      "Create a service provider")
              .admin("stations.write")
              .field(str("name", true, 100, "Name, unique."))
              .field(str("contact", false, 64, "Contact person."))
              .field(str("phone", false, 32, "Contact phone."))
              .ok(201)
              .refuses({ErrorCode::Conflict})
              .returns(provider_schema())
              .handle([&s](Request& req) {
                  require_unscoped(req.who, "creating providers");
                  auto b = req.body();
                  ProviderRow p;
                  p.name = name_field(b, true);
                  p.contact = b.opt_str("contact", 64).value_or("");
                  p.phone = b.opt_str("phone", 32).value_or("");
                  req.check_body();
                  auto d = s.core->get();
                  const auto op = registry::Store(*d).ensure_operator(s.settings.operator_name, s.now());
                  p.id = CatalogStore(*d).add_provider(op, p, s.now());
                  p.created_at = s.now();
                  json::Writer w;
                  write_provider(w, s, p);
                  return Response::json(w.str(), 201);
              }));

    r.add(Route::make(Method::Put, "/api/v1/admin/providers/{id}", "admin.providers.update", "admin-hierarchy",
                      "Edit, enable or disable a provider (a disabled provider's stations disappear from riders)")
              .admin("stations.write")
              .param(id_param())
              .field(str("name", false, 100, "Name."))
              .field(str("contact", false, 64, "Contact person."))
              .field(str("phone", false, 32, "Contact phone."))
              .field(boolean("enabled", false, "Enabled."))
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .returns(provider_schema())
              .handle([&s](Request& req) {
                  require_unscoped(req.who, "editing providers");
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  auto p = cat.provider(req.param_int("id"));
                  if (!p)
                      fail(ErrorCode::NotFound, "no such provider");
                  auto b = req.body();
                  if (auto n = name_field(b, false); !n.empty())
                      p->name = n;
                  p->contact = b.opt_str("contact", 64).value_or(p->contact);
                  p->phone = b.opt_str("phone", 32).value_or(p->phone);
                  p->enabled = b.opt_bool("enabled").value_or(p->enabled);
                  req.check_body();
                  cat.update_provider(*p);
                  json::Writer w;
                  write_provider(w, s, *p);
                  return Response::json(w.str());
              }));

    // ---- properties ----
    r.add(Route::make(Method::Get, "/api/v1/admin/properties", "admin.properties.list", "admin-hierarchy",
                      "Properties (site owners)")
              .admin("stations.read")
              .q(integer("provider_id", false, 1, INT64_MAX, "Only this provider's."))
              .returns(oas::list_of("properties", property_schema()))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  std::set<std::int64_t> visible;
                  if (!req.who.all_stations)
                      for (const auto& st : cat.stations(scope_of(req.who), std::nullopt, ""))
                          if (st.property_id)
                              visible.insert(*st.property_id);
                  json::Writer w;
                  w.begin_object().key("properties").begin_array();
                  for (const auto& p : cat.properties(req.query_int("provider_id")))
                      if (req.who.all_stations || visible.count(p.id))
                          write_property(w, s, p);
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/properties", "admin.properties.create", "admin-hierarchy",
                      "Create a property under a provider")
              .admin("stations.write")
              .field(integer("provider_id", true, 1, INT64_MAX, "The provider."))
              .field(str("name", true, 100, "Name, unique within the provider."))
              .field(str("contact", false, 64, "Contact person."))
              .field(str("phone", false, 32, "Contact phone."))
              .field(str("address", false, 200, "Address."))
              .ok(201)
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .returns(property_schema())
              .handle([&s](Request& req) {
                  require_unscoped(req.who, "creating properties");
                  auto b = req.body();
                  PropertyRow p;
                  p.provider_id = b.req_int("provider_id", 1, INT64_MAX);
                  p.name = name_field(b, true);
                  p.contact = b.opt_str("contact", 64).value_or("");
                  p.phone = b.opt_str("phone", 32).value_or("");
                  p.address = b.opt_str("address", 200).value_or("");
                  req.check_body();
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  if (!cat.provider(p.provider_id))
                      fail(ErrorCode::NotFound, "no such provider");
                  p.id = cat.add_property(p, s.now());
                  p.created_at = s.now();
                  json::Writer w;
                  write_property(w, s, p);
                  return Response::json(w.str(), 201);
              }));

    r.add(Route::make(Method::Put, "/api/v1/admin/properties/{id}", "admin.properties.update", "admin-hierarchy",
                      "Edit, enable or disable a property (a disabled property's stations disappear from riders)")
              .admin("stations.write")
              .param(id_param())
              .field(str("name", false, 100, "Name."))
              .field(str("contact", false, 64, "Contact person."))
              .field(str("phone", false, 32, "Contact phone."))
              .field(str("address", false, 200, "Address."))
              .field(boolean("enabled", false, "Enabled."))
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .returns(property_schema())
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  auto p = cat.property(req.param_int("id"));
                  if (!p || !scope_covers_property(*d, req.who, p->id, p->provider_id))
                      fail(ErrorCode::NotFound, "no such property");
                  auto b = req.body();
                  if (auto n = name_field(b, false); !n.empty())
                      p->name = n;
                  p->contact = b.opt_str("contact", 64).value_or(p->contact);
                  p->phone = b.opt_str("phone", 32).value_or(p->phone);
                  p->address = b.opt_str("address", 200).value_or(p->address);
                  p->enabled = b.opt_bool("enabled").value_or(p->enabled);
                  req.check_body();
                  cat.update_property(*p);
                  json::Writer w;
                  write_property(w, s, *p);
                  return Response::json(w.str());
              }));

    // ---- stations ----
    r.add(Route::make(Method::Get, "/api/v1/admin/stations", "admin.stations.list", "admin-hierarchy",
                      "Stations in the operator's scope")
              .admin("stations.read")
              .q(integer("property_id", false, 1, INT64_MAX, "Only this property's."))
              .q(str("q", false, 100, "Name contains."))
              .returns(oas::list_of("stations", oas::obj(oas::station_members())))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  json::Writer w;
                  w.begin_object().key("stations").begin_array();
                  for (const auto& st : CatalogStore(*d).stations(scope_of(req.who), req.query_int("property_id"),
                                                                  req.query("q").value_or(""))) {
                      w.begin_object();
                      write_station(w, s, st);
                      w.end_object();
                  }
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/stations", "admin.stations.create", "admin-hierarchy",
                      "Create a station")
              .admin("stations.write")
              .field(str("name", true, 100, "Name, unique for the operator."))
              .field(number("lat", true, -90, 90, "Latitude, degrees."))
              .field(number("lon", true, -180, 180, "Longitude, degrees."))
              .field(str("address", false, 200, "Address."))
              .field(str("open_hours", false, 11,
                         "HH:MM-HH:MM local (default 00:00-24:00; an end before the start runs past midnight)."))
              .field(str("timezone", false, 64, "IANA zone (default the operator's)."))
              .field(integer("property_id", false, 1, INT64_MAX, "The property it belongs to."))
              .ok(201)
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .returns(oas::obj(oas::station_members()))
              .handle([&s](Request& req) {
                  auto b = req.body();
                  StationRow st;
                  st.name = name_field(b, true);
                  st.lat_e6 = micro_degrees(b.req_num("lat", -90, 90));
                  st.lon_e6 = micro_degrees(b.req_num("lon", -180, 180));
                  st.address = b.opt_str("address", 200).value_or("");
                  st.open_hours = b.opt_str("open_hours", 11).value_or("00:00-24:00");
                  st.timezone = b.opt_str("timezone", 64).value_or(s.settings.timezone);
                  st.property_id = b.opt_int("property_id", 1, INT64_MAX);
                  req.check_body();
                  if (!geo::parse_open_hours(st.open_hours))
                      fail(ErrorCode::InvalidRequest, "open_hours must be HH:MM-HH:MM");
                  if (!billing::find_time_zone(st.timezone))
                      fail(ErrorCode::InvalidRequest, "timezone is not a supported zone");
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  if (st.property_id) {
                      auto p = cat.property(*st.property_id);
                      if (!p || !scope_covers_property(*d, req.who, p->id, p->provider_id))
                          fail(ErrorCode::NotFound, "no such property");
                  } else {
                      require_unscoped(req.who, "creating a station outside a property");
                  }
                  st.operator_id = registry::Store(*d).ensure_operator(s.settings.operator_name, s.now());
                  st.id = cat.add_station(st, s.now());
                  auto saved = cat.station(st.id);
                  json::Writer w;
                  w.begin_object();
                  write_station(w, s, *saved);
                  w.end_object();
                  return Response::json(w.str(), 201);
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/stations/{id}", "admin.stations.get", "admin-hierarchy",
                      "A station with its areas")
              .admin("stations.read")
              .param(id_param())
              .refuses({ErrorCode::NotFound})
              .returns(oas::obj(
                  oas::station_members() +
                  oas::Members{
                      {"areas", oas::arr(oas::obj({{"id", oas::kInt}, {"name", oas::kStr}, {"enabled", oas::kBool}}))},
                      {"devices", oas::kInt}}))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  auto st = cat.station(req.param_int("id"));
                  if (!st)
                      fail(ErrorCode::NotFound, "no such station");
                  require_station(req.who, st->id);
                  json::Writer w;
                  w.begin_object();
                  write_station(w, s, *st);
                  w.key("areas").begin_array();
                  for (const auto& a : cat.areas(st->id))
                      w.begin_object().field("id", a.id).field("name", a.name).field("enabled", a.enabled).end_object();
                  w.end_array();
                  w.field("devices", static_cast<std::int64_t>(cat.devices(std::nullopt, st->id, "").size()));
                  w.end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Put, "/api/v1/admin/stations/{id}", "admin.stations.update", "admin-hierarchy",
                      "Edit, enable or disable a station (a disabled station disappears from riders)")
              .admin("stations.write")
              .param(id_param())
              .field(str("name", false, 100, "Name."))
              .field(number("lat", false, -90, 90, "Latitude."))
              .field(number("lon", false, -180, 180, "Longitude."))
              .field(str("address", false, 200, "Address."))
              .field(str("open_hours", false, 11, "HH:MM-HH:MM."))
              .field(str("timezone", false, 64, "IANA zone."))
              .field(integer("property_id", false, 1, INT64_MAX, "Move to this property."))
              .field(boolean("enabled", false, "Enabled."))
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .returns(oas::obj(oas::station_members()))
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  auto st = cat.station(req.param_int("id"));
                  if (!st)
                      fail(ErrorCode::NotFound, "no such station");
                  require_station(req.who, st->id);
                  auto b = req.body();
                  if (auto n = name_field(b, false); !n.empty())
                      st->name = n;
                  if (auto v = b.opt_num("lat", -90, 90))
                      st->lat_e6 = micro_degrees(*v);
                  if (auto v = b.opt_num("lon", -180, 180))
                      st->lon_e6 = micro_degrees(*v);
                  st->address = b.opt_str("address", 200).value_or(st->address);
                  st->open_hours = b.opt_str("open_hours", 11).value_or(st->open_hours);
                  st->timezone = b.opt_str("timezone", 64).value_or(st->timezone);
                  const auto property = b.opt_int("property_id", 1, INT64_MAX);
                  st->enabled = b.opt_bool("enabled").value_or(st->enabled);
                  req.check_body();
                  if (!geo::parse_open_hours(st->open_hours))
                      fail(ErrorCode::InvalidRequest, "open_hours must be HH:MM-HH:MM");
                  if (!billing::find_time_zone(st->timezone))
                      fail(ErrorCode::InvalidRequest, "timezone is not a supported zone");
                  if (property) {
                      auto p = cat.property(*property);
                      if (!p || !scope_covers_property(*d, req.who, p->id, p->provider_id))
                          fail(ErrorCode::NotFound, "no such property");
                      st->property_id = property;
                  }
                  cat.update_station(*st);
                  json::Writer w;
                  w.begin_object();
                  write_station(w, s, *cat.station(st->id));
                  w.end_object();
                  return Response::json(w.str());
              }));

    // ---- areas ----
    r.add(Route::make(Method::Post, "/api/v1/admin/stations/{id}/areas", "admin.areas.create", "admin-hierarchy",
                      "Create an area in a station")
              .admin("stations.write")
              .param(id_param())
              .field(str("name", true, 100, "Name, unique within the station."))
              .ok(201)
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .returns(area_schema())
              .handle([&s](Request& req) {
                  auto b = req.body();
                  const auto name = name_field(b, true);
                  req.check_body();
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  const auto station = req.param_int("id");
                  if (!cat.station(station))
                      fail(ErrorCode::NotFound, "no such station");
                  require_station(req.who, station);
                  const auto id = cat.add_area(station, name, s.now());
                  json::Writer w;
                  w.begin_object()
                      .field("id", id)
                      .field("station_id", station)
                      .field("name", name)
                      .field("enabled", true)
                      .end_object();
                  return Response::json(w.str(), 201);
              }));

    r.add(Route::make(Method::Put, "/api/v1/admin/areas/{id}", "admin.areas.update", "admin-hierarchy",
                      "Rename, enable or disable an area (a disabled area's devices disappear from riders)")
              .admin("stations.write")
              .param(id_param())
              .field(str("name", false, 100, "Name."))
              .field(boolean("enabled", false, "Enabled."))
              .refuses({ErrorCode::NotFound, ErrorCode::Conflict})
              .returns(area_schema())
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  auto a = cat.area(req.param_int("id"));
                  if (!a)
                      fail(ErrorCode::NotFound, "no such area");
                  require_station(req.who, a->station_id, "area");
                  auto b = req.body();
                  if (auto n = name_field(b, false); !n.empty())
                      a->name = n;
                  a->enabled = b.opt_bool("enabled").value_or(a->enabled);
                  req.check_body();
                  cat.update_area(*a);
                  json::Writer w;
                  w.begin_object()
                      .field("id", a->id)
                      .field("station_id", a->station_id)
                      .field("name", a->name)
                      .field("enabled", a->enabled)
                      .end_object();
                  return Response::json(w.str());
              }));

    // ---- prepaid amounts (seed 003 预付值) ----
    r.add(Route::make(Method::Get, "/api/v1/admin/stations/{id}/prepaid-amounts", "admin.stations.prepaid.get",
                      "admin-hierarchy", "The prepaid amounts riders of a station pick their max_fen from")
              .admin("stations.read")
              .param(id_param())
              .refuses({ErrorCode::NotFound})
              .returns(prepaid_amounts_schema())
              .handle([&s](Request& req) {
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  const auto station = station_in_scope(cat, req.who, req.param_int("id"));
                  return Response::json(prepaid_amounts_reply(station, cat.prepaid_amounts(station)));
              }));

    r.add(Route::make(Method::Put, "/api/v1/admin/stations/{id}/prepaid-amounts", "admin.stations.prepaid.put",
                      "admin-hierarchy",
                      "Replace a station's prepaid amounts: 1..12 distinct amounts, each 1..100000000 fen "
                      "(invalid_amount otherwise); riders starting there must pick one as max_fen")
              .admin("stations.write")
              .param(id_param())
              .field(array("amounts_fen", true, "The amounts, fen (any order; stored ascending)."))
              .refuses({ErrorCode::NotFound, ErrorCode::InvalidAmount})
              .returns(prepaid_amounts_schema())
              .handle([&s](Request& req) {
                  auto b = req.body();
                  auto arr = b.req_arr("amounts_fen", 64);
                  std::vector<std::int64_t> amounts;
                  for (std::size_t i = 0; i < arr.size(); ++i)
                      if (auto a = arr.int_at(i, INT64_MIN, INT64_MAX))
                          amounts.push_back(*a);
                  req.check_body();
                  if (const auto why = prepaid_amounts_problem(amounts))
                      fail(ErrorCode::InvalidAmount, *why);
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  const auto station = station_in_scope(cat, req.who, req.param_int("id"));
                  cat.set_prepaid_amounts(station, amounts);
                  return Response::json(prepaid_amounts_reply(station, cat.prepaid_amounts(station)));
              }));

    // ---- tariffs ----
    r.add(Route::make(Method::Put, "/api/v1/admin/stations/{id}/tariff", "admin.tariffs.save", "admin-tariffs",
                      "Save a new tariff version (BILLING.md §1); a change takes effect at the next local midnight "
                      "unless effective_from says otherwise")
              .admin("tariffs.write")
              .param(id_param())
              .field(object("tariff", true, "The tariff document (BILLING.md §1)."))
              .refuses({ErrorCode::NotFound})
              .returns(oas::obj({{"station_id", oas::kInt}, {"version", oas::tariff_row()}}))
              .handle([&s](Request& req) {
                  const auto station = req.param_int("id");
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  if (!cat.station(station))
                      fail(ErrorCode::NotFound, "no such station");
                  require_station(req.who, station);
                  const auto* raw = req.document();
                  auto it = raw->FindMember("tariff");
                  auto t = billing::parse_tariff(it->value, "tariff");
                  if (!t)
                      fail(ErrorCode::InvalidRequest, t.error());
                  const auto now = s.now();
                  const bool first = cat.tariffs(station).empty();
                  const auto from = billing::effective_from(*t, now, first);
                  const auto row = cat.add_tariff(station, billing::to_json(*t), from, now, req.who.name);
                  json::Writer w;
                  w.begin_object().field("station_id", station);
                  w.key("version");
                  write_tariff_row(w, s, row);
                  w.end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Get, "/api/v1/admin/stations/{id}/tariff", "admin.tariffs.get", "admin-tariffs",
                      "The tariff version in force and every saved version")
              .admin("tariffs.read")
              .param(id_param())
              .refuses({ErrorCode::NotFound})
              .returns(oas::obj({{"station_id", oas::kInt},
                                 {"in_force", oas::nullable(oas::tariff_row())},
                                 {"versions", oas::arr(oas::tariff_row())}}))
              .handle([&s](Request& req) {
                  const auto station = req.param_int("id");
                  auto d = s.core->get();
                  CatalogStore cat(*d);
                  if (!cat.station(station))
                      fail(ErrorCode::NotFound, "no such station");
                  require_station(req.who, station);
                  json::Writer w;
                  w.begin_object().field("station_id", station);
                  w.key("in_force");
                  if (auto t = cat.tariff_in_force(station, std::nullopt, std::nullopt, s.now()))
                      write_tariff_row(w, s, t->first);
                  else
                      w.null();
                  w.key("versions").begin_array();
                  for (const auto& row : cat.tariffs(station))
                      write_tariff_row(w, s, row);
                  w.end_array().end_object();
                  return Response::json(w.str());
              }));

    r.add(Route::make(Method::Post, "/api/v1/admin/tariff-quote", "admin.tariffs.quote", "admin-tariffs",
                      "The billing calculator: price samples with a tariff, with the same engine that settles sessions")
              .admin("tariffs.read")
              .field(object("tariff", true, "The tariff document."))
              .field(str("mode", true, 16, "time, power or energy."))
              .field(array("samples", true, "[{t, energy_wh, power_w}], t RFC 3339 or epoch ms."))
              .field(str("stop_reason", false, 32, "How the session ended (e.g. no_load)."))
              .field(integer("minutes", false, 1, 2880, "Time mode: the chosen duration."))
              .field(integer("max_fen", false, 1, svc::kMaxPrepaidFen,
                             "The session's prepaid amount: bounds the cost (the reply shows electricity_fen and "
                             "service_fen, their sum cost_fen)."))
              .open()
              .returns(oas::bill())
              .handle([](Request& req) {
                  auto q = billing::parse_quote_request(req.body_text());
                  if (!q)
                      fail(ErrorCode::InvalidRequest, q.error());
                  auto bill = billing::price_quote(*q);
                  if (!bill)
                      fail(ErrorCode::InvalidRequest, bill.error());
                  return Response::json(billing::to_json(*bill));
              }));
}

} // namespace pilehub::api
