#include "workers/alertd/alertd_worker.hpp"

#include "common/log.hpp"
#include "common/payloads.hpp"
#include "common/socket_code.hpp"
#include "common/svc.hpp"
#include "common/topics.hpp"
#include "workers/alertd/webhook.hpp"

namespace pilehub::alertd {
namespace {

/// The space number of parkingd's subject `<camera>-<n>` (0 when it has none).
std::int64_t space_of(const std::string& subject) {
    const auto code = sockets::parse_socket_code(subject);
    return code ? code->n : 0;
}

/// A device-level fault set: the words, else the names of the EV bits.
std::vector<std::string> fault_words(const std::vector<std::string>& words, std::uint32_t bits) {
    return words.empty() && bits != 0 ? payloads::ev_fault_names(bits) : words;
}

} // namespace

Worker::Worker(mqtt::Client& mqtt, mqtt::Router& router, db::Database& core, const Clock& clock, Options opts)
    : mqtt_(mqtt), store_(core), clock_(clock), opts_(std::move(opts)), rules_(clock, opts_.rules),
      loop_(
          clock, worker::loop_options("alertd", opts_), [this](const mqtt::Message& m) { handle(m); },
          [this] { tick(); }) {
    auto h = [this](const mqtt::Message& m) { loop_.post(m); };
    for (const auto& f :
         {topics::any_device::presence(), topics::any_device::state(), topics::any_device::conn_state(),
          topics::any_device::space_state(), topics::any_device::tele(), topics::any_device::evt(),
          topics::any_device::req(), topics::any_device::cmd_reply(), topics::alert(alerts::kLockFault)})
        router.add(mqtt, f, 1, h);
}

Worker::~Worker() {
    stop();
}

void Worker::restore() {
    const auto current = store_.load_current();
    for (const auto& c : current)
        rules_.restore(c);
    log::info("{} current alerts restored", current.size());
}

void Worker::start() {
    restore();
    loop_.start();
}

void Worker::stop() {
    loop_.stop();
}

std::size_t Worker::drain() {
    loop_.replay_spool();
    return loop_.drain();
}

void Worker::tick() {
    apply(rules_.tick());
    const auto now = clock_.now_ms();
    if (now >= next_scan_) {
        next_scan_ = now + opts_.scan.count();
        scan_now();
    }
}

void Worker::scan_now() {
    apply(rules_.on_stuck_sessions(store_.stuck_sessions(clock_.now_ms() - opts_.stuck_session_ms)));
    apply(rules_.on_payment_anomalies(store_.payment_anomalies()));
    // A changed desired configuration (temp_warn_c) is picked up at the next scan.
    for (const auto& [dev, kind] : kinds_)
        rules_.set_temp_warn(dev, store_.temp_warn(dev));
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
    rules_.set_temp_warn(dev, store_.temp_warn(dev));
    rules_.set_watch_silence(dev, *kind != "camera");
    return kind;
}

void Worker::handle(const mqtt::Message& m) {
    if (m.topic == topics::alert(alerts::kLockFault))
        handle_alert(m);
    else
        handle_device(m);
}

void Worker::handle_alert(const mqtt::Message& m) {
    auto a = svc::decode<svc::Alert>(m.payload);
    if (!a) {
        if (warnings_.allow("alert", "malformed", clock_.now_ms()))
            log::warn("malformed alert on {} ignored: {}", m.topic, a.error());
        return;
    }
    if (a->id > 0 || a->device_id.empty())
        return; // ours (alertd's messages carry their id), or of no camera
    const auto n = a->n > 0 ? a->n : space_of(a->subject);
    apply(rules_.on_lock(a->device_id, n, "parkingd", a->open, a->msg));
}

void Worker::handle_device(const mqtt::Message& m) {
    auto t = topics::parse_device_topic(m.topic);
    if (!t)
        return;
    const auto& dev = t->device_id;
    const auto kind = known(dev);
    if (!kind)
        return;
    const log::Ctx ctx{dev, {}};
    auto malformed = [&](const std::string& why) {
        if (warnings_.allow(dev, "malformed", clock_.now_ms()))
            log::warn(ctx, "malformed payload on {} ignored: {}", m.topic, why);
    };
    if (t->leaf == topics::Leaf::Presence) {
        if (auto p = payloads::decode_presence(m.payload))
            apply(rules_.on_presence(dev, *p));
        else
            malformed(p.error());
        return;
    }
    apply(rules_.on_traffic(dev, m.retained));
    switch (t->leaf) {
    case topics::Leaf::State:
        if (auto s = payloads::decode<payloads::DeviceState>(m.payload)) {
            apply(rules_.on_fault_set(dev, 0, fault_words(s->data.faults, s->data.fault_bits)));
            if (s->data.temp_c)
                apply(rules_.on_temperature(dev, *s->data.temp_c));
        } else {
            malformed(s.error());
        }
        break;
    case topics::Leaf::ConnState:
        if (*kind == "ev_charger") {
            if (auto s = payloads::decode<payloads::EvConnState>(m.payload))
                apply(rules_.on_fault_set(dev, t->n, payloads::ev_fault_names(s->data.fault_bits)));
            else
                malformed(s.error());
        } else if (auto s = payloads::decode<payloads::EbikeConnState>(m.payload)) {
            apply(rules_.on_fault_set(dev, t->n, s->data.faults));
        } else {
            malformed(s.error());
        }
        break;
    case topics::Leaf::SpaceState:
        if (auto s = payloads::decode<payloads::CameraSpaceState>(m.payload))
            apply(rules_.on_lock(dev, t->n, "space_state",
                                 s->data.lock && s->data.lock->st == payloads::LockStatus::Fault, ""));
        else
            malformed(s.error());
        break;
    case topics::Leaf::Tele:
        if (*kind == "ev_charger") {
            if (auto s = payloads::decode<payloads::EvTele>(m.payload); s && s->data.temp_c)
                apply(rules_.on_temperature(dev, *s->data.temp_c));
        } else if (auto s = payloads::decode<payloads::EbikeTele>(m.payload); s && s->data.temp_c) {
            apply(rules_.on_temperature(dev, *s->data.temp_c));
        }
        break;
    case topics::Leaf::Evt:
        if (t->name != "fault")
            break;
        if (*kind == "ev_charger") {
            if (auto e = payloads::decode<payloads::EvFaultEvent>(m.payload))
                apply(rules_.on_fault_set(dev, e->data.n, payloads::ev_fault_names(e->data.fault_bits)));
            else
                malformed(e.error());
        } else if (auto e = payloads::decode<payloads::EbikeFault>(m.payload)) {
            apply(rules_.on_fault_event(dev, e->data.n, e->data.code, e->data.active));
        } else {
            malformed(e.error());
        }
        break;
    default:
        break;
    }
}

void Worker::apply(const std::vector<Decision>& ds) {
    for (const auto& d : ds) {
        const auto& a = d.about;
        const log::Ctx ctx{a.device_id, {}};
        std::optional<std::int64_t> id;
        switch (d.action) {
        case alerts::Action::Open:
            loop_.with_retry("opening an alert", [&] { id = store_.open(d, opts_.deliver); });
            if (!id) {
                log::info(ctx, "{} {}: an alert is already current", a.kind, a.subject);
                break;
            }
            log::warn(ctx, "alert {} opened: {} {}: {}", *id, a.kind, a.subject, d.detail);
            if (opts_.deliver && opts_.on_queued)
                opts_.on_queued();
            break;
        case alerts::Action::Touch:
            loop_.with_retry("refreshing an alert", [&] { store_.touch(d); });
            break;
        case alerts::Action::Resolve:
            loop_.with_retry("resolving an alert", [&] { id = store_.resolve(d); });
            if (id)
                log::info(ctx, "alert {} resolved: {} {}: {}", *id, a.kind, a.subject, d.detail);
            break;
        default:
            break;
        }
        // parkingd publishes its own lock_fault alerts: alertd records them without a second message.
        if (!id || a.kind == alerts::kLockFault)
            continue;
        const auto x = webhook::payload_of(OutgoingAlert{*id, a.kind, a.device_id, a.n, a.subject,
                                                         d.action == alerts::Action::Open ? "open" : "resolved",
                                                         std::string(alerts::severity_of(a.kind)), d.detail, d.at});
        mqtt_.publish({topics::alert(a.kind), svc::encode(x), 1, false});
    }
}

} // namespace pilehub::alertd
