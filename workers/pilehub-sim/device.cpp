#include "workers/pilehub-sim/device.hpp"

#include "common/log.hpp"
#include "workers/pilehub-sim/camera.hpp"
#include "workers/pilehub-sim/ebike_pile.hpp"
#include "workers/pilehub-sim/ev_charger.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace pilehub::sim {
namespace {

constexpr EpochMs kNever = std::numeric_limits<EpochMs>::max();
// Replies remembered per device for duplicate rids: enough for a platform's retries, small for 10 000 devices.
constexpr std::size_t kAnsweredKept = 16;

} // namespace

Device::Device(std::string id, Kind kind, const Clock& clock, const Settings& settings, DeviceStore& store)
    : id_(std::move(id)), kind_(kind), clock_(clock), settings_(settings), store_(store),
      rng_(Rng::seed_of(id_.c_str())), snap_(store.load(id_)) {
    last_advance_ = clock_.now_ms();
}

mqtt::Message Device::will(std::int64_t boot) const {
    payloads::Presence p;
    p.online = false;
    p.boot = boot;
    p.reason = "lwt";
    return {topics::presence(id_), payloads::encode_presence(p), 1, true};
}

mqtt::Message Device::offline_presence(std::string_view reason) const {
    payloads::Presence p;
    p.online = false;
    p.boot = boot_;
    p.ts = clock_.now_ms();
    p.reason = std::string(reason);
    return {topics::presence(id_), payloads::encode_presence(p), 1, true};
}

std::vector<std::string> Device::subscriptions() const {
    return {topics::cmd(id_, "+"), topics::req_reply(id_, "+"), topics::cfg_desired(id_)};
}

void Device::connected(std::int64_t boot) {
    advance_to_now();
    boot_ = boot;
    seq_ = 0;
    online_ = true;
    payloads::Presence p;
    p.online = true;
    p.boot = boot;
    p.ts = now();
    p.fw = firmware();
    emit({topics::presence(id_), payloads::encode_presence(p), 1, true});
    publish_connect_states();
    publish_cfg_reported();
    resend_records();
    if (!snap_.ota_installed.empty()) {
        // Back after the reboot that installed it: the update is done.
        publish_event("ota", payloads::EvtOta{snap_.ota_installed, payloads::OtaStatus::Installed, 100, std::nullopt});
        snap_.ota_installed.clear();
        save_snapshot();
    }
    // A random phase spreads the telemetry of a whole fleet that connected at once.
    next_tele_ = now() + static_cast<EpochMs>(rng_.next() % static_cast<std::uint32_t>(tele_interval_ms() + 1));
    log::debug(log::Ctx{id_, {}}, "connected, boot {}", boot);
}

void Device::start_ota(const payloads::Message<payloads::CmdOta>& m) {
    using RS = payloads::ReplyStatus;
    if (ota_fail_ == "refuse" || ota_) {
        reply("ota", m, RS::Rejected, std::nullopt, ErrorCode::Conflict,
              std::string(ota_ ? "an update is under way" : "updates refused (control otafail refuse)"));
        return;
    }
    reply("ota", m, RS::Ok);
    ota_ = m.data;
    download_ = m.data.url;
    publish_event("ota", payloads::EvtOta{m.data.version, payloads::OtaStatus::Downloading, 0, std::nullopt});
    log::info(log::Ctx{id_, {}}, "ota {}: downloading {}", m.data.version, m.data.url);
}

std::optional<std::string> Device::take_download() {
    auto d = std::move(download_);
    download_.reset();
    return d;
}

void Device::ota_downloaded(std::optional<std::string> sha256, const std::string& error) {
    advance_to_now();
    if (!ota_)
        return;
    const auto cmd = std::move(*ota_);
    ota_.reset();
    auto failed = [&](std::string why) {
        log::warn(log::Ctx{id_, {}}, "ota {} failed: {}", cmd.version, why);
        publish_event("ota", payloads::EvtOta{cmd.version, payloads::OtaStatus::Failed, std::nullopt, std::move(why)});
    };
    if (!sha256)
        return failed("download failed: " + error);
    std::string expected = cmd.sha256;
    std::transform(expected.begin(), expected.end(), expected.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ota_fail_ == "checksum" || *sha256 != expected)
        return failed("sha256 mismatch");
    publish_event("ota", payloads::EvtOta{cmd.version, payloads::OtaStatus::Downloaded, 100, std::nullopt});
    publish_event("ota", payloads::EvtOta{cmd.version, payloads::OtaStatus::Installing, 0, std::nullopt});
    if (ota_fail_ == "install")
        return failed("install refused");
    snap_.firmware = cmd.version;
    snap_.ota_installed = cmd.version;
    save_snapshot();
    log::info(log::Ctx{id_, {}}, "ota {}: installed, rebooting", cmd.version);
    request_action(TransportAction::Reboot);
}

void Device::disconnected() {
    advance_to_now();
    online_ = false;
    deferred_.clear();
}

std::string Device::control(const ControlCommand& c) {
    advance_to_now();
    if (c.op == ControlOp::Drop) {
        if (c.count > 0)
            drop_next_[c.command] = c.count;
        else
            drop_next_.erase(c.command);
        return {};
    }
    if (c.op == ControlOp::OtaFail) {
        ota_fail_ = c.code;
        return {};
    }
    if (c.op == ControlOp::Traffic && kind_ != Kind::Camera)
        return "traffic is for cameras";
    return on_control(c);
}

void Device::handle(const mqtt::Message& m) {
    advance_to_now();
    auto t = topics::parse_device_topic(m.topic);
    if (!t || t->device_id != id_)
        return;
    switch (t->leaf) {
    case topics::Leaf::Cmd: {
        if (auto d = drop_next_.find(t->name); d != drop_next_.end()) {
            // Lost on the way (control `drop`): never seen, so neither answered nor remembered.
            if (--d->second <= 0)
                drop_next_.erase(d);
            log::info(log::Ctx{id_, {}}, "cmd/{} dropped (control drop)", t->name);
            return;
        }
        auto env = payloads::peek_envelope(m.payload);
        if (!env || !env->rid) {
            log::warn(log::Ctx{id_, {}}, "cmd/{} without a readable envelope and rid: dropped ({})", t->name,
                      env ? "no rid" : env.error());
            return;
        }
        const auto& rid = *env->rid;
        for (const auto& a : answered_)
            if (a.rid == rid) {
                // The same command again (QoS 1 redelivery or a platform retry): the same answer, no second execution.
                log::debug(log::Ctx{id_, {}}, "cmd/{} rid {} is a duplicate: reply repeated", t->name, rid);
                emit({a.topic, a.payload, 1, false});
                return;
            }
        if (std::find(deferred_.begin(), deferred_.end(), rid) != deferred_.end())
            return;
        if (env->exp && *env->exp < now()) {
            log::info(log::Ctx{id_, {}}, "cmd/{} rid {} expired {} ms ago: refused", t->name, rid, now() - *env->exp);
            // Not remembered under its rid: nothing was executed, so the same rid resent with a fresh
            // exp runs (CONTRACT A.6, retries).
            emit({topics::cmd_reply(id_, t->name),
                  plain_reply(rid, payloads::ReplyStatus::Expired, ErrorCode::Expired,
                              fmt::format("arrived {} ms after exp", now() - *env->exp)),
                  1, false});
            return;
        }
        log::debug(log::Ctx{id_, {}}, "cmd/{} rid {}", t->name, rid);
        on_command(t->name, rid, m.payload);
        return;
    }
    case topics::Leaf::ReqReply:
        if (t->name == "session_record") {
            auto r = payloads::decode<payloads::Reply<payloads::Empty>>(m.payload);
            if (!r) {
                log::warn(log::Ctx{id_, {}}, "req-reply/session_record unreadable: {}", r.error());
                return;
            }
            const auto& rid = *r->env.rid;
            if (r->data.status != payloads::ReplyStatus::Ok) {
                // Only ok acknowledges: the record stays and is sent again.
                log::warn(log::Ctx{id_, {}}, "session record {} answered {} ({}): kept", rid,
                          payloads::to_string(r->data.status), r->data.msg.value_or(""));
                return;
            }
            auto& recs = snap_.records;
            auto it = std::find_if(recs.begin(), recs.end(), [&](const PendingRecord& p) { return p.id == rid; });
            if (it != recs.end()) {
                recs.erase(it);
                save_snapshot();
                log::debug(log::Ctx{id_, {}}, "session record {} acknowledged", rid);
            }
            return;
        }
        on_request_reply(t->name, m.payload);
        return;
    case topics::Leaf::CfgDesired:
        if (!m.payload.empty())
            on_cfg(m.payload);
        return;
    default:
        return;
    }
}

void Device::on_request_reply(std::string_view name, std::string_view) {
    log::debug(log::Ctx{id_, {}}, "req-reply/{} ignored", name);
}

void Device::on_cfg(std::string_view) {
    log::debug(log::Ctx{id_, {}}, "cfg/desired ignored: a {} has no configuration document", to_string(kind_));
}

void Device::log_cfg_refused(std::int64_t version, const std::string& why) const {
    log::warn(log::Ctx{id_, {}}, "cfg/desired version {} rejected: {}", version, why);
}

std::int64_t Device::refused_cfg_version(std::string_view text) {
    auto doc = json::parse(text);
    if (!doc)
        return 0;
    std::string err;
    auto data = json::Object::root(*doc, &err).opt_obj("data");
    return data.opt_int("version", 0, std::numeric_limits<std::int64_t>::max()).value_or(0);
}

EpochMs Device::tick() {
    advance_to_now();
    EpochMs next = next_wake();
    if (online_) {
        if (now() >= next_tele_) {
            publish_tele();
            next_tele_ = now() + tele_interval_ms();
        }
        next = std::min(next, next_tele_);
        if (!snap_.records.empty()) {
            if (now() >= next_resend_)
                resend_records();
            next = std::min(next, next_resend_);
        }
    }
    return next;
}

std::vector<mqtt::Message> Device::take_outbox() {
    std::vector<mqtt::Message> out;
    out.swap(outbox_);
    return out;
}

TransportAction Device::take_action() {
    auto a = action_;
    action_ = TransportAction::None;
    return a;
}

std::vector<ControlCommand> Device::take_peer_controls() {
    std::vector<ControlCommand> out;
    out.swap(peer_controls_);
    return out;
}

std::vector<std::string> Device::pending_record_ids() const {
    std::vector<std::string> ids;
    for (const auto& r : snap_.records)
        ids.push_back(r.id);
    return ids;
}

EpochMs Device::wall_ms(std::int64_t sim_ms) const {
    const double w = static_cast<double>(sim_ms) / settings_.speed;
    return std::max<EpochMs>(1, static_cast<EpochMs>(std::ceil(w)));
}

void Device::save_snapshot() {
    try {
        store_.save(id_, snap_);
    } catch (const std::exception& e) {
        log::error(log::Ctx{id_, {}}, "cannot save state: {}", e.what());
    }
}

payloads::Envelope Device::next_env() {
    return payloads::make_envelope(now(), boot_, ++seq_);
}

std::string Device::plain_reply(const std::string& rid, payloads::ReplyStatus st, std::optional<ErrorCode> code,
                                std::optional<std::string> msg) {
    payloads::Message<payloads::Reply<payloads::Empty>> r;
    r.env = next_env();
    r.env.rid = rid;
    r.data.status = st;
    r.data.code = code;
    if (msg && msg->size() > 256)
        msg->resize(256);
    r.data.msg = std::move(msg);
    return payloads::encode(r);
}

void Device::reply_plain(std::string_view name, const std::string& rid, payloads::ReplyStatus st,
                         std::optional<ErrorCode> code, std::optional<std::string> msg) {
    send_reply(name, rid, plain_reply(rid, st, code, std::move(msg)));
}

void Device::send_reply(std::string_view name, const std::string& rid, std::string payload, bool remember) {
    std::erase(deferred_, rid);
    auto topic = topics::cmd_reply(id_, name);
    if (remember) {
        answered_.push_back({rid, topic, payload});
        if (answered_.size() > kAnsweredKept)
            answered_.pop_front();
    }
    emit({std::move(topic), std::move(payload), 1, false});
}

void Device::emit(mqtt::Message m) {
    if (!online_)
        return;
    outbox_.push_back(std::move(m));
}

void Device::telemetry_soon() {
    next_tele_ = std::min(next_tele_, now() + wall_ms(2000));
}

std::string Device::make_id(std::int64_t seq) const {
    // Unique per device because boot never repeats; the device id makes logs easy to read.
    auto s = fmt::format("{}-{}-{}", id_, boot_, seq);
    if (s.size() > payloads::kMaxIdLen)
        s = fmt::format("{}-{}", boot_, seq);
    return s;
}

EpochMs Device::resend_period_ms() const {
    return std::max<EpochMs>(10'000, wall_ms(30'000));
}

EpochMs Device::tele_interval_ms() const {
    std::int64_t s = settings_.tele_period_override_s;
    if (s <= 0)
        s = any_active() ? tele_period_s() : idle_tele_period_s();
    return wall_ms(s * 1000);
}

void Device::advance_to_now() {
    const auto t = clock_.now_ms();
    const auto dt = t - last_advance_;
    last_advance_ = t;
    if (dt <= 0)
        return;
    // Microseconds carried between ticks, so a fractional speed loses no simulated time.
    const auto sim_us =
        static_cast<std::int64_t>(std::llround(static_cast<double>(dt) * 1000.0 * settings_.speed)) + carry_us_;
    const auto sim_ms = sim_us / 1000;
    carry_us_ = sim_us % 1000;
    if (sim_ms > 0)
        advance(sim_ms);
}

void Device::resend_records() {
    if (!online_)
        return;
    for (const auto& r : snap_.records) {
        auto text = reencode_record(r, next_env());
        if (text.empty()) {
            log::error(log::Ctx{id_, {}}, "stored record {} is unreadable; sent as stored", r.id);
            text = r.payload;
        }
        emit({topics::req(id_, r.name), std::move(text), 1, false});
    }
    next_resend_ = now() + resend_period_ms();
}

std::unique_ptr<Device> make_device(const FleetDevice& d, const Clock& clock, const Settings& settings,
                                    DeviceStore& store) {
    switch (d.kind) {
    case Kind::EbikePile:
        return std::make_unique<EbikePile>(d, clock, settings, store);
    case Kind::EvCharger:
        return std::make_unique<EvCharger>(d, clock, settings, store);
    case Kind::Camera:
        return std::make_unique<Camera>(d, clock, settings, store);
    }
    return nullptr;
}

} // namespace pilehub::sim
