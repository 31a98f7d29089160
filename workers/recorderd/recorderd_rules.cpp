#include "workers/recorderd/recorderd_rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace pilehub::recorderd {
namespace {

/// Sessions whose last energy is kept; past this, the ones not heard from for longest are dropped.
constexpr std::size_t kMaxRememberedSessions = 200'000;

std::int64_t whole(double v) {
    return static_cast<std::int64_t>(std::llround(v));
}

std::optional<std::int64_t> scaled(std::optional<double> v, double factor) {
    if (!v)
        return std::nullopt;
    return whole(*v * factor);
}

/// Power as a report carries it: whole watts, negative readings 0.
std::int64_t report_watts(double w) {
    return std::clamp<std::int64_t>(whole(w), 0, svc::kMaxReportPowerW);
}

/// The part every kind shares: one socket per port that still names a session; the device's draw
/// is its own total or, when larger, the sum of every port (bound or not), as autostopd's
/// device-overload rule took it from raw telemetry.
template <typename Port>
std::optional<svc::DeviceReport> report_of(const std::string& dev, const payloads::Envelope& env,
                                           const std::vector<Port>& ports, std::optional<double> temp_c,
                                           std::optional<double> total_power_w, EpochMs received) {
    svc::DeviceReport r;
    std::int64_t sum_w = 0;
    for (const auto& p : ports) {
        const auto w = report_watts(p.power_w);
        sum_w += w;
        if (p.sid) {
            svc::ReportSocket one(p.n, *p.sid, w, p.session_energy_wh);
            if constexpr (std::is_same_v<Port, payloads::EvGunTele>) {
                one.register_wh = p.energy_register_wh;
                one.soc_pct = p.soc_pct;
                one.ev_status = p.st;
            }
            r.sockets.push_back(std::move(one));
        }
    }
    if (r.sockets.empty())
        return std::nullopt;
    r.device_id = dev;
    r.device_ts = env.ts;
    r.received_at = received;
    r.temp_dc = scaled(temp_c, 10);
    const auto total = total_power_w ? std::max<std::int64_t>(0, whole(*total_power_w)) : std::int64_t{0};
    r.total_power_w = std::min(std::max(total, sum_w), svc::kMaxReportTotalW);
    return r;
}

} // namespace

std::optional<svc::DeviceReport> device_report(const std::string& dev, const payloads::Message<payloads::EbikeTele>& m,
                                               EpochMs received) {
    return report_of(dev, m.env, m.data.sockets, m.data.temp_c, m.data.total_power_w, received);
}

std::optional<svc::DeviceReport> device_report(const std::string& dev, const payloads::Message<payloads::EvTele>& m,
                                               EpochMs received) {
    return report_of(dev, m.env, m.data.guns, m.data.temp_c, m.data.total_power_w, received);
}

std::string_view to_string(Order o) {
    switch (o) {
    case Order::Fresh:
        return "fresh";
    case Order::Replay:
        return "replay";
    case Order::OutOfOrder:
        return "out_of_order";
    }
    return "fresh";
}

std::string ev_fault_code(int bit) {
    if (bit >= 0 && bit < 32) {
        auto names = payloads::ev_fault_names(std::uint32_t{1} << bit);
        if (!names.empty())
            return names.front();
    }
    return fmt::format("bit_{}", bit);
}

std::optional<TeleRows> TeleRecorder::check(const std::string& dev, const payloads::Envelope& env) {
    auto it = last_.find(dev);
    if (it == last_.end()) {
        last_.emplace(dev, std::make_pair(env.boot, env.seq));
        return std::nullopt;
    }
    const auto [boot, seq] = it->second;
    if (env.boot > boot || (env.boot == boot && env.seq > seq)) {
        it->second = {env.boot, env.seq};
        return std::nullopt;
    }
    TeleRows r;
    if (env.boot == boot && env.seq == seq) {
        r.order = Order::Replay;
        r.why = fmt::format("telemetry boot {} seq {} seen before: replay dropped", env.boot, env.seq);
    } else {
        r.order = Order::OutOfOrder;
        r.why = fmt::format("telemetry boot {} seq {} is older than boot {} seq {}: out of order, dropped", env.boot,
                            env.seq, boot, seq);
    }
    return r;
}

EpochMs TeleRecorder::when(const payloads::Envelope& env) const {
    // CONTRACT A.3: ts 0 means the device has no clock; the platform then uses receive time.
    return env.ts != 0 ? env.ts : clock_.now_ms();
}

std::int64_t TeleRecorder::energy(const std::string& sid, std::optional<std::int64_t> reported, EpochMs t) {
    auto it = energy_.find(sid);
    if (it == energy_.end()) {
        if (energy_.size() >= kMaxRememberedSessions) {
            // Drop the tenth heard from longest ago (sessions that ended without telling us).
            std::vector<EpochMs> times;
            times.reserve(energy_.size());
            for (const auto& [k, v] : energy_)
                times.push_back(v.second);
            auto cut = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 10);
            std::nth_element(times.begin(), cut, times.end());
            const auto limit = *cut;
            std::erase_if(energy_, [&](const auto& kv) { return kv.second.second <= limit; });
        }
        it = energy_.emplace(sid, std::make_pair(std::int64_t{0}, t)).first;
    }
    if (reported)
        it->second.first = *reported;
    it->second.second = t;
    return it->second.first;
}

TeleRows TeleRecorder::on_ebike(const std::string& dev, const payloads::Message<payloads::EbikeTele>& m) {
    if (auto bad = check(dev, m.env))
        return std::move(*bad);
    TeleRows r;
    const auto t = when(m.env);
    for (const auto& s : m.data.sockets) {
        if (!s.sid)
            continue;
        SessionSample x;
        x.session_id = *s.sid;
        x.t = t;
        x.power_w = std::max<std::int64_t>(0, whole(s.power_w));
        x.energy_wh = energy(*s.sid, s.session_energy_wh, t);
        x.voltage_dv = scaled(s.voltage_v, 10);
        x.current_ma = scaled(s.current_a, 1000);
        r.sessions.push_back(std::move(x));
    }
    DeviceSample d;
    d.device_id = dev;
    d.t = t;
    d.temp_dc = scaled(m.data.temp_c, 10);
    d.total_power_w = whole(m.data.total_power_w);
    if (m.data.rssi_dbm)
        d.rssi_dbm = *m.data.rssi_dbm;
    r.device = std::move(d);
    return r;
}

TeleRows TeleRecorder::on_ev(const std::string& dev, const payloads::Message<payloads::EvTele>& m) {
    if (auto bad = check(dev, m.env))
        return std::move(*bad);
    TeleRows r;
    const auto t = when(m.env);
    for (const auto& g : m.data.guns) {
        if (!g.sid)
            continue;
        SessionSample x;
        x.session_id = *g.sid;
        x.t = t;
        x.power_w = std::max<std::int64_t>(0, whole(g.power_w));
        x.energy_wh = energy(*g.sid, g.session_energy_wh, t);
        x.voltage_dv = scaled(g.voltage_v, 10);
        x.current_ma = scaled(g.current_a, 1000);
        if (g.soc_pct)
            x.soc_pct = *g.soc_pct;
        r.sessions.push_back(std::move(x));
    }
    DeviceSample d;
    d.device_id = dev;
    d.t = t;
    d.temp_dc = scaled(m.data.temp_c, 10);
    d.total_power_w = scaled(m.data.total_power_w, 1);
    r.device = std::move(d);
    return r;
}

bool FaultTracker::older(const std::string& key, const payloads::Envelope& env) {
    auto it = last_.find(key);
    if (it != last_.end()) {
        const auto [boot, seq] = it->second;
        if (env.boot < boot || (env.boot == boot && env.seq <= seq))
            return true;
        it->second = {env.boot, env.seq};
        return false;
    }
    last_.emplace(key, std::make_pair(env.boot, env.seq));
    return false;
}

FaultVerdict FaultTracker::on_ebike(const std::string& dev, const payloads::Message<payloads::EbikeFault>& m,
                                    const std::vector<std::string>& open_codes) {
    FaultVerdict v;
    const auto& f = m.data;
    if (older(fmt::format("{}/{}/{}", dev, f.n, f.code), m.env)) {
        v.order = Order::OutOfOrder;
        v.notes.push_back(fmt::format("fault {} on {} (boot {} seq {}) is older than one already applied: ignored",
                                      f.code, f.n, m.env.boot, m.env.seq));
        return v;
    }
    const bool open = std::find(open_codes.begin(), open_codes.end(), f.code) != open_codes.end();
    if (f.active) {
        if (open)
            v.notes.push_back(fmt::format("fault {} on {} is already open", f.code, f.n));
        else
            v.changes.push_back({FaultChange::Kind::Open, f.n, f.code, f.bit});
    } else {
        if (open)
            v.changes.push_back({FaultChange::Kind::Close, f.n, f.code, f.bit});
        else
            v.notes.push_back(fmt::format("cleared fault {} on {} was not open", f.code, f.n));
    }
    return v;
}

FaultVerdict FaultTracker::on_ev(const std::string& dev, const payloads::Message<payloads::EvFaultEvent>& m,
                                 const std::vector<std::string>& open_codes) {
    FaultVerdict v;
    const auto& f = m.data;
    if (older(fmt::format("{}/{}", dev, f.n), m.env)) {
        v.order = Order::OutOfOrder;
        v.notes.push_back(fmt::format("fault set of {} (boot {} seq {}) is older than one already applied: ignored",
                                      f.n, m.env.boot, m.env.seq));
        return v;
    }
    std::vector<std::string> set;
    for (int bit = 0; bit < 32; ++bit) {
        if ((f.fault_bits >> bit) & 1u) {
            auto code = ev_fault_code(bit);
            if (std::find(open_codes.begin(), open_codes.end(), code) == open_codes.end())
                v.changes.push_back({FaultChange::Kind::Open, f.n, code, bit});
            set.push_back(std::move(code));
        }
    }
    for (const auto& code : open_codes)
        if (std::find(set.begin(), set.end(), code) == set.end())
            v.changes.push_back({FaultChange::Kind::Close, f.n, code, std::nullopt});
    return v;
}

} // namespace pilehub::recorderd
