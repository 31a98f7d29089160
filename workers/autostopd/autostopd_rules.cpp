#include "workers/autostopd/autostopd_rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <numeric>

namespace pilehub::autostopd {

svc::StopCause stop_cause(Reason r) {
    switch (r) {
    case Reason::Fault:
        return svc::StopCause::Fault;
    case Reason::OverTemp:
        return svc::StopCause::OverTemp;
    case Reason::Unplugged:
        return svc::StopCause::Unplugged;
    case Reason::SocketOverload:
        return svc::StopCause::SocketOverload;
    case Reason::DeviceOverload:
        return svc::StopCause::DeviceOverload;
    case Reason::BalanceLow:
        return svc::StopCause::BalanceLow;
    case Reason::QuotaReached:
        return svc::StopCause::QuotaReached;
    case Reason::NoLoad:
        return svc::StopCause::NoLoad;
    case Reason::Full:
        return svc::StopCause::Full;
    }
    return svc::StopCause::Fault;
}

std::string_view to_string(Reason r) {
    return svc::to_string(stop_cause(r));
}

std::int64_t DeviceLimits::socket_overload_w(int n) const {
    for (const auto& o : config.socket_overrides)
        if (o.n == n && o.socket_overload_w)
            return *o.socket_overload_w;
    if (auto it = registry_overload_w.find(n); it != registry_overload_w.end())
        return it->second;
    return config.socket_overload_w;
}

std::optional<std::int64_t> DeviceLimits::temp_stop_c() const {
    switch (kind) {
    case Kind::EbikePile:
        return config.temp_stop_c;
    case Kind::EvCharger:
        return ev_config.temp_stop_c;
    case Kind::Other:
        break;
    }
    return std::nullopt;
}

std::int64_t DeviceLimits::full_stop_w(int n) const {
    for (const auto& o : config.socket_overrides)
        if (o.n == n && o.full_stop_w)
            return *o.full_stop_w;
    return config.full_stop_w;
}

Rules::Rules(const Clock& clock, std::uint32_t unsafe_fault_bits, EpochMs retry_ms, EpochMs forget_ms)
    : clock_(clock), unsafe_(unsafe_fault_bits), retry_ms_(retry_ms), forget_ms_(forget_ms) {}

Rules::Device& Rules::device(const std::string& dev) {
    auto it = devices_.find(dev);
    if (it == devices_.end())
        it = devices_.emplace(dev, Device{}).first;
    return it->second;
}

void Rules::set_limits(const std::string& dev, DeviceLimits limits) {
    auto& d = device(dev);
    d.limits = std::move(limits);
    d.has_limits = true;
}

bool Rules::has_limits(const std::string& dev) const {
    auto it = devices_.find(dev);
    return it != devices_.end() && it->second.has_limits;
}

void Rules::track(const SessionTerms& terms) {
    auto [it, fresh] = sessions_.try_emplace(terms.sid);
    auto& s = it->second;
    if (fresh)
        s.last_activity = clock_.now_ms();
    else if (s.terms.dev != terms.dev || s.terms.n != terms.n)
        unlink(terms.sid);
    s.terms = terms;
    s.known = terms.mode.has_value();
    if (s.terms.start_ms == 0)
        s.terms.start_ms = clock_.now_ms();
    auto& d = device(terms.dev);
    d.sids.insert(terms.sid);
    if (terms.n > 0) {
        auto& port = d.ports[terms.n];
        if (!port.empty() && port != terms.sid)
            end(std::string(port)); // the socket runs another session now
        d.ports[terms.n] = terms.sid;
    }
}

bool Rules::tracks(const std::string& sid) const {
    return sessions_.count(sid) != 0;
}

bool Rules::terms_known(const std::string& sid) const {
    auto it = sessions_.find(sid);
    return it != sessions_.end() && it->second.known;
}

std::optional<SessionTerms> Rules::terms(const std::string& sid) const {
    auto it = sessions_.find(sid);
    if (it == sessions_.end())
        return std::nullopt;
    return it->second.terms;
}

void Rules::unlink(const std::string& sid) {
    auto it = sessions_.find(sid);
    if (it == sessions_.end())
        return;
    auto dit = devices_.find(it->second.terms.dev);
    if (dit == devices_.end())
        return;
    dit->second.sids.erase(sid);
    for (auto p = dit->second.ports.begin(); p != dit->second.ports.end();)
        p = p->second == sid ? dit->second.ports.erase(p) : std::next(p);
}

void Rules::end(const std::string& sid) {
    unlink(sid);
    sessions_.erase(sid);
}

void Rules::stopping(const std::string& sid) {
    if (auto it = sessions_.find(sid); it != sessions_.end())
        it->second.stopping = true;
}

void Rules::port_idle(const std::string& dev, int n) {
    auto dit = devices_.find(dev);
    if (dit == devices_.end())
        return;
    auto p = dit->second.ports.find(n);
    if (p != dit->second.ports.end())
        end(std::string(p->second));
}

bool Rules::busy(const Session& s) const {
    if (s.stopping)
        return true;
    for (const auto& [r, a] : s.asked)
        if (a.state == Ask::InFlight)
            return true;
    return false;
}

bool Rules::may_ask(const Session& s, Reason r, EpochMs now) const {
    if (busy(s))
        return false;
    auto it = s.asked.find(r);
    if (it == s.asked.end())
        return true;
    return it->second.state == Ask::Failed && now >= it->second.retry_at;
}

std::optional<Stop> Rules::ask(Session& s, Reason r, std::string detail, EpochMs now) {
    if (!may_ask(s, r, now))
        return std::nullopt;
    s.asked[r] = Asked{Ask::InFlight, 0};
    return Stop{s.terms.sid, s.terms.dev, s.terms.n, r, std::move(detail)};
}

void Rules::answered(const std::string& sid, Reason r, Answer a) {
    auto it = sessions_.find(sid);
    if (it == sessions_.end())
        return;
    auto& s = it->second;
    switch (a) {
    case Answer::Accepted:
        s.asked[r] = Asked{Ask::Accepted, 0};
        s.stopping = true;
        break;
    case Answer::Rejected:
        s.asked[r] = Asked{Ask::Rejected, 0};
        break;
    case Answer::Failed:
        s.asked[r] = Asked{Ask::Failed, clock_.now_ms() + retry_ms_};
        break;
    }
}

std::optional<Stop> Rules::evaluate(Session& s, Device& d, EpochMs now) {
    if (busy(s))
        return std::nullopt;
    const auto& t = s.terms;
    const auto& lim = d.limits;
    const bool ebike = lim.kind == Kind::EbikePile;
    const bool ev = lim.kind == Kind::EvCharger;
    std::optional<Stop> out;
    auto consider = [&](Reason r, auto&& detail) {
        if (!out && may_ask(s, r, now))
            out = ask(s, r, detail(), now);
    };

    // fault: an unsafe bit on the socket or on the whole device
    auto bits_of = [&](int n) {
        auto it = d.faults.find(n);
        return it == d.faults.end() ? 0u : it->second;
    };
    const std::uint32_t unsafe = (bits_of(t.n) | bits_of(0)) & unsafe_;
    if (unsafe)
        consider(Reason::Fault,
                 [&] { return fmt::format("unsafe fault bits 0x{:x} on socket {} or the device", unsafe, t.n); });

    if (const auto stop_c = lim.temp_stop_c(); stop_c && d.temp_c && *d.temp_c >= static_cast<double>(*stop_c))
        consider(Reason::OverTemp, [&] {
            return fmt::format("{} temperature {:.1f} C >= temp_stop_c {} C", ev ? "charger" : "pile", *d.temp_c,
                               *stop_c);
        });

    if (ev && s.unplugged)
        consider(Reason::Unplugged, [&] { return fmt::format("the car was unplugged from gun {}", t.n); });

    if (ebike && s.has_power) {
        const auto limit = lim.socket_overload_w(t.n);
        if (s.power_w > static_cast<double>(limit))
            consider(Reason::SocketOverload,
                     [&] { return fmt::format("socket {} at {:.0f} W > {} W", t.n, s.power_w, limit); });
        if (t.mode == Mode::Power && t.tier_limit_w && now - t.start_ms >= t.tier_ignore_first_s * 1000 &&
            s.power_w > static_cast<double>(*t.tier_limit_w))
            consider(Reason::SocketOverload, [&] {
                return fmt::format("socket {} at {:.0f} W is above the last power tier ({} W)", t.n, s.power_w,
                                   *t.tier_limit_w);
            });
    }

    if (s.cost && s.cost->balance_low)
        consider(Reason::BalanceLow,
                 [&] { return fmt::format("billingd reports balance_low (running cost {} fen)", s.cost->cost_fen); });

    const auto elapsed = now - t.start_ms;
    if (t.mode == Mode::Time && t.chosen_minutes && elapsed >= *t.chosen_minutes * 60'000)
        consider(Reason::QuotaReached, [&] {
            return fmt::format("the chosen {} min are used up ({} s elapsed)", *t.chosen_minutes, elapsed / 1000);
        });
    if (t.max_minutes && elapsed >= *t.max_minutes * 60'000)
        consider(Reason::QuotaReached, [&] {
            return fmt::format("cap.max_minutes {} reached ({} s elapsed)", *t.max_minutes, elapsed / 1000);
        });
    if (s.cost && (s.cost->cap_reached || (t.max_fen && s.cost->cost_fen >= *t.max_fen)))
        consider(Reason::QuotaReached, [&] {
            return fmt::format("cap.max_fen reached (running cost {} fen, cap {} fen)", s.cost->cost_fen,
                               t.max_fen.value_or(0));
        });
    if (s.cost && (s.cost->quota == billing::Quota::Prepaid || (t.prepaid_fen && s.cost->cost_fen >= *t.prepaid_fen)))
        consider(Reason::QuotaReached, [&] {
            return fmt::format("the prepaid max_fen is reached (running cost {} fen, prepaid {} fen)", s.cost->cost_fen,
                               t.prepaid_fen.value_or(0));
        });
    if (s.cost && s.cost->quota)
        consider(Reason::QuotaReached, [&] {
            return fmt::format("billingd reports quota {} reached (running cost {} fen)",
                               billing::to_string(*s.cost->quota), s.cost->cost_fen);
        });

    const bool watches_charge = ebike && (t.mode == Mode::Power || t.mode == Mode::Energy);
    const auto window_ms = lim.config.no_load_wait_s * 1000;
    if (watches_charge && !s.loaded && s.window_report && elapsed >= window_ms)
        consider(Reason::NoLoad, [&] {
            return fmt::format("socket {} stayed below {} W for the first {} s", t.n, lim.full_stop_w(t.n),
                               lim.config.no_load_wait_s);
        });
    if (watches_charge && s.below_since && elapsed >= window_ms &&
        now - *s.below_since >= lim.config.full_wait_s * 1000)
        consider(Reason::Full, [&] {
            return fmt::format("socket {} below {} W for {} s (full_wait_s {})", t.n, lim.full_stop_w(t.n),
                               (now - *s.below_since) / 1000, lim.config.full_wait_s);
        });

    if (ev) {
        // The sleeping car: a report shows the session's energy at 0 once the window is over (every
        // mode: a car that takes nothing gains nothing from waiting; BILLING prices it 0).
        const auto ev_window_ms = lim.ev_config.ev_no_load_wait_s * 1000;
        if (!s.energy_seen && s.idle_evidence && elapsed >= ev_window_ms)
            consider(Reason::NoLoad, [&] {
                return fmt::format("no energy on gun {} within ev_no_load_wait_s {} s of the start ({} s elapsed)", t.n,
                                   lim.ev_config.ev_no_load_wait_s, elapsed / 1000);
            });
        if (s.soc_pct && *s.soc_pct >= 100)
            consider(Reason::Full, [&] { return fmt::format("gun {}: the car reports {} % SoC", t.n, *s.soc_pct); });
        if (s.suspended_ev_since && (s.energy_seen || elapsed >= ev_window_ms) &&
            now - *s.suspended_ev_since >= lim.ev_config.ev_full_wait_s * 1000)
            consider(Reason::Full, [&] {
                return fmt::format("gun {} suspended_ev for {} s (ev_full_wait_s {})", t.n,
                                   (now - *s.suspended_ev_since) / 1000, lim.ev_config.ev_full_wait_s);
            });
    }
    return out;
}

void Rules::gun_status(Session& s, payloads::EvGunStatus st, EpochMs now) {
    if (st != payloads::EvGunStatus::SuspendedEv)
        s.suspended_ev_since.reset();
    else if (!s.suspended_ev_since)
        s.suspended_ev_since = now;
}

void Rules::ev_reading(Session& s, const DeviceLimits& lim, const PortReading& p, EpochMs now) {
    if (p.ev_status)
        gun_status(s, *p.ev_status, now);
    if (p.soc_pct)
        s.soc_pct = p.soc_pct;
    if (p.energy_wh) {
        if (*p.energy_wh > 0)
            s.energy_seen = true;
        else
            s.idle_evidence = true;
    }
    if (p.register_wh) {
        if (s.terms.meter_start_wh) {
            if (*p.register_wh > *s.terms.meter_start_wh)
                s.energy_seen = true;
            else
                s.idle_evidence = true;
        } else if (!s.first_register) {
            s.first_register = p.register_wh;
            // A register read inside the window is the base the window's energy is measured from.
            if (now - s.terms.start_ms <= lim.ev_config.ev_no_load_wait_s * 1000)
                s.idle_evidence = true;
        } else if (*p.register_wh > *s.first_register) {
            s.energy_seen = true;
        }
    }
}

void Rules::device_overload(const std::string& dev, Device& d, const std::set<std::string>& reported, double total_w,
                            EpochMs now, std::vector<Stop>& out) {
    const auto limit = static_cast<double>(d.limits.config.device_overload_w);
    if (total_w <= limit)
        return;
    struct Candidate {
        Session* s;
        double power_w;
    };
    std::vector<Candidate> candidates;
    double remaining = total_w;
    // Only sockets in this report: their power is part of its total, and is current.
    for (const auto& sid : reported) {
        auto it = sessions_.find(sid);
        if (it == sessions_.end() || !it->second.has_power)
            continue;
        auto& s = it->second;
        if (busy(s))
            remaining -= s.power_w; // being stopped already: its power is going away
        else
            candidates.push_back({&s, s.power_w});
    }
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate& a, const Candidate& b) { return a.power_w > b.power_w; });
    for (const auto& c : candidates) {
        if (remaining <= limit)
            break;
        auto stop = ask(*c.s, Reason::DeviceOverload,
                        fmt::format("pile {} total {:.0f} W > device_overload_w {} W: socket {} at {:.0f} W is the "
                                    "highest still running",
                                    dev, remaining, d.limits.config.device_overload_w, c.s->terms.n, c.power_w),
                        now);
        if (stop) {
            out.push_back(std::move(*stop));
            remaining -= c.power_w;
        }
    }
}

std::vector<Stop> Rules::evaluate_device(const std::string& dev, EpochMs now) {
    std::vector<Stop> out;
    auto& d = device(dev);
    const std::vector<std::string> sids(d.sids.begin(), d.sids.end());
    for (const auto& sid : sids) {
        auto it = sessions_.find(sid);
        if (it == sessions_.end())
            continue;
        if (auto stop = evaluate(it->second, d, now))
            out.push_back(std::move(*stop));
    }
    return out;
}

std::vector<Stop> Rules::on_tele(const Telemetry& t) {
    const auto now = clock_.now_ms();
    auto& d = device(t.dev);
    if (t.temp_c)
        d.temp_c = t.temp_c;
    double sum_w = 0;
    std::set<std::string> reported;
    for (const auto& p : t.ports) {
        sum_w += p.power_w;
        if (p.sid)
            reported.insert(*p.sid);
        auto port = d.ports.find(p.n);
        if (!p.sid) {
            // The socket reports no session: whatever ran there has ended.
            if (port != d.ports.end())
                end(std::string(port->second));
            continue;
        }
        if (port != d.ports.end() && port->second != *p.sid)
            end(std::string(port->second));
        auto it = sessions_.find(*p.sid);
        if (it == sessions_.end()) {
            SessionTerms terms;
            terms.sid = *p.sid;
            terms.dev = t.dev;
            terms.n = p.n;
            track(terms);
            it = sessions_.find(*p.sid);
        } else if (it->second.terms.dev != t.dev || it->second.terms.n != p.n) {
            auto terms = it->second.terms;
            terms.dev = t.dev;
            terms.n = p.n;
            track(terms);
        }
        auto& s = it->second;
        d.ports[p.n] = *p.sid;
        d.sids.insert(*p.sid);
        s.last_activity = now;
        s.has_power = true;
        s.power_w = p.power_w;
        if (now - s.terms.start_ms <= d.limits.config.no_load_wait_s * 1000)
            s.window_report = true;
        if (p.power_w >= static_cast<double>(d.limits.full_stop_w(p.n))) {
            s.loaded = true;
            s.below_since.reset();
        } else if (!s.below_since) {
            s.below_since = now;
        }
        if (d.limits.kind == Kind::EvCharger)
            ev_reading(s, d.limits, p, now);
    }
    auto out = evaluate_device(t.dev, now);
    if (d.limits.kind == Kind::EbikePile)
        device_overload(t.dev, d, reported, std::max(t.total_power_w.value_or(0.0), sum_w), now, out);
    return out;
}

std::vector<Stop> Rules::on_cost(const Cost& c) {
    auto it = sessions_.find(c.sid);
    if (it == sessions_.end())
        return {};
    auto& s = it->second;
    s.cost = c;
    s.last_activity = clock_.now_ms();
    std::vector<Stop> out;
    if (auto stop = evaluate(s, device(s.terms.dev), clock_.now_ms()))
        out.push_back(std::move(*stop));
    return out;
}

std::vector<Stop> Rules::on_fault(const std::string& dev, int n, int bit, bool active) {
    if (bit < 0 || bit > 31)
        return {};
    auto& bits = device(dev).faults[n];
    const auto mask = std::uint32_t{1} << bit;
    bits = active ? (bits | mask) : (bits & ~mask);
    return evaluate_device(dev, clock_.now_ms());
}

std::vector<Stop> Rules::on_fault_set(const std::string& dev, int n, std::uint32_t bits) {
    device(dev).faults[n] = bits;
    return evaluate_device(dev, clock_.now_ms());
}

std::vector<Stop> Rules::on_temp(const std::string& dev, double temp_c) {
    device(dev).temp_c = temp_c;
    return evaluate_device(dev, clock_.now_ms());
}

std::optional<std::string> Rules::session_on(const std::string& dev, int n) const {
    auto dit = devices_.find(dev);
    if (dit == devices_.end())
        return std::nullopt;
    auto p = dit->second.ports.find(n);
    if (p == dit->second.ports.end())
        return std::nullopt;
    return p->second;
}

std::vector<Stop> Rules::on_port(const std::string& dev, int n, const std::function<void(Session&, EpochMs)>& change) {
    const auto sid = session_on(dev, n);
    if (!sid)
        return {};
    auto it = sessions_.find(*sid);
    if (it == sessions_.end())
        return {};
    const auto now = clock_.now_ms();
    it->second.last_activity = now;
    change(it->second, now);
    std::vector<Stop> out;
    if (auto stop = evaluate(it->second, device(dev), now))
        out.push_back(std::move(*stop));
    return out;
}

std::vector<Stop> Rules::on_gun_status(const std::string& dev, int n, payloads::EvGunStatus st) {
    return on_port(dev, n, [&](Session& s, EpochMs now) { gun_status(s, st, now); });
}

std::vector<Stop> Rules::on_plug_out(const std::string& dev, int n) {
    return on_port(dev, n, [](Session& s, EpochMs) { s.unplugged = true; });
}

std::vector<Stop> Rules::tick() {
    const auto now = clock_.now_ms();
    std::vector<std::string> stale;
    for (const auto& [sid, s] : sessions_)
        if (now - s.last_activity >= forget_ms_)
            stale.push_back(sid);
    for (const auto& sid : stale)
        end(sid);
    std::vector<Stop> out;
    for (auto& [dev, d] : devices_)
        for (auto& s : evaluate_device(dev, now))
            out.push_back(std::move(s));
    return out;
}

} // namespace pilehub::autostopd
