#include "workers/recorderd/recorderd_worker.hpp"

#include "common/json.hpp"
#include "common/log.hpp"
#include "common/payloads.hpp"
#include "common/svc.hpp"
#include "common/topics.hpp"

#include <unistd.h>

#include <algorithm>

namespace pilehub::recorderd {
namespace {

db::Database::Options db_options(int busy_timeout_ms) {
    db::Database::Options o;
    o.busy_timeout_ms = busy_timeout_ms;
    return o;
}

worker::Loop::Options loop_options(const Options& o, std::string name) {
    worker::Loop::Options l;
    l.name = std::move(name);
    l.retry = o.retry;
    l.give_up = o.give_up;
    l.sleep = o.sleep;
    return l;
}

worker::Loop::Options decode_options(const Options& o) {
    auto l = loop_options(o, "recorderd decode");
    l.queue_max = o.max_queue;
    l.tick = std::max(std::chrono::milliseconds(1), o.batch_time / 5);
    return l;
}

worker::Loop::Options write_options(const Options& o) {
    auto l = loop_options(o, "recorderd write");
    l.queue_max = std::max<std::size_t>(1, o.max_pending_batches); // back-pressure on the decode loop
    l.tick = o.status_every;
    return l;
}

} // namespace

Worker::Worker(mqtt::Client& mqtt, mqtt::Router& router, const std::string& core_path,
               const std::string& telemetry_path, int busy_timeout_ms, const Clock& clock, Options opts)
    : mqtt_(mqtt), clock_(clock), opts_(std::move(opts)),
      directory_(core_path, busy_timeout_ms, opts_.unknown_retry_ms),
      event_tele_db_(telemetry_path, db_options(busy_timeout_ms)),
      event_core_db_(core_path, db_options(busy_timeout_ms)), events_(event_tele_db_), faults_(event_core_db_),
      tele_rules_(clock), write_db_(telemetry_path, db_options(busy_timeout_ms)), writer_(write_db_),
      purge_core_db_(core_path, db_options(busy_timeout_ms)), purge_telemetry_(write_db_,
                                                                               {{retention::Kind::SessionSamples, ""},
                                                                                {retention::Kind::DeviceSamples, ""},
                                                                                {retention::Kind::DeviceEvents, ""}},
                                                                               opts_.retention, opts_.purge),
      purge_core_(purge_core_db_, {{retention::Kind::ProcessedMessages, "recorderd"}}, opts_.retention, opts_.purge),
      write_loop_(
          clock, write_options(opts_), [](const mqtt::Message&) {}, [this] { write_tick(); }),
      decode_loop_(
          clock, decode_options(opts_),
          [this](const mqtt::Message& m) { decode_one(m, decode_loop_.current_posted_ms()); },
          [this] { decode_tick(); }) {
    router.add(mqtt, topics::any_device::tele(), 0, [this](const mqtt::Message& m) { on_tele(m); });
    router.add(mqtt, topics::any_device::evt(), 1, [this](const mqtt::Message& m) { on_event(m); });
}

Worker::~Worker() {
    stop();
}

void Worker::start() {
    write_loop_.start();
    decode_loop_.start();
}

void Worker::stop() {
    decode_loop_.stop();
    hand_off(); // the last, partial batch (the decode thread has ended)
    write_loop_.stop();
}

void Worker::drain() {
    decode_loop_.drain();
    hand_off();
    write_loop_.drain();
}

// --- callback thread ---------------------------------------------------------------------------

void Worker::on_tele(const mqtt::Message& m) {
    tele_received_++;
    if (!decode_loop_.post(m) && warnings_.allow("", "queue-full", clock_.now_ms()))
        log::warn("telemetry queue full ({} messages): dropping; {} dropped so far", opts_.max_queue,
                  decode_loop_.stats().dropped);
}

void Worker::on_event(const mqtt::Message& m) {
    // Committed here, before Paho acknowledges: a storage failure is retried, then the process exits
    // without returning, so the broker delivers the event again (docs/architecture.md).
    write_loop_.run_inline(m, [this](const mqtt::Message& e) { handle_event(e); });
}

void Worker::handle_event(const mqtt::Message& m) {
    auto t = topics::parse_device_topic(m.topic);
    if (!t) {
        log::warn("ignored a message on {}: not a device topic of CONTRACT A", m.topic);
        return;
    }
    const auto& dev = t->device_id;
    const log::Ctx ctx{dev, {}};
    const auto now = clock_.now_ms();
    const auto kind = directory_.kind(dev, now);
    if (!kind) {
        unknown_++;
        if (warnings_.allow(dev, "unknown", now))
            log::warn(ctx, "unknown device (not registered): event {} ignored", t->name);
        return;
    }
    auto env = payloads::peek_envelope(m.payload);
    if (!env || !env->id) {
        malformed_++;
        if (warnings_.allow(dev, "malformed", clock_.now_ms()))
            log::warn(ctx, "malformed event {} ignored: {}", t->name,
                      env ? std::string("id is required") : env.error());
        return;
    }
    const auto pk = payloads::parse_enum<payloads::DeviceKind>(*kind);
    const auto schema = pk ? payloads::schema_for(*pk, *t) : std::nullopt;
    if (schema) {
        if (const auto* codec = payloads::find_codec(*schema)) {
            if (auto ok = codec->recode(m.payload); !ok) {
                malformed_++;
                if (warnings_.allow(dev, "malformed", clock_.now_ms()))
                    log::warn(ctx, "malformed event {} id={} ignored: {}", t->name, *env->id, ok.error());
                return;
            }
        }
    } else {
        log::info(ctx, "event {} is not in the contract for a {}: recorded as it is", t->name, *kind);
    }
    const auto at = env->ts != 0 ? env->ts : now;
    events_n_++;
    if (!events_.insert_event(dev, *env->id, t->name, at, m.payload)) {
        duplicate_events_++;
        log::info(ctx, "duplicate event {} id={} ignored", t->name, *env->id);
    }
    if (t->name != "fault")
        return;

    std::vector<std::string> notes;
    std::optional<std::vector<FaultChange>> changes;
    // The tracker remembers what it applied as it decides; if the commit fails, it must forget (a
    // retry would otherwise find the event "older than one already applied").
    auto tracked = fault_rules_;
    try {
        if (*kind == "ebike_pile") {
            auto f = payloads::decode<payloads::EbikeFault>(m.payload);
            if (!f)
                return; // validated above
            changes = faults_.record(dev, *env->id, f->data.n, at, [&](const std::vector<std::string>& open) {
                auto v = fault_rules_.on_ebike(dev, *f, open);
                notes = std::move(v.notes);
                return v.changes;
            });
        } else if (*kind == "ev_charger") {
            auto f = payloads::decode<payloads::EvFaultEvent>(m.payload);
            if (!f)
                return;
            changes = faults_.record(dev, *env->id, f->data.n, at, [&](const std::vector<std::string>& open) {
                auto v = fault_rules_.on_ev(dev, *f, open);
                notes = std::move(v.notes);
                return v.changes;
            });
        }
    } catch (...) {
        fault_rules_ = std::move(tracked);
        throw;
    }
    if (!changes) {
        log::info(ctx, "fault event id={} already processed: nothing changed", *env->id);
        return;
    }
    for (const auto& n : notes)
        log::info(ctx, "{} (id={})", n, *env->id);
    for (const auto& c : *changes)
        log::info(ctx, "fault {} on {} {} (id={})", c.code, c.n,
                  c.kind == FaultChange::Kind::Open ? "opened" : "cleared", *env->id);
}

// --- decode loop -------------------------------------------------------------------------------

void Worker::decode_tick() {
    if (batch_started_ != 0 && clock_.now_ms() - batch_started_ >= opts_.batch_time.count())
        hand_off();
}

void Worker::decode_one(const mqtt::Message& msg, EpochMs received) {
    auto t = topics::parse_device_topic(msg.topic);
    if (!t)
        return;
    const auto& dev = t->device_id;
    const log::Ctx ctx{dev, {}};
    const auto kind = directory_.kind(dev, received);
    if (!kind) {
        unknown_++;
        if (warnings_.allow(dev, "unknown", clock_.now_ms()))
            log::warn(ctx, "unknown device (not registered): telemetry ignored");
        return;
    }
    // A reading counts for a session only when it comes from the session's own socket.
    auto foreign = [&](std::optional<std::string>& sid, int n) {
        if (!sid || directory_.session_on(*sid, dev, n, received))
            return;
        foreign_++;
        if (warnings_.allow(dev, "foreign", clock_.now_ms()))
            log::warn(log::Ctx{dev, *sid},
                      "telemetry of socket {} claims a session that does not run there: reading dropped", n);
        sid.reset();
    };
    TeleRows rows;
    std::optional<svc::DeviceReport> report;
    if (*kind == "ebike_pile") {
        auto m = payloads::decode<payloads::EbikeTele>(msg.payload);
        if (!m) {
            malformed_++;
            if (warnings_.allow(dev, "malformed", clock_.now_ms()))
                log::warn(ctx, "malformed telemetry ignored: {}", m.error());
            return;
        }
        auto tele = std::move(m).value();
        for (auto& s : tele.data.sockets)
            foreign(s.sid, s.n);
        rows = tele_rules_.on_ebike(dev, tele);
        if (rows.order == Order::Fresh)
            report = device_report(dev, tele, received);
    } else if (*kind == "ev_charger") {
        auto m = payloads::decode<payloads::EvTele>(msg.payload);
        if (!m) {
            malformed_++;
            if (warnings_.allow(dev, "malformed", clock_.now_ms()))
                log::warn(ctx, "malformed telemetry ignored: {}", m.error());
            return;
        }
        auto tele = std::move(m).value();
        for (auto& g : tele.data.guns)
            foreign(g.sid, g.n);
        rows = tele_rules_.on_ev(dev, tele);
        if (rows.order == Order::Fresh)
            report = device_report(dev, tele, received);
    } else {
        malformed_++;
        if (warnings_.allow(dev, "malformed", clock_.now_ms()))
            log::warn(ctx, "telemetry from a {} is not in the contract: ignored", *kind);
        return;
    }
    if (rows.order != Order::Fresh) {
        out_of_order_++;
        if (warnings_.allow(dev, "order", clock_.now_ms()))
            log::warn(ctx, "{}", rows.why);
        return;
    }
    // Published before the rows join their batch: the readers of the report wait for no commit
    // (README, "Latency").
    if (report)
        publish_report(*report);
    if (batch_.oldest_received == 0) {
        batch_.oldest_received = received;
        batch_oldest_ = received;
    }
    if (batch_started_ == 0)
        batch_started_ = clock_.now_ms();
    batch_.messages++;
    for (auto& s : rows.sessions)
        batch_.sessions.push_back(std::move(s));
    if (rows.device)
        batch_.devices.push_back(std::move(*rows.device));
    if (batch_.rows() >= opts_.batch_rows)
        hand_off();
}

void Worker::publish_report(const svc::DeviceReport& r) {
    if (mqtt_.publish({topics::device_report(r.device_id), svc::encode(r), 0, false})) {
        reports_++;
        return;
    }
    reports_failed_++;
    if (warnings_.allow(r.device_id, "report", clock_.now_ms()))
        log::warn(log::Ctx{r.device_id, {}}, "device report not published (client queue full): {} so far",
                  reports_failed_.load());
}

void Worker::hand_off() {
    batch_started_ = 0;
    if (batch_.empty())
        return;
    {
        std::lock_guard l(out_m_);
        pending_rows_ += batch_.rows();
        pending_oldest_.push_back(batch_.oldest_received);
    }
    auto b = std::make_shared<Batch>(std::move(batch_));
    batch_ = Batch{};
    batch_oldest_ = 0;
    // Back-pressure: this waits while max_pending_batches wait for the writer; the telemetry queue
    // grows meanwhile (and is reported).
    write_loop_.post([this, b] { write(*b); });
}

// --- write loop --------------------------------------------------------------------------------

void Worker::write(const Batch& b) {
    try {
        const auto inserted = writer_.write(b);
        rows_written_ += inserted;
        rows_ignored_ += b.rows() - inserted;
        batches_++;
    } catch (const std::exception& e) {
        write_errors_++;
        log::error("a batch of {} rows was not written: {}", b.rows(), e.what());
        throw; // the loop retries it, then gives up
    }
    std::lock_guard l(out_m_);
    pending_rows_ -= b.rows();
    if (!pending_oldest_.empty())
        pending_oldest_.pop_front();
}

Stats Worker::stats() const {
    Stats s;
    const auto decode = decode_loop_.stats();
    s.tele_received = tele_received_;
    s.tele_dropped = decode.dropped;
    s.malformed = malformed_;
    s.unknown_device = unknown_;
    s.out_of_order = out_of_order_;
    s.foreign = foreign_;
    s.reports = reports_;
    s.reports_failed = reports_failed_;
    s.rows_written = rows_written_;
    s.rows_ignored = rows_ignored_;
    s.batches = batches_;
    s.events = events_n_;
    s.duplicate_events = duplicate_events_;
    s.write_errors = write_errors_;
    EpochMs oldest = 0;
    auto older = [&](EpochMs t) {
        if (t != 0 && (oldest == 0 || t < oldest))
            oldest = t;
    };
    s.queue = decode.queued;
    older(batch_oldest_);
    {
        std::lock_guard l(out_m_);
        s.pending_rows = pending_rows_;
        if (!pending_oldest_.empty())
            older(pending_oldest_.front());
    }
    s.lag_ms = oldest == 0 ? 0 : std::max<EpochMs>(0, clock_.now_ms() - oldest);
    s.lag_ms = std::max<EpochMs>(s.lag_ms, decode.lag_ms);
    return s;
}

std::string Worker::status_json() const {
    const auto s = stats();
    json::Writer w;
    w.begin_object()
        .field("v", 1)
        .field("online", true)
        .field("pid", static_cast<std::int64_t>(::getpid()))
        .field("ts", clock_.now_ms())
        .field("queue", static_cast<std::int64_t>(s.queue))
        .field("pending_rows", static_cast<std::int64_t>(s.pending_rows))
        .field("lag_ms", s.lag_ms)
        .field("tele_received", static_cast<std::int64_t>(s.tele_received))
        .field("tele_dropped", static_cast<std::int64_t>(s.tele_dropped))
        .field("rows_written", static_cast<std::int64_t>(s.rows_written))
        .field("batches", static_cast<std::int64_t>(s.batches))
        .field("events", static_cast<std::int64_t>(s.events))
        .field("malformed", static_cast<std::int64_t>(s.malformed))
        .field("out_of_order", static_cast<std::int64_t>(s.out_of_order))
        .field("unknown_device", static_cast<std::int64_t>(s.unknown_device))
        .field("foreign", static_cast<std::int64_t>(s.foreign))
        .field("reports", static_cast<std::int64_t>(s.reports))
        .field("reports_failed", static_cast<std::int64_t>(s.reports_failed))
        .end_object();
    return w.str();
}

void Worker::write_tick() {
    publish_status();
    const auto now = clock_.now_ms();
    for (auto* p : {&purge_telemetry_, &purge_core_}) {
        try {
            p->tick(now);
        } catch (const std::exception& ex) { // the next tick tries again
            log::error("retention purge: {}", ex.what());
        }
    }
}

void Worker::publish_status() {
    const auto s = stats();
    mqtt_.publish({topics::svc_status("recorderd"), status_json(), 1, true});
    if (s.tele_received != logged_received_ || s.rows_written != logged_rows_ || s.queue != 0)
        log::info("queue {} messages, {} rows pending, lag {} ms; {} telemetry received, {} reports published, {} "
                  "rows written in {} batches, {} dropped, {} malformed, {} out of order, {} events",
                  s.queue, s.pending_rows, s.lag_ms, s.tele_received, s.reports, s.rows_written, s.batches,
                  s.tele_dropped, s.malformed, s.out_of_order, s.events);
    logged_received_ = s.tele_received;
    logged_rows_ = s.rows_written;
}

} // namespace pilehub::recorderd
