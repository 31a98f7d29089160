#include "workers/recorderd/recorderd_worker.hpp"

#include "common/json.hpp"
#include "common/log.hpp"
#include "common/payloads.hpp"
#include "common/topics.hpp"

#include <unistd.h>

#include <algorithm>

namespace pilehub::recorderd {
namespace {

constexpr EpochMs kWarnWindowMs = 10'000;
constexpr int kWarnsPerWindow = 5;

db::Database::Options db_options(int busy_timeout_ms) {
    db::Database::Options o;
    o.busy_timeout_ms = busy_timeout_ms;
    return o;
}

} // namespace

Worker::Worker(mqtt::Client &mqtt, mqtt::Router &router, const std::string &core_path,
               const std::string &telemetry_path, int busy_timeout_ms, const Clock &clock, Options opts)
    : mqtt_(mqtt), clock_(clock), opts_(opts), directory_(core_path, busy_timeout_ms, opts.unknown_retry_ms),
      event_tele_db_(telemetry_path, db_options(busy_timeout_ms)),
      event_core_db_(core_path, db_options(busy_timeout_ms)), events_(event_tele_db_), faults_(event_core_db_),
      tele_rules_(clock), write_db_(telemetry_path, db_options(busy_timeout_ms)), writer_(write_db_) {
    router.add(mqtt, topics::any_device::tele(), 0, [this](const mqtt::Message &m) { on_tele(m); });
    router.add(mqtt, topics::any_device::evt(), 1, [this](const mqtt::Message &m) { on_event(m); });
}

Worker::~Worker() {
    stop();
}

void Worker::start() {
    next_status_ = clock_.now_ms();
    decode_thread_ = std::thread([this] { decode_loop(); });
    write_thread_ = std::thread([this] { write_loop(); });
}

void Worker::stop() {
    {
        std::lock_guard l(in_m_);
        stopping_ = true;
    }
    in_cv_.notify_all();
    out_cv_.notify_all();
    if (decode_thread_.joinable())
        decode_thread_.join();
    if (write_thread_.joinable())
        write_thread_.join();
}

bool Worker::warn_allowed(const std::string &dev, std::string_view what) {
    const auto now = clock_.now_ms();
    std::lock_guard l(warn_m_);
    auto &[start, count] = warned_[dev + "/" + std::string(what)];
    if (now - start >= kWarnWindowMs) {
        start = now;
        count = 0;
    }
    return ++count <= kWarnsPerWindow;
}

// --- callback thread ---------------------------------------------------------------------------

void Worker::on_tele(const mqtt::Message &m) {
    tele_received_++;
    {
        std::lock_guard l(in_m_);
        if (inbox_.size() < opts_.max_queue) {
            inbox_.push_back(Raw{m.topic, m.payload, clock_.now_ms()});
            if (inbox_.size() == 1)
                in_cv_.notify_one();
            return;
        }
    }
    const auto dropped = ++tele_dropped_;
    if (warn_allowed("", "queue-full"))
        log::warn("telemetry queue full ({} messages): dropping; {} dropped so far", opts_.max_queue, dropped);
}

void Worker::on_event(const mqtt::Message &m) {
    try {
        handle_event(m);
    } catch (const std::exception &e) {
        write_errors_++;
        log::error("event on {} not recorded: {}", m.topic, e.what());
    }
}

void Worker::handle_event(const mqtt::Message &m) {
    auto t = topics::parse_device_topic(m.topic);
    if (!t) {
        log::warn("ignored a message on {}: not a device topic of CONTRACT A", m.topic);
        return;
    }
    const auto &dev = t->device_id;
    const log::Ctx ctx{dev, {}};
    const auto now = clock_.now_ms();
    const auto kind = directory_.kind(dev, now);
    if (!kind) {
        unknown_++;
        if (warn_allowed(dev, "unknown"))
            log::warn(ctx, "unknown device (not registered): event {} ignored", t->name);
        return;
    }
    auto env = payloads::peek_envelope(m.payload);
    if (!env || !env->id) {
        malformed_++;
        if (warn_allowed(dev, "malformed"))
            log::warn(ctx, "malformed event {} ignored: {}", t->name,
                      env ? std::string("id is required") : env.error());
        return;
    }
    const auto pk = payloads::parse_enum<payloads::DeviceKind>(*kind);
    const auto schema = pk ? payloads::schema_for(*pk, *t) : std::nullopt;
    if (schema) {
        if (const auto *codec = payloads::find_codec(*schema)) {
            if (auto ok = codec->recode(m.payload); !ok) {
                malformed_++;
                if (warn_allowed(dev, "malformed"))
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
    if (*kind == "ebike_pile") {
        auto f = payloads::decode<payloads::EbikeFault>(m.payload);
        if (!f)
            return; // validated above
        changes = faults_.record(dev, *env->id, f->data.n, at, [&](const std::vector<std::string> &open) {
            auto v = fault_rules_.on_ebike(dev, *f, open);
            notes = std::move(v.notes);
            return v.changes;
        });
    } else if (*kind == "ev_charger") {
        auto f = payloads::decode<payloads::EvFaultEvent>(m.payload);
        if (!f)
            return;
        changes = faults_.record(dev, *env->id, f->data.n, at, [&](const std::vector<std::string> &open) {
            auto v = fault_rules_.on_ev(dev, *f, open);
            notes = std::move(v.notes);
            return v.changes;
        });
    }
    if (!changes) {
        log::info(ctx, "fault event id={} already processed: nothing changed", *env->id);
        return;
    }
    for (const auto &n : notes)
        log::info(ctx, "{} (id={})", n, *env->id);
    for (const auto &c : *changes)
        log::info(ctx, "fault {} on {} {} (id={})", c.code, c.n,
                  c.kind == FaultChange::Kind::Open ? "opened" : "cleared", *env->id);
}

// --- decode thread -----------------------------------------------------------------------------

void Worker::decode_loop() {
    std::deque<Raw> local;
    EpochMs batch_started = 0;
    for (;;) {
        bool stop = false;
        {
            std::unique_lock l(in_m_);
            in_cv_.wait_for(l, opts_.batch_time / 5, [&] { return stopping_ || !inbox_.empty(); });
            local.swap(inbox_);
            stop = stopping_;
        }
        for (const auto &r : local) {
            try {
                decode_one(r);
            } catch (const std::exception &e) {
                log::error("telemetry on {} not decoded: {}", r.topic, e.what());
            }
            if (batch_started == 0 && !batch_.empty())
                batch_started = clock_.now_ms();
            if (batch_.rows() >= opts_.batch_rows) {
                hand_off(false);
                batch_started = 0;
            }
        }
        local.clear();
        if (stop) {
            {
                std::lock_guard l(in_m_);
                if (!inbox_.empty())
                    continue; // drain what arrived meanwhile
            }
            hand_off(true);
            return;
        }
        if (batch_started != 0 && clock_.now_ms() - batch_started >= opts_.batch_time.count()) {
            hand_off(false);
            batch_started = 0;
        }
    }
}

void Worker::decode_one(const Raw &r) {
    auto t = topics::parse_device_topic(r.topic);
    if (!t)
        return;
    const auto &dev = t->device_id;
    const log::Ctx ctx{dev, {}};
    const auto kind = directory_.kind(dev, r.received);
    if (!kind) {
        unknown_++;
        if (warn_allowed(dev, "unknown"))
            log::warn(ctx, "unknown device (not registered): telemetry ignored");
        return;
    }
    TeleRows rows;
    if (*kind == "ebike_pile") {
        auto m = payloads::decode<payloads::EbikeTele>(r.payload);
        if (!m) {
            malformed_++;
            if (warn_allowed(dev, "malformed"))
                log::warn(ctx, "malformed telemetry ignored: {}", m.error());
            return;
        }
        rows = tele_rules_.on_ebike(dev, *m);
    } else if (*kind == "ev_charger") {
        auto m = payloads::decode<payloads::EvTele>(r.payload);
        if (!m) {
            malformed_++;
            if (warn_allowed(dev, "malformed"))
                log::warn(ctx, "malformed telemetry ignored: {}", m.error());
            return;
        }
        rows = tele_rules_.on_ev(dev, *m);
    } else {
        malformed_++;
        if (warn_allowed(dev, "malformed"))
            log::warn(ctx, "telemetry from a {} is not in the contract: ignored", *kind);
        return;
    }
    if (rows.order != Order::Fresh) {
        out_of_order_++;
        if (warn_allowed(dev, "order"))
            log::warn(ctx, "{}", rows.why);
        return;
    }
    if (batch_.oldest_received == 0) {
        batch_.oldest_received = r.received;
        batch_oldest_ = r.received;
    }
    batch_.messages++;
    for (auto &s : rows.sessions)
        batch_.sessions.push_back(std::move(s));
    if (rows.device)
        batch_.devices.push_back(std::move(*rows.device));
}

void Worker::hand_off(bool final) {
    std::unique_lock l(out_m_);
    if (!batch_.empty()) {
        // Back-pressure: the queue of raw telemetry grows (and is reported) while the writer catches up.
        out_cv_.wait(l, [&] { return pending_.size() < opts_.max_pending_batches || final; });
        pending_rows_ += batch_.rows();
        pending_.push_back(std::move(batch_));
        batch_ = Batch{};
        batch_oldest_ = 0;
    }
    if (final)
        decode_done_ = true;
    l.unlock();
    out_cv_.notify_all();
}

// --- write thread ------------------------------------------------------------------------------

void Worker::write_loop() {
    for (;;) {
        std::optional<Batch> b;
        bool done = false;
        {
            std::unique_lock l(out_m_);
            out_cv_.wait_for(l, opts_.status_every, [&] { return decode_done_ || !pending_.empty(); });
            if (!pending_.empty()) {
                b = std::move(pending_.front());
                pending_.pop_front();
            }
            done = decode_done_ && pending_.empty() && !b;
        }
        out_cv_.notify_all(); // room for the decoder
        if (b) {
            try {
                const auto inserted = writer_.write(*b);
                rows_written_ += inserted;
                rows_ignored_ += b->rows() - inserted;
                batches_++;
            } catch (const std::exception &e) {
                write_errors_++;
                log::error("a batch of {} rows was not written: {}", b->rows(), e.what());
            }
            std::lock_guard l(out_m_);
            pending_rows_ -= b->rows();
        }
        if (clock_.now_ms() >= next_status_ || done) {
            next_status_ = clock_.now_ms() + opts_.status_every.count();
            publish_status();
        }
        if (done)
            return;
    }
}

Stats Worker::stats() const {
    Stats s;
    s.tele_received = tele_received_;
    s.tele_dropped = tele_dropped_;
    s.malformed = malformed_;
    s.unknown_device = unknown_;
    s.out_of_order = out_of_order_;
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
    {
        std::lock_guard l(in_m_);
        s.queue = inbox_.size();
        if (!inbox_.empty())
            older(inbox_.front().received);
    }
    older(batch_oldest_);
    {
        std::lock_guard l(out_m_);
        s.pending_rows = pending_rows_;
        if (!pending_.empty())
            older(pending_.front().oldest_received);
    }
    s.lag_ms = oldest == 0 ? 0 : std::max<EpochMs>(0, clock_.now_ms() - oldest);
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
        .end_object();
    return w.str();
}

void Worker::publish_status() {
    const auto s = stats();
    mqtt_.publish({topics::svc_status("recorderd"), status_json(), 1, true});
    if (s.tele_received != logged_received_ || s.rows_written != logged_rows_ || s.queue != 0)
        log::info("queue {} messages, {} rows pending, lag {} ms; {} telemetry received, {} rows written in {} "
                  "batches, {} dropped, {} malformed, {} out of order, {} events",
                  s.queue, s.pending_rows, s.lag_ms, s.tele_received, s.rows_written, s.batches, s.tele_dropped,
                  s.malformed, s.out_of_order, s.events);
    logged_received_ = s.tele_received;
    logged_rows_ = s.rows_written;
}

} // namespace pilehub::recorderd
