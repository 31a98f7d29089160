#pragma once
#include "common/json.hpp"
#include "common/ledger.hpp"
#include "common/rpc.hpp"
#include "common/socket_availability.hpp"
#include "common/socket_code.hpp"
#include "common/svc.hpp"
#include "common/tariff.hpp"
#include "web-api/account_store.hpp"
#include "web-api/catalog_store.hpp"
#include "web-api/context.hpp"
#include "web-api/export_formats.hpp"
#include "web-api/http.hpp"
#include "web-api/parking_store.hpp"
#include "web-api/session_store.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>

/// Helpers shared by the route modules: JSON shapes of rows, scope checks, rpc refusals,
/// time parameters, live socket state.
namespace pilehub::api {

class Router;

// ---- the route modules (each adds its routes to the router) ----
void add_system_routes(Router& r, Services& s);
void add_auth_routes(Router& r, Services& s);
void add_rider_routes(Router& r, Services& s);
void add_admin_access_routes(Router& r, Services& s);
void add_admin_catalog_routes(Router& r, Services& s);
void add_admin_device_routes(Router& r, Services& s);
void add_admin_lifecycle_routes(Router& r, Services& s);
void add_admin_user_routes(Router& r, Services& s);
void add_admin_session_routes(Router& r, Services& s);
void add_admin_report_routes(Router& r, Services& s);
void add_admin_money_routes(Router& r, Services& s);
void add_parking_routes(Router& r, Services& s);
void add_admin_parking_routes(Router& r, Services& s);
void add_service_routes(Router& r, Services& s);
void add_admin_alert_routes(Router& r, Services& s);
void add_admin_ota_routes(Router& r, Services& s);
void add_admin_tariff_scheme_routes(Router& r, Services& s);
void add_admin_command_routes(Router& r, Services& s);

/// The `state` filter of parking orders: the occupancy state words (parking::OccupancyState).
std::vector<std::string> parking_order_states();
/// The filter of the operator's parking-order list and export: `station_id` (in the operator's
/// scope, else 404), `state`, `from`, `to` (arrival); the operator's scope.
OrderFilter parking_order_filter(const Services& s, const Request& req);

/// An RFC 3339 time in the operator's zone.
std::string when(const Services& s, EpochMs t);
/// Writes `key: time` or `key: null`.
void write_time(json::Writer& w, const Services& s, std::string_view key, std::optional<EpochMs> t);
/// Parses a time parameter: RFC 3339, or a local date `YYYY-MM-DD` (its midnight in the operator's zone).
std::optional<EpochMs> parse_time(const Services& s, const std::string& text);
/// A query time parameter, or invalid_request naming it.
std::optional<EpochMs> query_time(const Services& s, const Request& req, const std::string& name);

/// The stations an operator may see (nullopt: every station).
std::optional<std::set<std::int64_t>> scope_of(const Principal& p);
/// Refuses (404 not_found) unless the operator sees the station; a scoped operator cannot even
/// learn that another station's things exist.
void require_station(const Principal& p, std::int64_t station_id, std::string_view what = "station");
/// The account, if the operator sees it (a station-scoped operator: accounts opened at its
/// stations); else not_found.
AccountRow user_in_scope(AccountStore& accounts, const Principal& who, std::int64_t id);
/// The device, if the operator sees its station; else unknown_device.
DeviceRow device_in_scope(CatalogStore& cat, const Principal& who, const std::string& id);
/// Rewrites the broker's password file from the database after `device_id`'s credentials changed
/// (added, rotated, retired, removed) and reloads the broker. False, with a warning in the log, when
/// the file could not be written or no broker runs: the database change stands either way.
bool sync_broker_users(Services& s, db::Database& d, const std::string& device_id);
/// Refuses unless the operator is unscoped (403 forbidden).
void require_unscoped(const Principal& p, std::string_view what);

/// Turns a worker's refusal into the API error with the same stable code (timeouts: 504).
[[noreturn]] void fail_from_reply(const rpc::Reply& r);
/// Calls sessiond, answering status timeout when no worker is wired. Use the typed overload.
rpc::Reply call_sessiond(Services& s, std::string_view method, const std::string& data_json, int timeout_ms);
/// Sends one sessiond request (svc::StartRequest, StopRequest, ForceEndRequest,
/// DeviceCommandRequest: the method is the request's, the data its svc encoding) and answers the
/// reply when it is `ok`; any other reply is refused as fail_from_reply does.
template <typename Req> rpc::Reply call_sessiond(Services& s, const Req& request, int timeout_ms) {
    auto r = call_sessiond(s, svc::Traits<Req>::kMethod, svc::encode(request), timeout_ms);
    if (!r.ok())
        fail_from_reply(r);
    return r;
}
/// Refuses 500 internal for a reply that does not match its schema `name` (logged with `why`).
[[noreturn]] void fail_bad_reply(std::string_view name, const std::string& why);
/// An `ok` reply's data in the shape of `Rep` (svc::StartReply, ...); a reply in another shape is
/// refused 500 internal, naming why (never guessed at).
template <typename Rep> Rep reply_data(const rpc::Reply& r) {
    auto x = svc::decode<Rep>(r.data_json);
    if (!x)
        fail_bad_reply(svc::Traits<Rep>::kName, x.error());
    return std::move(x).value();
}

/// Maps a refused ledger change to the API's error (balance_too_low, account_frozen, ...);
/// returns for an applied or duplicate one.
void check_posting(const ledger::Posting& p);
/// Maps a card change that did not happen to the API's error: conflict with `changed_message`
/// when the card changed meanwhile, else the fee's refusal (check_posting); returns for a done one.
void check_card_change(const CardChange& c, std::string_view changed_message);

/// Rider-facing socket states of the sockets of some stations: live sessions, open faults and
/// presence read once, then asked per socket (sockets::socket_availability, the rule sessiond's
/// start pre-check uses).
class SocketStates {
public:
    SocketStates(Services& s, CatalogStore& cat, const std::vector<std::int64_t>& station_ids);
    /// The rider's word for a socket's state: free, busy, faulted, offline, unavailable
    /// (`visible` false: the socket or something above it is disabled).
    std::string_view state(const std::string& device_id, int n, bool visible = true);
    /// The same as an Availability.
    sockets::Availability availability(const std::string& device_id, int n, bool visible = true);

private:
    Services& s_;
    CatalogStore& cat_;
    std::set<std::pair<std::string, int>> busy_, faulted_;
    /// Per device, read once per list: whether it is online, and what its ports last reported.
    struct Device {
        bool online = false;
        std::map<int, sockets::Reported> ports;
    };
    const Device& device(const std::string& device_id);
    std::map<std::string, Device> devices_;
};
/// The rider-facing kind of a port: `ev_gun` for a charger's gun, `socket` for anything else.
std::string_view rider_port_kind(std::string_view device_kind);
/// The state of one socket (see SocketStates).
std::string socket_state(Services& s, CatalogStore& cat, const std::string& device_id, int n);
/// Whether a device is online: the device cache's one presence view (the device's own presence
/// and presenced's verdicts), else, while the cache has heard nothing of it, presenced's stored verdict.
bool device_online(Services& s, CatalogStore& cat, const std::string& device_id);

/// The modes a tariff offers with their prices (rider socket view); energy mode names each TOU
/// period's electricity and service price per kWh (`elec_e4`, `service_e4`: 0.0001 yuan) and
/// `current_period`, the period in force at `now`.
void write_modes(json::Writer& w, const billing::Tariff& t, EpochMs now);
/// `prepaid_amounts_fen`: the amounts riders pick their `max_fen` from (empty: any amount).
void write_prepaid_amounts(json::Writer& w, const std::vector<std::int64_t>& amounts_fen);

// ---- JSON shapes ----
void write_station(json::Writer& w, const Services& s, const StationRow& st);
void write_device(json::Writer& w, const Services& s, const DeviceRow& d);
/// A saved tariff version: id, version, level (station, area or device) with its target, the scheme it
/// was copied from (or null), effective_from, created_at/by and the document.
void write_tariff_row(json::Writer& w, const Services& s, const TariffRow& t);
void write_account(json::Writer& w, const Services& s, const AccountRow& a);
void write_ledger_entry(json::Writer& w, const Services& s, const LedgerRow& l, bool with_account);
void write_card(json::Writer& w, const Services& s, const CardRow& c);
void write_payment(json::Writer& w, const Services& s, const payments::Order& p);
/// An export as the operator asked for it (`format` csv or xlsx), downloaded as `base`.csv / .xlsx.
Response send_table(const exports::Table& t, const std::string& format, const std::string& base);
/// Every ledger kind's word (the ledger lists' `kind` filter).
std::vector<std::string> ledger_kind_words();
/// The exports' `format` query parameter.
FieldSpec format_param();
/// A session as the rider sees it (CONTRACT B): live figures for running sessions.
void write_session(json::Writer& w, Services& s, const SessionRow& row, bool admin);
/// `{sessions: [...]}`: the sessions of a filter, as the rider or (`admin`) the operator sees them.
std::string sessions_reply(Services& s, const SessionFilter& f, bool admin);
/// The power curve `[{t, power_w, energy_wh}]`.
void write_curve(json::Writer& w, const Services& s, const std::vector<SampleRow>& samples);

/// The words of a `state` filter of session lists: `active` (every state that holds its socket,
/// SessionFilter) followed by the svc state words for which `include` is true.
std::vector<std::string> session_state_words(bool (*include)(svc::SessionState));

/// The `kind` filter of operator session lists and exports: `ebike` (e-bike sockets) or `ev` (car guns).
FieldSpec session_kind_param();

/// Paging parameters shared by list routes.
FieldSpec limit_param();
FieldSpec offset_param();

} // namespace pilehub::api
