#include "workers/alertd/alertd_rules.hpp"

#include "common/json.hpp"

#include <fmt/format.h>

namespace pilehub::alertd {
namespace {

/// The cause that holds the key of an alert read back at start, until the first observation of
/// that key replaces it.
constexpr std::string_view kRestored = "*restored";
constexpr std::size_t kMaxDetail = 512;

std::string join(const std::set<std::string>& words) {
    std::string out;
    for (const auto& w : words) {
        if (!out.empty())
            out += ", ";
        out += w;
    }
    return out;
}

Subject device_subject(std::string_view kind, const std::string& dev, std::int64_t n) {
    return Subject{std::string(kind), dev, n, n > 0 ? fmt::format("{}-{}", dev, n) : dev};
}

} // namespace

std::string Subject::key() const {
    // A session is its own subject (another session of the same socket is another alert).
    if (device_id.empty() || kind == alerts::kStuckSession)
        return alerts::dedup_key(kind, subject);
    return alerts::dedup_key(kind, device_id, n);
}

Rules::Rules(const Clock& clock, RuleOptions options) : clock_(clock), opts_(options) {}

void Rules::restore(const Current& c) {
    Subject about{c.kind, c.device_id, c.n, c.subject};
    auto& cond = conds_[about.key()];
    cond.about = std::move(about);
    cond.causes = {std::string(kRestored)};
    cond.slot = alerts::Slot::Open;
    cond.last_touch = clock_.now_ms();
}

std::set<std::string> Rules::causes_of(const std::string& key) const {
    auto it = conds_.find(key);
    if (it == conds_.end())
        return {};
    auto out = it->second.causes;
    out.erase(std::string(kRestored));
    return out;
}

std::vector<Decision> Rules::set_causes(const Subject& about, std::set<std::string> causes, const std::string& detail) {
    const auto key = about.key();
    const auto now = clock_.now_ms();
    auto it = conds_.find(key);
    if (it == conds_.end()) {
        if (causes.empty())
            return {};
        it = conds_.emplace(key, Condition{about, {}, alerts::Slot::None, 0}).first;
    }
    auto& c = it->second;
    c.causes = std::move(causes);
    const auto step = alerts::handle(c.slot, c.causes.empty() ? alerts::Event::Clear : alerts::Event::Raise);
    c.slot = step.next;
    Decision d{step.action, c.about, detail.substr(0, kMaxDetail), now};
    switch (step.action) {
    case alerts::Action::Open:
        c.last_touch = now;
        return {d};
    case alerts::Action::Touch:
        if (now - c.last_touch < opts_.touch_every_ms)
            return {};
        c.last_touch = now;
        return {d};
    case alerts::Action::Resolve:
        conds_.erase(it);
        return {d};
    default:
        if (c.slot == alerts::Slot::None)
            conds_.erase(it);
        return {};
    }
}

Rules::Presence& Rules::presence(const std::string& dev) {
    auto it = presence_.find(dev);
    if (it == presence_.end()) {
        it = presence_.emplace(dev, Presence{}).first;
        it->second.last_seen = clock_.now_ms();
    }
    return it->second;
}

std::vector<Decision> Rules::on_presence(const std::string& dev, const payloads::Presence& p) {
    auto& pr = presence(dev);
    const auto now = clock_.now_ms();
    if (p.online) {
        pr.online = true;
        pr.online_boot = std::max(pr.online_boot, p.boot);
        pr.last_seen = now;
        return set_causes(device_subject(alerts::kOffline, dev, 0), {}, "back online");
    }
    if (payloads::is_late_will(p, pr.online_boot))
        return {};
    if (pr.online) {
        pr.online = false;
        pr.offline_since = now;
    }
    pr.reason = p.reason.value_or("offline");
    return {};
}

std::vector<Decision> Rules::on_traffic(const std::string& dev, bool retained) {
    if (retained) {
        presence(dev);
        return {};
    }
    auto& pr = presence(dev);
    pr.last_seen = clock_.now_ms();
    if (!pr.online)
        return {};
    return set_causes(device_subject(alerts::kOffline, dev, 0), {}, "heard again");
}

void Rules::set_watch_silence(const std::string& dev, bool watch) {
    presence(dev).watch_silence = watch;
}

std::vector<Decision> Rules::tick() {
    const auto now = clock_.now_ms();
    std::vector<Decision> out;
    for (const auto& [dev, pr] : presence_) {
        const auto about = device_subject(alerts::kOffline, dev, 0);
        std::optional<std::string> why;
        if (!pr.online && now - pr.offline_since >= opts_.offline_after_ms)
            why = fmt::format("offline ({}) for {} s", pr.reason, (now - pr.offline_since) / 1000);
        else if (pr.online && pr.watch_silence && now - pr.last_seen >= opts_.silent_after_ms)
            why = fmt::format("silent for {} s", (now - pr.last_seen) / 1000);
        if (!why)
            continue;
        for (auto& d : set_causes(about, {std::string(alerts::kOffline)}, *why))
            out.push_back(std::move(d));
    }
    return out;
}

std::vector<Decision> Rules::on_fault_event(const std::string& dev, std::int64_t n, const std::string& code,
                                            bool active) {
    const auto about = device_subject(alerts::kFault, dev, n);
    auto causes = causes_of(about.key());
    if (active)
        causes.insert(code);
    else
        causes.erase(code);
    const auto detail = causes.empty() ? fmt::format("fault {} cleared", code) : "faults: " + join(causes);
    return set_causes(about, std::move(causes), detail);
}

std::vector<Decision> Rules::on_fault_set(const std::string& dev, std::int64_t n,
                                          const std::vector<std::string>& codes) {
    std::set<std::string> causes(codes.begin(), codes.end());
    const auto detail = causes.empty() ? std::string("faults cleared") : "faults: " + join(causes);
    return set_causes(device_subject(alerts::kFault, dev, n), std::move(causes), detail);
}

void Rules::set_temp_warn(const std::string& dev, std::optional<double> temp_warn_c) {
    if (temp_warn_c)
        temp_warn_[dev] = *temp_warn_c;
    else
        temp_warn_.erase(dev);
}

std::vector<Decision> Rules::on_temperature(const std::string& dev, double temp_c) {
    auto it = temp_warn_.find(dev);
    const double warn = it == temp_warn_.end() ? opts_.temp_warn_default_c : it->second;
    const auto about = device_subject(alerts::kOverTemp, dev, 0);
    if (temp_c >= warn)
        return set_causes(about, {std::string(alerts::kOverTemp)},
                          fmt::format("temp_c {:.1f} >= temp_warn_c {:.1f}", temp_c, warn));
    if (temp_c < warn - opts_.temp_clear_margin_c)
        return set_causes(about, {}, fmt::format("temp_c {:.1f} back below {:.1f}", temp_c, warn));
    return {}; // between the two: neither a new alert nor a clear
}

std::vector<Decision> Rules::on_lock(const std::string& dev, std::int64_t n, const std::string& source, bool fault,
                                     const std::string& msg) {
    const auto about = device_subject(alerts::kLockFault, dev, n);
    auto causes = causes_of(about.key());
    if (fault)
        causes.insert(source);
    else
        causes.erase(source);
    const auto detail = msg.empty() ? fmt::format("lock of space {} {}", n, fault ? "in fault" : "healthy") : msg;
    return set_causes(about, std::move(causes), detail);
}

void Rules::clear_missing(std::string_view kind, const std::set<std::string>& keep, std::vector<Decision>& out) {
    std::vector<Subject> gone;
    for (const auto& [key, c] : conds_)
        if (c.about.kind == kind && !keep.count(c.about.subject))
            gone.push_back(c.about);
    for (const auto& about : gone)
        for (auto& d : set_causes(about, {}, "no longer seen"))
            out.push_back(std::move(d));
}

std::vector<Decision> Rules::on_stuck_sessions(const std::vector<StuckSession>& stuck) {
    std::vector<Decision> out;
    std::set<std::string> seen;
    const auto now = clock_.now_ms();
    for (const auto& s : stuck) {
        seen.insert(s.session_id);
        Subject about{std::string(alerts::kStuckSession), s.device_id, s.n, s.session_id};
        for (auto& d : set_causes(about, {s.state},
                                  fmt::format("session {} {} for {} s", s.session_id, s.state, (now - s.since) / 1000)))
            out.push_back(std::move(d));
    }
    clear_missing(alerts::kStuckSession, seen, out);
    return out;
}

std::vector<Decision> Rules::on_payment_anomalies(const std::vector<PaymentAnomaly>& flagged) {
    std::vector<Decision> out;
    std::set<std::string> seen;
    for (const auto& p : flagged) {
        seen.insert(p.order_id);
        Subject about{std::string(alerts::kPaymentAnomaly), "", 0, p.order_id};
        for (auto& d : set_causes(about, {p.anomaly}, fmt::format("payment order {}: {}", p.order_id, p.anomaly)))
            out.push_back(std::move(d));
    }
    clear_missing(alerts::kPaymentAnomaly, seen, out);
    return out;
}

std::optional<double> temp_warn_from_config(std::string_view document) {
    auto doc = json::parse(document);
    if (!doc || !doc->IsObject())
        return std::nullopt;
    const rapidjson::Value* v = &*doc;
    if (auto d = v->FindMember("data"); d != v->MemberEnd() && d->value.IsObject())
        v = &d->value;
    auto t = v->FindMember("temp_warn_c");
    if (t == v->MemberEnd() || !t->value.IsNumber())
        return std::nullopt;
    return t->value.GetDouble();
}

} // namespace pilehub::alertd
