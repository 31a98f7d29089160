#include "common/payloads/codec_detail.hpp"

#include <fmt/format.h>

namespace pilehub::payloads {
namespace detail {

void read_data(json::Object&, Empty&) {}
void write_data(json::Writer&, const Empty&) {}

void read_data(json::Object& d, DeviceInfo& out) {
    out.kind = req_enum<DeviceKind>(d, "kind");
    out.model = req_text(d, "model");
    out.firmware = req_text(d, "firmware");
    out.vendor = opt_text(d, "vendor");
    out.serial = opt_text(d, "serial");
    out.hardware = opt_text(d, "hardware");
    out.socket_count = opt_small(d, "socket_count", 1, kMaxSockets);
    out.gun_count = opt_small(d, "gun_count", 1, kMaxGuns);
    out.space_count = opt_small(d, "space_count", 1, kMaxSpaces);
    out.max_power_w = d.opt_num("max_power_w", 0, kMaxDeviceTotalPowerW);
    if (!d.ok())
        return;
    if (out.kind == DeviceKind::EbikePile && !out.socket_count)
        d.fail("socket_count", "is required for an ebike_pile");
    else if (out.kind == DeviceKind::EvCharger && !out.gun_count)
        d.fail("gun_count", "is required for an ev_charger");
    else if (out.kind == DeviceKind::Camera && !out.space_count)
        d.fail("space_count", "is required for a camera");
}

void write_data(json::Writer& w, const DeviceInfo& v) {
    w.field("kind", enum_name(v.kind)).field("model", v.model).field("firmware", v.firmware);
    w.opt_field("vendor", v.vendor).opt_field("serial", v.serial).opt_field("hardware", v.hardware);
    w.opt_field("socket_count", v.socket_count).opt_field("gun_count", v.gun_count);
    w.opt_field("space_count", v.space_count).opt_field("max_power_w", v.max_power_w);
}

void read_data(json::Object& d, DeviceState& out) {
    out.fault_bits = opt_bits(d, "fault_bits");
    out.faults = opt_words(d, "faults");
    out.temp_c = d.opt_num("temp_c", kMinTempC, kMaxTempC);
    out.total_power_w = d.opt_num("total_power_w", 0, kMaxDeviceTotalPowerW);
    out.rssi_dbm = opt_small(d, "rssi_dbm", -150, 0);
}

void write_data(json::Writer& w, const DeviceState& v) {
    w.field("fault_bits", v.fault_bits);
    write_words(w, "faults", v.faults);
    w.opt_field("temp_c", v.temp_c).opt_field("total_power_w", v.total_power_w).opt_field("rssi_dbm", v.rssi_dbm);
}

void read_data(json::Object& d, ChargeLimit& out) {
    out.kind = req_enum<LimitKind>(d, "kind");
    out.minutes = d.opt_int("minutes", 1, 2880);
    out.wh = d.opt_int("wh", 1, 1'000'000);
    if (!d.ok())
        return;
    switch (out.kind) {
    case LimitKind::Time:
        if (!out.minutes)
            d.fail("minutes", "is required when kind is time");
        else if (out.wh)
            d.fail("wh", "is only allowed when kind is energy");
        break;
    case LimitKind::Energy:
        if (!out.wh)
            d.fail("wh", "is required when kind is energy");
        else if (out.minutes)
            d.fail("minutes", "is only allowed when kind is time");
        break;
    case LimitKind::Full:
        if (out.minutes)
            d.fail("minutes", "is only allowed when kind is time");
        else if (out.wh)
            d.fail("wh", "is only allowed when kind is energy");
        break;
    }
}

void write_data(json::Writer& w, const ChargeLimit& v) {
    w.field("kind", enum_name(v.kind)).opt_field("minutes", v.minutes).opt_field("wh", v.wh);
}

void read_data(json::Object& d, AuthorizeReply& out) {
    out.decision = req_enum<Decision>(d, "decision");
    out.reason = opt_code(d, "reason");
    out.balance_fen = d.opt_int("balance_fen", -kMaxFen, kMaxFen);
    out.sid = opt_token(d, "sid");
    auto l = d.opt_obj("limit");
    if (l.present()) {
        ChargeLimit x;
        read_data(l, x);
        out.limit = x;
    }
}

void write_data(json::Writer& w, const AuthorizeReply& v) {
    w.field("decision", enum_name(v.decision));
    if (v.reason)
        w.field("reason", to_string(*v.reason));
    w.opt_field("balance_fen", v.balance_fen).opt_field("sid", v.sid);
    if (v.limit)
        write_obj(w, "limit", *v.limit);
}

void read_data(json::Object& d, CmdReboot& out) {
    out.when = opt_enum<RebootWhen>(d, "when").value_or(RebootWhen::Now);
}
void write_data(json::Writer& w, const CmdReboot& v) {
    w.field("when", enum_name(v.when));
}

void read_data(json::Object& d, CmdSetTime& out) {
    out.epoch_ms = req_ts(d, "epoch_ms");
}
void write_data(json::Writer& w, const CmdSetTime& v) {
    w.field("epoch_ms", v.epoch_ms);
}

void read_data(json::Object& d, CmdOta& out) {
    out.url = req_url(d, "url");
    out.version = req_text(d, "version");
    out.sha256 = d.req_str("sha256", 64);
    if (!d.ok())
        return;
    bool hex = out.sha256.size() == 64;
    for (char c : out.sha256)
        hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
    if (!hex)
        d.fail("sha256", "must be 64 hexadecimal digits");
}

void write_data(json::Writer& w, const CmdOta& v) {
    w.field("url", v.url).field("version", v.version).field("sha256", v.sha256);
}

void read_data(json::Object& d, EvtOta& out) {
    out.version = req_text(d, "version");
    out.st = req_enum<OtaStatus>(d, "st");
    out.progress_pct = opt_small(d, "progress_pct", 0, 100);
    out.error = opt_text(d, "error", kMaxMsgLen);
}

void write_data(json::Writer& w, const EvtOta& v) {
    w.field("version", v.version).field("st", enum_name(v.st));
    w.opt_field("progress_pct", v.progress_pct).opt_field("error", v.error);
}

} // namespace detail

Result<Presence> decode_presence(std::string_view text) {
    auto doc = json::parse(text);
    if (!doc)
        return Result<Presence>::failure(doc.error());
    std::string err;
    auto o = json::Object::root(doc.value(), &err);
    Presence p;
    if (o.ok()) {
        const auto v = o.req_int("v", 1, 1'000'000);
        if (o.ok() && v != kVersion)
            o.fail("v", fmt::format("is {}; this build speaks payload version {} only", v, kVersion));
        p.v = static_cast<int>(v);
    }
    p.online = o.req_bool("online");
    p.boot = o.req_int("boot", 0, detail::kI64Max);
    p.ts = detail::opt_ts(o, "ts");
    p.fw = detail::opt_text(o, "fw");
    p.reason = detail::opt_word(o, "reason");
    if (!err.empty())
        return Result<Presence>::failure(std::move(err));
    return Result<Presence>(std::move(p));
}

std::string encode_presence(const Presence& p) {
    json::Writer w;
    w.begin_object();
    w.field("v", p.v).field("online", p.online).field("boot", p.boot);
    w.opt_field("ts", p.ts).opt_field("fw", p.fw).opt_field("reason", p.reason);
    w.end_object();
    return w.str();
}

} // namespace pilehub::payloads

PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::Reply<pilehub::payloads::Empty>)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::DeviceInfo)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::DeviceState)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::Reply<pilehub::payloads::AuthorizeReply>)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::CmdReboot)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::CmdSetTime)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::CmdOta)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::EvtOta)
