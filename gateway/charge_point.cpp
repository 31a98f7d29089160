#include "gateway/charge_point.hpp"

#include "common/log.hpp"
#include "common/tariff.hpp"
#include "common/topics.hpp"
#include "gateway/ocpp_mapping.hpp"
#include "gateway/ocpp_schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace pilehub::ocpp {

using payloads::EvGunStatus;
using RS = payloads::ReplyStatus;
using PErr = pilehub::ErrorCode; // the platform's codes (ErrorCode here is OCPP's)

namespace {

/// Commands whose answers are kept, so that a command sent again with the same rid is answered
/// again and not carried out twice.
constexpr std::size_t kAnsweredKept = 64;

/// How long the id tag of our RemoteStartTransaction is taken as authorised when the charger asks
/// (a charger waits for the car at most a few minutes, OCPP's ConnectionTimeOut).
constexpr EpochMs kRemoteTagMs = 10 * 60'000;

/// The CALLs a charge point sends (OCPP 1.6 core, firmware and diagnostics); every other action of
/// the 1.6 set is the central system's and is NotSupported from a charger.
constexpr std::array<std::string_view, 10> kChargerActions{"Authorize",
                                                           "BootNotification",
                                                           "DataTransfer",
                                                           "DiagnosticsStatusNotification",
                                                           "FirmwareStatusNotification",
                                                           "Heartbeat",
                                                           "MeterValues",
                                                           "StartTransaction",
                                                           "StatusNotification",
                                                           "StopTransaction"};

std::string now_text(EpochMs now) {
    return billing::format_rfc3339(now, 0);
}

std::string id_tag_info(std::string_view status) {
    json::Writer w;
    w.begin_object().key("idTagInfo").begin_object().field("status", status).end_object().end_object();
    return w.str();
}

} // namespace

ChargePoint::ChargePoint(std::string id, int guns, std::int64_t boot, GatewayStore& store, const Clock& clock,
                         ChargePointOptions options)
    : id_(std::move(id)), guns_count_(std::clamp(guns, 1, payloads::kMaxGuns)), boot_(boot), store_(store),
      clock_(clock), opt_(options), guns_(static_cast<std::size_t>(guns_count_)) {
    for (auto& t : store_.open(id_))
        if (t.accepted && t.sid && t.connector <= guns_count_)
            open_[t.connector] = std::move(t); // the newest wins
    for (auto& t : store_.unacked(id_))
        unacked_[t.id] = PendingRecord{std::move(t), 0};
}

std::vector<std::string> ChargePoint::subscriptions() const {
    return {topics::cmd(id_, "+"), topics::req_reply(id_, "+"), topics::cfg_desired(id_)};
}

mqtt::Message ChargePoint::offline(std::string_view reason) const {
    payloads::Presence p;
    p.online = false;
    p.boot = boot_;
    p.reason = std::string(reason);
    return {topics::presence(id_), payloads::encode_presence(p), 1, true};
}

// ---- publishing ----------------------------------------------------------------------------------

payloads::Envelope ChargePoint::env(EpochMs ts) {
    return payloads::make_envelope(ts, boot_, ++seq_);
}

payloads::Envelope ChargePoint::event_env(std::string id) {
    return payloads::make_event_envelope(clock_.now_ms(), boot_, ++seq_, std::move(id));
}

template <typename T>
void ChargePoint::publish(std::string topic, const payloads::Message<T>& m, bool retained, int qos) {
    out_.publish.push_back({std::move(topic), payloads::encode(m), qos, retained});
}

std::optional<TransactionRow> ChargePoint::open_tx(int n) const {
    const auto it = open_.find(n);
    if (it == open_.end())
        return std::nullopt;
    return it->second;
}

void ChargePoint::publish_conn_state(int n, EpochMs since) {
    const auto& g = guns_.at(static_cast<std::size_t>(n - 1));
    payloads::Message<payloads::EvConnState> m;
    m.env = env(clock_.now_ms());
    m.data.st = g.st;
    m.data.since = since;
    m.data.fault_bits = g.fault_bits;
    if (const auto tx = open_tx(n))
        m.data.sid = tx->sid;
    publish(topics::conn_state(id_, n), m, true);
}

void ChargePoint::publish_tele(int n, const MeterReading& r, const std::optional<TransactionRow>& tx) {
    auto& g = guns_.at(static_cast<std::size_t>(n - 1));
    if (r.register_wh)
        g.register_wh = r.register_wh;
    const auto reg =
        g.register_wh ? g.register_wh : (tx ? std::optional<std::int64_t>(tx->meter_start_wh) : std::nullopt);
    if (!reg) {
        log::info(log::Ctx{id_, {}}, "gun {}: a meter value without an energy register before any: not published", n);
        return;
    }
    payloads::EvGunTele t;
    t.n = n;
    t.st = g.st;
    t.energy_register_wh = *reg;
    t.power_w = std::clamp(r.power_w.value_or(0.0), 0.0, static_cast<double>(payloads::kMaxEvGunPowerW));
    t.current_a = r.current_a;
    t.voltage_v = r.voltage_v;
    t.soc_pct = r.soc_pct;
    if (tx && tx->sid && !tx->stopped()) {
        t.sid = tx->sid;
        t.session_energy_wh = std::max<std::int64_t>(0, *reg - tx->meter_start_wh);
        g.max_power_w = std::max(g.max_power_w, t.power_w);
    }
    payloads::Message<payloads::EvTele> m;
    m.env = env(r.ts);
    m.data.guns.push_back(std::move(t));
    publish(topics::tele(id_), m, false, 0); // CONTRACT A.2: telemetry is QoS 0
}

void ChargePoint::publish_record(const TransactionRow& tx) {
    payloads::Message<payloads::EvSessionRecord> m;
    const auto rid = fmt::format("rec-{}", tx.id);
    m.env = payloads::make_request_envelope(clock_.now_ms(), boot_, ++seq_, rid, rid);
    m.data.n = tx.connector;
    m.data.sid = *tx.sid;
    m.data.id_tag = tx.id_tag;
    m.data.reason = payloads::parse_enum<payloads::EvStopReason>(tx.stop_reason.value_or("other"))
                        .value_or(payloads::EvStopReason::Other);
    m.data.meter_start_wh = tx.meter_start_wh;
    m.data.meter_stop_wh = std::max(tx.meter_start_wh, tx.meter_stop_wh.value_or(tx.meter_start_wh));
    m.data.start_ts = tx.start_ts;
    m.data.stop_ts = std::max(tx.start_ts, tx.stop_ts.value_or(tx.start_ts));
    const auto& g = guns_.at(static_cast<std::size_t>(tx.connector - 1));
    if (g.max_power_w > 0)
        m.data.max_power_w = g.max_power_w;
    publish(topics::req(id_, "session_record"), m, false);
    unacked_[tx.id] = PendingRecord{tx, clock_.now_ms()};
}

// ---- connection ----------------------------------------------------------------------------------

Effects ChargePoint::connected() {
    payloads::Presence p;
    p.online = true;
    p.boot = boot_;
    p.ts = clock_.now_ms();
    out_.publish.push_back({topics::presence(id_), payloads::encode_presence(p), 1, true});
    std::vector<TransactionRow> again;
    for (const auto& [tid, r] : unacked_)
        again.push_back(r.tx);
    for (const auto& tx : again)
        publish_record(tx);
    return std::exchange(out_, {});
}

Effects ChargePoint::tick() {
    const auto now = clock_.now_ms();
    for (auto it = requests_.begin(); it != requests_.end();) {
        if (now < it->second.deadline) {
            ++it;
            continue;
        }
        log::warn(log::Ctx{id_, {}}, "{} {}: sessiond did not answer in {} ms", it->second.action, it->second.unique_id,
                  opt_.platform_timeout_ms);
        Call c{it->second.unique_id, it->second.action, "{}"};
        answer_error(c, ErrorCode::InternalError, "the platform did not answer in time; send it again later");
        it = requests_.erase(it);
    }
    for (auto it = calls_.begin(); it != calls_.end();) {
        if (now < it->second.deadline) {
            ++it;
            continue;
        }
        const auto c = it->second;
        it = calls_.erase(it);
        log::warn(log::Ctx{id_, {}}, "{}: the charger did not answer in {} ms", c.action, opt_.call_timeout_ms);
        if (c.command.empty())
            cfg_done(c, false, "the charger did not answer ChangeConfiguration");
        else
            command_done(c, RS::Failed, PErr::Timeout, fmt::format("no answer to {} from the charger", c.action));
    }
    std::vector<TransactionRow> due;
    for (const auto& [tid, r] : unacked_)
        if (now - r.sent_at >= opt_.record_resend_ms)
            due.push_back(r.tx);
    for (const auto& tx : due)
        publish_record(tx);
    return std::exchange(out_, {});
}

// ---- charger → platform --------------------------------------------------------------------------

Effects ChargePoint::on_text(std::string_view text) {
    auto read = read_frame(text);
    if (const auto* problem = std::get_if<FrameProblem>(&read)) {
        log::warn(log::Ctx{id_, {}}, "unreadable OCPP message: {}", problem->description);
        if (const auto e = problem->answer())
            out_.send.push_back(write(*e));
        return std::exchange(out_, {});
    }
    const auto& frame = std::get<Frame>(read);
    if (const auto* c = std::get_if<Call>(&frame))
        on_call(*c);
    else if (const auto* r = std::get_if<CallResult>(&frame))
        on_call_result(*r);
    else
        on_call_error(std::get<CallError>(frame));
    return std::exchange(out_, {});
}

void ChargePoint::answer(const Call& c, std::string payload_json) {
    if (const auto v = validate(c.action, Direction::Response, payload_json)) {
        // A bug of ours: never send an invalid answer.
        log::error(log::Ctx{id_, {}}, "our {}.conf is invalid ({}): {}", c.action, v->description, payload_json);
        return answer_error(c, ErrorCode::InternalError, "the gateway could not build a valid answer");
    }
    out_.send.push_back(write(CallResult{c.unique_id, std::move(payload_json)}));
}

void ChargePoint::answer_error(const Call& c, ErrorCode code, std::string description) {
    cut_utf8(description, 255);
    out_.send.push_back(write(CallError{c.unique_id, code, std::move(description), "{}"}));
}

void ChargePoint::on_call(const Call& c) {
    if (!known_action(c.action))
        return answer_error(c, ErrorCode::NotImplemented, fmt::format("{} is not an OCPP 1.6 action", c.action));
    if (std::find(kChargerActions.begin(), kChargerActions.end(), c.action) == kChargerActions.end())
        return answer_error(c, ErrorCode::NotSupported,
                            fmt::format("{} is sent by a central system, not by a charge point", c.action));
    auto doc = json::parse(c.payload_json);
    if (!doc)
        return answer_error(c, ErrorCode::FormationViolation, doc.error());
    if (const auto v = validate(c.action, Direction::Request, *doc)) {
        log::info(log::Ctx{id_, {}}, "{} refused: {} {}", c.action, to_string(v->code), v->description);
        return answer_error(c, v->code, v->description);
    }
    const rapidjson::Value& p = *doc;
    if (c.action == "BootNotification")
        return boot_notification(c, p);
    if (c.action == "Heartbeat") {
        json::Writer w;
        w.begin_object().field("currentTime", now_text(clock_.now_ms())).end_object();
        return answer(c, w.str());
    }
    if (c.action == "StatusNotification")
        return status_notification(c, p);
    if (c.action == "Authorize")
        return authorize(c, p);
    if (c.action == "StartTransaction")
        return start_transaction(c, p);
    if (c.action == "MeterValues")
        return meter_values(c, p);
    if (c.action == "StopTransaction")
        return stop_transaction(c, p);
    if (c.action == "DataTransfer")
        return answer(c, R"({"status":"UnknownVendorId"})");
    log::info(log::Ctx{id_, {}}, "{} {}", c.action, member_str(p, "status"));
    if (c.action == "FirmwareStatusNotification")
        firmware_status(member_str(p, "status"));
    // DiagnosticsStatusNotification: logged only.
    answer(c, "{}");
}

void ChargePoint::firmware_status(std::string_view status) {
    // OCPP 1.6 FirmwareStatus → evt/ota; the version is the one of the last UpdateFirmware sent
    // (the notification carries none). Idle, or a status without an update of ours, says nothing.
    using O = payloads::OtaStatus;
    std::optional<O> st;
    std::optional<std::string> error;
    if (status == "Downloading")
        st = O::Downloading;
    else if (status == "Downloaded")
        st = O::Downloaded;
    else if (status == "Installing")
        st = O::Installing;
    else if (status == "Installed")
        st = O::Installed;
    else if (status == "DownloadFailed" || status == "InstallationFailed")
        st = O::Failed, error = status == "DownloadFailed" ? "download failed" : "installation failed";
    if (!st || ota_version_.empty())
        return;
    payloads::Message<payloads::EvtOta> m;
    m.env = event_env(fmt::format("ota-{}-{}", boot_, seq_ + 1));
    m.data = payloads::EvtOta{ota_version_, *st, std::nullopt, error};
    publish(topics::evt(id_, "ota"), m, false);
}

void ChargePoint::boot_notification(const Call& c, const rapidjson::Value& p) {
    const std::string vendor(member_str(p, "chargePointVendor")), model(member_str(p, "chargePointModel"));
    const auto serial = member_opt_str(p, "chargePointSerialNumber");
    const auto firmware = member_opt_str(p, "firmwareVersion");
    store_.save_boot(id_, vendor, model, serial, firmware, clock_.now_ms());
    payloads::Message<payloads::DeviceInfo> info;
    info.env = env(clock_.now_ms());
    info.data.kind = payloads::DeviceKind::EvCharger;
    info.data.model = model;
    info.data.firmware = firmware.value_or("unknown");
    info.data.vendor = vendor;
    info.data.serial = serial;
    info.data.gun_count = guns_count_;
    publish(topics::info(id_), info, true);
    payloads::Presence online;
    online.online = true;
    online.boot = boot_;
    online.ts = clock_.now_ms();
    online.fw = firmware;
    out_.publish.push_back({topics::presence(id_), payloads::encode_presence(online), 1, true});
    booted_ = true;
    json::Writer w;
    w.begin_object()
        .field("status", "Accepted")
        .field("currentTime", now_text(clock_.now_ms()))
        .field("interval", opt_.heartbeat_s)
        .end_object();
    answer(c, w.str());
    send_cfg();
}

std::optional<int> ChargePoint::connector_or_refuse(const Call& c, const rapidjson::Value& p, bool zero) {
    // Compared as the 64-bit number it is: narrowed to int first, 66666666662 became a negative gun
    // that passed the check and indexed outside the guns (found by fuzz_ocpp).
    const auto v = member_int(p, "connectorId");
    if (v >= (zero ? 0 : 1) && v <= guns_count_)
        return static_cast<int>(v);
    answer_error(
        c, ErrorCode::PropertyConstraintViolation,
        fmt::format("connectorId {} is not {}1..{}", v, zero ? "0 (the charger) or a gun " : "a gun ", guns_count_));
    return std::nullopt;
}

void ChargePoint::status_notification(const Call& c, const rapidjson::Value& p) {
    const auto connector = connector_or_refuse(c, p, true);
    if (!connector)
        return;
    const int n = *connector;
    const auto st = parse_status(member_str(p, "status"));
    const auto bits = fault_bits_of(member_str(p, "errorCode"));
    if (!st || !bits) // the schema's enums make this unreachable; kept for safety
        return answer_error(c, ErrorCode::PropertyConstraintViolation, "status or errorCode unknown");
    const auto since = billing::parse_rfc3339(member_str(p, "timestamp")).value_or(clock_.now_ms());
    if (n == 0) {
        payloads::Message<payloads::DeviceState> m;
        m.env = env(clock_.now_ms());
        m.data.fault_bits = *bits;
        m.data.faults = payloads::ev_fault_names(*bits);
        publish(topics::state(id_), m, true);
        return answer(c, "{}");
    }
    auto& g = guns_.at(static_cast<std::size_t>(n - 1));
    const auto before = g.st;
    const auto faults_before = g.fault_bits;
    g.st = *st;
    g.fault_bits = *bits;
    if (*st == EvGunStatus::Preparing && before != EvGunStatus::Preparing)
        g.preparing_since = clock_.now_ms();
    switch (plug_change(before, *st)) {
    case Plug::In: {
        payloads::Message<payloads::EvPlugIn> m;
        m.env = event_env(fmt::format("plug-in-{}-{}", boot_, seq_ + 1));
        m.data.n = n;
        publish(topics::evt(id_, "plug_in"), m, false);
        break;
    }
    case Plug::Out: {
        payloads::Message<payloads::EvPlugOut> m;
        m.env = event_env(fmt::format("plug-out-{}-{}", boot_, seq_ + 1));
        m.data.n = n;
        publish(topics::evt(id_, "plug_out"), m, false);
        break;
    }
    case Plug::None:
        break;
    }
    if (*bits != faults_before) {
        payloads::Message<payloads::EvFaultEvent> m;
        m.env = event_env(fmt::format("fault-{}-{}", boot_, seq_ + 1));
        m.data.n = n;
        m.data.fault_bits = *bits;
        if (const auto vendor = member_opt_str(p, "vendorErrorCode"))
            m.data.vendor_code = vendor;
        else if (member_str(p, "errorCode") != "NoError")
            m.data.vendor_code = std::string(member_str(p, "errorCode"));
        publish(topics::evt(id_, "fault"), m, false);
    }
    publish_conn_state(n, since);
    answer(c, "{}");
}

void ChargePoint::authorize(const Call& c, const rapidjson::Value& p) {
    const std::string id_tag(member_str(p, "idTag"));
    if (const auto it = remote_tags_.find(id_tag);
        it != remote_tags_.end() && clock_.now_ms() - it->second <= kRemoteTagMs)
        return answer(c, id_tag_info("Accepted")); // our own RemoteStartTransaction's tag
    // OCPP's Authorize names no connector: the gun a car was plugged into most recently is the one.
    int n = 1;
    EpochMs latest = -1;
    for (int i = 1; i <= guns_count_; ++i) {
        const auto& g = guns_.at(static_cast<std::size_t>(i - 1));
        if (g.st == EvGunStatus::Preparing && g.preparing_since > latest) {
            latest = g.preparing_since;
            n = i;
        }
    }
    payloads::Message<payloads::EvAuthorize> m;
    const auto rid = fmt::format("au-{}-{}", boot_, seq_ + 1);
    m.env = payloads::make_request_envelope(clock_.now_ms(), boot_, ++seq_, rid, rid);
    m.data.id_tag = id_tag;
    m.data.n = n;
    publish(topics::req(id_, "authorize"), m, false);
    requests_[rid] = Request{c.unique_id, c.action, 0, clock_.now_ms() + opt_.platform_timeout_ms};
}

void ChargePoint::start_transaction(const Call& c, const rapidjson::Value& p) {
    StartKey key;
    const auto gun = connector_or_refuse(c, p, false);
    if (!gun)
        return;
    key.connector = *gun;
    key.id_tag = std::string(member_str(p, "idTag"));
    key.meter_start_wh = member_int(p, "meterStart");
    if (key.meter_start_wh < 0 || key.meter_start_wh > payloads::kMaxRegisterWh)
        return answer_error(
            c, ErrorCode::PropertyConstraintViolation,
            fmt::format("meterStart {} is outside 0..{} Wh", key.meter_start_wh, payloads::kMaxRegisterWh));
    key.start_ts = billing::parse_rfc3339(member_str(p, "timestamp")).value_or(clock_.now_ms());
    const auto tx = store_.begin(id_, key, clock_.now_ms());
    auto& g = guns_.at(static_cast<std::size_t>(key.connector - 1));
    g.register_wh = std::max(g.register_wh.value_or(0), key.meter_start_wh);
    const auto rid = fmt::format("st-{}", tx.id);
    Request r{c.unique_id, c.action, tx.id, clock_.now_ms() + opt_.platform_timeout_ms};
    if (tx.accepted && tx.sid) // the same start again: its conf was lost
        return answer_start(r, tx, "Accepted");
    g.max_power_w = 0;
    payloads::Message<payloads::EvStartSessionReq> m;
    m.env = payloads::make_request_envelope(clock_.now_ms(), boot_, ++seq_, rid, rid);
    m.data.n = key.connector;
    m.data.id_tag = key.id_tag;
    m.data.meter_start_wh = key.meter_start_wh;
    m.data.start_ts = key.start_ts;
    publish(topics::req(id_, "start_session"), m, false);
    requests_[rid] = std::move(r);
}

void ChargePoint::answer_start(const Request& r, const TransactionRow& tx, std::string_view status) {
    json::Writer w;
    w.begin_object().field("transactionId", tx.id).key("idTagInfo").begin_object().field("status", status);
    w.end_object().end_object();
    answer(Call{r.unique_id, "StartTransaction", "{}"}, w.str());
}

void ChargePoint::meter_values(const Call& c, const rapidjson::Value& p) {
    const auto connector = connector_or_refuse(c, p, true);
    if (!connector)
        return;
    const int n = *connector;
    std::vector<MeterReading> readings;
    const auto mv = p.FindMember("meterValue");
    for (rapidjson::SizeType i = 0; mv != p.MemberEnd() && i < mv->value.Size(); ++i) {
        auto r = read_meter_value(mv->value[i]);
        if (!r)
            return answer_error(c, ErrorCode::PropertyConstraintViolation,
                                fmt::format("meterValue[{}]: {}", i, r.error()));
        readings.push_back(*r);
    }
    if (n == 0) // the charger's own meter: not a gun's
        return answer(c, "{}");
    std::optional<TransactionRow> tx;
    if (const auto tid = member_opt_int(p, "transactionId")) {
        for (const auto& [gun, t] : open_)
            if (t.id == *tid)
                tx = t;
        if (!tx) { // not running here: a late one (its stop may be known), or not this charger's
            tx = store_.transaction(*tid);
            if (tx && tx->device_id != id_)
                tx.reset();
        }
    }
    if (!tx)
        tx = open_tx(n);
    for (const auto& r : readings)
        publish_tele(n, r, tx);
    answer(c, "{}");
}

void ChargePoint::stop_transaction(const Call& c, const rapidjson::Value& p) {
    const auto tid = member_int(p, "transactionId");
    const auto id_tag = member_opt_str(p, "idTag");
    const std::string reply = id_tag ? id_tag_info("Accepted") : "{}";
    auto tx = store_.transaction(tid);
    if (!tx || tx->device_id != id_) {
        log::warn(log::Ctx{id_, {}}, "StopTransaction of transaction {} that is not this charger's: acknowledged only",
                  tid);
        return answer(c, id_tag ? id_tag_info("Invalid") : "{}");
    }
    const auto reason_word = member_str(p, "reason");
    const auto reason = reason_word.empty() ? payloads::EvStopReason::Local
                                            : parse_stop_reason(reason_word).value_or(payloads::EvStopReason::Other);
    auto meter_stop = member_int(p, "meterStop");
    if (meter_stop < 0 || meter_stop > payloads::kMaxRegisterWh)
        return answer_error(c, ErrorCode::PropertyConstraintViolation,
                            fmt::format("meterStop {} is outside 0..{} Wh", meter_stop, payloads::kMaxRegisterWh));
    if (meter_stop < tx->meter_start_wh) {
        log::warn(log::Ctx{id_, tx->sid.value_or("")}, "transaction {}: meterStop {} below meterStart {}: no energy",
                  tid, meter_stop, tx->meter_start_wh);
        meter_stop = tx->meter_start_wh;
    }
    const auto stop_ts =
        std::max(tx->start_ts, billing::parse_rfc3339(member_str(p, "timestamp")).value_or(clock_.now_ms()));
    const bool first = store_.stop(tid, meter_stop, stop_ts, std::string(payloads::to_string(reason)));
    tx = store_.transaction(tid);
    if (const auto it = open_.find(tx->connector); it != open_.end() && it->second.id == tid)
        open_.erase(it);
    if (!tx->sid || !tx->accepted) {
        // sessiond refused the start (or never answered): there is no session to end.
        log::info(log::Ctx{id_, {}}, "StopTransaction of transaction {} without a session", tid);
        return answer(c, reply);
    }
    if (first) {
        // The meter values the charger kept for the transaction (sent late when it was offline).
        if (const auto td = p.FindMember("transactionData"); td != p.MemberEnd() && td->value.IsArray())
            for (rapidjson::SizeType i = 0; i < td->value.Size(); ++i)
                if (auto r = read_meter_value(td->value[i]))
                    publish_tele(tx->connector, *r, std::nullopt);
        payloads::Message<payloads::EvSessionStopped> m;
        m.env = event_env(fmt::format("sp-{}", tx->id));
        m.data.n = tx->connector;
        m.data.sid = *tx->sid;
        m.data.reason = reason;
        m.data.meter_start_wh = tx->meter_start_wh;
        m.data.meter_stop_wh = *tx->meter_stop_wh;
        m.data.stop_ts = tx->stop_ts;
        publish(topics::evt(id_, "session_stopped"), m, false);
    }
    if (!tx->record_acked)
        publish_record(*tx);
    answer(c, reply);
}

// ---- platform → charger --------------------------------------------------------------------------

Effects ChargePoint::on_mqtt(const mqtt::Message& m) {
    const auto t = topics::parse_device_topic(m.topic);
    if (!t || t->device_id != id_)
        return {};
    if (t->leaf == topics::Leaf::Cmd)
        on_command(t->name, m);
    else if (t->leaf == topics::Leaf::ReqReply)
        on_request_reply(t->name, m);
    else if (t->leaf == topics::Leaf::CfgDesired)
        on_cfg_desired(m);
    return std::exchange(out_, {});
}

void ChargePoint::on_request_reply(const std::string& name, const mqtt::Message& m) {
    const auto env = payloads::peek_envelope(m.payload);
    if (!env || !env->rid) {
        log::warn(log::Ctx{id_, {}}, "req-reply/{} unreadable", name);
        return;
    }
    const auto& rid = *env->rid;
    if (name == "session_record") {
        auto r = payloads::decode<payloads::Reply<payloads::Empty>>(m.payload);
        if (!r || r->data.status != RS::Ok || rid.rfind("rec-", 0) != 0) {
            log::warn(log::Ctx{id_, {}}, "session record {} not acknowledged: {}", rid, r ? "" : r.error());
            return;
        }
        const auto tid = std::strtoll(rid.c_str() + 4, nullptr, 10);
        store_.ack_record(tid, clock_.now_ms());
        unacked_.erase(tid);
        return;
    }
    const auto it = requests_.find(rid);
    if (it == requests_.end())
        return; // answered before, or timed out
    const Request r = it->second;
    requests_.erase(it);
    if (name == "authorize") {
        auto a = payloads::decode<payloads::Reply<payloads::AuthorizeReply>>(m.payload);
        std::string_view status = "Invalid";
        if (a && a->data.status == RS::Ok && a->data.data)
            status = id_tag_status(a->data.data->decision, a->data.data->reason);
        else
            log::warn(log::Ctx{id_, {}}, "authorize {} answered without a decision", rid);
        return answer(Call{r.unique_id, r.action, "{}"}, id_tag_info(status));
    }
    if (name == "start_session") {
        auto a = payloads::decode<payloads::Reply<payloads::EvStartSessionReply>>(m.payload);
        auto tx = store_.transaction(r.transaction_id);
        if (!tx)
            return;
        if (a && a->data.status == RS::Ok && a->data.data && a->data.data->decision == payloads::Decision::Accept &&
            a->data.data->sid) {
            store_.set_session(tx->id, a->data.data->sid, true);
            tx = store_.transaction(tx->id);
            if (!tx->accepted || !tx->sid) // a different earlier answer stands
                return answer_start(r, *tx, "Invalid");
            if (!tx->stopped())
                open_[tx->connector] = *tx;
            payloads::Message<payloads::EvSessionStarted> s;
            s.env = event_env(fmt::format("ss-{}", tx->id));
            s.data.n = tx->connector;
            s.data.sid = *tx->sid;
            s.data.id_tag = tx->id_tag;
            s.data.meter_start_wh = tx->meter_start_wh;
            s.data.start_ts = tx->start_ts;
            publish(topics::evt(id_, "session_started"), s, false);
            answer_start(r, *tx, "Accepted");
            publish_conn_state(tx->connector, clock_.now_ms());
            return;
        }
        std::string_view status = "Invalid";
        if (a && a->data.data)
            status = id_tag_status(a->data.data->decision, a->data.data->reason);
        store_.set_session(tx->id, std::nullopt, false);
        log::info(log::Ctx{id_, {}}, "transaction {} refused by the platform ({})", tx->id, status);
        return answer_start(r, *tx, status == "Accepted" ? "Invalid" : status);
    }
}

void ChargePoint::call(const std::string& action, std::string payload, OutCall pending) {
    if (const auto v = validate(action, Direction::Request, payload)) {
        log::error(log::Ctx{id_, {}}, "our {} is invalid ({}): {}", action, v->description, payload);
        if (!pending.command.empty())
            command_done(pending, RS::Failed, PErr::Internal, "the gateway could not build a valid " + action);
        return;
    }
    const auto unique_id = fmt::format("{}-{}", boot_, ++call_counter_);
    pending.action = action;
    pending.payload = payload;
    pending.deadline = clock_.now_ms() + opt_.call_timeout_ms;
    out_.send.push_back(write(Call{unique_id, action, std::move(payload)}));
    calls_[unique_id] = std::move(pending);
}

void ChargePoint::command_done(const OutCall& c, RS st, std::optional<PErr> code, std::optional<std::string> msg) {
    payloads::Message<payloads::Reply<payloads::Empty>> r;
    r.env = env(clock_.now_ms());
    r.env.rid = c.rid;
    r.data.status = st;
    r.data.code = code;
    if (msg)
        cut_utf8(*msg, 256);
    r.data.msg = std::move(msg);
    mqtt::Message out{topics::cmd_reply(id_, c.command), payloads::encode(r), 1, false};
    if (st != RS::Accepted) { // interim answers are not the command's answer
        answered_.push_back({c.rid, out});
        if (answered_.size() > kAnsweredKept)
            answered_.pop_front();
    }
    out_.publish.push_back(std::move(out));
}

void ChargePoint::on_command(const std::string& name, const mqtt::Message& m) {
    const auto env = payloads::peek_envelope(m.payload);
    if (!env || !env->rid) {
        log::warn(log::Ctx{id_, {}}, "cmd/{} unreadable: {}", name, env ? "no rid" : env.error());
        return;
    }
    OutCall pending;
    pending.command = name;
    pending.rid = *env->rid;
    for (const auto& a : answered_)
        if (a.rid == pending.rid) {
            out_.publish.push_back(a.reply); // the same command again: the same answer
            return;
        }
    for (const auto& [uid, c] : calls_)
        if (c.rid == pending.rid && c.command == name)
            return; // still with the charger
    if (payloads::is_expired(*env, clock_.now_ms())) {
        payloads::Message<payloads::Reply<payloads::Empty>> r;
        r.env = this->env(clock_.now_ms());
        r.env.rid = pending.rid;
        r.data.status = RS::Expired;
        r.data.code = PErr::Expired;
        r.data.msg = fmt::format("arrived {} ms after exp", clock_.now_ms() - *env->exp);
        out_.publish.push_back({topics::cmd_reply(id_, name), payloads::encode(r), 1, false});
        return;
    }
    const auto invalid = [&](const std::string& why) { command_done(pending, RS::Invalid, PErr::InvalidRequest, why); };
    json::Writer w;
    if (name == "start_session") {
        const auto c = payloads::decode<payloads::EvStartSessionCmd>(m.payload);
        if (!c)
            return invalid(c.error());
        if (c->data.n > guns_count_)
            return command_done(pending, RS::Invalid, PErr::UnknownSocket,
                                fmt::format("gun {} does not exist (1..{})", c->data.n, guns_count_));
        w.begin_object().field("connectorId", c->data.n).field("idTag", c->data.id_tag).end_object();
        std::erase_if(remote_tags_, [&](const auto& kv) { return clock_.now_ms() - kv.second > kRemoteTagMs; });
        remote_tags_[c->data.id_tag] = clock_.now_ms();
        return call("RemoteStartTransaction", w.str(), pending);
    }
    if (name == "stop_session") {
        const auto c = payloads::decode<payloads::EvStopSessionCmd>(m.payload);
        if (!c)
            return invalid(c.error());
        const auto tx = store_.by_sid(id_, c->data.sid);
        if (!tx)
            return command_done(pending, RS::Rejected, PErr::Conflict,
                                fmt::format("no transaction of session {} on this charger", c->data.sid));
        if (tx->stopped())
            return command_done(pending, RS::Ok, std::nullopt, std::string("not running"));
        w.begin_object().field("transactionId", tx->id).end_object();
        return call("RemoteStopTransaction", w.str(), pending);
    }
    if (name == "reset" || name == "reboot") {
        std::string_view type = "Hard";
        if (name == "reset") {
            const auto c = payloads::decode<payloads::EvReset>(m.payload);
            if (!c)
                return invalid(c.error());
            type = c->data.type == payloads::ResetType::Soft ? "Soft" : "Hard";
        }
        w.begin_object().field("type", type).end_object();
        return call("Reset", w.str(), pending);
    }
    if (name == "unlock") {
        const auto c = payloads::decode<payloads::EvUnlock>(m.payload);
        if (!c)
            return invalid(c.error());
        w.begin_object().field("connectorId", c->data.n).end_object();
        return call("UnlockConnector", w.str(), pending);
    }
    if (name == "set_availability") {
        const auto c = payloads::decode<payloads::EvSetAvailability>(m.payload);
        if (!c)
            return invalid(c.error());
        w.begin_object()
            .field("connectorId", c->data.n)
            .field("type", c->data.operative ? "Operative" : "Inoperative")
            .end_object();
        return call("ChangeAvailability", w.str(), pending);
    }
    if (name == "set_time") {
        // OCPP 1.6 has no clock command: the charger takes the time from Heartbeat.conf, so it is
        // asked for a Heartbeat now.
        w.begin_object().field("requestedMessage", "Heartbeat").end_object();
        return call("TriggerMessage", w.str(), pending);
    }
    if (name == "query_port") {
        const auto c = payloads::decode<payloads::EvUnlock>(m.payload); // {n}
        if (!c)
            return invalid(c.error());
        w.begin_object().field("requestedMessage", "StatusNotification").field("connectorId", c->data.n).end_object();
        return call("TriggerMessage", w.str(), pending);
    }
    if (name == "ota") {
        const auto c = payloads::decode<payloads::CmdOta>(m.payload);
        if (!c)
            return invalid(c.error());
        w.begin_object().field("location", c->data.url).field("retrieveDate", now_text(clock_.now_ms())).end_object();
        ota_version_ = c->data.version; // FirmwareStatusNotification names no version
        return call("UpdateFirmware", w.str(), pending);
    }
    command_done(pending, RS::Unsupported, PErr::Unsupported, fmt::format("{} has no OCPP 1.6 equivalent", name));
}

void ChargePoint::on_call_result(const CallResult& r) {
    const auto it = calls_.find(r.unique_id);
    if (it == calls_.end()) {
        log::info(log::Ctx{id_, {}}, "an answer to no call of ours ({})", r.unique_id);
        return;
    }
    const auto c = it->second;
    calls_.erase(it);
    if (const auto v = validate(c.action, Direction::Response, r.payload_json)) {
        log::warn(log::Ctx{id_, {}}, "{}.conf invalid: {}", c.action, v->description);
        if (c.command.empty())
            return cfg_done(c, false, "invalid ChangeConfiguration.conf: " + v->description);
        return command_done(c, RS::Failed, PErr::Internal, "the charger's answer is invalid: " + v->description);
    }
    const auto doc = json::parse(r.payload_json);
    const auto status = doc ? std::string(member_str(*doc, "status")) : std::string();
    if (c.command.empty())
        return cfg_done(c, status == "Accepted" || status == "RebootRequired",
                        status == "Accepted" ? std::nullopt
                                             : std::optional<std::string>("ChangeConfiguration " + status));
    const auto refused = [&](RS st, PErr code) { command_done(c, st, code, fmt::format("{}: {}", c.action, status)); };
    if (c.action == "UpdateFirmware")
        return command_done(c, RS::Ok, std::nullopt, std::nullopt);
    if (c.action == "RemoteStartTransaction")
        return status == "Accepted" ? command_done(c, RS::Accepted, std::nullopt, std::string("waiting for the car"))
                                    : refused(RS::Rejected, PErr::Conflict);
    if (c.action == "UnlockConnector") {
        if (status == "Unlocked")
            return command_done(c, RS::Ok, std::nullopt, std::nullopt);
        return status == "NotSupported" ? refused(RS::Unsupported, PErr::Unsupported)
                                        : refused(RS::Failed, PErr::Conflict);
    }
    if (c.action == "TriggerMessage" && status == "NotImplemented")
        return refused(RS::Unsupported, PErr::Unsupported);
    if (status == "Accepted")
        return command_done(c, RS::Ok, std::nullopt, std::nullopt);
    if (status == "Scheduled")
        return command_done(c, RS::Ok, std::nullopt, std::string("scheduled after the running transaction"));
    refused(RS::Rejected, PErr::Conflict);
}

void ChargePoint::on_call_error(const CallError& e) {
    const auto it = calls_.find(e.unique_id);
    if (it == calls_.end()) {
        log::info(log::Ctx{id_, {}}, "a CALLERROR for no call of ours ({})", e.unique_id);
        return;
    }
    const auto c = it->second;
    calls_.erase(it);
    const auto why = fmt::format("{}: {} {}", c.action, to_string(e.code), e.description);
    if (c.command.empty())
        return cfg_done(c, false, why);
    const bool unsupported = e.code == ErrorCode::NotImplemented || e.code == ErrorCode::NotSupported;
    command_done(c, unsupported ? RS::Unsupported : RS::Failed, unsupported ? PErr::Unsupported : PErr::Conflict, why);
}

// ---- configuration ------------------------------------------------------------------------------

void ChargePoint::on_cfg_desired(const mqtt::Message& m) {
    auto d = payloads::decode<payloads::EvCfgDesired>(m.payload);
    if (!d) {
        log::warn(log::Ctx{id_, {}}, "cfg/desired unreadable: {}", d.error());
        return;
    }
    cfg_ = d->data;
    if (booted_)
        send_cfg();
}

void ChargePoint::send_cfg() {
    if (!cfg_ || cfg_sent_version_ == cfg_->version)
        return;
    cfg_sent_version_ = cfg_->version;
    // The values the platform itself applies (full, no load, temperatures) are in force as soon as
    // they are desired; the charger takes the meter interval while charging and the heartbeat.
    const std::array<std::pair<std::string_view, std::int64_t>, 2> keys{{
        {"MeterValueSampleInterval", cfg_->values.tele_period_s},
        {"HeartbeatInterval", cfg_->values.idle_tele_period_s},
    }};
    for (const auto& [key, value] : keys) {
        json::Writer w;
        w.begin_object().field("key", key).field("value", std::to_string(value)).end_object();
        OutCall pending;
        pending.cfg_version = cfg_->version;
        call("ChangeConfiguration", w.str(), pending);
    }
}

void ChargePoint::cfg_done(const OutCall& c, bool applied, std::optional<std::string> msg) {
    if (!cfg_ || c.cfg_version != cfg_->version)
        return;
    // One report per answer: the second ChangeConfiguration's answer completes it.
    for (const auto& [uid, other] : calls_)
        if (other.command.empty() && other.cfg_version == c.cfg_version) {
            if (!applied)
                cfg_failed_.push_back(c.payload);
            return;
        }
    if (!applied)
        cfg_failed_.push_back(c.payload);
    payloads::Message<payloads::EvCfgReported> r;
    r.env = env(clock_.now_ms());
    r.data.version = cfg_->version;
    r.data.values = cfg_->values;
    for (const auto& payload : cfg_failed_) {
        const auto doc = json::parse(payload);
        const auto key = doc ? member_str(*doc, "key") : std::string_view();
        r.data.rejected.push_back(key == "MeterValueSampleInterval" ? "tele_period_s" : "idle_tele_period_s");
    }
    r.data.status = r.data.rejected.empty() ? payloads::CfgStatus::Applied : payloads::CfgStatus::Partial;
    if (!r.data.rejected.empty())
        r.data.msg = msg.value_or("the charger refused a configuration key");
    cfg_failed_.clear();
    publish(topics::cfg_reported(id_), r, true);
}

} // namespace pilehub::ocpp
