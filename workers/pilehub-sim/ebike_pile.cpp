#include "workers/pilehub-sim/ebike_pile.hpp"

#include "common/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace pilehub::sim {
namespace {

using payloads::EbikeSocketStatus;
using payloads::EbikeStopReason;
using payloads::LimitKind;
using RS = payloads::ReplyStatus;

constexpr EpochMs kNever = std::numeric_limits<EpochMs>::max();
// Longest simulated step of the physics; rules that fall inside a step are hit exactly (see ms_to_next_rule).
constexpr std::int64_t kStepSimMs = 5000;

double round1(double x) {
    return std::round(x * 10.0) / 10.0;
}
double round2(double x) {
    return std::round(x * 100.0) / 100.0;
}

// The pile reuses CONTRACT A.5's fault bit table where a name matches; other words are bit 31 (`other`).
int fault_bit(const std::string& code) {
    auto bits = payloads::ev_fault_bits({code});
    if (!bits || *bits == 0)
        return 31;
    return std::countr_zero(*bits);
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
    if (std::find(v.begin(), v.end(), s) == v.end())
        v.push_back(s);
}

} // namespace

EbikePile::EbikePile(const FleetDevice& d, const Clock& clock, const Settings& settings, DeviceStore& store)
    : Device(d.id, Kind::EbikePile, clock, settings, store) {
    sockets_.resize(static_cast<std::size_t>(d.ports));
    for (int n = 1; n <= d.ports; ++n) {
        at(n).n = n;
        at(n).since = now();
    }
    ambient_c_ = round1(rng().uniform(20, 32));
    temp_c_ = ambient_c_;
    rssi_dbm_ = static_cast<int>(rng().between(-95, -60));
    // The configuration kept on flash is in force before the retained cfg/desired arrives again.
    if (auto kept = stored_cfg<payloads::EbikeCfgDesired>())
        apply_cfg(*kept, true);
}

int EbikePile::active_sessions() const {
    int k = 0;
    for (const auto& s : sockets_)
        k += s.active() ? 1 : 0;
    return k;
}

double EbikePile::total_power_w() const {
    double p = 0;
    for (const auto& s : sockets_)
        if (s.active())
            p += s.power_w;
    return p;
}

std::int64_t EbikePile::overload_w(int n) const {
    for (const auto& o : config().socket_overrides)
        if (o.n == n && o.socket_overload_w)
            return *o.socket_overload_w;
    return config().socket_overload_w;
}

std::int64_t EbikePile::full_stop_w(int n) const {
    for (const auto& o : config().socket_overrides)
        if (o.n == n && o.full_stop_w)
            return *o.full_stop_w;
    return config().full_stop_w;
}

std::vector<std::string> EbikePile::faults_of(const Socket& s) const {
    auto f = s.faults;
    for (const auto& d : device_faults_)
        add_unique(f, d);
    return f;
}

// --- publishing ---

void EbikePile::publish_connect_states() {
    payloads::DeviceInfo info;
    info.kind = payloads::DeviceKind::EbikePile;
    info.model = fmt::format("SIM-EB{}", socket_count());
    info.firmware = firmware();
    info.vendor = "PileHub simulator";
    info.serial = id();
    info.socket_count = socket_count();
    info.max_power_w = static_cast<double>(kHwDeviceOverloadMaxW);
    publish_status(topics::info(id()), info, true);
    publish_device_state();
    for (const auto& s : sockets_)
        publish_conn_state(s);
}

payloads::DeviceState EbikePile::device_state() const {
    payloads::DeviceState st;
    st.faults = device_faults_;
    if (temp_warning_)
        st.faults.push_back("temp_warning");
    for (const auto& f : st.faults)
        st.fault_bits |= std::uint32_t{1} << fault_bit(f);
    st.temp_c = round1(temp_c_);
    st.total_power_w = round1(total_power_w());
    st.rssi_dbm = rssi_dbm_;
    return st;
}

void EbikePile::publish_device_state() {
    publish_status(topics::state(id()), device_state(), true);
}

void EbikePile::publish_conn_state(const Socket& s) {
    payloads::EbikeConnState c;
    c.st = s.st;
    if (!s.sid.empty())
        c.sid = s.sid;
    c.since = s.since;
    c.faults = faults_of(s);
    publish_status(topics::conn_state(id(), s.n), c, true);
}

void EbikePile::publish_tele() {
    payloads::EbikeTele t;
    t.temp_c = round1(temp_c_);
    t.total_power_w = round1(total_power_w());
    t.rssi_dbm = rssi_dbm_ + static_cast<int>(rng().between(-2, 2));
    for (const auto& s : sockets_) {
        if (s.st == EbikeSocketStatus::Idle)
            continue; // sparse: idle sockets have nothing to say
        payloads::EbikeSocketTele st;
        st.n = s.n;
        st.st = s.st;
        if (s.active()) {
            st.voltage_v = round1(s.voltage_v);
            st.current_a = s.voltage_v > 0 ? round2(s.power_w / s.voltage_v) : 0.0;
            st.power_w = round1(s.power_w);
            st.session_energy_wh = s.meter.wh();
            st.sid = s.sid;
        }
        t.sockets.push_back(std::move(st));
    }
    publish_status(topics::tele(id()), t, false, 0);
}

void EbikePile::publish_cfg_reported() {
    publish_cfg(cfg_);
}

void EbikePile::raise_fault(int n, const std::string& code, bool active) {
    publish_event("fault", payloads::EbikeFault{code, fault_bit(code), active, n});
}

// --- state changes ---

void EbikePile::set_state(Socket& s, EbikeSocketStatus st) {
    if (s.st == st)
        return;
    s.st = st;
    s.since = now();
    publish_conn_state(s);
}

void EbikePile::settle_state(Socket& s) {
    if (s.active())
        return;
    const auto st = s.disabled             ? EbikeSocketStatus::Disabled
                    : faults_of(s).empty() ? EbikeSocketStatus::Idle
                                           : EbikeSocketStatus::Fault;
    if (st != s.st)
        set_state(s, st);
    else
        publish_conn_state(s); // the fault list may have changed
}

void EbikePile::start_session(Socket& s, const std::string& sid, const payloads::ChargeLimit& limit,
                              const std::string& card) {
    s.sid = sid;
    s.card = card;
    s.limit = limit;
    s.start_ts = now();
    s.elapsed_ms = s.relay_ms = s.below_ms = 0;
    s.seen_load = false;
    s.curve = EbikeCurve::typical(rng());
    s.meter.reset();
    s.power_w = s.max_power_w = 0;
    s.voltage_v = round1(rng().uniform(216, 224));
    set_state(s, EbikeSocketStatus::Starting);
    publish_event("session_started", payloads::EbikeSessionStarted{s.n, sid, s.start_ts});
    telemetry_soon();
    log::info(log::Ctx{id(), sid}, "socket {} started ({}{})", s.n, payloads::to_string(limit.kind),
              card.empty() ? "" : ", card " + card);
}

void EbikePile::stop_session(Socket& s, EbikeStopReason reason) {
    if (!s.active())
        return;
    const auto stop_ts = std::max(now(), s.start_ts);
    payloads::EbikeSessionStopped ev;
    ev.n = s.n;
    ev.sid = s.sid;
    ev.reason = reason;
    ev.energy_wh = s.meter.wh();
    ev.duration_s = s.elapsed_ms / 1000;
    ev.max_power_w = round1(s.max_power_w);
    publish_event("session_stopped", ev);
    payloads::EbikeSessionRecord rec;
    rec.n = s.n;
    rec.sid = s.sid;
    rec.reason = reason;
    rec.energy_wh = ev.energy_wh;
    rec.duration_s = ev.duration_s;
    rec.max_power_w = ev.max_power_w;
    rec.start_ts = s.start_ts;
    rec.stop_ts = stop_ts;
    publish_request("session_record", rec, true);
    log::info(log::Ctx{id(), s.sid}, "socket {} stopped: {} ({} Wh, {} s, max {} W)", s.n, payloads::to_string(reason),
              ev.energy_wh, ev.duration_s, ev.max_power_w);
    s.last_sid = s.sid;
    s.sid.clear();
    s.card.clear();
    s.load = Load::Normal;
    s.power_w = 0;
    s.st = EbikeSocketStatus::Idle; // leaves the active states; settle_state publishes the real one
    s.since = now();
    const auto settled = s.disabled             ? EbikeSocketStatus::Disabled
                         : faults_of(s).empty() ? EbikeSocketStatus::Idle
                                                : EbikeSocketStatus::Fault;
    s.st = settled;
    publish_conn_state(s);
}

void EbikePile::maybe_reboot_when_idle() {
    if (reboot_when_idle_ && active_sessions() == 0) {
        reboot_when_idle_ = false;
        log::info(log::Ctx{id(), {}}, "idle now: rebooting as asked");
        request_action(TransportAction::Reboot);
    }
}

// --- physics and rules ---

double EbikePile::draw_w(Socket& s) {
    const double noise = rng().uniform(0.985, 1.015);
    switch (s.load) {
    case Load::Normal:
        return s.curve.power_at(s.relay_ms) * noise;
    case Load::None:
    case Load::Unplugged:
        return 0;
    case Load::Overload:
        return s.load_w * noise;
    case Load::Full: {
        // A full battery: the charger's own trickle, under the threshold.
        const double thr = static_cast<double>(full_stop_w(s.n));
        return std::max(0.0, std::min(rng().uniform(1.0, 3.0), thr - 1.0));
    }
    }
    return 0;
}

void EbikePile::update_temperature() {
    if (temp_override_)
        temp_c_ = *temp_override_;
    else // the cabinet warms with the load it carries
        temp_c_ = ambient_c_ + 15.0 * total_power_w() / static_cast<double>(kHwDeviceOverloadMaxW);
}

void EbikePile::check_temperature() {
    update_temperature();
    const bool hot = temp_c_ >= static_cast<double>(config().temp_stop_c);
    if (hot && !over_temp_) {
        over_temp_ = true;
        add_unique(device_faults_, "over_temp");
        raise_fault(0, "over_temp", true);
        log::warn(log::Ctx{id(), {}}, "over temperature {} °C >= {} °C: stopping every socket", temp_c_,
                  config().temp_stop_c);
        for (auto& s : sockets_)
            stop_session(s, EbikeStopReason::OverTemp);
        for (auto& s : sockets_)
            settle_state(s);
        publish_device_state();
    } else if (!hot && over_temp_) {
        over_temp_ = false;
        std::erase(device_faults_, std::string("over_temp"));
        raise_fault(0, "over_temp", false);
        for (auto& s : sockets_)
            settle_state(s);
        publish_device_state();
    }
    const bool warn = !over_temp_ && temp_c_ >= static_cast<double>(config().temp_warn_c);
    if (warn != temp_warning_) {
        temp_warning_ = warn;
        raise_fault(0, "temp_warning", warn);
        publish_device_state();
    }
}

std::int64_t EbikePile::ms_to_next_rule(const Socket& s) const {
    std::int64_t r = kStepSimMs;
    if (s.st == EbikeSocketStatus::Starting)
        r = std::min(r, kStartingMs - s.elapsed_ms);
    if (s.limit.kind == LimitKind::Time && s.limit.minutes)
        r = std::min(r, *s.limit.minutes * 60'000 - s.elapsed_ms);
    if (s.limit.kind != LimitKind::Time && s.st != EbikeSocketStatus::Starting) {
        if (!s.seen_load)
            r = std::min(r, config().no_load_wait_s * 1000 - s.relay_ms);
        else if (s.st == EbikeSocketStatus::FullWait)
            r = std::min(r, config().full_wait_s * 1000 - s.below_ms);
    }
    return std::max<std::int64_t>(r, 1);
}

void EbikePile::advance(std::int64_t dt_ms) {
    std::erase_if(auths_, [&](const PendingAuth& a) {
        if (now() < a.deadline)
            return false;
        log::warn(log::Ctx{id(), {}}, "card {} on socket {}: no authorisation reply in time; refused locally", a.card,
                  a.n);
        return true;
    });
    if (active_sessions() == 0) {
        check_temperature();
        return;
    }
    while (dt_ms > 0 && active_sessions() > 0) {
        std::int64_t step_ms = std::min(dt_ms, kStepSimMs);
        for (const auto& s : sockets_)
            if (s.active())
                step_ms = std::min(step_ms, ms_to_next_rule(s));
        step(step_ms);
        dt_ms -= step_ms;
    }
    check_temperature();
}

void EbikePile::step(std::int64_t dt) {
    for (auto& s : sockets_) {
        if (!s.active())
            continue;
        s.elapsed_ms += dt;
        std::int64_t on_ms = dt;
        if (s.st == EbikeSocketStatus::Starting) {
            if (s.elapsed_ms < kStartingMs) {
                s.power_w = 0;
                continue;
            }
            on_ms = s.elapsed_ms - kStartingMs;
            set_state(s, EbikeSocketStatus::Charging);
        }
        s.relay_ms += on_ms;
        s.power_w = draw_w(s);
        s.meter.add(s.power_w, on_ms);
        s.max_power_w = std::max(s.max_power_w, s.power_w);
    }
    check_temperature();
    // Socket overload: each socket against its own limit.
    for (auto& s : sockets_)
        if (s.active() && s.power_w > static_cast<double>(overload_w(s.n))) {
            log::warn(log::Ctx{id(), s.sid}, "socket {} draws {:.0f} W > {} W", s.n, s.power_w, overload_w(s.n));
            stop_session(s, EbikeStopReason::SocketOverload);
        }
    // Device overload: the highest socket goes first, until the pile is back under its limit.
    while (total_power_w() > static_cast<double>(config().device_overload_w)) {
        Socket* top = nullptr;
        for (auto& s : sockets_)
            if (s.active() && (!top || s.power_w > top->power_w))
                top = &s;
        if (!top)
            break;
        log::warn(log::Ctx{id(), top->sid}, "pile draws {:.0f} W > {} W: stopping socket {} ({:.0f} W)",
                  total_power_w(), config().device_overload_w, top->n, top->power_w);
        stop_session(*top, EbikeStopReason::DeviceOverload);
    }
    for (auto& s : sockets_) {
        if (!s.active())
            continue;
        if (s.limit.kind == LimitKind::Time && s.limit.minutes && s.elapsed_ms >= *s.limit.minutes * 60'000) {
            stop_session(s, EbikeStopReason::QuotaReached);
            continue;
        }
        if (s.limit.kind == LimitKind::Energy && s.limit.wh && s.meter.wh() >= *s.limit.wh) {
            stop_session(s, EbikeStopReason::QuotaReached);
            continue;
        }
        if (s.st == EbikeSocketStatus::Starting)
            continue;
        if (s.power_w >= static_cast<double>(full_stop_w(s.n))) {
            s.seen_load = true;
            s.below_ms = 0;
            set_state(s, EbikeSocketStatus::Charging);
            continue;
        }
        if (s.limit.kind == LimitKind::Time)
            continue; // a time session runs its time, full or not (BILLING.md §2)
        if (!s.seen_load) {
            if (s.relay_ms >= config().no_load_wait_s * 1000)
                stop_session(s, EbikeStopReason::NoLoad);
            continue;
        }
        s.below_ms += dt;
        set_state(s, EbikeSocketStatus::FullWait);
        if (s.below_ms >= config().full_wait_s * 1000)
            stop_session(s, EbikeStopReason::Full);
    }
    maybe_reboot_when_idle();
}

EpochMs EbikePile::next_wake() const {
    EpochMs next = kNever;
    for (const auto& a : auths_)
        next = std::min(next, a.deadline);
    if (active_sessions() == 0)
        return next;
    // The physics runs at least every 5 simulated seconds, between 50 ms and 1 s of wall time.
    std::int64_t sim = kStepSimMs;
    for (const auto& s : sockets_)
        if (s.active())
            sim = std::min(sim, ms_to_next_rule(s));
    const EpochMs wall = std::clamp<EpochMs>(wall_ms(sim), std::min<EpochMs>(50, wall_ms(sim)), 1000);
    return std::min(next, now() + wall);
}

// --- commands ---

payloads::EbikePortStatus EbikePile::port_status(const Socket& s) const {
    payloads::EbikePortStatus p;
    p.n = s.n;
    p.st = s.st;
    if (!s.sid.empty())
        p.sid = s.sid;
    p.since = s.since;
    p.faults = faults_of(s);
    if (s.active()) {
        p.voltage_v = round1(s.voltage_v);
        p.current_a = s.voltage_v > 0 ? round2(s.power_w / s.voltage_v) : 0.0;
        p.power_w = round1(s.power_w);
        p.session_energy_wh = s.meter.wh();
    }
    return p;
}

void EbikePile::on_command(std::string_view name, const std::string& rid, std::string_view text) {
    if (name == "start_port") {
        auto m = decode_command<payloads::EbikeStartPort>(name, text);
        if (!m)
            return;
        const auto& d = m->data;
        if (!valid(d.n))
            return reply(name, *m, RS::Invalid, std::nullopt, ErrorCode::UnknownSocket,
                         fmt::format("socket {} does not exist (1..{})", d.n, socket_count()));
        auto& s = at(d.n);
        if (s.active()) {
            if (s.sid == d.sid)
                return reply(name, *m, RS::Ok, std::nullopt, std::nullopt, std::string("already running"));
            return reply(name, *m, RS::Busy, std::nullopt, ErrorCode::SocketBusy,
                         fmt::format("socket {} is {}", d.n, payloads::to_string(s.st)));
        }
        if (s.disabled)
            return reply(name, *m, RS::Rejected, std::nullopt, ErrorCode::SocketFaulted,
                         fmt::format("socket {} is disabled", d.n));
        if (auto f = faults_of(s); !f.empty())
            return reply(name, *m, RS::Rejected, std::nullopt, ErrorCode::SocketFaulted,
                         fmt::format("socket {} has fault {}", d.n, f.front()));
        if (d.limit.kind == LimitKind::Time && !d.limit.minutes)
            return reply(name, *m, RS::Invalid, std::nullopt, ErrorCode::InvalidMode,
                         std::string("time limit without minutes"));
        if (d.limit.kind == LimitKind::Energy && !d.limit.wh)
            return reply(name, *m, RS::Invalid, std::nullopt, ErrorCode::InvalidMode,
                         std::string("energy limit without wh"));
        reply(name, *m, RS::Ok);
        start_session(s, d.sid, d.limit, "");
        return;
    }
    if (name == "stop_port") {
        auto m = decode_command<payloads::EbikeStopPort>(name, text);
        if (!m)
            return;
        const auto& d = m->data;
        if (!valid(d.n))
            return reply(name, *m, RS::Invalid, std::nullopt, ErrorCode::UnknownSocket,
                         fmt::format("socket {} does not exist (1..{})", d.n, socket_count()));
        auto& s = at(d.n);
        if (!s.active()) {
            if (!d.sid || *d.sid == s.last_sid)
                return reply(name, *m, RS::Ok, std::nullopt, std::nullopt, std::string("not running"));
            return reply(name, *m, RS::Rejected, std::nullopt, ErrorCode::Conflict,
                         fmt::format("socket {} never ran session {}", d.n, *d.sid));
        }
        if (d.sid && *d.sid != s.sid)
            return reply(name, *m, RS::Rejected, std::nullopt, ErrorCode::Conflict,
                         fmt::format("socket {} runs another session", d.n));
        reply(name, *m, RS::Ok);
        stop_session(s, EbikeStopReason::RemoteStop);
        maybe_reboot_when_idle();
        return;
    }
    if (name == "query_port") {
        auto m = decode_command<payloads::EbikeQueryPort>(name, text);
        if (!m)
            return;
        if (!valid(m->data.n))
            return reply(name, *m, RS::Invalid, std::nullopt, ErrorCode::UnknownSocket,
                         fmt::format("socket {} does not exist (1..{})", m->data.n, socket_count()));
        return reply(name, *m, RS::Ok, port_status(at(m->data.n)));
    }
    if (name == "query_device") {
        auto m = decode_command<payloads::EbikeQueryDevice>(name, text);
        if (!m)
            return;
        payloads::EbikeDeviceReport r;
        r.device = device_state();
        for (const auto& s : sockets_)
            r.sockets.push_back(port_status(s));
        return reply(name, *m, RS::Ok, std::move(r));
    }
    if (name == "reboot") {
        auto m = decode_command<payloads::CmdReboot>(name, text);
        if (!m)
            return;
        reply(name, *m, RS::Ok);
        if (m->data.when == payloads::RebootWhen::WhenIdle && active_sessions() > 0) {
            reboot_when_idle_ = true;
            return;
        }
        for (auto& s : sockets_)
            stop_session(s, EbikeStopReason::Other);
        request_action(TransportAction::Reboot);
        return;
    }
    if (name == "set_time") {
        auto m = decode_command<payloads::CmdSetTime>(name, text);
        if (m) // the simulator runs on the host's clock; nothing to set
            reply(name, *m, RS::Ok);
        return;
    }
    if (name == "ota") {
        if (auto m = decode_command<payloads::CmdOta>(name, text))
            start_ota(*m);
        return;
    }
    reply_plain(name, rid, RS::Unsupported, ErrorCode::Unsupported,
                fmt::format("an ebike_pile has no command {}", name));
}

void EbikePile::on_request_reply(std::string_view name, std::string_view text) {
    if (name != "authorize")
        return Device::on_request_reply(name, text);
    auto r = payloads::decode<payloads::Reply<payloads::AuthorizeReply>>(text);
    if (!r) {
        log::warn(log::Ctx{id(), {}}, "req-reply/authorize unreadable: {}", r.error());
        return;
    }
    auto it = std::find_if(auths_.begin(), auths_.end(), [&](const PendingAuth& a) { return a.rid == *r->env.rid; });
    if (it == auths_.end())
        return; // late or duplicate
    const auto auth = *it;
    auths_.erase(it);
    if (r->data.status != RS::Ok || !r->data.data) {
        log::warn(log::Ctx{id(), {}}, "card {}: authorisation answered {} ({})", auth.card,
                  payloads::to_string(r->data.status), r->data.msg.value_or(""));
        return;
    }
    const auto& a = *r->data.data;
    if (a.decision != payloads::Decision::Accept) {
        log::info(log::Ctx{id(), {}}, "card {} rejected ({})", auth.card,
                  a.reason ? to_string(*a.reason) : "no reason");
        return;
    }
    if (!a.sid) {
        log::warn(log::Ctx{id(), {}}, "card {} accepted without a sid: not started", auth.card);
        return;
    }
    auto& s = at(auth.n);
    if (s.active() || s.disabled || !faults_of(s).empty()) {
        log::warn(log::Ctx{id(), *a.sid}, "card {} accepted but socket {} is no longer free", auth.card, auth.n);
        return;
    }
    start_session(s, *a.sid, a.limit.value_or(payloads::ChargeLimit::full()), auth.card);
}

// --- configuration ---

void EbikePile::apply_cfg(const payloads::EbikeCfgDesired& d, bool from_store) {
    auto v = d.values;
    std::vector<std::string> rejected;
    if (v.socket_overload_w > kHwSocketOverloadMaxW) {
        v.socket_overload_w = kHwSocketOverloadMaxW;
        rejected.push_back("socket_overload_w");
    }
    if (v.device_overload_w > kHwDeviceOverloadMaxW) {
        v.device_overload_w = kHwDeviceOverloadMaxW;
        rejected.push_back("device_overload_w");
    }
    const auto before = v.socket_overrides.size();
    std::erase_if(v.socket_overrides, [&](const payloads::SocketOverride& o) { return o.n > socket_count(); });
    bool clamped = before != v.socket_overrides.size();
    for (auto& o : v.socket_overrides)
        if (o.socket_overload_w && *o.socket_overload_w > kHwOverrideMaxW) {
            o.socket_overload_w = kHwOverrideMaxW;
            clamped = true;
        }
    if (clamped)
        rejected.push_back("socket_overrides");
    if (v.temp_warn_c > v.temp_stop_c) {
        v.temp_warn_c = v.temp_stop_c;
        rejected.push_back("temp_warn_c");
    }
    cfg_.applied(d.version, v, std::move(rejected),
                 "clamped to the pile's hardware limits (socket 600 W, override 3500 W, pile 6000 W, warn <= stop)");
    if (!from_store)
        log::info(log::Ctx{id(), {}}, "cfg version {} {}", cfg_.version(), payloads::to_string(cfg_.report.status));
}

void EbikePile::on_cfg(std::string_view text) {
    if (receive_cfg<payloads::EbikeCfgDesired>(text, cfg_,
                                               [&](const payloads::EbikeCfgDesired& d) { apply_cfg(d, false); }))
        check_temperature();
}

// --- control lines ---

std::string EbikePile::on_control(const ControlCommand& c) {
    const bool needs_port = c.op == ControlOp::NoLoad || c.op == ControlOp::Overload || c.op == ControlOp::Unplug ||
                            c.op == ControlOp::Full || c.op == ControlOp::Swipe || c.op == ControlOp::Disable ||
                            (c.op == ControlOp::Fault && c.n != 0);
    if (needs_port && !valid(c.n))
        return fmt::format("socket {} does not exist (1..{})", c.n, socket_count());
    switch (c.op) {
    case ControlOp::NoLoad:
        at(c.n).load = Load::None;
        return {};
    case ControlOp::Overload:
        at(c.n).load = Load::Overload;
        at(c.n).load_w = c.watts;
        return {};
    case ControlOp::Full: {
        auto& s = at(c.n);
        if (!s.active())
            return fmt::format("socket {} has no session", c.n);
        s.load = Load::Full;
        return {};
    }
    case ControlOp::Unplug: {
        auto& s = at(c.n);
        if (!s.active())
            return fmt::format("socket {} has no session", c.n);
        if (s.limit.kind == LimitKind::Time)
            s.load = Load::Unplugged; // a time session keeps running until its time (BILLING.md §2)
        else
            stop_session(s, EbikeStopReason::Unplugged);
        return {};
    }
    case ControlOp::Fault: {
        if (c.n == 0) {
            const bool has = std::find(device_faults_.begin(), device_faults_.end(), c.code) != device_faults_.end();
            if (has != c.clear)
                return fmt::format("fault {} is {} on the pile", c.code, has ? "already active" : "not active");
            if (c.clear)
                std::erase(device_faults_, c.code);
            else
                device_faults_.push_back(c.code);
            raise_fault(0, c.code, !c.clear);
            for (auto& s : sockets_) {
                if (!c.clear)
                    stop_session(s, EbikeStopReason::Fault);
                settle_state(s);
            }
            publish_device_state();
            return {};
        }
        auto& s = at(c.n);
        const bool has = std::find(s.faults.begin(), s.faults.end(), c.code) != s.faults.end();
        if (has != c.clear)
            return fmt::format("fault {} is {} on socket {}", c.code, has ? "already active" : "not active", c.n);
        if (c.clear)
            std::erase(s.faults, c.code);
        else
            s.faults.push_back(c.code);
        raise_fault(c.n, c.code, !c.clear);
        if (!c.clear)
            stop_session(s, EbikeStopReason::Fault);
        settle_state(s);
        return {};
    }
    case ControlOp::Temp:
        temp_override_ = c.celsius;
        check_temperature();
        return {};
    case ControlOp::Swipe: {
        auto& s = at(c.n);
        publish_event("card_swipe", payloads::EbikeCardSwipe{c.card_uid, c.n});
        if (s.active()) {
            if (s.card == c.card_uid)
                stop_session(s, EbikeStopReason::UserStop); // the same card again ends its session
            return {};
        }
        if (s.disabled || !faults_of(s).empty())
            return fmt::format("socket {} is out of service; swipe ignored", c.n);
        const auto rid = publish_request("authorize", payloads::EbikeAuthorize{c.card_uid, c.n}, false);
        auths_.push_back({rid, c.n, c.card_uid, now() + kAuthorizeTimeoutMs});
        return {};
    }
    case ControlOp::Disable: {
        auto& s = at(c.n);
        if (!c.clear)
            stop_session(s, EbikeStopReason::Other);
        s.disabled = !c.clear;
        settle_state(s);
        return {};
    }
    default:
        return "not a control for an ebike_pile";
    }
}

std::string EbikePile::reencode_record(const PendingRecord& r, const payloads::Envelope& env) {
    auto m = payloads::decode<payloads::EbikeSessionRecord>(r.payload);
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
