#include "workers/presenced/presenced_rules.hpp"

#include "common/json.hpp"

#include <fmt/format.h>

namespace pilehub::presenced {

std::string_view to_string(Status s) {
    switch (s) {
    case Status::Unknown:
        return "unknown";
    case Status::Online:
        return "online";
    case Status::Offline:
        return "offline";
    }
    return "unknown";
}

std::string_view to_string(Outcome o) {
    switch (o) {
    case Outcome::WentOnline:
        return "went_online";
    case Outcome::WentOffline:
        return "went_offline";
    case Outcome::Updated:
        return "updated";
    case Outcome::Duplicate:
        return "duplicate";
    case Outcome::LateWill:
        return "late_will";
    case Outcome::Stale:
        return "stale";
    }
    return "duplicate";
}

Rules::Rules(const Clock& clock, int silence_periods)
    : clock_(clock), silence_periods_(silence_periods < 1 ? 1 : silence_periods) {}

Rules::Device& Rules::device(const std::string& dev) {
    auto it = devices_.find(dev);
    if (it == devices_.end()) {
        it = devices_.emplace(dev, Device{}).first;
        it->second.rec.device_id = dev;
    }
    return it->second;
}

void Rules::restore(Record r) {
    auto& d = device(r.device_id);
    d.rec = std::move(r);
    d.rec.last_seen = clock_.now_ms();
}

void Rules::set_periods(const std::string& dev, Periods p) {
    device(dev).periods = p;
}

void Rules::set_watch_silence(const std::string& dev, bool watch) {
    device(dev).watch = watch;
}

Decision Rules::go(Device& d, Outcome o, Status s, std::int64_t boot, std::string reason, std::string why) {
    const auto now = clock_.now_ms();
    if (o == Outcome::WentOnline || o == Outcome::WentOffline) {
        d.rec.status = s;
        d.rec.since = now;
    }
    d.rec.reason = std::move(reason);
    d.rec.boot = boot;
    d.rec.last_seen = now;
    d.seen_dirty = false; // the record is persisted whole
    return Decision{o, d.rec, std::move(why)};
}

Decision Rules::on_presence(const std::string& dev, const payloads::Presence& p) {
    auto& d = device(dev);
    const auto b = p.boot;
    const auto have = d.rec.boot;
    const auto st = d.rec.status;
    if (p.online) {
        if (st == Status::Unknown)
            return go(d, Outcome::WentOnline, Status::Online, b, "connect", fmt::format("online, boot {}", b));
        if (b < have || (b == have && st == Status::Offline))
            return Decision{Outcome::Stale, d.rec,
                            fmt::format("online:true with boot {} is older than the {} (boot {}) already held", b,
                                        to_string(st), have)};
        if (b == have) // a retained message seen again (e.g. after our reconnect) proves nothing about liveness
            return Decision{Outcome::Duplicate, d.rec, fmt::format("online, boot {} again", b)};
        // A newer boot: the device reconnected (we may have missed its Will, or it is still on its way).
        return go(d, Outcome::WentOnline, Status::Online, b, "connect",
                  st == Status::Online ? fmt::format("online again with a new boot {} (was {})", b, have)
                                       : fmt::format("online, boot {}", b));
    }
    const std::string reason = p.reason.value_or("offline");
    if (st == Status::Unknown)
        return go(d, Outcome::WentOffline, Status::Offline, b, reason, fmt::format("offline ({}), boot {}", reason, b));
    // CONTRACT A.4's late-Will guard, against the latest boot held (svc::is_late_will, the one rule).
    if (svc::is_late_will(false, b, have))
        return Decision{
            Outcome::LateWill, d.rec,
            fmt::format("late Will ignored: online:false ({}) with boot {} is lower than the latest boot {}", reason, b,
                        have)};
    if (st == Status::Online)
        return go(d, Outcome::WentOffline, Status::Offline, b, reason, fmt::format("offline ({}), boot {}", reason, b));
    if (b == have)
        return Decision{Outcome::Duplicate, d.rec, fmt::format("offline ({}), boot {} again", reason, b)};
    // Offline already, but a newer boot came and went unseen: remember the boot, no transition.
    return go(d, Outcome::Updated, Status::Offline, b, reason,
              fmt::format("offline ({}) with a newer boot {} (was {})", reason, b, have));
}

Decision Rules::on_traffic(const std::string& dev, std::int64_t boot, std::optional<bool> active) {
    auto& d = device(dev);
    const auto have = d.rec.boot;
    const auto st = d.rec.status;
    if (st != Status::Unknown && boot < have)
        return Decision{
            Outcome::Stale, d.rec,
            fmt::format("message from boot {} after boot {}: from an older connection, ignored", boot, have)};
    if (active)
        d.active = *active;
    if (st == Status::Unknown)
        return go(d, Outcome::WentOnline, Status::Online, boot, "resumed",
                  fmt::format("traffic (boot {}) from a device without a presence message", boot));
    if (boot > have)
        return go(d, Outcome::WentOnline, Status::Online, boot, "connect",
                  fmt::format("traffic with a new boot {} (was {})", boot, have));
    if (st == Status::Online) {
        d.rec.last_seen = clock_.now_ms();
        d.seen_dirty = true;
        return Decision{Outcome::Duplicate, d.rec, {}};
    }
    if (d.rec.reason == "silent")
        return go(d, Outcome::WentOnline, Status::Online, boot, "resumed",
                  fmt::format("traffic again after silence, boot {}", boot));
    return Decision{Outcome::Stale, d.rec,
                    fmt::format("message from boot {} after its {} ({}): delivered late, ignored", boot, to_string(st),
                                d.rec.reason)};
}

EpochMs Rules::silence_timeout_ms(const std::string& dev) const {
    auto it = devices_.find(dev);
    const Periods p = it == devices_.end() ? Periods{} : it->second.periods;
    const bool active = it != devices_.end() && it->second.active;
    return static_cast<EpochMs>(silence_periods_) * (active ? p.tele_period_s : p.idle_tele_period_s) * 1000;
}

std::vector<Decision> Rules::tick() {
    std::vector<Decision> out;
    const auto now = clock_.now_ms();
    for (auto& [dev, d] : devices_) {
        if (d.rec.status != Status::Online || !d.watch)
            continue;
        const auto limit = silence_timeout_ms(dev);
        const auto quiet = now - d.rec.last_seen;
        if (quiet >= limit) {
            const auto last = d.rec.last_seen;
            auto dec =
                go(d, Outcome::WentOffline, Status::Offline, d.rec.boot, "silent",
                   fmt::format("silent for {} ms (limit {} ms: {} telemetry periods)", quiet, limit, silence_periods_));
            // The record keeps the moment we last heard from it, not the moment we noticed.
            d.rec.last_seen = last;
            dec.record.last_seen = last;
            out.push_back(std::move(dec));
        }
    }
    return out;
}

std::optional<Record> Rules::record(const std::string& dev) const {
    auto it = devices_.find(dev);
    if (it == devices_.end() || it->second.rec.status == Status::Unknown)
        return std::nullopt;
    return it->second.rec;
}

std::vector<Record> Rules::records() const {
    std::vector<Record> out;
    for (const auto& [dev, d] : devices_)
        if (d.rec.status != Status::Unknown)
            out.push_back(d.rec);
    return out;
}

std::vector<std::pair<std::string, EpochMs>> Rules::take_seen() {
    std::vector<std::pair<std::string, EpochMs>> out;
    for (auto& [dev, d] : devices_) {
        if (d.seen_dirty && d.rec.status != Status::Unknown)
            out.emplace_back(dev, d.rec.last_seen);
        d.seen_dirty = false;
    }
    return out;
}

} // namespace pilehub::presenced

namespace pilehub::presenced {

std::optional<Periods> periods_from_config(std::string_view text) {
    auto doc = json::parse(text);
    if (!doc || !doc->IsObject())
        return std::nullopt;
    std::string err;
    auto root = json::Object::root(*doc, &err);
    auto values = root.opt_obj("values");
    auto data = root.opt_obj("data");
    auto data_values = data.opt_obj("values");
    for (auto* o : {&data_values, &data, &values, &root}) {
        if (!o->present() || !(o->has("tele_period_s") || o->has("idle_tele_period_s")))
            continue;
        Periods p;
        const Periods def;
        p.tele_period_s = o->opt_int("tele_period_s", 5, 3'600).value_or(def.tele_period_s);
        p.idle_tele_period_s = o->opt_int("idle_tele_period_s", 5, 86'400).value_or(def.idle_tele_period_s);
        if (!err.empty())
            return std::nullopt;
        return p;
    }
    return std::nullopt;
}

} // namespace pilehub::presenced
