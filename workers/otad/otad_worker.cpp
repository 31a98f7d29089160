#include "workers/otad/otad_worker.hpp"

#include "common/ota.hpp"
#include "common/payloads.hpp"
#include "common/topics.hpp"

#include <set>

namespace pilehub::otad {

Worker::Worker(mqtt::Client& mqtt, mqtt::Router& router, db::Database& core, const Clock& clock, Options opts)
    : mqtt_(mqtt), store_(core), clock_(clock), opts_(std::move(opts)),
      rules_(clock, RulesOptions{opts_.command_exp_s, opts_.offline_skip_s}),
      loop_(
          clock, worker::loop_options("otad", opts_), [this](const mqtt::Message& m) { handle(m); },
          [this] { tick(); }) {
    auto h = [this](const mqtt::Message& m) { loop_.post(m); };
    for (const auto& f : {topics::any_device::presence(), topics::any_device::info(), topics::evt("+", "ota"),
                          topics::cmd_reply("+", "ota")})
        router.add(mqtt, f, 1, h);
}

Worker::~Worker() {
    stop();
}

void Worker::restore() {
    for (const auto& [dev, version] : store_.firmware()) {
        reported_[dev] = version;
        rules_.on_firmware(dev, version); // no rollout is held yet: nothing to decide
    }
    sync_rollouts();
    log::info("{} running rollouts restored", rules_.rollouts().size());
}

void Worker::start() {
    restore();
    loop_.start();
}

void Worker::stop() {
    loop_.stop();
}

void Worker::sync_rollouts() {
    const auto ids = store_.running_ids();
    const std::set<std::int64_t> running(ids.begin(), ids.end());
    std::vector<std::int64_t> gone;
    for (const auto& [id, r] : rules_.rollouts())
        if (!running.count(id))
            gone.push_back(id);
    for (auto id : gone) {
        log::info("rollout {} is no longer running (halted by an operator): forgotten", id);
        rules_.remove(id);
    }
    for (auto id : ids) {
        if (rules_.holds(id))
            continue;
        auto r = store_.load(id);
        if (!r)
            continue;
        r->url = ota::download_url(opts_.download_base_url, r->firmware_id, ota::rollout_token(opts_.token_key, id));
        log::info("rollout {} of version {} to {} devices taken", id, r->version, r->devices.size());
        rules_.add(std::move(*r));
    }
}

void Worker::tick() {
    sync_rollouts();
    auto readiness = [this](const std::string& dev) {
        Readiness r;
        auto it = presence_.find(dev);
        r.online = it != presence_.end() && it->second.online;
        r.busy = r.online && store_.busy(dev);
        return r;
    };
    apply(rules_.tick(readiness));
}

void Worker::firmware(const std::string& dev, const std::string& version) {
    if (auto it = reported_.find(dev); it == reported_.end() || it->second != version) {
        if (!store_.known(dev))
            return;
        loop_.with_retry("recording a device's firmware", [&] { store_.save_firmware(dev, version, clock_.now_ms()); });
        reported_[dev] = version;
    }
    apply(rules_.on_firmware(dev, version));
}

void Worker::handle(const mqtt::Message& m) {
    auto t = topics::parse_device_topic(m.topic);
    if (!t)
        return;
    const auto& dev = t->device_id;
    const log::Ctx ctx{dev, {}};
    const auto now = clock_.now_ms();
    switch (t->leaf) {
    case topics::Leaf::Presence: {
        auto p = payloads::decode_presence(m.payload);
        if (!p) {
            if (warnings_.allow(dev, "malformed", now))
                log::warn(ctx, "malformed presence ignored: {}", p.error());
            return;
        }
        auto& known = presence_[dev];
        if (payloads::is_late_will(*p, known.boot))
            return;
        known.online = p->online;
        if (p->online) {
            known.boot = p->boot;
            if (p->fw)
                firmware(dev, *p->fw);
        }
        return;
    }
    case topics::Leaf::Info: {
        auto i = payloads::decode<payloads::DeviceInfo>(m.payload);
        if (i)
            firmware(dev, i->data.firmware);
        else if (warnings_.allow(dev, "malformed", now))
            log::warn(ctx, "malformed info ignored: {}", i.error());
        return;
    }
    case topics::Leaf::Evt: {
        auto e = payloads::decode<payloads::EvtOta>(m.payload);
        if (!e) {
            if (warnings_.allow(dev, "malformed", now))
                log::warn(ctx, "malformed evt/ota ignored: {}", e.error());
            return;
        }
        log::info(ctx, "evt/ota {} {} {}%{}", e->data.version, payloads::to_string(e->data.st),
                  e->data.progress_pct.value_or(0), e->data.error ? " " + *e->data.error : std::string());
        apply(rules_.on_event(dev, e->data));
        return;
    }
    case topics::Leaf::CmdReply: {
        auto r = payloads::decode<payloads::Reply<payloads::Empty>>(m.payload);
        if (!r || !r->env.rid) {
            if (warnings_.allow(dev, "malformed", now))
                log::warn(ctx, "malformed cmd-reply/ota ignored: {}", r ? "no rid" : r.error());
            return;
        }
        apply(rules_.on_reply(dev, *r->env.rid, r->data.status, r->data.msg.value_or("")));
        return;
    }
    default:
        return;
    }
}

void Worker::apply(const Effects& e) {
    if (e.empty())
        return;
    std::vector<std::int64_t> gone;
    loop_.with_retry("recording rollout progress", [&] { gone = store_.apply(e); });
    if (!gone.empty()) {
        // An operator halted some meanwhile: nothing was written or sent. Every rollout these changes
        // touched is forgotten, and the next tick takes the database's view of those still running.
        for (const auto& d : e.devices)
            rules_.remove(d.rollout_id);
        for (const auto& r : e.rollouts)
            rules_.remove(r.rollout_id);
        log::info("rollout changes dropped: {} rollouts halted meanwhile", gone.size());
        return;
    }
    for (const auto& d : e.devices)
        log::info(log::Ctx{d.device.device_id, {}}, "rollout {}: {}{}", d.rollout_id, to_string(d.device.state),
                  d.device.error.empty() ? "" : " (" + d.device.error + ")");
    for (const auto& r : e.rollouts)
        if (r.state != RolloutState::Running)
            log::info("rollout {} {}{}", r.rollout_id, to_string(r.state),
                      r.halt_reason.empty() ? "" : ": " + r.halt_reason);
    for (const auto& c : e.commands) {
        auto env = payloads::make_command_envelope(clock_.now_ms(), 0, ++seq_, c.rid, c.exp);
        mqtt_.publish({topics::cmd(c.device_id, "ota"),
                       payloads::encode(payloads::Message<payloads::CmdOta>{env, c.data}), 1, false});
    }
}

} // namespace pilehub::otad
