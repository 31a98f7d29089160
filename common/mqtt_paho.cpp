// The one file that includes Paho. Everything else talks to mqtt::Client.
//
// Reconnects are ours, not Paho's automatic_reconnect, because every connect attempt needs a
// fresh Will (a device's Will carries the new `boot`), and Paho does not retry a failed first
// connect. One process-wide timer thread schedules the retries of every client, so a simulator
// with thousands of connections does not need a thread per connection.
#include "common/log.hpp"
#include "common/mqtt.hpp"

#include <mqtt/async_client.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>

namespace mqtt {
// Paho C++ 1.2.0 fills disconnect_options from the MQTT 3 C initializer (struct_version 0), and
// the C library reads the reason code only from struct_version >= 1: every DISCONNECT goes out as
// 0x00 "normal", which tells the broker to DISCARD the Will, so kill_connection() never produced
// one. Paho declares this class a friend of disconnect_options (for its own unit tests) and the
// library does not define it; defining it here is the one way to reach the field.
class disconnect_options_test {
public:
    static void send_reason_code(disconnect_options& o) { o.opts_.struct_version = 1; }
};
} // namespace mqtt

namespace pilehub::mqtt {

extern int tcp_nodelay_anchor; // common/tcp_nodelay.cpp: TCP_NODELAY on every connection

namespace {

class Core;

/// One thread that calls `attempt_connect` on clients whose back-off has expired.
class Reconnector {
public:
    static Reconnector& instance() {
        static Reconnector r;
        return r;
    }
    void schedule(std::weak_ptr<Core> c, std::chrono::milliseconds delay);

private:
    Reconnector() : thread_([this] { run(); }) {}
    ~Reconnector() {
        {
            std::lock_guard l(m_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    void run();

    std::mutex m_;
    std::condition_variable cv_;
    std::multimap<std::chrono::steady_clock::time_point, std::weak_ptr<Core>> due_;
    bool stop_ = false;
    std::thread thread_;
};

/// One thread that hands published messages to Paho, so that Client::publish() never blocks its
/// caller as mqtt.hpp promises. Paho's async_client::publish takes Paho's own mutex, which its receive
/// thread can hold while it runs our message callback; a caller publishing under a lock that callback
/// also takes (sessiond's worker lock, taken by its tick thread and by every message) then deadlocks:
/// the chaos suite's broker kill -9 loop (tests/chaos/chaos_broker_kill.cpp) caught sessiond that way.
/// Messages of one client keep their order (one FIFO, one thread).
class Sender {
public:
    static Sender& instance() {
        static Sender s;
        return s;
    }
    /// Queues `m` for `c`; false if `c` already has `limit` messages waiting.
    bool enqueue(const std::shared_ptr<Core>& c, Message m, std::size_t limit);
    /// Waits until every message queued for `c` has been handed to Paho, at most `timeout`.
    void drain(const Core* c, std::chrono::milliseconds timeout);

private:
    Sender() : thread_([this] { run(); }) {}
    ~Sender() {
        {
            std::lock_guard l(m_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    void run();
    std::mutex m_;
    std::condition_variable cv_;
    struct Item {
        const Core* key; ///< for waiting_, also once the client is gone
        std::weak_ptr<Core> core;
        Message message;
    };
    std::deque<Item> queue_;
    std::map<const Core*, std::size_t> waiting_; ///< queued or being sent, per client
    bool stop_ = false;
    std::thread thread_;
};

/// A Paho action listener that forwards to two lambdas.
class Listener : public ::mqtt::iaction_listener {
public:
    std::function<void(const ::mqtt::token&)> ok;
    std::function<void(const ::mqtt::token&)> fail;
    void on_success(const ::mqtt::token& t) override {
        if (ok)
            ok(t);
    }
    void on_failure(const ::mqtt::token& t) override {
        if (fail)
            fail(t);
    }
};

class Core : public std::enable_shared_from_this<Core> {
public:
    explicit Core(Options o)
        : opts_(std::move(o)),
          cli_(std::string(opts_.tls ? "ssl://" : "tcp://") + opts_.host + ":" + std::to_string(opts_.port),
               opts_.client_id, make_create_options(opts_)) {
        backoff_ = opts_.reconnect_min;
        connect_listener_.ok = [this](const ::mqtt::token&) { /* the connected handler does the work */ };
        connect_listener_.fail = [this](const ::mqtt::token& t) {
            connecting_ = false;
            log::warn("mqtt {}: connect to {}:{} failed (rc={} reason={}), retrying in {} ms", opts_.client_id,
                      opts_.host, opts_.port, t.get_return_code(), static_cast<int>(t.get_reason_code()),
                      backoff_.count());
            retry_later();
        };
        sub_listener_.ok = [this](const ::mqtt::token& t) { on_suback(t, true); };
        sub_listener_.fail = [this](const ::mqtt::token& t) { on_suback(t, false); };
        cli_.set_connected_handler([this](const std::string&) { on_connected(); });
        cli_.set_connection_lost_handler([this](const std::string& cause) { on_lost(cause); });
        cli_.set_message_callback([this](::mqtt::const_message_ptr m) { on_arrived(m); });
    }

    static ::mqtt::create_options make_create_options(const Options& o) {
        ::mqtt::create_options c(MQTTVERSION_5, o.max_buffered);
        c.set_send_while_disconnected(true, true);
        return c;
    }

    void subscribe(const std::string& filter, int qos) {
        {
            std::lock_guard l(m_);
            subs_.emplace_back(filter, qos);
        }
        if (connected_) {
            try {
                pending_subs_++;
                cli_.subscribe(filter, qos, nullptr, sub_listener_);
            } catch (const ::mqtt::exception& e) {
                pending_subs_--;
                log::warn("mqtt {}: subscribe {} failed: {}", opts_.client_id, filter, e.what());
            }
        }
    }

    void start() {
        stopped_ = false;
        if (!connecting_ && !connected_)
            attempt_connect();
    }

    void attempt_connect() {
        if (stopped_ || connected_ || connecting_.exchange(true))
            return;
        ::mqtt::connect_options co;
        co.set_mqtt_version(MQTTVERSION_5);
        co.set_clean_start(opts_.clean_session);
        if (!opts_.clean_session) {
            // MQTT 5: a persistent session needs an expiry; a week covers any outage we ride out.
            co.set_properties(::mqtt::properties{{::mqtt::property::SESSION_EXPIRY_INTERVAL, 7 * 24 * 3600}});
        }
        co.set_keep_alive_interval(std::chrono::seconds(opts_.keepalive_s));
        co.set_connect_timeout(std::chrono::seconds(10));
        co.set_max_inflight(opts_.max_inflight);
        if (!opts_.username.empty())
            co.set_user_name(opts_.username);
        if (!opts_.password.empty())
            co.set_password(opts_.password);
        if (opts_.tls) {
            ::mqtt::ssl_options ssl;
            ssl.set_trust_store(opts_.ca_file);
            ssl.set_enable_server_cert_auth(true);
            ssl.set_verify(true);
            co.set_ssl(ssl);
        }
        if (opts_.make_will) {
            if (auto w = opts_.make_will()) {
                ::mqtt::will_options wo(w->topic, w->payload, w->qos, w->retained);
                co.set_will(wo);
            }
        }
        try {
            cli_.connect(co, nullptr, connect_listener_);
        } catch (const ::mqtt::exception& e) {
            connecting_ = false;
            log::warn("mqtt {}: connect failed: {}", opts_.client_id, e.what());
            retry_later();
        }
    }

    void retry_later() {
        if (stopped_)
            return;
        auto delay = backoff_;
        backoff_ = std::min(opts_.reconnect_max, backoff_ * 2);
        // Jitter spreads the reconnects of a whole fleet after a broker restart.
        thread_local std::mt19937 rng{std::random_device{}()};
        delay += std::chrono::milliseconds(rng() % (delay.count() / 4 + 1));
        Reconnector::instance().schedule(weak_from_this(), delay);
    }

    void on_connected() {
        connecting_ = false;
        connected_ = true;
        backoff_ = opts_.reconnect_min;
        {
            std::lock_guard l(m_);
            stats_.connects++;
        }
        std::vector<std::pair<std::string, int>> subs;
        {
            std::lock_guard l(m_);
            subs = subs_;
        }
        if (subs.empty()) {
            mark_ready();
            return;
        }
        pending_subs_ = static_cast<int>(subs.size());
        for (const auto& [f, q] : subs) {
            try {
                cli_.subscribe(f, q, nullptr, sub_listener_);
            } catch (const ::mqtt::exception& e) {
                log::warn("mqtt {}: subscribe {} failed: {}", opts_.client_id, f, e.what());
                if (--pending_subs_ == 0)
                    mark_ready();
            }
        }
    }

    void on_suback(const ::mqtt::token& t, bool ok) {
        bool denied = !ok;
        if (ok) {
            try {
                const auto resp = t.get_subscribe_response();
                for (auto rc : resp.get_reason_codes())
                    if (static_cast<int>(rc) >= 0x80)
                        denied = true;
            } catch (const ::mqtt::exception&) {
                // not a subscribe token (cannot happen); treat as granted
            }
        }
        if (denied) {
            std::lock_guard l(m_);
            stats_.subscribe_denied++;
            log::warn("mqtt {}: a subscription was refused by the broker", opts_.client_id);
        }
        if (--pending_subs_ == 0)
            mark_ready();
    }

    void mark_ready() {
        {
            std::lock_guard l(m_);
            ready_ = true;
        }
        cv_.notify_all();
        if (on_connect_) {
            try {
                on_connect_();
            } catch (const std::exception& e) {
                log::error("mqtt {}: connect handler threw: {}", opts_.client_id, e.what());
            }
        }
    }

    void on_lost(const std::string& cause) {
        connected_ = false;
        connecting_ = false;
        {
            std::lock_guard l(m_);
            ready_ = false;
        }
        if (!stopped_)
            log::warn("mqtt {}: connection lost ({}), reconnecting", opts_.client_id,
                      cause.empty() ? "no cause given" : cause);
        if (on_lost_) {
            try {
                on_lost_(cause);
            } catch (const std::exception& e) {
                log::error("mqtt {}: lost handler threw: {}", opts_.client_id, e.what());
            }
        }
        retry_later();
    }

    void on_arrived(const ::mqtt::const_message_ptr& m) {
        Message msg{m->get_topic(), m->to_string(), m->get_qos(), m->is_retained(), m->is_duplicate()};
        {
            std::lock_guard l(m_);
            stats_.received++;
        }
        if (!handler_)
            return;
        // Paho C 1.3.12 sends the PUBACK of a QoS 1 message when this returns (verified, see
        // docs/architecture.md): what a throwing handler did not commit is acknowledged anyway.
        // Handlers that must not lose a message run under worker::Loop (common/worker_loop.hpp).
        try {
            handler_(msg);
        } catch (const std::exception& e) {
            std::lock_guard l(m_);
            stats_.handler_errors++;
            log::error("mqtt {}: handler for {} threw: {}", opts_.client_id, msg.topic, e.what());
        }
    }

    bool publish(const Message& m) {
        if (Sender::instance().enqueue(shared_from_this(), m, static_cast<std::size_t>(opts_.max_buffered)))
            return true;
        std::lock_guard l(m_);
        stats_.publish_failed++;
        log::warn("mqtt {}: publish to {} failed: {} messages are waiting to be sent", opts_.client_id, m.topic,
                  opts_.max_buffered);
        return false;
    }

    /// Hands `m` to Paho (the Sender's thread).
    void send_now(const Message& m) {
        try {
            auto msg = ::mqtt::make_message(m.topic, m.payload, m.qos, m.retained);
            cli_.publish(msg);
            std::lock_guard l(m_);
            stats_.published++;
        } catch (const ::mqtt::exception& e) {
            std::lock_guard l(m_);
            stats_.publish_failed++;
            log::warn("mqtt {}: publish to {} failed: {}", opts_.client_id, m.topic, e.what());
        }
    }

    bool wait_ready(std::chrono::milliseconds timeout) {
        std::unique_lock l(m_);
        return cv_.wait_for(l, timeout, [this] { return ready_; });
    }

    void stop(const std::optional<Message>& last) {
        Sender::instance().drain(this, std::chrono::seconds(2));
        stopped_ = true;
        if (!connected_) {
            disconnect_quietly();
            return;
        }
        try {
            if (last) {
                auto tok = cli_.publish(::mqtt::make_message(last->topic, last->payload, last->qos, last->retained));
                tok->wait_for(std::chrono::seconds(2));
            }
        } catch (const ::mqtt::exception& e) {
            log::warn("mqtt {}: final publish failed: {}", opts_.client_id, e.what());
        }
        disconnect_quietly();
    }

    void disconnect_quietly(::mqtt::ReasonCode rc = ::mqtt::ReasonCode::NORMAL_DISCONNECTION) {
        try {
            if (cli_.is_connected()) {
                auto dopts =
                    ::mqtt::disconnect_options_builder().timeout(std::chrono::seconds(2)).reason_code(rc).finalize();
                ::mqtt::disconnect_options_test::send_reason_code(dopts);
                cli_.disconnect(dopts)->wait_for(std::chrono::seconds(3));
            }
        } catch (const ::mqtt::exception& e) {
            log::debug("mqtt {}: disconnect: {}", opts_.client_id, e.what());
        }
        connected_ = false;
        connecting_ = false;
        std::lock_guard l(m_);
        ready_ = false;
    }

    void kill_connection() {
        // MQTT 5 reason 0x04 asks the broker to publish our Will, as if the network had failed.
        stopped_ = true;
        disconnect_quietly(::mqtt::ReasonCode::DISCONNECT_WITH_WILL_MESSAGE);
    }

    Options opts_;
    ::mqtt::async_client cli_;
    Listener connect_listener_;
    Listener sub_listener_;
    std::atomic<bool> stopped_{true};
    std::atomic<bool> connected_{false};
    std::atomic<bool> connecting_{false};
    std::atomic<int> pending_subs_{0};
    std::chrono::milliseconds backoff_;
    MessageHandler handler_;
    ConnectHandler on_connect_;
    LostHandler on_lost_;
    mutable std::mutex m_;
    std::condition_variable cv_;
    bool ready_ = false;
    std::vector<std::pair<std::string, int>> subs_;
    Stats stats_;
};

void Reconnector::schedule(std::weak_ptr<Core> c, std::chrono::milliseconds delay) {
    {
        std::lock_guard l(m_);
        due_.emplace(std::chrono::steady_clock::now() + delay, std::move(c));
    }
    cv_.notify_all();
}

void Reconnector::run() {
    std::unique_lock l(m_);
    while (!stop_) {
        if (due_.empty()) {
            cv_.wait(l);
            continue;
        }
        auto first = due_.begin();
        if (first->first > std::chrono::steady_clock::now()) {
            cv_.wait_until(l, first->first);
            continue;
        }
        auto weak = first->second;
        due_.erase(first);
        l.unlock();
        if (auto core = weak.lock())
            core->attempt_connect();
        l.lock();
    }
}

bool Sender::enqueue(const std::shared_ptr<Core>& c, Message m, std::size_t limit) {
    {
        std::lock_guard l(m_);
        auto& n = waiting_[c.get()];
        if (n >= limit)
            return false;
        ++n;
        queue_.push_back(Item{c.get(), c, std::move(m)});
    }
    cv_.notify_all();
    return true;
}

void Sender::drain(const Core* c, std::chrono::milliseconds timeout) {
    std::unique_lock l(m_);
    cv_.wait_for(l, timeout, [&] { return !waiting_.count(c); });
}

void Sender::run() {
    std::unique_lock l(m_);
    for (;;) {
        cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
        if (queue_.empty())
            return;
        auto item = std::move(queue_.front());
        queue_.pop_front();
        l.unlock();
        if (const auto core = item.core.lock())
            core->send_now(item.message);
        l.lock();
        if (auto it = waiting_.find(item.key); it != waiting_.end() && --it->second == 0)
            waiting_.erase(it);
        cv_.notify_all();
    }
}

class PahoClient final : public Client {
public:
    explicit PahoClient(const Options& o) : core_(std::make_shared<Core>(o)) {}
    ~PahoClient() override { core_->stop(std::nullopt); }
    void subscribe(const std::string& filter, int qos) override { core_->subscribe(filter, qos); }
    void on_message(MessageHandler h) override { core_->handler_ = std::move(h); }
    void on_connect(ConnectHandler h) override { core_->on_connect_ = std::move(h); }
    void on_lost(LostHandler h) override { core_->on_lost_ = std::move(h); }
    void start() override { core_->start(); }
    bool wait_ready(std::chrono::milliseconds t) override { return core_->wait_ready(t); }
    bool publish(const Message& m) override { return core_->publish(m); }
    void stop(const std::optional<Message>& last) override { core_->stop(last); }
    void kill_connection() override { core_->kill_connection(); }
    bool connected() const override { return core_->connected_; }
    Stats stats() const override {
        std::lock_guard l(core_->m_);
        return core_->stats_;
    }
    const std::string& client_id() const override { return core_->opts_.client_id; }

private:
    std::shared_ptr<Core> core_;
};

} // namespace

std::unique_ptr<Client> make_client(const Options& options) {
    tcp_nodelay_anchor = 1;
    return std::make_unique<PahoClient>(options);
}

} // namespace pilehub::mqtt
