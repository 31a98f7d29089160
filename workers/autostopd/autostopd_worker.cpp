#include "workers/autostopd/autostopd_worker.hpp"

#include "common/log.hpp"
#include "common/payloads.hpp"
#include "common/svc.hpp"
#include "common/topics.hpp"

#include <fmt/format.h>

#include <memory>

namespace pilehub::autostopd {
namespace {

Answer classify(const rpc::Reply& r) {
    if (r.ok())
        return Answer::Accepted;
    if (r.status == "timeout" || r.status == "failed" || r.status == "busy" || r.status == "expired")
        return Answer::Failed;
    return Answer::Rejected;
}

/// The limits in force, for the log.
std::string describe(const DeviceLimits& l) {
    if (l.kind == Kind::EvCharger)
        return fmt::format("ev_full_wait_s {} ev_no_load_wait_s {} temp_stop_c {}", l.ev_config.ev_full_wait_s,
                           l.ev_config.ev_no_load_wait_s, l.ev_config.temp_stop_c);
    const auto& c = l.config;
    return fmt::format("full_stop_w {} full_wait_s {} no_load_wait_s {} socket_overload_w {} device_overload_w {} "
                       "temp_stop_c {}",
                       c.full_stop_w, c.full_wait_s, c.no_load_wait_s, c.socket_overload_w, c.device_overload_w,
                       c.temp_stop_c);
}

} // namespace

svc::StopRequest stop_request(const Stop& s) {
    return svc::StopRequest{s.sid, stop_cause(s.reason), "autostopd"};
}

namespace {

worker::Loop::Options loop_options(const Options& o) {
    worker::Loop::Options l;
    l.name = "autostopd";
    l.tick = o.tick;
    l.retry_failures = false; // autostopd commits nothing: a failed step is logged and the next report decides
    return l;
}

} // namespace

Worker::Worker(mqtt::Client& mqtt, mqtt::Router& router, db::Database& core, const Clock& clock, Options opts)
    : mqtt_(mqtt), clock_(clock), opts_(std::move(opts)), store_(core),
      rules_(clock, opts_.unsafe_fault_bits, opts_.retry_ms, opts_.forget_ms), rpc_(mqtt, router, clock),
      loop_(
          clock, loop_options(opts_), [this](const mqtt::Message& m) { handle(m); }, [this] { tick(); }) {
    caller_ = [this](const svc::StopRequest& r) { return rpc_.call(opts_.service, r, opts_.rpc_timeout); };
    auto h = [this](const mqtt::Message& m) { loop_.post(m); };
    router.add(mqtt, topics::any_device_report(), 0, h);
    for (const auto& f : {topics::any_device::state(), topics::any_device::conn_state(), topics::any_device::evt(),
                          topics::any_device::cfg_reported(), topics::any_session_state()})
        router.add(mqtt, f, 1, h);
    router.add(mqtt, topics::any_session_cost(), 0, h);
}

Worker::~Worker() {
    stop();
}

void Worker::start() {
    {
        std::lock_guard r(req_m_);
        req_stopping_ = false;
    }
    loop_.start();
    for (int i = 0; i < std::max(1, opts_.rpc_threads); ++i)
        request_threads_.emplace_back([this] { request_loop(); });
}

void Worker::stop() {
    {
        std::lock_guard r(req_m_);
        req_stopping_ = true;
    }
    req_cv_.notify_all();
    for (auto& t : request_threads_)
        if (t.joinable())
            t.join();
    request_threads_.clear();
    loop_.stop();
    std::lock_guard r(req_m_);
    if (!requests_.empty())
        log::warn("{} stop requests not sent at shutdown", requests_.size());
}

// --- rules thread ------------------------------------------------------------------------------

void Worker::tick() {
    dispatch(rules_.tick(), 0);
    const auto now = clock_.now_ms();
    std::erase_if(looked_up_, [&](const auto& kv) { return kv.second + 600'000 < now; });
}

bool Worker::known_device(const std::string& dev) {
    if (kinds_.count(dev))
        return true;
    const auto now = clock_.now_ms();
    if (auto it = unknown_.find(dev); it != unknown_.end() && now < it->second)
        return false;
    auto limits = store_.limits(dev);
    if (!limits) {
        unknown_[dev] = now + opts_.unknown_retry_ms;
        return false;
    }
    unknown_.erase(dev);
    kinds_[dev] = limits->kind;
    rules_.set_limits(dev, std::move(*limits));
    return true;
}

void Worker::ensure_session(const std::string& sid, const std::string& dev, int n, EpochMs start_hint) {
    if (rules_.terms_known(sid))
        return;
    const auto now = clock_.now_ms();
    auto& next = looked_up_[sid];
    if (rules_.tracks(sid) && now < next)
        return;
    next = now + opts_.lookup_retry_ms;
    const log::Ctx ctx{dev, sid};
    auto row = store_.session(sid);
    if (!row) {
        if (!rules_.tracks(sid)) {
            log::info(ctx, "session on socket {} is not in the database (yet): only the mode-independent rules apply",
                      n);
            SessionTerms t;
            t.sid = sid;
            t.dev = dev;
            t.n = n;
            t.start_ms = start_hint;
            rules_.track(t);
        }
        return;
    }
    if (!svc::is_running(row->state)) {
        if (row->state == svc::SessionState::Stopping) {
            rules_.track(row->terms);
            rules_.stopping(sid);
        } else {
            if (rules_.tracks(sid))
                log::info(ctx, "session is {}: no longer watched", svc::to_string(row->state));
            rules_.end(sid);
        }
        return;
    }
    if (!row->tariff_error.empty())
        log::warn(ctx, "tariff unreadable, caps not applied: {}", row->tariff_error);
    if (row->terms.dev != dev || (n > 0 && row->terms.n != n))
        log::warn(ctx, "the pile reports it on {}/{} but the session row says {}/{}: the row is used", dev, n,
                  row->terms.dev, row->terms.n);
    log::debug(ctx, "watching: {} mode, socket {}",
               (row->terms.mode ? billing::to_string(*row->terms.mode) : std::string_view("unknown")), row->terms.n);
    rules_.track(row->terms);
}

void Worker::handle(const mqtt::Message& m) {
    if (auto sid = topics::session_of(m.topic)) {
        handle_session(*sid, m.topic == topics::session_cost(*sid), m);
        return;
    }
    if (auto dev = topics::device_of_report(m.topic)) {
        handle_report(*dev, m);
        return;
    }
    auto t = topics::parse_device_topic(m.topic);
    if (!t) {
        log::warn("ignored a message on {}: not a topic autostopd knows", m.topic);
        return;
    }
    if (!known_device(t->device_id)) {
        if (warnings_.allow(t->device_id, "unknown", clock_.now_ms()))
            log::warn(log::Ctx{t->device_id, {}}, "unknown device (not registered): {} ignored", m.topic);
        return;
    }
    handle_device(*t, m);
}

void Worker::handle_session(const std::string& sid, bool cost, const mqtt::Message& m) {
    const log::Ctx ctx{{}, sid};
    if (cost) {
        const auto rc = svc::decode<svc::RunningCost>(m.payload);
        if (!rc || rc->sid != sid) {
            log::warn(ctx, "malformed running cost ignored: {}", rc ? "it names another session" : rc.error());
            return;
        }
        Cost c;
        c.sid = sid;
        c.cost_fen = rc->cost_fen.value();
        c.balance_low = rc->balance_low;
        c.cap_reached = rc->cap_reached;
        c.quota = rc->quota;
        if (!rules_.tracks(sid)) {
            auto row = store_.session(sid);
            if (!row || !svc::is_running(row->state))
                return; // not a session we watch (or not yet charging)
            ensure_session(sid, row->terms.dev, row->terms.n, 0);
        }
        dispatch(rules_.on_cost(c), loop_.current_posted_ms());
        return;
    }
    const auto t = svc::decode<svc::SessionTransition>(m.payload);
    if (!t || t->sid != sid) {
        log::warn(ctx, "malformed session transition ignored: {}", t ? "it names another session" : t.error());
        return;
    }
    if (svc::is_running(t->state)) {
        if (!rules_.tracks(sid)) {
            if (auto row = store_.session(sid))
                ensure_session(sid, row->terms.dev, row->terms.n, 0);
        }
    } else if (t->state == svc::SessionState::Stopping) {
        rules_.stopping(sid);
    } else {
        rules_.end(sid);
    }
}

void Worker::handle_device(const topics::DeviceTopic& t, const mqtt::Message& m) {
    const auto& dev = t.device_id;
    const log::Ctx ctx{dev, {}};
    const auto& text = m.payload;
    const EpochMs arrived = loop_.current_posted_ms();
    auto malformed = [&](std::string_view what, const std::string& why) {
        if (warnings_.allow(dev, "malformed", clock_.now_ms()))
            log::warn(ctx, "malformed {} ignored: {}", what, why);
    };
    const auto kind = kinds_[dev];
    switch (t.leaf) {
    case topics::Leaf::State: {
        auto s = payloads::decode<payloads::DeviceState>(text);
        if (!s) {
            malformed("device state", s.error());
            return;
        }
        auto stops = rules_.on_fault_set(dev, 0, s->data.fault_bits);
        if (s->data.temp_c)
            for (auto& x : rules_.on_temp(dev, *s->data.temp_c))
                stops.push_back(std::move(x));
        dispatch(std::move(stops), arrived);
        return;
    }
    case topics::Leaf::ConnState: {
        if (kind == Kind::EbikePile) {
            auto e = payloads::decode<payloads::EbikeConnState>(text);
            if (!e) {
                malformed("socket state", e.error());
                return;
            }
            if (e->data.sid)
                ensure_session(*e->data.sid, dev, t.n, 0);
            else if (e->data.st == payloads::EbikeSocketStatus::Idle ||
                     e->data.st == payloads::EbikeSocketStatus::Disabled)
                rules_.port_idle(dev, t.n);
        } else if (kind == Kind::EvCharger) {
            auto v = payloads::decode<payloads::EvConnState>(text);
            if (!v) {
                malformed("gun state", v.error());
                return;
            }
            if (v->data.sid)
                ensure_session(*v->data.sid, dev, t.n, 0);
            else if (v->data.st == payloads::EvGunStatus::Available)
                rules_.port_idle(dev, t.n);
            auto stops = rules_.on_fault_set(dev, t.n, v->data.fault_bits);
            for (auto& x : rules_.on_gun_status(dev, t.n, v->data.st))
                stops.push_back(std::move(x));
            dispatch(std::move(stops), arrived);
        }
        return;
    }
    case topics::Leaf::Evt: {
        const bool ev = kind == Kind::EvCharger;
        if (t.name == "session_started") {
            if (!ev) {
                auto e = payloads::decode<payloads::EbikeSessionStarted>(text);
                if (!e)
                    return malformed("session_started", e.error());
                ensure_session(e->data.sid, dev, e->data.n, e->data.start_ts);
            } else {
                auto v = payloads::decode<payloads::EvSessionStarted>(text);
                if (!v)
                    return malformed("session_started", v.error());
                ensure_session(v->data.sid, dev, v->data.n, v->data.start_ts);
            }
        } else if (t.name == "session_stopped") {
            if (!ev) {
                auto e = payloads::decode<payloads::EbikeSessionStopped>(text);
                if (!e)
                    return malformed("session_stopped", e.error());
                rules_.end(e->data.sid);
            } else {
                auto v = payloads::decode<payloads::EvSessionStopped>(text);
                if (!v)
                    return malformed("session_stopped", v.error());
                rules_.end(v->data.sid);
            }
        } else if (t.name == "plug_out" && ev) {
            auto v = payloads::decode<payloads::EvPlugOut>(text);
            if (!v)
                return malformed("plug_out", v.error());
            // A session autostopd has not seen yet (it just started) is looked up on the gun;
            // ensure_session watches it only while it is starting or charging.
            if (!rules_.session_on(dev, v->data.n))
                if (auto sid = store_.session_on(dev, v->data.n))
                    ensure_session(*sid, dev, v->data.n, 0);
            dispatch(rules_.on_plug_out(dev, v->data.n), arrived);
        } else if (t.name == "fault") {
            if (!ev) {
                auto e = payloads::decode<payloads::EbikeFault>(text);
                if (!e)
                    return malformed("fault", e.error());
                dispatch(rules_.on_fault(dev, e->data.n, e->data.bit, e->data.active), arrived);
            } else {
                auto v = payloads::decode<payloads::EvFaultEvent>(text);
                if (!v)
                    return malformed("fault", v.error());
                dispatch(rules_.on_fault_set(dev, v->data.n, v->data.fault_bits), arrived);
            }
        }
        return;
    }
    case topics::Leaf::CfgReported: {
        auto limits = store_.limits(dev);
        if (!limits)
            return;
        // Whatever the status, `values` is the configuration in force on the device.
        std::int64_t version = 0;
        std::string error;
        if (kind == Kind::EvCharger) {
            if (auto r = payloads::decode<payloads::EvCfgReported>(text)) {
                limits->ev_config = r->data.values;
                version = r->data.version;
            } else {
                error = r.error();
            }
        } else if (auto r = payloads::decode<payloads::EbikeCfgReported>(text)) {
            limits->config = r->data.values;
            version = r->data.version;
        } else {
            error = r.error();
        }
        if (!error.empty()) {
            malformed("cfg/reported", error);
            return;
        }
        log::info(ctx, "limits from cfg/reported version {}: {}", version, describe(*limits));
        rules_.set_limits(dev, std::move(*limits));
        return;
    }
    default:
        return;
    }
}

void Worker::handle_report(const std::string& dev, const mqtt::Message& m) {
    const log::Ctx ctx{dev, {}};
    auto r = svc::decode_report(m.topic, m.payload);
    if (!r) {
        if (warnings_.allow(dev, "malformed", clock_.now_ms()))
            log::warn(ctx, "malformed device report ignored: {}", r.error());
        return;
    }
    if (!known_device(dev)) {
        if (warnings_.allow(dev, "unknown", clock_.now_ms()))
            log::warn(ctx, "unknown device (not registered): {} ignored", m.topic);
        return;
    }
    if (kinds_[dev] == Kind::Other)
        return; // cameras have no sessions
    // recorderd validated the raw message, dropped replays and bound every socket to its session
    // (docs/topics.md, device reports): the report is taken as it is.
    const auto& report = r.value();
    Telemetry tele;
    tele.dev = dev;
    if (report.temp_dc)
        tele.temp_c = static_cast<double>(*report.temp_dc) / 10.0;
    tele.total_power_w = static_cast<double>(report.total_power_w);
    for (const auto& s : report.sockets) {
        tele.ports.push_back(
            {s.n, s.sid, static_cast<double>(s.power_w), s.energy_wh, s.register_wh, s.soc_pct, s.ev_status});
        ensure_session(s.sid, dev, s.n, 0);
    }
    dispatch(rules_.on_tele(tele), loop_.current_posted_ms());
}

void Worker::dispatch(std::vector<Stop> stops, EpochMs arrived_ms) {
    if (stops.empty())
        return;
    const auto now = clock_.now_ms();
    {
        std::lock_guard l(req_m_);
        for (auto& s : stops) {
            const log::Ctx ctx{s.dev, s.sid};
            if (arrived_ms != 0)
                log::info(ctx, "asking {} to stop ({}): {} [decided {} ms after the report arrived]", opts_.service,
                          to_string(s.reason), s.detail, now - arrived_ms);
            else
                log::info(ctx, "asking {} to stop ({}): {}", opts_.service, to_string(s.reason), s.detail);
            requests_.push_back(Request{std::move(s), arrived_ms});
        }
    }
    req_cv_.notify_all();
}

void Worker::answered(const Answered& a) {
    const log::Ctx ctx{a.stop.dev, a.stop.sid};
    const auto answer = classify(a.reply);
    rules_.answered(a.stop.sid, a.stop.reason, answer);
    switch (answer) {
    case Answer::Accepted:
        log::info(ctx, "{} accepted the stop ({}) in {} ms", opts_.service, to_string(a.stop.reason), a.took_ms);
        break;
    case Answer::Rejected:
        log::warn(ctx, "{} refused the stop ({}): {} {} {}", opts_.service, to_string(a.stop.reason), a.reply.status,
                  a.reply.code, a.reply.msg);
        break;
    case Answer::Failed:
        log::warn(ctx, "stop ({}) not done: {} {} {}; asking again in {} s if it still applies",
                  to_string(a.stop.reason), a.reply.status, a.reply.code, a.reply.msg, opts_.retry_ms / 1000);
        break;
    }
}

// --- request threads ---------------------------------------------------------------------------

void Worker::send(Request r) {
    const auto t0 = monotonic_ms();
    rpc::Reply reply;
    try {
        reply = caller_(stop_request(r.stop));
    } catch (const std::exception& e) {
        reply = rpc::Reply::refuse("internal", e.what(), "failed");
    }
    auto a = std::make_shared<Answered>(Answered{std::move(r.stop), std::move(reply), monotonic_ms() - t0});
    loop_.post([this, a] { answered(*a); });
}

void Worker::request_loop() {
    for (;;) {
        Request r;
        {
            std::unique_lock l(req_m_);
            req_cv_.wait(l, [&] { return req_stopping_ || !requests_.empty(); });
            if (req_stopping_)
                return;
            r = std::move(requests_.front());
            requests_.pop_front();
        }
        send(std::move(r));
    }
}

std::size_t Worker::pending_requests() {
    std::lock_guard l(req_m_);
    return requests_.size();
}

std::size_t Worker::send_requests() {
    std::deque<Request> batch;
    {
        std::lock_guard l(req_m_);
        batch.swap(requests_);
    }
    for (auto& r : batch)
        send(std::move(r));
    return batch.size();
}

} // namespace pilehub::autostopd
