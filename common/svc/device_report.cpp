#include "common/svc/codec_detail.hpp"
#include "common/topics.hpp"

#include <fmt/format.h>

#include <bitset>

namespace pilehub::svc::detail {

void read_body(json::Object& o, const rapidjson::Value&, DeviceReport& out) {
    read_version(o);
    out.device_id = req_device_id(o, "device_id");
    out.device_ts = payloads::detail::req_ts(o, "device_ts");
    out.received_at = payloads::detail::req_ts(o, "received_at");
    out.temp_dc = o.opt_int("temp_dc", kMinReportTempDc, kMaxReportTempDc);
    out.total_power_w = o.req_int("total_power_w", 0, kMaxReportTotalW);
    auto a = o.req_arr("sockets", static_cast<std::size_t>(kMaxReportSockets));
    if (o.ok() && a.size() == 0)
        o.fail("sockets", "must hold at least one bound socket");
    std::bitset<kMaxReportSockets + 1> seen;
    for (std::size_t i = 0; i < a.size() && o.ok(); ++i) {
        auto s = a.obj(i);
        ReportSocket r;
        r.n = payloads::detail::req_n(s, "n", 1, kMaxReportSockets);
        r.sid = payloads::detail::req_token(s, "sid", kMaxSessionIdLen);
        r.power_w = s.req_int("power_w", 0, kMaxReportPowerW);
        r.energy_wh = s.opt_int("energy_wh", 0, kMaxReportEnergyWh);
        r.register_wh = s.opt_int("register_wh", 0, kMaxReportRegisterWh);
        if (auto soc = s.opt_int("soc_pct", 0, 100))
            r.soc_pct = static_cast<int>(*soc);
        r.ev_status = payloads::detail::opt_enum<payloads::EvGunStatus>(s, "ev_status");
        if (!o.ok())
            break;
        if (seen.test(static_cast<std::size_t>(r.n))) {
            s.fail("n", fmt::format("repeats socket {}", r.n));
            break;
        }
        seen.set(static_cast<std::size_t>(r.n));
        out.sockets.push_back(std::move(r));
    }
}

void write_body(json::Writer& w, const DeviceReport& x) {
    w.field("v", kVersion).field("device_id", x.device_id).field("device_ts", x.device_ts);
    w.field("received_at", x.received_at).opt_field("temp_dc", x.temp_dc).field("total_power_w", x.total_power_w);
    w.key("sockets").begin_array();
    for (const auto& s : x.sockets) {
        w.begin_object().field("n", s.n).field("sid", s.sid).field("power_w", s.power_w);
        w.opt_field("energy_wh", s.energy_wh).opt_field("register_wh", s.register_wh);
        if (s.soc_pct)
            w.field("soc_pct", *s.soc_pct);
        if (s.ev_status)
            w.field("ev_status", payloads::to_string(*s.ev_status));
        w.end_object();
    }
    w.end_array();
}

} // namespace pilehub::svc::detail

namespace pilehub::svc {

Result<DeviceReport> decode_report(std::string_view topic, std::string_view payload) {
    const auto dev = topics::device_of_report(topic);
    if (!dev)
        return Result<DeviceReport>::failure(fmt::format("{} is not a device report topic", topic.substr(0, 128)));
    auto r = decode<DeviceReport>(payload);
    if (r && r.value().device_id != *dev)
        return Result<DeviceReport>::failure(
            fmt::format("device_id {} is not the topic's {}", r.value().device_id, *dev));
    return r;
}

} // namespace pilehub::svc

PILEHUB_SVC_INSTANTIATE(pilehub::svc::DeviceReport)
