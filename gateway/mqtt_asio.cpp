#include "gateway/mqtt_asio.hpp"

#include "common/log.hpp"
#include "common/mqtt_frames.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace pilehub::ocpp {

namespace {

namespace net = boost::asio;
namespace frames = mqtt_frames;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

/// Larger inbound packets are not MQTT we expect from our own broker: the connection is closed.
constexpr std::size_t kMaxPacket = 1024 * 1024;
/// How long stop() waits for the broker to acknowledge what is in flight (`last` included).
constexpr auto kStopWait = std::chrono::seconds(2);

enum class Phase {
    Idle,       // start() not called yet
    Waiting,    // no socket: the back-off timer runs
    Connecting, // TCP connect, then CONNECT sent and CONNACK awaited
    Subscribing,
    Ready,
    Closed, // stopped for good
};

/// One client's whole state. The pending asynchronous operations hold it (shared_from_this), so it
/// outlives the AsioClient that made it until the connection is closed. All socket and timer calls
/// run on the io thread; the state is under `m_` because the public calls may come from any thread.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(net::io_context& ioc, mqtt::Options options)
        : ioc_(ioc), opt_(std::move(options)), socket_(ioc), retry_timer_(ioc), keepalive_timer_(ioc), stop_timer_(ioc),
          backoff_(opt_.reconnect_min), rng_(std::random_device{}()) {}

    // ---- any thread ----

    void subscribe(const std::string& filter, int qos) {
        {
            std::lock_guard lock(m_);
            subs_.emplace_back(filter, qos);
            if (phase_ != Phase::Subscribing && phase_ != Phase::Ready)
                return;
            send_subscribe(filter, qos);
        }
        kick();
    }

    void set_handlers(mqtt::MessageHandler* msg, mqtt::ConnectHandler* con, mqtt::LostHandler* lost) {
        std::lock_guard lock(m_);
        if (msg)
            on_message_ = std::move(*msg);
        if (con)
            on_connect_ = std::move(*con);
        if (lost)
            on_lost_ = std::move(*lost);
    }

    void start() {
        {
            std::lock_guard lock(m_);
            if (phase_ != Phase::Idle || stopping_)
                return;
            phase_ = Phase::Waiting;
        }
        net::dispatch(ioc_, [self = shared_from_this()] { self->connect(); });
    }

    bool wait_ready(std::chrono::milliseconds timeout) {
        std::unique_lock lock(m_);
        if (ioc_.get_executor().running_in_this_thread())
            return ready_; // waiting here would wait for ourselves
        return ready_cv_.wait_for(lock, timeout, [this] { return ready_; });
    }

    bool publish(const mqtt::Message& m) {
        {
            std::lock_guard lock(m_);
            if (stopping_) {
                ++stats_.publish_failed;
                return false;
            }
            const bool direct = phase_ == Phase::Ready && queued_.empty() && (m.qos == 0 || room_in_flight());
            if (!direct) {
                if (queued_.size() >= static_cast<std::size_t>(std::max(opt_.max_buffered, 0))) {
                    ++stats_.publish_failed;
                    return false;
                }
                queued_.push_back(m);
                return true;
            }
            encode(m);
            if (writing_)
                return true; // the write under way sends it when it completes
        }
        kick();
        return true;
    }

    void stop(const std::optional<mqtt::Message>& last) {
        {
            std::lock_guard lock(m_);
            if (stopping_)
                return;
            stopping_ = true;
            on_connect_ = nullptr;
            if (last) {
                auto m = *last;
                m.qos = 1;
                queued_.push_back(std::move(m));
            }
        }
        net::dispatch(ioc_, [self = shared_from_this()] { self->begin_stop(); });
    }

    /// The owner is gone: no handler runs any more (so inbound QoS 1 is not acknowledged and the
    /// persistent session keeps it); a client not stopped is stopped.
    void abandon() {
        {
            std::lock_guard lock(m_);
            on_message_ = nullptr;
            on_connect_ = nullptr;
            on_lost_ = nullptr;
        }
        stop(std::nullopt);
    }

    void kill_connection() {
        net::dispatch(ioc_, [self = shared_from_this()] {
            std::unique_lock lock(self->m_);
            if (self->socket_.is_open())
                self->drop(lock, "connection killed (no DISCONNECT)");
        });
    }

    bool connected() const {
        std::lock_guard lock(m_);
        return phase_ == Phase::Subscribing || phase_ == Phase::Ready;
    }

    mqtt::Stats stats() const {
        std::lock_guard lock(m_);
        return stats_;
    }

    const std::string& client_id() const { return opt_.client_id; }

private:
    // ---- io thread only from here on ----

    log::Ctx ctx() const { return log::Ctx{opt_.client_id, {}}; }

    void connect() {
        // The Will is built before every attempt (outside the lock: it is the owner's code).
        const auto will = opt_.make_will ? opt_.make_will() : std::nullopt;
        std::unique_lock lock(m_);
        if (stopping_ || phase_ != Phase::Waiting)
            return;
        frames::Connect c;
        c.client_id = opt_.client_id;
        c.username = opt_.username;
        c.password = opt_.password;
        c.keepalive_s = static_cast<std::uint16_t>(std::clamp(opt_.keepalive_s, 0, 0xffff));
        c.clean_session = opt_.clean_session;
        if (will)
            c.will = frames::Will{will->topic, will->payload, will->qos, will->retained};
        connect_packet_ = frames::connect(c);

        boost::system::error_code ec;
        const auto address = net::ip::make_address(opt_.host, ec);
        tcp::endpoint endpoint;
        if (!ec) {
            endpoint = tcp::endpoint(address, static_cast<unsigned short>(opt_.port));
        } else {
            // A host name: resolved here, synchronously (the gateway's broker is an address or
            // localhost; Asio's asynchronous resolver would start a thread).
            tcp::resolver resolver(ioc_);
            const auto results = resolver.resolve(opt_.host, std::to_string(opt_.port), ec);
            if (ec || results.empty())
                return retry_later(lock, fmt::format("cannot resolve {}: {}", opt_.host, ec.message()));
            endpoint = results.begin()->endpoint();
        }
        phase_ = Phase::Connecting;
        const auto gen = ++gen_;
        socket_ = tcp::socket(ioc_);
        socket_.async_connect(endpoint, [self = shared_from_this(), gen](const boost::system::error_code& e) {
            self->on_tcp_connected(gen, e);
        });
        // The TCP connect, like the CONNACK after it, is due within a keep-alive.
        last_write_ = SteadyClock::now();
        ping_sent_ = last_write_;
        arm_keepalive();
    }

    void on_tcp_connected(std::uint64_t gen, const boost::system::error_code& ec) {
        std::unique_lock lock(m_);
        if (gen != gen_)
            return;
        if (ec)
            return drop(lock, "connect: " + ec.message());
        boost::system::error_code ignored;
        socket_.set_option(tcp::no_delay(true), ignored);
        rx_.clear();
        out_ = connect_packet_;
        ping_sent_ = SteadyClock::now(); // the CONNACK is due within a keep-alive like a PINGRESP
        flush(lock);
        read();
        arm_keepalive();
    }

    void read() {
        socket_.async_read_some(net::buffer(rbuf_),
                                [self = shared_from_this(), gen = gen_](const boost::system::error_code& ec,
                                                                        std::size_t n) { self->on_read(gen, ec, n); });
    }

    void on_read(std::uint64_t gen, const boost::system::error_code& ec, std::size_t n) {
        {
            std::unique_lock lock(m_);
            if (gen != gen_)
                return;
            if (ec)
                return drop(lock, ec == net::error::eof ? "closed by the broker" : "read: " + ec.message());
            rx_.append(rbuf_.data(), n);
            ping_sent_.reset(); // anything read answers the keep-alive
        }
        std::size_t at = 0;
        for (;;) {
            const std::string_view rest = std::string_view(rx_).substr(at);
            std::optional<frames::Header> h;
            try {
                h = frames::read_header(rest);
            } catch (const std::runtime_error&) {
                return malformed(gen, "a remaining length longer than four bytes");
            }
            if (!h)
                break;
            if (h->remaining > kMaxPacket)
                return malformed(gen, fmt::format("a packet of {} bytes (at most {})", h->remaining, kMaxPacket));
            if (rest.size() < h->size + h->remaining)
                break;
            const auto body = std::string(rest.substr(h->size, h->remaining));
            at += h->size + h->remaining;
            if (auto problem = handle_packet(h->type_and_flags, body))
                return malformed(gen, *problem);
            std::lock_guard lock(m_);
            if (gen != gen_)
                return; // a handler killed or stopped the connection
        }
        std::lock_guard lock(m_);
        if (gen != gen_)
            return;
        rx_.erase(0, at);
        read();
    }

    void malformed(std::uint64_t gen, const std::string& what) {
        std::unique_lock lock(m_);
        if (gen == gen_)
            drop(lock, "malformed packet from the broker: " + what);
    }

    /// One whole inbound packet; nullopt or what is wrong with it.
    std::optional<std::string> handle_packet(std::uint8_t first, const std::string& body) {
        const std::uint8_t type = first & 0xf0;
        const std::uint8_t flags = first & 0x0f;
        switch (type) {
        case frames::kConnack:
            return on_connack(body);
        case frames::kSuback:
            return on_suback(body);
        case frames::kPublish:
            return on_publish(flags, body);
        case frames::kPuback:
            return on_puback(body);
        case frames::kPingresp:
        case frames::kUnsuback:
            return std::nullopt;
        default:
            return fmt::format("unexpected packet type {:#04x}", static_cast<int>(first));
        }
    }

    std::optional<std::string> on_connack(const std::string& body) {
        std::unique_lock lock(m_);
        if (body.size() != 2)
            return "CONNACK of the wrong size";
        if (phase_ != Phase::Connecting)
            return "a second CONNACK";
        const int code = static_cast<std::uint8_t>(body[1]);
        if (code != 0) {
            drop(lock, fmt::format("the broker refused the connection (CONNACK {})", code));
            return std::nullopt;
        }
        backoff_ = opt_.reconnect_min;
        ++stats_.connects;
        phase_ = Phase::Subscribing;
        // QoS 1 the broker has not acknowledged goes again first, with DUP, in its order.
        for (auto& [seq, u] : unacked_) {
            frames::set_dup(u.packet);
            out_ += u.packet;
        }
        for (const auto& [filter, qos] : subs_)
            send_subscribe(filter, qos);
        flush(lock);
        if (pending_subacks_.empty())
            become_ready(lock);
        return std::nullopt;
    }

    std::optional<std::string> on_suback(const std::string& body) {
        std::unique_lock lock(m_);
        if (body.size() < 3)
            return "SUBACK too short";
        const auto id = frames::read_u16(body, 0);
        for (std::size_t i = 2; i < body.size(); ++i) {
            if (static_cast<std::uint8_t>(body[i]) == 0x80) {
                ++stats_.subscribe_denied;
                log::warn(ctx(), "MQTT: a subscription was refused (SUBACK 0x80)");
            }
        }
        pending_subacks_.erase(id);
        if (pending_subacks_.empty() && phase_ == Phase::Subscribing)
            become_ready(lock);
        return std::nullopt;
    }

    std::optional<std::string> on_publish(std::uint8_t flags, const std::string& body) {
        mqtt::Message m;
        m.qos = (flags >> 1) & 3;
        m.retained = flags & 0x01;
        m.duplicate = flags & 0x08;
        if (m.qos == 3 || m.qos == 2)
            return fmt::format("PUBLISH with QoS {} (we subscribe QoS 0 and 1 only)", m.qos);
        if (body.size() < 2)
            return "PUBLISH too short";
        const std::size_t topic_len = frames::read_u16(body, 0);
        const std::size_t header = 2 + topic_len + (m.qos > 0 ? 2 : 0);
        if (body.size() < header || topic_len == 0)
            return "PUBLISH with a truncated topic or packet id";
        m.topic = body.substr(2, topic_len);
        const std::uint16_t id = m.qos > 0 ? frames::read_u16(body, 2 + topic_len) : 0;
        m.payload = body.substr(header);

        mqtt::MessageHandler handler;
        {
            std::lock_guard lock(m_);
            ++stats_.received;
            handler = on_message_;
        }
        if (!handler)
            return std::nullopt; // the owner is gone: not acknowledged, the session keeps it
        try {
            handler(m);
        } catch (const std::exception& e) {
            log::error(ctx(), "MQTT: the handler of {} threw: {}", m.topic, e.what());
            std::lock_guard lock(m_);
            ++stats_.handler_errors;
        } catch (...) {
            log::error(ctx(), "MQTT: the handler of {} threw", m.topic);
            std::lock_guard lock(m_);
            ++stats_.handler_errors;
        }
        if (m.qos == 1) {
            std::unique_lock lock(m_);
            if (socket_.is_open() && !disconnecting_) {
                out_ += frames::puback(id);
                flush(lock);
            }
        }
        return std::nullopt;
    }

    std::optional<std::string> on_puback(const std::string& body) {
        std::unique_lock lock(m_);
        if (body.size() != 2)
            return "PUBACK of the wrong size";
        const auto it = by_id_.find(frames::read_u16(body, 0));
        if (it == by_id_.end())
            return std::nullopt; // already acknowledged (a duplicate PUBACK)
        unacked_.erase(it->second);
        by_id_.erase(it);
        ++stats_.published;
        send_queued();
        flush(lock);
        maybe_finish_stop(lock);
        return std::nullopt;
    }

    /// Subscriptions acknowledged: queued messages go out in order, then the owner hears of it.
    void become_ready(std::unique_lock<std::mutex>& lock) {
        phase_ = Phase::Ready;
        send_queued();
        flush(lock);
        const auto handler = stopping_ ? mqtt::ConnectHandler{} : on_connect_;
        if (handler) {
            lock.unlock();
            try {
                handler();
            } catch (const std::exception& e) {
                log::error(ctx(), "MQTT: the connect handler threw: {}", e.what());
            }
            lock.lock();
        }
        // Ready for wait_ready() once the owner has heard of the connection too.
        if (phase_ == Phase::Ready) {
            ready_ = true;
            ready_cv_.notify_all();
        }
        maybe_finish_stop(lock);
    }

    // ---- under the lock (except kick) ----

    bool room_in_flight() const { return unacked_.size() < static_cast<std::size_t>(std::max(opt_.max_inflight, 1)); }

    std::uint16_t next_packet_id() {
        do {
            next_id_ = static_cast<std::uint16_t>(next_id_ == 0xffff ? 1 : next_id_ + 1);
        } while (by_id_.count(next_id_) || pending_subacks_.count(next_id_));
        return next_id_;
    }

    void send_subscribe(const std::string& filter, int qos) {
        const auto id = next_packet_id();
        pending_subacks_.insert(id);
        out_ += frames::subscribe(id, filter, std::clamp(qos, 0, 1));
    }

    /// Puts one message on the wire (out_); QoS 1 is kept until its PUBACK.
    void encode(const mqtt::Message& m) {
        const int qos = m.qos > 0 ? 1 : 0;
        if (qos == 0) {
            frames::append_publish(out_, m.topic, m.payload, 0, m.retained, false, 0);
            ++stats_.published;
            return;
        }
        const auto id = next_packet_id();
        Unacked u{id, {}};
        frames::append_publish(u.packet, m.topic, m.payload, 1, m.retained, false, id);
        out_ += u.packet;
        const auto seq = next_seq_++;
        unacked_.emplace(seq, std::move(u));
        by_id_.emplace(id, seq);
    }

    void send_queued() {
        while (phase_ == Phase::Ready && !queued_.empty() && (queued_.front().qos == 0 || room_in_flight())) {
            encode(queued_.front());
            queued_.pop_front();
        }
    }

    /// Makes the io thread write what out_ holds (called without the lock: on the io thread the
    /// dispatch runs at once).
    void kick() {
        net::dispatch(ioc_, [self = shared_from_this()] {
            std::unique_lock lock(self->m_);
            self->flush(lock);
        });
    }

    // ---- io thread, under the lock ----

    void flush(std::unique_lock<std::mutex>&) {
        if (writing_ || out_.empty() || !socket_.is_open())
            return;
        wbuf_.swap(out_);
        out_.clear();
        writing_ = true;
        last_write_ = SteadyClock::now();
        net::async_write(socket_, net::buffer(wbuf_),
                         [self = shared_from_this(), gen = gen_](const boost::system::error_code& ec, std::size_t) {
                             std::unique_lock lock(self->m_);
                             if (gen != self->gen_)
                                 return;
                             self->writing_ = false;
                             self->wbuf_.clear();
                             if (ec)
                                 return self->drop(lock, "write: " + ec.message());
                             if (self->disconnecting_ && self->out_.empty())
                                 return self->close_for_good();
                             self->flush(lock);
                         });
    }

    void arm_keepalive() {
        if (opt_.keepalive_s <= 0)
            return;
        const auto ka = std::chrono::seconds(opt_.keepalive_s);
        auto due = last_write_ + ka;
        if (ping_sent_)
            due = std::min(due, *ping_sent_ + ka);
        keepalive_timer_.expires_at(due);
        keepalive_timer_.async_wait([self = shared_from_this(), gen = gen_](const boost::system::error_code& ec) {
            if (!ec)
                self->on_keepalive(gen);
        });
    }

    void on_keepalive(std::uint64_t gen) {
        std::unique_lock lock(m_);
        if (gen != gen_)
            return;
        const auto now = SteadyClock::now();
        const auto ka = std::chrono::seconds(opt_.keepalive_s);
        if (ping_sent_ && now - *ping_sent_ >= ka)
            return drop(lock, fmt::format("no answer from the broker within the keep-alive ({} s)", opt_.keepalive_s));
        if (now - last_write_ >= ka) {
            out_ += frames::pingreq();
            if (!ping_sent_)
                ping_sent_ = now;
            flush(lock);
            last_write_ = now; // also when a write is still under way: the ping is queued behind it
        }
        arm_keepalive();
    }

    /// The connection is gone (or must go): close it, and reconnect after the back-off unless stopping.
    void drop(std::unique_lock<std::mutex>& lock, const std::string& why) {
        const bool was_connected = phase_ == Phase::Subscribing || phase_ == Phase::Ready;
        close_socket();
        if (stopping_) {
            phase_ = Phase::Closed;
            stop_timer_.cancel();
            return;
        }
        const auto lost = was_connected ? on_lost_ : mqtt::LostHandler{};
        retry_later(lock, why);
        if (lost) {
            lock.unlock();
            try {
                lost(why);
            } catch (const std::exception& e) {
                log::error(ctx(), "MQTT: the lost handler threw: {}", e.what());
            }
            lock.lock();
        }
    }

    void retry_later(std::unique_lock<std::mutex>&, const std::string& why) {
        phase_ = Phase::Waiting;
        auto delay = backoff_;
        const auto jitter = delay.count() / 4;
        if (jitter > 0)
            delay -= std::chrono::milliseconds(std::uniform_int_distribution<long long>(0, jitter)(rng_));
        backoff_ = std::min(backoff_ * 2, std::max(opt_.reconnect_max, opt_.reconnect_min));
        log::warn(ctx(), "MQTT: {}; reconnecting in {} ms", why, delay.count());
        retry_timer_.expires_after(delay);
        retry_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec)
                self->connect();
        });
    }

    /// Closes the socket; every completion of this connection is ignored from now on.
    void close_socket() {
        ++gen_;
        boost::system::error_code ignored;
        socket_.close(ignored);
        keepalive_timer_.cancel();
        writing_ = false;
        disconnecting_ = false;
        out_.clear();
        wbuf_.clear();
        rx_.clear();
        pending_subacks_.clear();
        ping_sent_.reset();
        ready_ = false;
        if (phase_ != Phase::Closed)
            phase_ = Phase::Waiting;
    }

    void close_for_good() {
        close_socket();
        phase_ = Phase::Closed;
        retry_timer_.cancel();
        stop_timer_.cancel();
        queued_.clear();
    }

    void begin_stop() {
        std::unique_lock lock(m_);
        retry_timer_.cancel();
        if (phase_ == Phase::Closed)
            return;
        if (phase_ == Phase::Idle || phase_ == Phase::Waiting) {
            if (!queued_.empty())
                log::warn(ctx(), "MQTT: stopped while disconnected; {} queued message(s) not sent", queued_.size());
            return close_for_good();
        }
        stop_timer_.expires_after(kStopWait);
        stop_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec)
                return;
            std::unique_lock l(self->m_);
            if (self->phase_ == Phase::Closed)
                return;
            log::warn(self->ctx(), "MQTT: stopping without the broker's acknowledgement of {} message(s)",
                      self->unacked_.size() + self->queued_.size());
            self->disconnect_now(l);
        });
        send_queued();
        flush(lock);
        maybe_finish_stop(lock);
    }

    void maybe_finish_stop(std::unique_lock<std::mutex>& lock) {
        if (stopping_ && phase_ == Phase::Ready && !disconnecting_ && queued_.empty() && unacked_.empty())
            disconnect_now(lock);
    }

    /// DISCONNECT when connected (no Will), then close once it is written; otherwise just close.
    void disconnect_now(std::unique_lock<std::mutex>& lock) {
        if (phase_ != Phase::Subscribing && phase_ != Phase::Ready)
            return close_for_good();
        stop_timer_.cancel();
        disconnecting_ = true;
        out_ += frames::disconnect();
        if (!writing_)
            flush(lock);
    }

    struct Unacked {
        std::uint16_t id = 0;
        std::string packet;
    };

    net::io_context& ioc_;
    const mqtt::Options opt_;
    mutable std::mutex m_;
    std::condition_variable ready_cv_;
    tcp::socket socket_;
    net::steady_timer retry_timer_;
    net::steady_timer keepalive_timer_;
    net::steady_timer stop_timer_;
    std::chrono::milliseconds backoff_;
    std::minstd_rand rng_;

    mqtt::MessageHandler on_message_;
    mqtt::ConnectHandler on_connect_;
    mqtt::LostHandler on_lost_;
    std::vector<std::pair<std::string, int>> subs_;

    Phase phase_ = Phase::Idle;
    bool ready_ = false; // Ready and the connect handler has run
    bool stopping_ = false;
    bool disconnecting_ = false;
    std::uint64_t gen_ = 0; // the connection a completion belongs to
    std::string connect_packet_;

    std::deque<mqtt::Message> queued_;                       // not on the wire yet
    std::map<std::uint64_t, Unacked> unacked_;               // QoS 1 on the wire, by sending order
    std::unordered_map<std::uint16_t, std::uint64_t> by_id_; // packet id → unacked_ key
    std::unordered_set<std::uint16_t> pending_subacks_;
    std::uint64_t next_seq_ = 0;
    std::uint16_t next_id_ = 0;

    std::string out_;  // bytes to write next
    std::string wbuf_; // bytes being written
    bool writing_ = false;
    std::array<char, 4096> rbuf_{};
    std::string rx_;
    SteadyClock::time_point last_write_{};
    std::optional<SteadyClock::time_point> ping_sent_;

    mqtt::Stats stats_;
};

class AsioClient final : public mqtt::Client {
public:
    AsioClient(net::io_context& ioc, const mqtt::Options& options)
        : session_(std::make_shared<Session>(ioc, options)) {}
    ~AsioClient() override { session_->abandon(); }
    AsioClient(const AsioClient&) = delete;
    AsioClient& operator=(const AsioClient&) = delete;

    void subscribe(const std::string& filter, int qos) override { session_->subscribe(filter, qos); }
    void on_message(mqtt::MessageHandler h) override { session_->set_handlers(&h, nullptr, nullptr); }
    void on_connect(mqtt::ConnectHandler h) override { session_->set_handlers(nullptr, &h, nullptr); }
    void on_lost(mqtt::LostHandler h) override { session_->set_handlers(nullptr, nullptr, &h); }
    void start() override { session_->start(); }
    bool wait_ready(std::chrono::milliseconds timeout) override { return session_->wait_ready(timeout); }
    bool publish(const mqtt::Message& m) override { return session_->publish(m); }
    void stop(const std::optional<mqtt::Message>& last) override { session_->stop(last); }
    void kill_connection() override { session_->kill_connection(); }
    bool connected() const override { return session_->connected(); }
    mqtt::Stats stats() const override { return session_->stats(); }
    const std::string& client_id() const override { return session_->client_id(); }

private:
    std::shared_ptr<Session> session_;
};

} // namespace

std::unique_ptr<mqtt::Client> make_asio_client(net::io_context& ioc, const mqtt::Options& options) {
    if (options.tls)
        throw std::invalid_argument("make_asio_client: TLS is not supported (the gateway's broker is local)");
    return std::make_unique<AsioClient>(ioc, options);
}

} // namespace pilehub::ocpp
