#include "common/payloads/codec_detail.hpp"

#include <fmt/format.h>

#include <bitset>

namespace pilehub::payloads::detail {

namespace {

double req_socket_power(json::Object& o, std::string_view key) {
    return o.req_num(key, 0, kMaxSocketPowerW);
}

std::optional<double> opt_socket_power(json::Object& o, std::string_view key) {
    return o.opt_num(key, 0, kMaxSocketPowerW);
}

} // namespace

void read_data(json::Object& d, EbikeConnState& out) {
    out.st = req_enum<EbikeSocketStatus>(d, "st");
    out.sid = opt_token(d, "sid");
    out.since = req_ts(d, "since");
    out.faults = opt_words(d, "faults");
}

void write_data(json::Writer& w, const EbikeConnState& v) {
    w.field("st", enum_name(v.st)).opt_field("sid", v.sid).field("since", v.since);
    write_words(w, "faults", v.faults);
}

void read_data(json::Object& d, EbikeSocketTele& out) {
    out.n = req_n(d, "n", 1, kMaxSockets);
    out.st = req_enum<EbikeSocketStatus>(d, "st");
    out.voltage_v = d.opt_num("voltage_v", 0, kMaxEbikeVoltageV);
    out.current_a = d.opt_num("current_a", 0, kMaxEbikeCurrentA);
    out.power_w = req_socket_power(d, "power_w");
    out.session_energy_wh = d.opt_int("session_energy_wh", 0, kMaxSessionEnergyWh);
    out.sid = opt_token(d, "sid");
}

void write_data(json::Writer& w, const EbikeSocketTele& v) {
    w.field("n", v.n).field("st", enum_name(v.st));
    w.opt_field("voltage_v", v.voltage_v).opt_field("current_a", v.current_a).field("power_w", v.power_w);
    w.opt_field("session_energy_wh", v.session_energy_wh).opt_field("sid", v.sid);
}

void read_data(json::Object& d, EbikeTele& out) {
    out.temp_c = d.opt_num("temp_c", kMinTempC, kMaxTempC);
    out.total_power_w = d.req_num("total_power_w", 0, kMaxPileTotalPowerW);
    out.rssi_dbm = opt_small(d, "rssi_dbm", -150, 0);
    auto a = d.req_arr("sockets", static_cast<std::size_t>(kMaxSockets));
    std::bitset<kMaxSockets + 1> seen;
    for (std::size_t i = 0; i < a.size() && d.ok(); ++i) {
        auto s = a.obj(i);
        EbikeSocketTele t;
        read_data(s, t);
        if (!d.ok())
            break;
        if (seen.test(static_cast<std::size_t>(t.n))) {
            s.fail("n", fmt::format("repeats socket {}", t.n));
            break;
        }
        seen.set(static_cast<std::size_t>(t.n));
        out.sockets.push_back(std::move(t));
    }
}

void write_data(json::Writer& w, const EbikeTele& v) {
    w.opt_field("temp_c", v.temp_c).field("total_power_w", v.total_power_w).opt_field("rssi_dbm", v.rssi_dbm);
    w.key("sockets").begin_array();
    for (const auto& s : v.sockets) {
        w.begin_object();
        write_data(w, s);
        w.end_object();
    }
    w.end_array();
}

void read_data(json::Object& d, EbikeCardSwipe& out) {
    out.card_uid = req_token(d, "card_uid", kMaxCardUidLen, true);
    out.n = req_n(d, "n", 1, kMaxSockets);
}
void write_data(json::Writer& w, const EbikeCardSwipe& v) {
    w.field("card_uid", v.card_uid).field("n", v.n);
}

void read_data(json::Object& d, EbikeSessionStarted& out) {
    out.n = req_n(d, "n", 1, kMaxSockets);
    out.sid = req_token(d, "sid");
    out.start_ts = req_ts(d, "start_ts");
}
void write_data(json::Writer& w, const EbikeSessionStarted& v) {
    w.field("n", v.n).field("sid", v.sid).field("start_ts", v.start_ts);
}

void read_data(json::Object& d, EbikeSessionStopped& out) {
    out.n = req_n(d, "n", 1, kMaxSockets);
    out.sid = req_token(d, "sid");
    out.reason = req_enum<EbikeStopReason>(d, "reason");
    out.energy_wh = d.req_int("energy_wh", 0, kMaxSessionEnergyWh);
    out.duration_s = d.req_int("duration_s", 0, kMaxDurationS);
    out.max_power_w = req_socket_power(d, "max_power_w");
}
void write_data(json::Writer& w, const EbikeSessionStopped& v) {
    w.field("n", v.n).field("sid", v.sid).field("reason", enum_name(v.reason));
    w.field("energy_wh", v.energy_wh).field("duration_s", v.duration_s).field("max_power_w", v.max_power_w);
}

void read_data(json::Object& d, EbikeFault& out) {
    out.code = req_word(d, "code");
    out.bit = req_n(d, "bit", 0, 31);
    out.active = d.req_bool("active");
    out.n = req_n(d, "n", 0, kMaxSockets);
}
void write_data(json::Writer& w, const EbikeFault& v) {
    w.field("code", v.code).field("bit", v.bit).field("active", v.active).field("n", v.n);
}

void read_data(json::Object& d, EbikeAuthorize& out) {
    out.card_uid = req_token(d, "card_uid", kMaxCardUidLen, true);
    out.n = req_n(d, "n", 1, kMaxSockets);
}
void write_data(json::Writer& w, const EbikeAuthorize& v) {
    w.field("card_uid", v.card_uid).field("n", v.n);
}

void read_data(json::Object& d, EbikeSessionRecord& out) {
    out.n = req_n(d, "n", 1, kMaxSockets);
    out.sid = req_token(d, "sid");
    out.reason = req_enum<EbikeStopReason>(d, "reason");
    out.energy_wh = d.req_int("energy_wh", 0, kMaxSessionEnergyWh);
    out.duration_s = d.req_int("duration_s", 0, kMaxDurationS);
    out.max_power_w = req_socket_power(d, "max_power_w");
    out.start_ts = req_ts(d, "start_ts");
    out.stop_ts = req_ts(d, "stop_ts");
    if (d.ok() && out.stop_ts < out.start_ts)
        d.fail("stop_ts", "is before start_ts");
}
void write_data(json::Writer& w, const EbikeSessionRecord& v) {
    w.field("n", v.n).field("sid", v.sid).field("reason", enum_name(v.reason));
    w.field("energy_wh", v.energy_wh).field("duration_s", v.duration_s).field("max_power_w", v.max_power_w);
    w.field("start_ts", v.start_ts).field("stop_ts", v.stop_ts);
}

void read_data(json::Object& d, EbikeStartPort& out) {
    out.n = req_n(d, "n", 1, kMaxSockets);
    out.sid = req_token(d, "sid");
    auto l = d.req_obj("limit");
    if (l.present())
        read_data(l, out.limit);
}
void write_data(json::Writer& w, const EbikeStartPort& v) {
    w.field("n", v.n).field("sid", v.sid);
    write_obj(w, "limit", v.limit);
}

void read_data(json::Object& d, EbikeStopPort& out) {
    out.n = req_n(d, "n", 1, kMaxSockets);
    out.sid = opt_token(d, "sid");
}
void write_data(json::Writer& w, const EbikeStopPort& v) {
    w.field("n", v.n).opt_field("sid", v.sid);
}

void read_data(json::Object& d, EbikeQueryPort& out) {
    out.n = req_n(d, "n", 1, kMaxSockets);
}
void write_data(json::Writer& w, const EbikeQueryPort& v) {
    w.field("n", v.n);
}

void read_data(json::Object&, EbikeQueryDevice&) {}
void write_data(json::Writer&, const EbikeQueryDevice&) {}

void read_data(json::Object& d, EbikePortStatus& out) {
    out.n = req_n(d, "n", 1, kMaxSockets);
    out.st = req_enum<EbikeSocketStatus>(d, "st");
    out.sid = opt_token(d, "sid");
    out.since = req_ts(d, "since");
    out.faults = opt_words(d, "faults");
    out.voltage_v = d.opt_num("voltage_v", 0, kMaxEbikeVoltageV);
    out.current_a = d.opt_num("current_a", 0, kMaxEbikeCurrentA);
    out.power_w = opt_socket_power(d, "power_w");
    out.session_energy_wh = d.opt_int("session_energy_wh", 0, kMaxSessionEnergyWh);
}
void write_data(json::Writer& w, const EbikePortStatus& v) {
    w.field("n", v.n).field("st", enum_name(v.st)).opt_field("sid", v.sid).field("since", v.since);
    write_words(w, "faults", v.faults);
    w.opt_field("voltage_v", v.voltage_v).opt_field("current_a", v.current_a).opt_field("power_w", v.power_w);
    w.opt_field("session_energy_wh", v.session_energy_wh);
}

void read_data(json::Object& d, EbikeDeviceReport& out) {
    read_data(d, out.device);
    auto a = d.req_arr("sockets", static_cast<std::size_t>(kMaxSockets));
    for (std::size_t i = 0; i < a.size() && d.ok(); ++i) {
        auto s = a.obj(i);
        EbikePortStatus p;
        read_data(s, p);
        if (d.ok())
            out.sockets.push_back(std::move(p));
    }
}
void write_data(json::Writer& w, const EbikeDeviceReport& v) {
    write_data(w, v.device);
    w.key("sockets").begin_array();
    for (const auto& s : v.sockets) {
        w.begin_object();
        write_data(w, s);
        w.end_object();
    }
    w.end_array();
}

void read_config(json::Object& d, EbikeConfig& c) {
    const EbikeConfig def;
    c.full_stop_w = d.opt_int("full_stop_w", 0, 255).value_or(def.full_stop_w);
    c.full_wait_s = d.opt_int("full_wait_s", 0, 86'400).value_or(def.full_wait_s);
    c.no_load_wait_s = d.opt_int("no_load_wait_s", 0, 3'600).value_or(def.no_load_wait_s);
    c.socket_overload_w = d.opt_int("socket_overload_w", 1, 10'000).value_or(def.socket_overload_w);
    c.device_overload_w = d.opt_int("device_overload_w", 1, 200'000).value_or(def.device_overload_w);
    c.temp_warn_c = d.opt_int("temp_warn_c", 0, 150).value_or(def.temp_warn_c);
    c.temp_stop_c = d.opt_int("temp_stop_c", 0, 150).value_or(def.temp_stop_c);
    c.tele_period_s = d.opt_int("tele_period_s", 5, 3'600).value_or(def.tele_period_s);
    c.idle_tele_period_s = d.opt_int("idle_tele_period_s", 5, 86'400).value_or(def.idle_tele_period_s);
    auto a = d.opt_arr("socket_overrides", static_cast<std::size_t>(kMaxSockets));
    std::bitset<kMaxSockets + 1> seen;
    for (std::size_t i = 0; i < a.size() && d.ok(); ++i) {
        auto o = a.obj(i);
        SocketOverride s;
        s.n = req_n(o, "n", 1, kMaxSockets);
        s.socket_overload_w = o.opt_int("socket_overload_w", 1, 10'000);
        s.full_stop_w = o.opt_int("full_stop_w", 0, 255);
        if (!d.ok())
            break;
        if (seen.test(static_cast<std::size_t>(s.n))) {
            o.fail("n", fmt::format("repeats socket {}", s.n));
            break;
        }
        seen.set(static_cast<std::size_t>(s.n));
        c.socket_overrides.push_back(s);
    }
    if (d.ok() && c.temp_warn_c > c.temp_stop_c)
        d.fail("temp_warn_c", fmt::format("({}) is above temp_stop_c ({})", c.temp_warn_c, c.temp_stop_c));
}

void write_config(json::Writer& w, const EbikeConfig& c) {
    w.field("full_stop_w", c.full_stop_w).field("full_wait_s", c.full_wait_s);
    w.field("no_load_wait_s", c.no_load_wait_s).field("socket_overload_w", c.socket_overload_w);
    w.field("device_overload_w", c.device_overload_w);
    w.key("socket_overrides").begin_array();
    for (const auto& s : c.socket_overrides) {
        w.begin_object().field("n", s.n);
        w.opt_field("socket_overload_w", s.socket_overload_w).opt_field("full_stop_w", s.full_stop_w);
        w.end_object();
    }
    w.end_array();
    w.field("temp_warn_c", c.temp_warn_c).field("temp_stop_c", c.temp_stop_c);
    w.field("tele_period_s", c.tele_period_s).field("idle_tele_period_s", c.idle_tele_period_s);
}

void read_data(json::Object& d, EbikeCfgDesired& out) {
    read_cfg_desired(d, out);
}
void write_data(json::Writer& w, const EbikeCfgDesired& v) {
    write_cfg_desired(w, v);
}

void read_data(json::Object& d, EbikeCfgReported& out) {
    read_cfg_reported(d, out);
}
void write_data(json::Writer& w, const EbikeCfgReported& v) {
    write_cfg_reported(w, v);
}

} // namespace pilehub::payloads::detail

PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EbikeConnState)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EbikeTele)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EbikeCardSwipe)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EbikeSessionStarted)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EbikeSessionStopped)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EbikeFault)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EbikeAuthorize)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EbikeSessionRecord)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EbikeStartPort)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EbikeStopPort)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EbikeQueryPort)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EbikeQueryDevice)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::Reply<pilehub::payloads::EbikePortStatus>)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::Reply<pilehub::payloads::EbikeDeviceReport>)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EbikeCfgDesired)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EbikeCfgReported)
