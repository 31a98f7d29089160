#include "workers/pilehub-sim/ev_charger.hpp"

#include "common/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace pilehub::sim {
namespace {

using payloads::EvGunStatus;
using payloads::EvStopReason;
using payloads::LimitKind;
using RS = payloads::ReplyStatus;

constexpr EpochMs kNever = std::numeric_limits<EpochMs>::max();
constexpr std::int64_t kStepSimMs = 5000;

double round1(double x) {
    return std::round(x * 10.0) / 10.0;
}
double round2(double x) {
    return std::round(x * 100.0) / 100.0;
}

} // namespace

EvCharger::EvCharger(const FleetDevice& d, const Clock& clock, const Settings& settings, DeviceStore& store)
    : Device(d.id, Kind::EvCharger, clock, settings, store), dc_(d.dc),
      rated_w_(d.power_w > 0 ? static_cast<double>(d.power_w) : (d.dc ? kDcMaxW : kAcMaxW)) {
    guns_.resize(static_cast<std::size_t>(d.ports));
    auto& meters = snapshot().meters_wh;
    const bool fresh = meters.size() != guns_.size();
    meters.resize(guns_.size());
    for (int n = 1; n <= d.ports; ++n) {
        auto& g = at(n);
        g.n = n;
        g.since = now();
        // A charger fresh from the fleet file has already sold some energy; afterwards the register only grows.
        if (fresh && meters[static_cast<std::size_t>(n - 1)] == 0)
            meters[static_cast<std::size_t>(n - 1)] = rng().between(100'000, 5'000'000);
        g.reg_base_wh = meters[static_cast<std::size_t>(n - 1)];
    }
    if (fresh)
        save_snapshot();
    ambient_c_ = round1(rng().uniform(20, 32));
    // The configuration kept on flash is in force before the retained cfg/desired arrives again.
    if (auto kept = stored_cfg<payloads::EvCfgDesired>())
        apply_cfg(*kept, true);
}

int EvCharger::active_sessions() const {
    int k = 0;
    for (const auto& g : guns_)
        k += g.active() ? 1 : 0;
    return k;
}

double EvCharger::total_power_w() const {
    double p = 0;
    for (const auto& g : guns_)
        p += g.power_w;
    return p;
}

double EvCharger::temp_c() const {
    return temp_override_.value_or(ambient_c_ + 10.0 * total_power_w() / (rated_w_ * gun_count()));
}

void EvCharger::save_meters() {
    auto& meters = snapshot().meters_wh;
    for (const auto& g : guns_)
        meters[static_cast<std::size_t>(g.n - 1)] = g.register_wh();
    save_snapshot();
}

// --- publishing ---

void EvCharger::publish_connect_states() {
    payloads::DeviceInfo info;
    info.kind = payloads::DeviceKind::EvCharger;
    info.model = fmt::format("SIM-{}{}K", dc_ ? "DC" : "AC", std::llround(rated_w_ / 1000));
    info.firmware = firmware();
    info.vendor = "PileHub simulator";
    info.serial = id();
    info.gun_count = gun_count();
    info.max_power_w = rated_w_ * gun_count();
    publish_status(topics::info(id()), info, true);
    publish_device_state();
    for (const auto& g : guns_)
        publish_conn_state(g);
}

void EvCharger::publish_device_state() {
    payloads::DeviceState st;
    st.fault_bits = device_fault_bits_;
    st.faults = payloads::ev_fault_names(device_fault_bits_);
    st.temp_c = round1(temp_c());
    st.total_power_w = round1(total_power_w());
    publish_status(topics::state(id()), st, true);
}

void EvCharger::publish_conn_state(const Gun& g) {
    payloads::EvConnState c;
    c.st = g.st;
    if (!g.sid.empty())
        c.sid = g.sid;
    c.since = g.since;
    c.fault_bits = all_faults(g);
    publish_status(topics::conn_state(id(), g.n), c, true);
}

void EvCharger::publish_tele() {
    payloads::EvTele t;
    for (const auto& g : guns_) {
        payloads::EvGunTele gt;
        gt.n = g.n;
        gt.st = g.st;
        gt.energy_register_wh = g.register_wh();
        gt.power_w = round1(g.power_w);
        if (g.active()) {
            gt.sid = g.sid;
            gt.session_energy_wh = g.register_wh() - g.meter_start_wh;
            gt.voltage_v = round1(g.voltage_v);
            gt.current_a = g.voltage_v > 0 ? round2(g.power_w / g.voltage_v) : 0.0;
            if (dc_)
                gt.soc_pct = static_cast<int>(g.battery.soc_pct());
        }
        t.guns.push_back(std::move(gt));
    }
    t.temp_c = round1(temp_c());
    t.total_power_w = round1(total_power_w());
    publish_status(topics::tele(id()), t, false, 0);
    if (any_active())
        save_meters(); // a killed simulator must not find a register lower than it reported
}

// --- state ---

void EvCharger::set_state(Gun& g, EvGunStatus st) {
    if (g.st == st)
        return;
    g.st = st;
    g.since = now();
    publish_conn_state(g);
}

void EvCharger::settle(Gun& g) {
    EvGunStatus st;
    if (all_faults(g) != 0)
        st = EvGunStatus::Faulted;
    else if (g.active())
        st = g.power_w > 0 ? EvGunStatus::Charging : EvGunStatus::SuspendedEv;
    else if (!g.operative)
        st = EvGunStatus::Unavailable;
    else if (g.plugged)
        st = g.last_sid.empty() ? EvGunStatus::Preparing : EvGunStatus::Finishing;
    else
        st = EvGunStatus::Available;
    set_state(g, st);
}

void EvCharger::plug_in(Gun& g) {
    if (g.plugged)
        return;
    g.plugged = true;
    g.last_sid.clear();
    g.battery = EvBattery::arriving(rng());
    publish_event("plug_in", payloads::EvPlugIn{g.n});
    settle(g);
}

void EvCharger::plug_out(Gun& g) {
    if (!g.plugged)
        return;
    g.plugged = false;
    g.asleep = false; // the next car is awake
    publish_event("plug_out", payloads::EvPlugOut{g.n});
    g.last_sid.clear();
    settle(g);
}

void EvCharger::start_session(Gun& g, const std::string& sid, const std::string& id_tag,
                              const std::optional<payloads::ChargeLimit>& limit) {
    plug_in(g);
    g.sid = sid;
    g.id_tag = id_tag;
    g.limit = limit;
    g.start_ts = now();
    g.elapsed_ms = 0;
    g.meter_start_wh = g.register_wh();
    g.max_power_w = 0;
    g.power_w = 0;
    payloads::EvSessionStarted ev;
    ev.n = g.n;
    ev.sid = sid;
    if (!id_tag.empty())
        ev.id_tag = id_tag;
    ev.meter_start_wh = g.meter_start_wh;
    ev.start_ts = g.start_ts;
    publish_event("session_started", ev);
    set_state(g, EvGunStatus::Charging);
    telemetry_soon();
    log::info(log::Ctx{id(), sid}, "gun {} started at {:.0f} % SOC", g.n, g.battery.soc_pct());
}

void EvCharger::stop_session(Gun& g, EvStopReason reason) {
    if (!g.active())
        return;
    const auto stop_ts = std::max(now(), g.start_ts);
    payloads::EvSessionStopped ev;
    ev.n = g.n;
    ev.sid = g.sid;
    ev.reason = reason;
    ev.meter_start_wh = g.meter_start_wh;
    ev.meter_stop_wh = g.register_wh();
    ev.stop_ts = stop_ts;
    publish_event("session_stopped", ev);
    payloads::EvSessionRecord rec;
    rec.n = g.n;
    rec.sid = g.sid;
    if (!g.id_tag.empty())
        rec.id_tag = g.id_tag;
    rec.reason = reason;
    rec.meter_start_wh = g.meter_start_wh;
    rec.meter_stop_wh = ev.meter_stop_wh;
    rec.start_ts = g.start_ts;
    rec.stop_ts = stop_ts;
    rec.max_power_w = round1(g.max_power_w);
    publish_request("session_record", rec, true);
    save_meters();
    log::info(log::Ctx{id(), g.sid}, "gun {} stopped: {} ({} Wh)", g.n, payloads::to_string(reason),
              ev.meter_stop_wh - ev.meter_start_wh);
    g.last_sid = g.sid;
    g.sid.clear();
    g.id_tag.clear();
    g.power_w = 0;
    if (g.inoperative_pending) {
        g.inoperative_pending = false;
        g.operative = false;
    }
    settle(g);
}

// --- physics ---

void EvCharger::advance(std::int64_t dt_ms) {
    std::erase_if(pending_, [&](const PendingReq& p) {
        if (now() < p.deadline)
            return false;
        log::warn(log::Ctx{id(), {}}, "req/{} for gun {} unanswered: dropped", p.name, p.n);
        return true;
    });
    while (dt_ms > 0 && active_sessions() > 0) {
        std::int64_t step = std::min(dt_ms, kStepSimMs);
        for (const auto& g : guns_)
            if (g.active() && g.limit && g.limit->kind == LimitKind::Time && g.limit->minutes)
                step = std::max<std::int64_t>(1, std::min(step, *g.limit->minutes * 60'000 - g.elapsed_ms));
        dt_ms -= step;
        for (auto& g : guns_) {
            if (!g.active())
                continue;
            g.elapsed_ms += step;
            // A hot charger halves its output (its power modules derate); the stop is the platform's.
            const double max_w = temp_c() >= static_cast<double>(config().temp_warn_c) ? rated_w_ / 2 : rated_w_;
            double p = g.asleep ? 0.0 : g.battery.accepted_power_w(max_w, dc_) * rng().uniform(0.99, 1.01);
            p = std::min(p, max_w);
            g.power_w = p;
            g.max_power_w = std::max(g.max_power_w, p);
            g.reg.add(p, step);
            g.battery.charge_wh(p * static_cast<double>(step) / 3'600'000.0);
            g.voltage_v = dc_ ? 340.0 + 1.1 * g.battery.soc_pct() + rng().uniform(-1, 1) : rng().uniform(217, 223);
            settle(g);
            if (g.limit) {
                if (g.limit->kind == LimitKind::Time && g.limit->minutes && g.elapsed_ms >= *g.limit->minutes * 60'000)
                    stop_session(g, EvStopReason::QuotaReached);
                else if (g.limit->kind == LimitKind::Energy && g.limit->wh &&
                         g.register_wh() - g.meter_start_wh >= *g.limit->wh)
                    stop_session(g, EvStopReason::QuotaReached);
            }
        }
    }
}

EpochMs EvCharger::next_wake() const {
    EpochMs next = kNever;
    for (const auto& p : pending_)
        next = std::min(next, p.deadline);
    if (active_sessions() == 0)
        return next;
    std::int64_t sim = kStepSimMs;
    for (const auto& g : guns_)
        if (g.active() && g.limit && g.limit->kind == LimitKind::Time && g.limit->minutes)
            sim = std::max<std::int64_t>(1, std::min(sim, *g.limit->minutes * 60'000 - g.elapsed_ms));
    const EpochMs wall = std::clamp<EpochMs>(wall_ms(sim), std::min<EpochMs>(50, wall_ms(sim)), 1000);
    return std::min(next, now() + wall);
}

// --- commands ---

void EvCharger::on_command(std::string_view name, const std::string& rid, std::string_view text) {
    if (name == "start_session") {
        auto m = decode_command<payloads::EvStartSessionCmd>(name, text);
        if (!m)
            return;
        const auto& d = m->data;
        if (!valid(d.n))
            return reply(name, *m, RS::Invalid, std::nullopt, ErrorCode::UnknownSocket,
                         fmt::format("gun {} does not exist (1..{})", d.n, gun_count()));
        auto& g = at(d.n);
        if (g.active()) {
            if (g.sid == d.sid)
                return reply(name, *m, RS::Ok, std::nullopt, std::nullopt, std::string("already running"));
            return reply(name, *m, RS::Busy, std::nullopt, ErrorCode::SocketBusy,
                         fmt::format("gun {} is charging", d.n));
        }
        if (all_faults(g) != 0)
            return reply(name, *m, RS::Rejected, std::nullopt, ErrorCode::SocketFaulted,
                         fmt::format("gun {} is faulted", d.n));
        if (!g.operative)
            return reply(name, *m, RS::Rejected, std::nullopt, ErrorCode::SocketFaulted,
                         fmt::format("gun {} is unavailable", d.n));
        reply(name, *m, RS::Ok);
        start_session(g, d.sid, d.id_tag, d.limit);
        return;
    }
    if (name == "stop_session") {
        auto m = decode_command<payloads::EvStopSessionCmd>(name, text);
        if (!m)
            return;
        for (auto& g : guns_)
            if (g.active() && g.sid == m->data.sid) {
                reply(name, *m, RS::Ok);
                stop_session(g, EvStopReason::Remote);
                return;
            }
        for (auto& g : guns_)
            if (g.last_sid == m->data.sid)
                return reply(name, *m, RS::Ok, std::nullopt, std::nullopt, std::string("not running"));
        return reply(name, *m, RS::Rejected, std::nullopt, ErrorCode::Conflict,
                     fmt::format("no session {} on this charger", m->data.sid));
    }
    if (name == "reset") {
        auto m = decode_command<payloads::EvReset>(name, text);
        if (!m)
            return;
        reply(name, *m, RS::Ok);
        const auto why = m->data.type == payloads::ResetType::Hard ? EvStopReason::HardReset : EvStopReason::SoftReset;
        for (auto& g : guns_)
            stop_session(g, why);
        request_action(TransportAction::Reboot);
        return;
    }
    if (name == "unlock") {
        auto m = decode_command<payloads::EvUnlock>(name, text);
        if (!m)
            return;
        if (!valid(m->data.n))
            return reply(name, *m, RS::Invalid, std::nullopt, ErrorCode::UnknownSocket,
                         fmt::format("gun {} does not exist (1..{})", m->data.n, gun_count()));
        reply(name, *m, RS::Ok);
        auto& g = at(m->data.n);
        stop_session(g, EvStopReason::UnlockCommand);
        plug_out(g);
        return;
    }
    if (name == "set_availability") {
        auto m = decode_command<payloads::EvSetAvailability>(name, text);
        if (!m)
            return;
        const auto& d = m->data;
        if (d.n != 0 && !valid(d.n))
            return reply(name, *m, RS::Invalid, std::nullopt, ErrorCode::UnknownSocket,
                         fmt::format("gun {} does not exist (0..{})", d.n, gun_count()));
        bool scheduled = false;
        for (auto& g : guns_) {
            if (d.n != 0 && g.n != d.n)
                continue;
            if (d.operative) {
                g.operative = true;
                g.inoperative_pending = false;
            } else if (g.active()) {
                g.inoperative_pending = true; // OCPP "Scheduled": after the session
                scheduled = true;
            } else {
                g.operative = false;
            }
            settle(g);
        }
        return reply(name, *m, RS::Ok, std::nullopt, std::nullopt,
                     scheduled ? std::optional<std::string>("scheduled: applied when the session ends") : std::nullopt);
    }
    if (name == "set_tariff") {
        auto m = decode_command<payloads::EvSetTariff>(name, text);
        if (m) // shown on the charger's screen; nothing to simulate
            reply(name, *m, RS::Ok);
        return;
    }
    if (name == "set_time") {
        auto m = decode_command<payloads::CmdSetTime>(name, text);
        if (m)
            reply(name, *m, RS::Ok);
        return;
    }
    if (name == "ota") {
        if (auto m = decode_command<payloads::CmdOta>(name, text))
            start_ota(*m);
        return;
    }
    reply_plain(name, rid, RS::Unsupported, ErrorCode::Unsupported,
                fmt::format("an ev_charger has no command {}", name));
}

void EvCharger::on_request_reply(std::string_view name, std::string_view text) {
    std::optional<payloads::Envelope> env;
    if (auto e = payloads::peek_envelope(text))
        env = *e;
    if (!env || !env->rid)
        return;
    auto it = std::find_if(pending_.begin(), pending_.end(),
                           [&](const PendingReq& p) { return p.rid == *env->rid && p.name == name; });
    if (it == pending_.end())
        return;
    const auto req = *it;
    pending_.erase(it);
    auto& g = at(req.n);
    if (name == "authorize") {
        auto r = payloads::decode<payloads::Reply<payloads::AuthorizeReply>>(text);
        if (!r || r->data.status != RS::Ok || !r->data.data || r->data.data->decision != payloads::Decision::Accept) {
            log::info(log::Ctx{id(), {}}, "id tag {} not authorised on gun {}", req.id_tag, req.n);
            return;
        }
        if (g.active() || all_faults(g) != 0 || !g.operative)
            return;
        plug_in(g);
        payloads::EvStartSessionReq s;
        s.n = g.n;
        s.id_tag = req.id_tag;
        s.meter_start_wh = g.register_wh();
        s.start_ts = now();
        const auto rid = publish_request("start_session", s, false);
        pending_.push_back({rid, "start_session", g.n, req.id_tag, now() + kRequestTimeoutMs});
        return;
    }
    if (name == "start_session") {
        auto r = payloads::decode<payloads::Reply<payloads::EvStartSessionReply>>(text);
        if (!r || r->data.status != RS::Ok || !r->data.data || r->data.data->decision != payloads::Decision::Accept ||
            !r->data.data->sid) {
            log::info(log::Ctx{id(), {}}, "start on gun {} refused by the platform", req.n);
            return;
        }
        if (g.active() || all_faults(g) != 0)
            return;
        start_session(g, *r->data.data->sid, req.id_tag, std::nullopt);
    }
}

// --- control lines ---

std::string EvCharger::on_control(const ControlCommand& c) {
    if (c.op != ControlOp::Fault && c.op != ControlOp::Temp && !valid(c.n))
        return fmt::format("gun {} does not exist (1..{})", c.n, gun_count());
    switch (c.op) {
    case ControlOp::Plug:
        plug_in(at(c.n));
        return {};
    case ControlOp::Unplug: {
        auto& g = at(c.n);
        stop_session(g, EvStopReason::EvDisconnected);
        plug_out(g);
        return {};
    }
    case ControlOp::Full: {
        auto& g = at(c.n);
        if (!g.active())
            return fmt::format("gun {} has no session", c.n);
        g.battery.set_soc_pct(100); // the car stops taking current: suspended_ev
        return {};
    }
    case ControlOp::NoLoad: {
        // The sleeping car: it takes nothing now and for the session to come, until it is unplugged.
        auto& g = at(c.n);
        g.asleep = true;
        if (g.active()) {
            g.power_w = 0;
            settle(g);
        }
        return {};
    }
    case ControlOp::Soc: {
        auto& g = at(c.n);
        if (!g.plugged)
            return fmt::format("no car at gun {}", c.n);
        g.battery.set_soc_pct(c.soc_pct);
        return {};
    }
    case ControlOp::Swipe: {
        auto& g = at(c.n);
        if (g.active()) {
            if (g.id_tag == c.card_uid)
                stop_session(g, EvStopReason::Local);
            return {};
        }
        if (all_faults(g) != 0 || !g.operative)
            return fmt::format("gun {} is out of service", c.n);
        const auto rid = publish_request("authorize", payloads::EvAuthorize{c.card_uid, c.n}, false);
        pending_.push_back({rid, "authorize", c.n, c.card_uid, now() + kRequestTimeoutMs});
        return {};
    }
    case ControlOp::Fault: {
        if (c.n != 0 && !valid(c.n))
            return fmt::format("gun {} does not exist (0..{})", c.n, gun_count());
        const auto known = payloads::ev_fault_bits({c.code});
        const std::uint32_t mask = known ? *known : payloads::ev_fault_mask(payloads::EvFault::Other);
        auto& bits = c.n == 0 ? device_fault_bits_ : at(c.n).fault_bits;
        if (c.clear)
            bits &= ~mask;
        else
            bits |= mask;
        payloads::EvFaultEvent ev;
        ev.n = c.n;
        ev.fault_bits = bits;
        if (!known)
            ev.vendor_code = c.code;
        publish_event("fault", ev);
        const auto reason = c.code == "estop" ? EvStopReason::EmergencyStop : EvStopReason::Other;
        for (auto& g : guns_) {
            if (c.n != 0 && g.n != c.n)
                continue;
            if (!c.clear)
                stop_session(g, reason);
            settle(g);
            publish_conn_state(g);
        }
        if (c.n == 0)
            publish_device_state();
        return {};
    }
    case ControlOp::Temp:
        temp_override_ = c.celsius;
        publish_device_state();
        return {};
    case ControlOp::Disable: {
        auto& g = at(c.n);
        g.operative = c.clear;
        if (!c.clear)
            stop_session(g, EvStopReason::Other);
        settle(g);
        return {};
    }
    default:
        return "not a control for an ev_charger";
    }
}

// --- configuration ---

void EvCharger::apply_cfg(const payloads::EvCfgDesired& d, bool from_store) {
    auto v = d.values;
    std::vector<std::string> clamped;
    if (v.temp_stop_c > kHwTempStopMaxC) {
        v.temp_stop_c = kHwTempStopMaxC;
        v.temp_warn_c = std::min(v.temp_warn_c, v.temp_stop_c);
        clamped.push_back("temp_stop_c");
    }
    cfg_.applied(d.version, v, std::move(clamped),
                 fmt::format("temp_stop_c clamped to the power modules' {} C", kHwTempStopMaxC));
    if (!from_store)
        log::info(log::Ctx{id(), {}}, "cfg version {} {}", cfg_.version(), payloads::to_string(cfg_.report.status));
}

void EvCharger::on_cfg(std::string_view text) {
    receive_cfg<payloads::EvCfgDesired>(text, cfg_, [&](const payloads::EvCfgDesired& d) { apply_cfg(d, false); });
}

void EvCharger::publish_cfg_reported() {
    publish_cfg(cfg_);
}

std::string EvCharger::reencode_record(const PendingRecord& r, const payloads::Envelope& env) {
    auto m = payloads::decode<payloads::EvSessionRecord>(r.payload);
    if (!m)
        return {};
    auto msg = std::move(m).value();
    auto e = env;
    e.id = msg.env.id;
    e.rid = msg.env.rid;
    msg.env = std::move(e);
    return payloads::encode(msg);
}

} // namespace pilehub::sim
