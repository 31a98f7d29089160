#include "common/payloads/codec_detail.hpp"

#include <fmt/format.h>

#include <bitset>

namespace pilehub::payloads {

std::vector<std::string> ev_fault_names(std::uint32_t fault_bits) {
    std::vector<std::string> out;
    for (std::size_t bit = 0; bit < detail::kNames<EvFault>.size(); ++bit)
        if ((fault_bits >> bit) & 1u && !detail::kNames<EvFault>[bit].empty())
            out.emplace_back(detail::kNames<EvFault>[bit]);
    return out;
}

std::optional<std::uint32_t> ev_fault_bits(const std::vector<std::string>& names) {
    std::uint32_t bits = 0;
    for (const auto& n : names) {
        auto f = detail::enum_from<EvFault>(n);
        if (!f)
            return std::nullopt;
        bits |= ev_fault_mask(*f);
    }
    return bits;
}

namespace detail {

namespace {

constexpr std::uint32_t named_fault_mask() {
    std::uint32_t m = 0;
    for (std::size_t bit = 0; bit < kNames<EvFault>.size(); ++bit)
        if (!kNames<EvFault>[bit].empty())
            m |= std::uint32_t{1} << bit;
    return m;
}

/// `fault_bits` plus `faults`, whose names must be exactly the named bits that are set.
std::uint32_t read_fault_set(json::Object& d) {
    const auto bits = opt_bits(d, "fault_bits");
    const auto names = opt_words(d, "faults");
    if (!d.ok())
        return 0;
    const auto from_names = ev_fault_bits(names);
    if (!from_names) {
        for (std::size_t i = 0; i < names.size(); ++i)
            if (!enum_from<EvFault>(names[i])) {
                d.fail(fmt::format("faults[{}]", i),
                       fmt::format("'{}' is not one of {}", names[i], enum_choices<EvFault>()));
                break;
            }
        return 0;
    }
    if (*from_names != (bits & named_fault_mask()))
        d.fail("faults", fmt::format("do not match fault_bits {}", bits));
    return bits;
}

void write_fault_set(json::Writer& w, std::uint32_t bits) {
    w.field("fault_bits", bits);
    write_words(w, "faults", ev_fault_names(bits));
}

int req_gun(json::Object& d) {
    return req_n(d, "n", 1, kMaxGuns);
}

std::optional<std::string> opt_id_tag(json::Object& d) {
    return opt_token(d, "id_tag", kMaxIdTagLen);
}
std::string req_id_tag(json::Object& d) {
    return req_token(d, "id_tag", kMaxIdTagLen);
}

void check_meters(json::Object& d, std::int64_t start, std::int64_t stop) {
    if (d.ok() && stop < start)
        d.fail("meter_stop_wh", fmt::format("({}) is below meter_start_wh ({})", stop, start));
}

} // namespace

void read_data(json::Object& d, EvConnState& out) {
    out.st = req_enum<EvGunStatus>(d, "st");
    out.sid = opt_token(d, "sid");
    out.since = req_ts(d, "since");
    out.fault_bits = read_fault_set(d);
}
void write_data(json::Writer& w, const EvConnState& v) {
    w.field("st", enum_name(v.st)).opt_field("sid", v.sid).field("since", v.since);
    write_fault_set(w, v.fault_bits);
}

void read_data(json::Object& d, EvTele& out) {
    auto a = d.req_arr("guns", static_cast<std::size_t>(kMaxGuns));
    std::bitset<kMaxGuns + 1> seen;
    for (std::size_t i = 0; i < a.size() && d.ok(); ++i) {
        auto g = a.obj(i);
        EvGunTele t;
        t.n = req_gun(g);
        t.st = req_enum<EvGunStatus>(g, "st");
        t.sid = opt_token(g, "sid");
        t.energy_register_wh = g.req_int("energy_register_wh", 0, kMaxRegisterWh);
        t.session_energy_wh = g.opt_int("session_energy_wh", 0, kMaxSessionEnergyWh);
        t.power_w = g.req_num("power_w", 0, kMaxEvPowerW);
        t.current_a = g.opt_num("current_a", 0, kMaxEvCurrentA);
        t.voltage_v = g.opt_num("voltage_v", 0, kMaxEvVoltageV);
        t.soc_pct = opt_small(g, "soc_pct", 0, 100);
        if (!d.ok())
            break;
        if (seen.test(static_cast<std::size_t>(t.n))) {
            g.fail("n", fmt::format("repeats gun {}", t.n));
            break;
        }
        seen.set(static_cast<std::size_t>(t.n));
        out.guns.push_back(std::move(t));
    }
    out.temp_c = d.opt_num("temp_c", kMinTempC, kMaxTempC);
    out.total_power_w = d.opt_num("total_power_w", 0, kMaxDeviceTotalPowerW);
}
void write_data(json::Writer& w, const EvTele& v) {
    w.key("guns").begin_array();
    for (const auto& g : v.guns) {
        w.begin_object().field("n", g.n).field("st", enum_name(g.st)).opt_field("sid", g.sid);
        w.field("energy_register_wh", g.energy_register_wh).opt_field("session_energy_wh", g.session_energy_wh);
        w.field("power_w", g.power_w).opt_field("current_a", g.current_a).opt_field("voltage_v", g.voltage_v);
        w.opt_field("soc_pct", g.soc_pct).end_object();
    }
    w.end_array();
    w.opt_field("temp_c", v.temp_c).opt_field("total_power_w", v.total_power_w);
}

void read_data(json::Object& d, EvPlugIn& out) {
    out.n = req_gun(d);
}
void write_data(json::Writer& w, const EvPlugIn& v) {
    w.field("n", v.n);
}
void read_data(json::Object& d, EvPlugOut& out) {
    out.n = req_gun(d);
}
void write_data(json::Writer& w, const EvPlugOut& v) {
    w.field("n", v.n);
}

void read_data(json::Object& d, EvSessionStarted& out) {
    out.n = req_gun(d);
    out.sid = req_token(d, "sid");
    out.id_tag = opt_id_tag(d);
    out.meter_start_wh = d.req_int("meter_start_wh", 0, kMaxRegisterWh);
    out.start_ts = req_ts(d, "start_ts");
}
void write_data(json::Writer& w, const EvSessionStarted& v) {
    w.field("n", v.n).field("sid", v.sid).opt_field("id_tag", v.id_tag);
    w.field("meter_start_wh", v.meter_start_wh).field("start_ts", v.start_ts);
}

void read_data(json::Object& d, EvSessionStopped& out) {
    out.n = req_gun(d);
    out.sid = req_token(d, "sid");
    out.reason = req_enum<EvStopReason>(d, "reason");
    out.meter_start_wh = d.req_int("meter_start_wh", 0, kMaxRegisterWh);
    out.meter_stop_wh = d.req_int("meter_stop_wh", 0, kMaxRegisterWh);
    out.stop_ts = opt_ts(d, "stop_ts");
    check_meters(d, out.meter_start_wh, out.meter_stop_wh);
}
void write_data(json::Writer& w, const EvSessionStopped& v) {
    w.field("n", v.n).field("sid", v.sid).field("reason", enum_name(v.reason));
    w.field("meter_start_wh", v.meter_start_wh).field("meter_stop_wh", v.meter_stop_wh).opt_field("stop_ts", v.stop_ts);
}

void read_data(json::Object& d, EvFaultEvent& out) {
    out.n = req_n(d, "n", 0, kMaxGuns);
    if (d.ok() && !d.has("fault_bits"))
        d.fail("fault_bits", "is required");
    out.fault_bits = read_fault_set(d);
    out.vendor_code = opt_text(d, "vendor_code");
}
void write_data(json::Writer& w, const EvFaultEvent& v) {
    w.field("n", v.n);
    write_fault_set(w, v.fault_bits);
    w.opt_field("vendor_code", v.vendor_code);
}

void read_data(json::Object& d, EvAuthorize& out) {
    out.id_tag = req_id_tag(d);
    out.n = req_gun(d);
}
void write_data(json::Writer& w, const EvAuthorize& v) {
    w.field("id_tag", v.id_tag).field("n", v.n);
}

void read_data(json::Object& d, EvStartSessionReq& out) {
    out.n = req_gun(d);
    out.id_tag = req_id_tag(d);
    out.meter_start_wh = d.req_int("meter_start_wh", 0, kMaxRegisterWh);
    out.start_ts = opt_ts(d, "start_ts");
}
void write_data(json::Writer& w, const EvStartSessionReq& v) {
    w.field("n", v.n).field("id_tag", v.id_tag).field("meter_start_wh", v.meter_start_wh);
    w.opt_field("start_ts", v.start_ts);
}

void read_data(json::Object& d, EvStartSessionReply& out) {
    out.decision = req_enum<Decision>(d, "decision");
    out.sid = opt_token(d, "sid");
    out.reason = opt_code(d, "reason");
    if (d.ok() && out.decision == Decision::Accept && !out.sid)
        d.fail("sid", "is required when decision is accept");
}
void write_data(json::Writer& w, const EvStartSessionReply& v) {
    w.field("decision", enum_name(v.decision)).opt_field("sid", v.sid);
    if (v.reason)
        w.field("reason", to_string(*v.reason));
}

void read_data(json::Object& d, EvSessionRecord& out) {
    out.n = req_gun(d);
    out.sid = req_token(d, "sid");
    out.id_tag = opt_id_tag(d);
    out.reason = req_enum<EvStopReason>(d, "reason");
    out.meter_start_wh = d.req_int("meter_start_wh", 0, kMaxRegisterWh);
    out.meter_stop_wh = d.req_int("meter_stop_wh", 0, kMaxRegisterWh);
    out.start_ts = req_ts(d, "start_ts");
    out.stop_ts = req_ts(d, "stop_ts");
    out.max_power_w = d.opt_num("max_power_w", 0, kMaxEvPowerW);
    check_meters(d, out.meter_start_wh, out.meter_stop_wh);
    if (d.ok() && out.stop_ts < out.start_ts)
        d.fail("stop_ts", "is before start_ts");
}
void write_data(json::Writer& w, const EvSessionRecord& v) {
    w.field("n", v.n).field("sid", v.sid).opt_field("id_tag", v.id_tag).field("reason", enum_name(v.reason));
    w.field("meter_start_wh", v.meter_start_wh).field("meter_stop_wh", v.meter_stop_wh);
    w.field("start_ts", v.start_ts).field("stop_ts", v.stop_ts).opt_field("max_power_w", v.max_power_w);
}

void read_data(json::Object& d, EvStartSessionCmd& out) {
    out.n = req_gun(d);
    out.sid = req_token(d, "sid");
    out.id_tag = req_id_tag(d);
    auto l = d.opt_obj("limit");
    if (l.present()) {
        ChargeLimit x;
        read_data(l, x);
        out.limit = x;
    }
}
void write_data(json::Writer& w, const EvStartSessionCmd& v) {
    w.field("n", v.n).field("sid", v.sid).field("id_tag", v.id_tag);
    if (v.limit)
        write_obj(w, "limit", *v.limit);
}

void read_data(json::Object& d, EvStopSessionCmd& out) {
    out.sid = req_token(d, "sid");
}
void write_data(json::Writer& w, const EvStopSessionCmd& v) {
    w.field("sid", v.sid);
}

void read_data(json::Object& d, EvReset& out) {
    out.type = req_enum<ResetType>(d, "type");
}
void write_data(json::Writer& w, const EvReset& v) {
    w.field("type", enum_name(v.type));
}

void read_data(json::Object& d, EvUnlock& out) {
    out.n = req_gun(d);
}
void write_data(json::Writer& w, const EvUnlock& v) {
    w.field("n", v.n);
}

void read_data(json::Object& d, EvSetAvailability& out) {
    out.n = req_n(d, "n", 0, kMaxGuns);
    out.operative = d.req_bool("operative");
}
void write_data(json::Writer& w, const EvSetAvailability& v) {
    w.field("n", v.n).field("operative", v.operative);
}

void read_data(json::Object& d, EvSetTariff& out) {
    out.elec_e4 = d.req_int("elec_e4", 0, 10'000'000);
    out.service_e4 = d.req_int("service_e4", 0, 10'000'000);
    out.text = opt_text(d, "text", kMaxMsgLen);
}
void write_data(json::Writer& w, const EvSetTariff& v) {
    w.field("elec_e4", v.elec_e4).field("service_e4", v.service_e4).opt_field("text", v.text);
}

void read_config(json::Object& d, EvConfig& c) {
    const EvConfig def;
    c.ev_full_wait_s = d.opt_int("ev_full_wait_s", 0, 86'400).value_or(def.ev_full_wait_s);
    c.ev_no_load_wait_s = d.opt_int("ev_no_load_wait_s", 0, 3'600).value_or(def.ev_no_load_wait_s);
    c.temp_warn_c = d.opt_int("temp_warn_c", 0, 150).value_or(def.temp_warn_c);
    c.temp_stop_c = d.opt_int("temp_stop_c", 0, 150).value_or(def.temp_stop_c);
    c.tele_period_s = d.opt_int("tele_period_s", 5, 3'600).value_or(def.tele_period_s);
    c.idle_tele_period_s = d.opt_int("idle_tele_period_s", 5, 86'400).value_or(def.idle_tele_period_s);
    if (d.ok() && c.temp_warn_c > c.temp_stop_c)
        d.fail("temp_warn_c", fmt::format("({}) is above temp_stop_c ({})", c.temp_warn_c, c.temp_stop_c));
}

void write_config(json::Writer& w, const EvConfig& c) {
    w.field("ev_full_wait_s", c.ev_full_wait_s).field("ev_no_load_wait_s", c.ev_no_load_wait_s);
    w.field("temp_warn_c", c.temp_warn_c).field("temp_stop_c", c.temp_stop_c);
    w.field("tele_period_s", c.tele_period_s).field("idle_tele_period_s", c.idle_tele_period_s);
}

void read_data(json::Object& d, EvCfgDesired& out) {
    read_cfg_desired(d, out);
}
void write_data(json::Writer& w, const EvCfgDesired& v) {
    write_cfg_desired(w, v);
}

void read_data(json::Object& d, EvCfgReported& out) {
    read_cfg_reported(d, out);
}
void write_data(json::Writer& w, const EvCfgReported& v) {
    write_cfg_reported(w, v);
}

} // namespace detail
} // namespace pilehub::payloads

PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvConnState)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvTele)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvPlugIn)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvPlugOut)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvSessionStarted)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvSessionStopped)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvFaultEvent)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvAuthorize)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvStartSessionReq)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::Reply<pilehub::payloads::EvStartSessionReply>)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvSessionRecord)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvStartSessionCmd)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvStopSessionCmd)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvReset)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvUnlock)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvSetAvailability)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvSetTariff)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvCfgDesired)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvCfgReported)
