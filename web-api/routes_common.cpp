#include "web-api/routes_common.hpp"

#include "common/ledger.hpp"
#include "common/log.hpp"
#include "common/pricing.hpp"
#include "common/registry.hpp"
#include "common/tariff_store.hpp"
#include "web-api/device_cache.hpp"

#include <fmt/format.h>

namespace pilehub::api {

std::string when(const Services& s, EpochMs t) {
    return rfc3339(t, s.settings.utc_offset_s);
}

void write_time(json::Writer& w, const Services& s, std::string_view key, std::optional<EpochMs> t) {
    w.key(key);
    if (t)
        w.value(when(s, *t));
    else
        w.null();
}

std::optional<EpochMs> parse_time(const Services& s, const std::string& text) {
    if (text.size() == 10 && text[4] == '-' && text[7] == '-')
        return billing::parse_local_datetime(text + " 00:00", s.settings.utc_offset_s);
    return billing::parse_rfc3339(text);
}

std::optional<EpochMs> query_time(const Services& s, const Request& req, const std::string& name) {
    auto v = req.query(name);
    if (!v || v->empty())
        return std::nullopt;
    auto t = parse_time(s, *v);
    if (!t)
        fail(ErrorCode::InvalidRequest, fmt::format("{} must be an RFC 3339 time or a date YYYY-MM-DD", name));
    return t;
}

std::optional<std::set<std::int64_t>> scope_of(const Principal& p) {
    if (p.all_stations)
        return std::nullopt;
    return p.station_ids;
}

void require_station(const Principal& p, std::int64_t station_id, std::string_view what) {
    if (!p.sees_station(station_id))
        fail(ErrorCode::NotFound, fmt::format("no such {}", what));
}

Response send_table(const exports::Table& t, const std::string& format, const std::string& base) {
    if (format == "xlsx")
        return Response::file(exports::to_xlsx(t), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                              base + ".xlsx");
    return Response::file(exports::to_csv(t), "text/csv; charset=utf-8", base + ".csv");
}

std::vector<std::string> ledger_kind_words() {
    std::vector<std::string> out;
    for (auto k : {ledger::Kind::Recharge, ledger::Kind::Bonus, ledger::Kind::Charge, ledger::Kind::Refund,
                   ledger::Kind::Adjust, ledger::Kind::CardFee, ledger::Kind::Parking, ledger::Kind::Arrears,
                   ledger::Kind::RefundOrder, ledger::Kind::RefundReversal})
        out.emplace_back(ledger::to_string(k));
    return out;
}

FieldSpec format_param() {
    return str_enum("format", false, {"csv", "xlsx"}, "csv (default) or xlsx.");
}

AccountRow user_in_scope(AccountStore& accounts, const Principal& who, std::int64_t id) {
    auto a = accounts.account(id);
    // A station-scoped operator sees the accounts opened at its stations only.
    if (!a || !(who.all_stations || (a->home_station_id && who.sees_station(*a->home_station_id))))
        fail(ErrorCode::NotFound, "no such user");
    return *a;
}

bool sync_broker_users(Services& s, db::Database& d, const std::string& device_id) {
    registry::Store reg(d);
    std::string why;
    const bool reloaded = registry::sync_broker_credentials(reg, s.settings.password_file, s.settings.pid_file, &why);
    if (!reloaded)
        log::warn(log::Ctx{device_id, {}}, "broker not reloaded: {}", why);
    return reloaded;
}

void require_unscoped(const Principal& p, std::string_view what) {
    if (!p.all_stations)
        fail(ErrorCode::Forbidden, fmt::format("{} needs an operator who manages every station", what));
}

[[noreturn]] void fail_from_reply(const rpc::Reply& r) {
    if (r.status == "timeout")
        fail(ErrorCode::Timeout, r.msg.empty() ? "the session service did not answer in time" : r.msg);
    if (auto c = parse_error_code(r.code))
        fail(*c, r.msg.empty() ? std::string(to_string(*c)) : r.msg);
    if (r.status == "expired")
        fail(ErrorCode::Expired, "the request expired before the service handled it");
    if (r.status == "busy")
        fail(ErrorCode::Conflict, r.msg.empty() ? "busy; try again" : r.msg);
    if (r.status == "invalid")
        fail(ErrorCode::InvalidRequest, r.msg.empty() ? "the service refused the request as invalid" : r.msg);
    if (r.status == "unsupported")
        fail(ErrorCode::Unsupported, r.msg.empty() ? "not supported" : r.msg);
    if (r.status == "rejected") // a device's own refusal of a relayed command, without a code of ours
        fail(ErrorCode::Conflict, r.msg.empty() ? "the device refused" : "the device refused: " + r.msg);
    log::warn("sessiond answered {} with unknown code `{}`: {}", r.status, r.code, r.msg);
    fail(ErrorCode::Internal, "the session service failed");
}

rpc::Reply call_sessiond(Services& s, std::string_view method, const std::string& data_json, int timeout_ms) {
    if (!s.sessions)
        return rpc::Reply::refuse("timeout", "the session service is not connected", "timeout");
    return s.sessions->call(std::string(method), data_json, timeout_ms);
}

[[noreturn]] void fail_bad_reply(std::string_view name, const std::string& why) {
    log::error("sessiond answered a {} this API cannot read: {}", name, why);
    fail(ErrorCode::Internal, "the session service answered in an unexpected shape");
}

void check_posting(const ledger::Posting& p) {
    switch (p.outcome) {
    case ledger::Outcome::Applied:
    case ledger::Outcome::Duplicate:
        return;
    case ledger::Outcome::UnknownAccount:
        fail(ErrorCode::NotFound, "no such user");
    case ledger::Outcome::AccountFrozen:
        fail(ErrorCode::AccountFrozen, "the account is frozen");
    case ledger::Outcome::InsufficientFunds:
        fail(ErrorCode::BalanceTooLow, "the wallet's balance does not cover it");
    case ledger::Outcome::NotRefundable:
        fail(ErrorCode::Conflict, "more than what was paid in and not yet spent or refunded");
    case ledger::Outcome::UnknownPackage:
        fail(ErrorCode::NotFound, "no such recharge package");
    default:
        fail(ErrorCode::InvalidRequest, fmt::format("refused: {}", ledger::to_string(p.outcome)));
    }
}

void check_card_change(const CardChange& c, std::string_view changed_message) {
    if (!c.card_changed)
        fail(ErrorCode::Conflict, std::string(changed_message));
    check_posting(c.fee);
}

bool device_online(Services& s, CatalogStore& cat, const std::string& device_id) {
    if (s.devices)
        if (auto o = s.devices->online(device_id))
            return *o;
    return cat.stored_presence(device_id).value_or(false);
}

SocketStates::SocketStates(Services& s, CatalogStore& cat, const std::vector<std::int64_t>& station_ids)
    : s_(s), cat_(cat), busy_(cat.busy_ports(station_ids)), faulted_(cat.faulted_ports(station_ids)) {}

const SocketStates::Device& SocketStates::device(const std::string& device_id) {
    auto it = devices_.find(device_id);
    if (it == devices_.end()) {
        Device d;
        d.online = device_online(s_, cat_, device_id);
        if (d.online && s_.devices)
            d.ports = s_.devices->port_states(device_id);
        it = devices_.emplace(device_id, std::move(d)).first;
    }
    return it->second;
}

std::string_view SocketStates::state(const std::string& device_id, int n, bool visible) {
    return sockets::rider_word(availability(device_id, n, visible));
}

sockets::Availability SocketStates::availability(const std::string& device_id, int n, bool visible) {
    sockets::SocketFacts f;
    f.enabled = visible;
    if (visible) {
        const auto& dev = device(device_id);
        f.device_online = dev.online;
        f.fault_open = faulted_.count({device_id, n}) > 0 || faulted_.count({device_id, 0}) > 0;
        f.session_live = busy_.count({device_id, n}) > 0;
        if (auto p = dev.ports.find(n); p != dev.ports.end())
            f.reported = p->second;
    }
    return sockets::socket_availability(f);
}

std::string socket_state(Services& s, CatalogStore& cat, const std::string& device_id, int n) {
    const bool visible = cat.port_visible(device_id, n);
    auto dev = cat.device(device_id);
    SocketStates states(s, cat, {dev && dev->station_id ? *dev->station_id : 0});
    return std::string(states.state(device_id, n, visible));
}

std::string_view rider_port_kind(std::string_view device_kind) {
    return device_kind == "ev_charger" ? "ev_gun" : "socket";
}

void write_prepaid_amounts(json::Writer& w, const std::vector<std::int64_t>& amounts_fen) {
    w.key("prepaid_amounts_fen").begin_array();
    for (auto a : amounts_fen)
        w.value(a);
    w.end_array();
}

void write_modes(json::Writer& w, const billing::Tariff& t, EpochMs now) {
    w.key("modes").begin_array();
    for (auto m : t.modes) {
        w.begin_object().field("mode", billing::to_string(m));
        if (m == billing::Mode::Time && t.time) {
            w.field("fen_per_hour", t.time->fen_per_hour);
            w.key("options").begin_array();
            for (auto minutes : t.time->options_minutes) {
                const auto fen = ExactFen::from_seconds_at(minutes * 60, t.time->fen_per_hour).floor_fen();
                w.begin_object().field("minutes", minutes).field("price_fen", fen.value()).end_object();
            }
            w.end_array();
        } else if (m == billing::Mode::Power && t.power) {
            w.key("tiers").begin_array();
            for (const auto& tier : t.power->tiers)
                w.begin_object().field("up_to_w", tier.up_to_w).field("fen_per_hour", tier.fen_per_hour).end_object();
            w.end_array();
        } else if (m == billing::Mode::Energy && t.energy) {
            w.key("periods").begin_object();
            for (auto p :
                 {billing::Period::Sharp, billing::Period::Peak, billing::Period::Flat, billing::Period::Valley}) {
                const auto& price = t.energy->periods[static_cast<std::size_t>(p)];
                if (!price)
                    continue;
                w.key(billing::to_string(p)).begin_object();
                w.field("elec_e4", price->elec_e4).field("service_e4", price->service_e4);
                w.end_object();
            }
            w.end_object();
            w.field("service_by", billing::to_string(t.energy->service_by));
            const auto tz = billing::find_time_zone(t.timezone);
            w.field("current_period",
                    billing::to_string(billing::period_at(*t.energy, now, tz ? tz->utc_offset_s : 0)));
            if (t.energy->service_by == billing::ServiceBy::Hour)
                w.field("service_fen_per_hour", t.energy->service_fen_per_hour);
        }
        w.end_object();
    }
    w.end_array();
    w.field("free", t.free).field("free_minutes", t.free_minutes);
    w.field("min_start_balance_fen", t.min_start_balance_fen.value());
    w.key("cap").begin_object();
    w.opt_field("max_minutes", t.cap.max_minutes);
    if (t.cap.max_fen)
        w.field("max_fen", t.cap.max_fen->value());
    w.end_object();
}

void write_station(json::Writer& w, const Services& s, const StationRow& st) {
    w.field("id", st.id).field("name", st.name).field("address", st.address);
    w.field("lat", static_cast<double>(st.lat_e6) / 1e6).field("lon", static_cast<double>(st.lon_e6) / 1e6);
    w.field("open_hours", st.open_hours).field("timezone", st.timezone);
    w.key("property_id");
    if (st.property_id)
        w.value(*st.property_id);
    else
        w.null();
    w.field("enabled", st.enabled).field("visible", st.visible).field("created_at", when(s, st.created_at));
}

void write_tariff_row(json::Writer& w, const Services& s, const TariffRow& t) {
    w.begin_object().field("id", t.id).field("version", t.version).field("level", billing::to_string(t.level()));
    w.field("station_id", t.station_id).nullable_field("area_id", t.area_id).nullable_field("device_id", t.device_id);
    w.nullable_field("scheme_id", t.scheme_id).field("effective_from", when(s, t.effective_from));
    w.field("created_at", when(s, t.created_at)).field("created_by", t.created_by);
    w.key("tariff");
    if (auto doc = json::parse(t.document); doc)
        w.raw_value(*doc);
    else
        w.null();
    w.end_object();
}

void write_device(json::Writer& w, const Services& s, const DeviceRow& d) {
    w.field("id", d.id)
        .field("kind", d.kind)
        .field("protocol", d.protocol)
        .field("name", d.name)
        .field("model", d.model);
    w.nullable_field("station_id", d.station_id);
    w.key("area_id");
    if (d.area_id)
        w.value(*d.area_id);
    else
        w.null();
    w.field("port_count", d.ports).field("enabled", d.enabled).field("visible", d.visible);
    for (const auto& [key, value] : {std::pair{"factory_id", &d.factory_id}, {"sim", &d.sim}, {"ip", &d.ip}}) {
        w.key(key);
        if (*value)
            w.value(**value);
        else
            w.null();
    }
    w.field("created_at", when(s, d.created_at));
    // CONTRACT G "Lifecycle": stock (no station), installed, retired; the model and the dates.
    w.field("lifecycle", d.lifecycle)
        .nullable_field("model_id", d.model_id)
        .nullable_field("produced_on", d.produced_on);
    write_time(w, s, "installed_at", d.installed_at);
    write_time(w, s, "retired_at", d.retired_at);
}

void write_account(json::Writer& w, const Services& s, const AccountRow& a) {
    w.field("id", a.id).field("phone", a.phone).field("name", a.name).field("frozen", a.frozen);
    w.key("home_station_id");
    if (a.home_station_id)
        w.value(*a.home_station_id);
    else
        w.null();
    w.field("created_at", when(s, a.created_at));
    w.key("wallet")
        .begin_object()
        .field("balance_fen", a.balance_fen)
        .field("bonus_fen", a.bonus_fen)
        .field("arrears_fen", a.arrears_fen)
        .end_object();
}

void write_ledger_entry(json::Writer& w, const Services& s, const LedgerRow& l, bool with_account) {
    w.begin_object()
        .field("id", l.id)
        .field("kind", l.kind)
        .field("real_fen", l.real_fen)
        .field("bonus_fen", l.bonus_fen);
    w.field("real_after", l.real_after).field("bonus_after", l.bonus_after).field("ref", l.ref);
    w.field("operator", l.op)
        .field("note", l.note)
        .field("at", when(s, l.at))
        .field("idempotency_key", l.idempotency_key);
    if (with_account)
        w.field("account_id", l.account_id).field("phone", l.phone);
    w.end_object();
}

void write_card(json::Writer& w, const Services& s, const CardRow& c) {
    w.begin_object().field("card_no", c.card_no).field("name", c.name).field("status", c.status);
    w.key("account_id");
    if (c.account_id)
        w.value(*c.account_id);
    else
        w.null();
    w.field("fee_fen", c.fee_fen).field("issued_at", when(s, c.issued_at));
    write_time(w, s, "bound_at", c.bound_at);
    w.key("station_id");
    if (c.station_id)
        w.value(*c.station_id);
    else
        w.null();
    w.end_object();
}

void write_payment(json::Writer& w, const Services& s, const payments::Order& p) {
    w.begin_object()
        .field("id", p.id)
        .field("amount_fen", p.amount_fen.value())
        .field("bonus_fen", p.bonus_fen.value());
    w.key("package_id");
    if (p.package_id)
        w.value(*p.package_id);
    else
        w.null();
    w.field("provider", p.provider)
        .field("status", payments::to_string(p.status))
        .field("created_at", when(s, p.created_at));
    write_time(w, s, "paid_at", p.paid_at);
    w.end_object();
}

namespace {

/// billingd's running cost, or the same engine run here on the samples recorded so far.
std::optional<std::int64_t> running_cost_fen(Services& s, const SessionRow& row) {
    if (s.devices)
        if (auto c = s.devices->session_cost(row.id))
            return c;
    if (!row.started_at)
        return std::nullopt;
    try {
        auto core = s.core->get();
        // The version billingd prices the session with (the one lookup it shares with sessiond).
        const auto t = billing::TariffStore(*core).for_session(row.id).tariff;
        auto mode = billing::parse_mode(row.mode);
        if (!t || !mode)
            return std::nullopt;
        std::vector<billing::Sample> samples;
        if (s.telemetry) {
            auto tele = s.telemetry->get();
            for (const auto& p : session_samples(*tele, row.id, 100000))
                samples.push_back(billing::Sample{p.t, p.energy_wh, p.power_w});
        }
        billing::PricingInput in;
        in.mode = *mode;
        in.start_ms = *row.started_at;
        in.minutes = row.minutes;
        in.samples = samples;
        auto bill = billing::running_cost(*t, in, s.now());
        if (!bill)
            return std::nullopt;
        return bill->cost_fen.value();
    } catch (const std::exception& e) {
        log::warn(log::Ctx{{}, row.id}, "running cost unavailable: {}", e.what());
        return std::nullopt;
    }
}

} // namespace

void write_session(json::Writer& w, Services& s, const SessionRow& row, bool admin) {
    w.field("id", row.id).field("state", svc::to_string(row.state));
    w.field("socket", sockets::socket_code({row.device_id, row.n})).field("device_id", row.device_id).field("n", row.n);
    w.field("station_id", row.station_id).field("kind", row.kind).field("mode", row.mode);
    w.opt_field("minutes", row.minutes);
    w.field("method", row.method);
    w.nullable_field("max_fen", row.max_fen).nullable_field("soc_pct", row.soc_pct);
    w.field("created_at", when(s, row.created_at));
    write_time(w, s, "started_at", row.started_at);
    write_time(w, s, "ended_at", row.ended_at);
    std::int64_t power = row.last_power_w, energy = row.energy_wh, duration = row.duration_s;
    std::optional<std::int64_t> cost = row.cost_fen;
    if (svc::holds_socket(row.state)) {
        // power and energy are the row's: sessiond writes them from every device report.
        if (row.started_at && svc::duration_grows(row.state))
            duration = std::max<std::int64_t>(duration, (s.now() - *row.started_at) / 1000);
        if (row.state == svc::SessionState::Starting)
            power = 0;
        if (!cost)
            cost = row.method == "operator" ? std::optional<std::int64_t>(0) : running_cost_fen(s, row); // free
    }
    w.field("power_w", power).field("energy_wh", energy).field("duration_s", duration);
    w.key("cost_fen");
    if (cost)
        w.value(*cost);
    else
        w.null();
    w.field("settled", row.cost_fen.has_value());
    // The settlement's split (BILLING §5); null until settled, and on sessions settled before it existed.
    w.nullable_field("electricity_fen", row.electricity_fen).nullable_field("service_fen", row.service_fen);
    w.key("stop_reason");
    if (row.stop_reason)
        w.value(*row.stop_reason);
    else
        w.null();
    w.field("max_power_w", row.max_power_w);
    if (row.failure)
        w.field("failure", *row.failure);
    if (admin) {
        w.field("account_id", row.account_id).field("phone", row.phone);
        w.opt_field("operator", row.operator_name);
        w.opt_field("card_no", row.card_no);
        w.opt_field("tariff_id", row.tariff_id);
        w.opt_field("stop_requested", row.stop_requested);
        write_time(w, s, "last_report_at", row.last_report_at);
    }
}

std::string sessions_reply(Services& s, const SessionFilter& f, bool admin) {
    auto d = s.core->get();
    json::Writer w;
    w.begin_object().key("sessions").begin_array();
    for (const auto& row : SessionStore(*d).sessions(f)) {
        w.begin_object();
        write_session(w, s, row, admin);
        w.end_object();
    }
    w.end_array().end_object();
    return w.str();
}

void write_curve(json::Writer& w, const Services& s, const std::vector<SampleRow>& samples) {
    w.key("curve").begin_array();
    for (const auto& p : samples)
        w.begin_object()
            .field("t", when(s, p.t))
            .field("power_w", p.power_w)
            .field("energy_wh", p.energy_wh)
            .end_object();
    w.end_array();
}

std::vector<std::string> session_state_words(bool (*include)(svc::SessionState)) {
    std::vector<std::string> out{"active"};
    for (auto st : svc::kAllSessionStates)
        if (include(st))
            out.emplace_back(svc::to_string(st));
    return out;
}

FieldSpec session_kind_param() {
    return str_enum("kind", false, {"ebike", "ev"}, "ebike (e-bike sockets) or ev (car guns).");
}

FieldSpec limit_param() {
    return integer("limit", false, 1, 500, "Page size (default 50).");
}
FieldSpec offset_param() {
    return integer("offset", false, 0, 1'000'000, "Rows to skip.");
}

} // namespace pilehub::api
