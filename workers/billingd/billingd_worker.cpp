#include "billingd_worker.hpp"

#include "common/failpoint.hpp"
#include "common/log.hpp"
#include "common/svc.hpp"
#include "common/topics.hpp"

#include <algorithm>

namespace pilehub::billing {

svc::SessionTransition completed_transition(const SessionFacts& s, const Settled& settled, const std::string& reason,
                                            const std::string& actor) {
    svc::SessionTransition t;
    t.sid = s.id;
    t.state = svc::SessionState::Completed;
    t.prev = svc::parse_session_state(settled.from_state);
    t.reason = reason.empty() ? "settled" : reason; // the contract's reason is never empty
    t.actor = actor;
    t.ts = settled.at;
    t.record = true; // only a session with a committed record is settled
    t.device_id = s.device_id;
    t.n = s.n;
    t.account_id = s.account_id;
    t.method = s.method;
    t.max_fen = s.max_fen;
    t.settlement = svc::SettlementAmounts{settled.cost_fen, settled.priced_fen, settled.shortfall_fen};
    return t;
}

namespace {

worker::Loop::Options loop_options(const Worker::Options& o) {
    worker::Loop::Options l;
    l.name = "billingd";
    l.queue_max = o.queue_max;
    // The tick also retries put-off settlements, so it runs more often than the periodic work.
    l.tick = std::chrono::milliseconds(std::clamp<std::int64_t>(o.tick_ms, 1, 250));
    l.retry_failures = false; // the scan finds again whatever a failure left
    return l;
}

} // namespace

Worker::Worker(Store& store, mqtt::Client& mqtt, const Clock& clock, Options options)
    : store_(store), mqtt_(mqtt), clock_(clock), options_(std::move(options)), costs_(clock, options_.cost),
      loop_(
          clock, loop_options(options_), [this](const mqtt::Message& m) { handle(m); }, [this] { tick(); }) {}

Worker::~Worker() {
    stop();
}

void Worker::subscribe(mqtt::Router& router) {
    // Callback thread: post only (never throws; telemetry is dropped and counted when the queue is full).
    router.add(mqtt_, topics::any_session_state(), 1, [this](const mqtt::Message& m) { loop_.post(m); });
    router.add(mqtt_, topics::any_device_report(), 0, [this](const mqtt::Message& m) { loop_.post(m); });
}

void Worker::start() {
    loop_.start();
}

void Worker::stop() {
    loop_.stop();
}

Worker::Stats Worker::stats() const {
    const auto l = loop_.stats();
    std::lock_guard lk(m_);
    auto s = stats_;
    s.errors += l.errors;
    s.dropped = l.dropped;
    return s;
}

void Worker::handle(const mqtt::Message& m) {
    if (auto sid = topics::session_of(m.topic)) {
        on_transition(*sid, m.payload);
        return;
    }
    if (auto dev = topics::device_of_report(m.topic)) {
        auto r = svc::decode_report(m.topic, m.payload);
        if (r)
            on_report(r.value());
        else if (warnings_.allow(*dev, "malformed", clock_.now_ms()))
            log::warn(log::Ctx{*dev, {}}, "device report ignored: {}", r.error());
    }
}

void Worker::tick() {
    if (!waiting_.empty())
        settle_waiting();
    const EpochMs now = clock_.now_ms();
    if (now >= next_periodic_) {
        next_periodic_ = now + options_.tick_ms;
        on_tick();
    }
}

bool Worker::settle_one(const SessionFacts& s) {
    // The samples are read once: the evidence that the curve is complete is the curve priced.
    auto recorded = store_.samples(s.id);
    if (!due_for_settlement(s, clock_, options_.settle_delay_ms, evidence_of(recorded))) {
        const EpochMs at = settle_not_before(s, options_.settle_delay_ms);
        costs_.forget(s.id); // ended: no running cost any more
        if (waiting_.insert_or_assign(s.id, at).second) {
            std::lock_guard lk(m_);
            ++stats_.deferred;
        }
        log::debug(log::Ctx{{}, s.id}, "record committed at {}: waiting up to {} ms for its telemetry", s.committed_at,
                   at - clock_.now_ms());
        return false;
    }
    waiting_.erase(s.id);
    const auto tariff = store_.tariff_for_session(s.id);
    const auto plan = plan_settlement(s, tariff, std::move(recorded));
    const auto r = store_.settle(s, plan, options_.debit_order);
    if (r.outcome != Settled::Outcome::Settled)
        return false;
    failpoint::hit("billingd.after_settle_commit"); // debited and completed; `completed` not yet published
    costs_.forget(s.id);
    {
        std::lock_guard lk(m_);
        ++stats_.settled;
    }
    log::info(log::Ctx{{}, s.id}, "settled: {} → completed, priced {} fen, debited {} fen{}{}", r.from_state,
              r.priced_fen.value(), r.cost_fen.value(),
              r.shortfall_fen > Fen(0) ? fmt::format(", shortfall {} fen", r.shortfall_fen.value()) : std::string(),
              plan.note.empty() ? std::string() : " (" + plan.note + ")");
    mqtt_.publish({topics::session_state(s.id), svc::encode(completed_transition(s, r, s.stop_reason, options_.actor)),
                   1, false});
    return true;
}

int Worker::settle_due() {
    int settled = 0;
    {
        std::lock_guard lk(m_);
        ++stats_.scans;
    }
    // Each settlement removes its session from the due set, so re-query until a batch is empty
    // or makes no progress (sessions that cannot be settled stay due for the next scan).
    for (;;) {
        const auto due = store_.due_sessions(options_.scan_batch);
        int progress = 0;
        for (const auto& s : due) {
            try {
                if (settle_one(s))
                    ++progress;
            } catch (const std::exception& e) {
                std::lock_guard lk(m_);
                ++stats_.errors;
                log::error(log::Ctx{{}, s.id}, "settlement failed (retried at the next scan): {}", e.what());
            }
        }
        settled += progress;
        if (due.size() < static_cast<std::size_t>(options_.scan_batch) || progress == 0)
            break;
    }
    return settled;
}

void Worker::on_transition(const std::string& topic_sid, std::string_view payload) {
    const auto t = svc::decode<svc::SessionTransition>(payload);
    if (!t) {
        log::warn(log::Ctx{{}, topic_sid}, "unreadable session transition ignored: {}", t.error());
        return;
    }
    if (t->sid != topic_sid) {
        log::warn(log::Ctx{{}, topic_sid}, "session transition for {} on another session's topic ignored", t->sid);
        return;
    }
    if (svc::is_ended(t->state)) { // ours coming back, or a failed start: nothing to settle or price
        waiting_.erase(t->sid);
        costs_.forget(t->sid);
        return;
    }
    on_session_state(t->sid);
}

bool Worker::on_session_state(const std::string& sid) {
    const auto s = store_.session(sid);
    if (!s)
        return false;
    if (settleable(*s))
        return settle_one(*s);
    waiting_.erase(sid);
    if (s->state == svc::SessionState::Charging && s->started_at && !s->record_msg_id) {
        if (!costs_.tracking(sid))
            track(sid);
    } else {
        costs_.forget(sid);
    }
    return false;
}

int Worker::settle_waiting() {
    const EpochMs now = clock_.now_ms();
    std::vector<std::string> ready;
    for (const auto& [sid, at] : waiting_)
        if (at <= now)
            ready.push_back(sid);
    int settled = 0;
    for (const auto& sid : ready) {
        waiting_.erase(sid); // settle_one puts it back if it must still wait
        try {
            const auto s = store_.session(sid);
            if (s && settleable(*s) && settle_one(*s))
                ++settled;
        } catch (const std::exception& e) {
            std::lock_guard lk(m_);
            ++stats_.errors;
            log::error(log::Ctx{{}, sid}, "settlement failed (retried at the next scan): {}", e.what());
        }
    }
    return settled;
}

bool Worker::track(const std::string& sid) {
    const auto live = store_.live_session(sid);
    if (!live) {
        not_live_.insert(sid);
        return false;
    }
    const auto tariff = store_.tariff_for_session(sid);
    costs_.track(*live, tariff.tariff, store_.samples(sid));
    not_live_.erase(sid);
    return true;
}

void Worker::publish_cost(const std::string& sid) {
    const auto account = costs_.account_of(sid);
    if (!account)
        return;
    const auto u = costs_.compute(sid, store_.wallet(*account));
    if (!u)
        return;
    mqtt_.publish({topics::session_cost(sid), svc::encode(running_cost(*u)), 0, false});
    std::lock_guard lk(m_);
    ++stats_.costs_published;
}

void Worker::on_report(const svc::DeviceReport& report) {
    {
        std::lock_guard lk(m_);
        ++stats_.telemetry;
    }
    // recorderd bound each socket to its session (docs/topics.md, device reports): no check here.
    const EpochMs at = report.at();
    for (const auto& s : report.sockets) {
        if (!costs_.tracking(s.sid)) {
            if (not_live_.count(s.sid) || !track(s.sid))
                continue;
        }
        if (costs_.on_reading(s.sid, at, s.energy_wh, s.power_w))
            publish_cost(s.sid);
    }
}

void Worker::refresh_live() {
    not_live_.clear();
    std::set<std::string> live;
    for (const auto& s : store_.live_sessions()) {
        live.insert(s.id);
        if (!costs_.tracking(s.id)) {
            const auto tariff = store_.tariff_for_session(s.id);
            costs_.track(s, tariff.tariff, store_.samples(s.id));
        }
    }
    costs_.retain(live);
}

void Worker::on_tick() {
    const EpochMs now = clock_.now_ms();
    if (now >= next_scan_) {
        next_scan_ = now + options_.scan_period_ms;
        settle_due();
    }
    if (now >= next_refresh_) {
        next_refresh_ = now + options_.live_refresh_ms;
        refresh_live();
    }
    for (const auto& sid : costs_.due())
        publish_cost(sid);
}

} // namespace pilehub::billing
