#include "workers/presenced/presenced_worker.hpp"

#include "common/log.hpp"
#include "common/payloads.hpp"
#include "common/topics.hpp"

namespace pilehub::presenced {
namespace {

bool ebike_active(const payloads::EbikeTele& t) {
    for (const auto& s : t.sockets)
        if (s.sid || s.st == payloads::EbikeSocketStatus::Starting || s.st == payloads::EbikeSocketStatus::Charging ||
            s.st == payloads::EbikeSocketStatus::FullWait)
            return true;
    return false;
}

bool ev_active(const payloads::EvTele& t) {
    for (const auto& g : t.guns)
        if (g.sid || g.st == payloads::EvGunStatus::Charging || g.st == payloads::EvGunStatus::SuspendedEv ||
            g.st == payloads::EvGunStatus::SuspendedEvse || g.st == payloads::EvGunStatus::Preparing)
            return true;
    return false;
}

} // namespace

svc::PresenceVerdict verdict(const Record& r) {
    return svc::PresenceVerdict{r.status == Status::Online, r.boot, r.since, r.reason};
}

Worker::Worker(mqtt::Client& mqtt, mqtt::Router& router, db::Database& core, const Clock& clock, Options opts)
    : mqtt_(mqtt), db_(core), store_(core), clock_(clock), opts_(std::move(opts)), rules_(clock, opts_.silence_periods),
      loop_(
          clock, worker::loop_options("presenced", opts_), [this](const mqtt::Message& m) { handle(m); },
          [this] { tick(); }) {
    auto h = [this](const mqtt::Message& m) { loop_.post(m); };
    for (const auto& f : {topics::any_device::presence(), topics::any_device::info(), topics::any_device::state(),
                          topics::any_device::conn_state(), topics::any_device::space_state(),
                          topics::any_device::tele(), topics::any_device::evt(), topics::any_device::req(),
                          topics::any_device::cmd_reply(), topics::any_device::cfg_reported()})
        router.add(mqtt, f, 1, h);
}

Worker::~Worker() {
    stop();
}

void Worker::restore() {
    for (auto& r : store_.load()) {
        const auto dev = r.device_id;
        rules_.restore(std::move(r));
        known(dev);
        // Republishing is idempotent and repairs a crash between a commit and its publish.
        if (auto rec = rules_.record(dev))
            mqtt_.publish({topics::device_presence(dev), svc::encode(verdict(*rec)), 1, true});
    }
    log::info("presence of {} devices restored", rules_.records().size());
    next_flush_ = clock_.now_ms() + opts_.flush.count();
}

void Worker::start() {
    restore();
    loop_.start();
}

void Worker::stop() {
    loop_.stop();
    try {
        store_.touch(rules_.take_seen());
    } catch (const std::exception& e) {
        log::error("cannot write last_seen: {}", e.what());
    }
}

std::size_t Worker::drain() {
    loop_.replay_spool();
    return loop_.drain();
}

std::size_t Worker::queued() const {
    return loop_.queued();
}

void Worker::tick() {
    for (const auto& d : rules_.tick())
        apply(d);
    const auto now = clock_.now_ms();
    if (now >= next_flush_) {
        next_flush_ = now + opts_.flush.count();
        // last_seen is a hint (silence is judged in memory): a failed write waits for the next flush.
        try {
            store_.touch(rules_.take_seen());
        } catch (const std::exception& e) {
            log::error("cannot write last_seen: {}", e.what());
        }
    }
}

std::optional<std::string> Worker::known(const std::string& dev) {
    if (auto it = kinds_.find(dev); it != kinds_.end())
        return it->second;
    const auto now = clock_.now_ms();
    if (auto it = unknown_.find(dev); it != unknown_.end() && now < it->second)
        return std::nullopt;
    auto kind = store_.device_kind(dev);
    if (!kind) {
        unknown_[dev] = now + opts_.unknown_retry.count();
        return std::nullopt;
    }
    unknown_.erase(dev);
    kinds_[dev] = *kind;
    // Cameras send no telemetry (CONTRACT A.5): only their presence and the Will count for them.
    rules_.set_watch_silence(dev, *kind != "camera");
    if (auto p = store_.periods(dev))
        rules_.set_periods(dev, *p);
    return kind;
}

void Worker::handle(const mqtt::Message& m) {
    auto t = topics::parse_device_topic(m.topic);
    if (!t) {
        log::warn("ignored a message on {}: not a device topic of CONTRACT A", m.topic);
        return;
    }
    const auto& dev = t->device_id;
    const log::Ctx ctx{dev, {}};
    const auto kind = known(dev);
    if (!kind) {
        if (warnings_.allow(dev, "unknown", clock_.now_ms()))
            log::warn(ctx, "unknown device (not registered): {} ignored", m.topic);
        return;
    }
    if (t->leaf == topics::Leaf::Presence) {
        auto p = payloads::decode_presence(m.payload);
        if (!p) {
            if (warnings_.allow(dev, "malformed", clock_.now_ms()))
                log::warn(ctx, "malformed presence ignored: {}", p.error());
            return;
        }
        apply(rules_.on_presence(dev, *p));
        return;
    }
    // Telemetry is decoded once, envelope and all (its `boot`, and whether a socket is active,
    // which picks the silence period); anything else, or telemetry that does not decode, only needs
    // its envelope: it still counts as traffic.
    std::optional<std::int64_t> boot;
    std::optional<bool> active;
    if (t->leaf == topics::Leaf::Tele) {
        std::string err;
        if (*kind == "ebike_pile") {
            if (auto e = payloads::decode<payloads::EbikeTele>(m.payload)) {
                active = ebike_active(e->data);
                boot = e->env.boot;
            } else {
                err = e.error();
            }
        } else if (*kind == "ev_charger") {
            if (auto v = payloads::decode<payloads::EvTele>(m.payload)) {
                active = ev_active(v->data);
                boot = v->env.boot;
            } else {
                err = v.error();
            }
        }
        if (!err.empty() && warnings_.allow(dev, "malformed", clock_.now_ms()))
            log::warn(ctx, "malformed telemetry (counted as traffic only): {}", err);
    } else if (t->leaf == topics::Leaf::CfgReported) {
        if (auto p = periods_from_config(m.payload))
            rules_.set_periods(dev, *p);
    }
    if (!boot) {
        auto env = payloads::peek_envelope(m.payload);
        if (!env) {
            if (warnings_.allow(dev, "malformed", clock_.now_ms()))
                log::warn(ctx, "malformed payload on {} ignored: {}", m.topic, env.error());
            return;
        }
        boot = env->boot;
    }
    apply(rules_.on_traffic(dev, *boot, active));
}

void Worker::apply(const Decision& d) {
    const auto& r = d.record;
    const log::Ctx ctx{r.device_id, {}};
    switch (d.outcome) {
    case Outcome::Duplicate:
        if (!d.why.empty())
            log::debug(ctx, "{}", d.why);
        return;
    case Outcome::LateWill:
        log::warn(ctx, "{}", d.why);
        return;
    case Outcome::Stale:
        if (warnings_.allow(r.device_id, "stale", clock_.now_ms()))
            log::info(ctx, "{}", d.why);
        return;
    case Outcome::WentOnline:
    case Outcome::WentOffline:
    case Outcome::Updated:
        break;
    }
    // The rules have moved on already: only the commit is tried again (a retry of the whole message
    // would find a duplicate). If it never commits the process exits, and the spooled message
    // replays the transition against the state restored from the database.
    loop_.with_retry("recording a presence transition", [&] { store_.save(d); });
    mqtt_.publish({topics::device_presence(r.device_id), svc::encode(verdict(r)), 1, true});
    log::info(ctx, "{} ({}): {}", to_string(r.status), r.reason, d.why);
}

} // namespace pilehub::presenced
