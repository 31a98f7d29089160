// The only file of the benchmarks that uses Boost.Beast: the simulated charge points and the bare
// echo server (ocpp_load.hpp).
#include "ocpp_load.hpp"

#include "bench_util.hpp"

#include "common/crypto.hpp"
#include "common/tariff.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <fmt/format.h>
#include <rapidjson/document.h>
#include <sys/syscall.h>

#include <charconv>
#include <chrono>
#include <deque>
#include <thread>
#include <unordered_map>

namespace pilehub::bench {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr std::string_view kSubprotocol = "ocpp1.6";
constexpr std::size_t kProblemsKept = 20;

/// The CALLs a charge point sends here.
enum class Action { Boot, Status, Heartbeat, Meter, StartTx, StopTx };

const char* name_of(Action a) {
    switch (a) {
    case Action::Boot:
        return "BootNotification";
    case Action::Status:
        return "StatusNotification";
    case Action::Heartbeat:
        return "Heartbeat";
    case Action::Meter:
        return "MeterValues";
    case Action::StartTx:
        return "StartTransaction";
    case Action::StopTx:
        return "StopTransaction";
    }
    return "?";
}

std::string_view member_str(const rapidjson::Value& o, const char* key) {
    if (!o.IsObject())
        return {};
    const auto it = o.FindMember(key);
    if (it == o.MemberEnd() || !it->value.IsString())
        return {};
    return {it->value.GetString(), it->value.GetStringLength()};
}

std::int64_t member_int(const rapidjson::Value& o, const char* key, std::int64_t fallback = 0) {
    if (!o.IsObject())
        return fallback;
    const auto it = o.FindMember(key);
    return it != o.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : fallback;
}

std::string_view text_of(const rapidjson::Value& v) {
    return v.IsString() ? std::string_view(v.GetString(), v.GetStringLength()) : std::string_view();
}

/// RFC 3339 UTC now, computed once per second.
class NowText {
public:
    const std::string& get() {
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        if (ms / 1000 != second_) {
            second_ = ms / 1000;
            text_ = billing::format_rfc3339(second_ * 1000, 0);
        }
        return text_;
    }

private:
    std::int64_t second_ = -1;
    std::string text_;
};

} // namespace

// ---------------------------------------------------------------------------------------------
// the charge points
// ---------------------------------------------------------------------------------------------

class ChargePointSim;

/// One WebSocket connection of a charge point; handlers hold it, so it outlives a failure until
/// every pending operation has completed.
struct WsConn {
    WsConn(net::io_context& ioc, ChargePointSim* c) : cp(c), ws(ioc) {}
    ChargePointSim* cp;
    websocket::stream<beast::tcp_stream> ws;
    websocket::response_type res;
    beast::flat_buffer buf;
    std::deque<std::string> outq;
    bool open = false;
    bool dead = false;
};

struct OcppLoad::Impl {
    Impl(int port, std::vector<OcppChargerSpec> specs, double rate);

    void start_connects();
    void problem(std::string text) {
        std::lock_guard l(m);
        if (problems.size() < kProblemsKept)
            problems.push_back(std::move(text));
    }

    net::io_context ioc{1};
    net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
    tcp::endpoint endpoint;
    std::string host;
    double connect_rate;
    std::vector<OcppChargerSpec> specs;
    std::vector<std::unique_ptr<ChargePointSim>> cps;
    net::steady_timer connect_timer{ioc};
    std::size_t next_connect = 0;
    double connect_credit = 0;
    NowText now_text;

    // the load (io thread only)
    double meter_period_s = 0;
    std::uint64_t meter_epoch = 0;
    bool saturating = false;

    // read by other threads
    std::atomic<std::uint64_t> connected{0}, connect_failures{0}, disconnects{0}, calls_sent{0}, results{0}, errors{0},
        server_calls{0}, meter_values{0}, booted{0};
    std::atomic<int> tid{0};
    mutable std::mutex m;
    std::vector<double> rtts;
    std::vector<OcppStartMarks> marks;
    std::vector<bool> has_marks;
    std::vector<std::string> problems;
    std::thread thread;
};

class ChargePointSim {
    struct Pending {
        Action action;
        std::int64_t t_us;
    };

public:
    ChargePointSim(OcppLoad::Impl& load, std::size_t index)
        : load_(load), index_(index), spec_(load.specs[index]), meter_timer_(load.ioc), hb_timer_(load.ioc),
          retry_timer_(load.ioc) {
        auth_ = "Basic " + crypto::base64(spec_.id + ":" + spec_.key);
        target_ = "/ocpp/" + spec_.id;
    }

    void connect() {
        auto c = std::make_shared<WsConn>(load_.ioc, this);
        conn_ = c;
        auto& tcp_layer = beast::get_lowest_layer(c->ws);
        tcp_layer.expires_after(std::chrono::seconds(30));
        tcp_layer.async_connect(load_.endpoint, [c](beast::error_code ec) {
            if (c->dead)
                return;
            if (ec)
                return c->cp->fail(c, "connect: " + ec.message());
            auto& s = beast::get_lowest_layer(c->ws);
            s.socket().set_option(tcp::no_delay(true), ec);
            s.expires_never();
            c->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
            c->ws.set_option(websocket::stream_base::decorator([auth = c->cp->auth_](websocket::request_type& r) {
                r.set(http::field::authorization, auth);
                r.set(http::field::sec_websocket_protocol, kSubprotocol);
            }));
            c->ws.text(true);
            c->ws.async_handshake(c->res, c->cp->load_.host, c->cp->target_, [c](beast::error_code ec2) {
                if (c->dead)
                    return;
                if (ec2)
                    return c->cp->fail(c, fmt::format("handshake: {} (HTTP {})", ec2.message(), c->res.result_int()));
                c->open = true;
                c->cp->opened(c);
            });
        });
    }

    /// The meter schedule (re)starts: first MeterValues after `delay_s`, then every period.
    void schedule_meter(double delay_s, std::uint64_t epoch) {
        meter_timer_.cancel();
        meter_timer_.expires_after(std::chrono::microseconds(static_cast<std::int64_t>(delay_s * 1e6)));
        arm_meter(epoch);
    }
    void stop_meter() { meter_timer_.cancel(); }

    /// Saturation: one MeterValues in flight at all times.
    void kick_saturation() {
        if (booted_ && meter_in_flight_ == 0)
            send_meter();
    }

private:
    void arm_meter(std::uint64_t epoch) {
        meter_timer_.async_wait([this, epoch](beast::error_code ec) {
            if (ec || epoch != load_.meter_epoch || load_.meter_period_s <= 0)
                return;
            if (booted_)
                send_meter();
            meter_timer_.expires_at(meter_timer_.expiry() +
                                    std::chrono::microseconds(static_cast<std::int64_t>(load_.meter_period_s * 1e6)));
            arm_meter(epoch);
        });
    }

    void opened(const std::shared_ptr<WsConn>& c) {
        ++load_.connected;
        read(c);
        call(Action::Boot, fmt::format(R"({{"chargePointVendor":"PileHubBench","chargePointModel":"LoadGen",)"
                                       R"("chargePointSerialNumber":"{}","firmwareVersion":"1.0"}})",
                                       spec_.id.substr(0, 25)));
    }

    void read(const std::shared_ptr<WsConn>& c) {
        c->ws.async_read(c->buf, [c](beast::error_code ec, std::size_t) {
            if (c->dead)
                return;
            if (ec)
                return c->cp->fail(c, "read: " + ec.message());
            const auto data = c->buf.data();
            c->cp->on_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
            c->buf.consume(c->buf.size());
            if (!c->dead)
                c->cp->read(c);
        });
    }

    void send(std::string text) {
        const auto c = conn_;
        if (!c || c->dead || !c->open)
            return;
        c->outq.push_back(std::move(text));
        if (c->outq.size() == 1)
            write(c);
    }

    void write(const std::shared_ptr<WsConn>& c) {
        c->ws.async_write(net::buffer(c->outq.front()), [c](beast::error_code ec, std::size_t) {
            if (c->dead)
                return;
            if (ec)
                return c->cp->fail(c, "write: " + ec.message());
            c->outq.pop_front();
            if (!c->outq.empty())
                c->cp->write(c);
        });
    }

    void fail(const std::shared_ptr<WsConn>& c, const std::string& why) {
        if (c != conn_ || c->dead)
            return;
        c->dead = true;
        beast::error_code ec;
        beast::get_lowest_layer(c->ws).socket().close(ec);
        if (c->open)
            ++load_.disconnects;
        else
            ++load_.connect_failures;
        load_.problem(fmt::format("{}: {}", spec_.id, why));
        if (booted_) {
            booted_ = false;
            --load_.booted;
        }
        pending_.clear();
        meter_in_flight_ = 0;
        tx_id_ = 0;
        starting_ = false;
        hb_timer_.cancel();
        conn_.reset();
        retry_timer_.expires_after(std::chrono::seconds(1));
        retry_timer_.async_wait([this](beast::error_code ec2) {
            if (!ec2)
                connect();
        });
    }

    void call(Action a, const std::string& payload) {
        const auto uid = ++next_uid_;
        pending_[uid] = Pending{a, now_us()};
        if (a == Action::Meter)
            ++meter_in_flight_;
        ++load_.calls_sent;
        send(fmt::format(R"([2,"{}","{}",{}])", uid, name_of(a), payload));
    }

    void send_status(std::string_view status) {
        call(Action::Status, fmt::format(R"({{"connectorId":1,"errorCode":"NoError","status":"{}","timestamp":"{}"}})",
                                         status, load_.now_text.get()));
    }

    void send_meter() {
        register_wh_ += tx_id_ ? 20 : 1; // 7.2 kW over 10 s while charging; an idle meter creeps
        const auto tx = tx_id_ ? fmt::format(R"("transactionId":{},)", tx_id_) : std::string();
        call(Action::Meter, fmt::format(R"({{"connectorId":1,{}"meterValue":[{{"timestamp":"{}","sampledValue":[)"
                                        R"({{"value":"{}","context":"Sample.Periodic",)"
                                        R"("measurand":"Energy.Active.Import.Register","unit":"Wh"}}]}}]}})",
                                        tx, load_.now_text.get(), register_wh_));
    }

    void on_text(std::string_view text) {
        rapidjson::Document d;
        d.Parse(text.data(), text.size());
        if (d.HasParseError() || !d.IsArray() || d.Size() < 3 || !d[0].IsInt())
            return load_.problem(fmt::format("{}: unreadable message {}", spec_.id, text.substr(0, 200)));
        const int type = d[0].GetInt();
        if (type == 2 && d.Size() >= 4)
            return on_server_call(text_of(d[1]), text_of(d[2]), d[3]);
        std::uint64_t uid = 0;
        const auto u = text_of(d[1]);
        std::from_chars(u.data(), u.data() + u.size(), uid);
        const auto it = pending_.find(uid);
        if (it == pending_.end())
            return load_.problem(fmt::format("{}: an answer to no call of ours: {}", spec_.id, text.substr(0, 200)));
        const auto p = it->second;
        pending_.erase(it);
        if (p.action == Action::Meter)
            --meter_in_flight_;
        if (type == 4) {
            ++load_.errors;
            load_.problem(fmt::format("{}: {} answered {}", spec_.id, name_of(p.action), text.substr(0, 300)));
            if (p.action == Action::Boot)
                return retry_boot();
            if (p.action == Action::Meter && load_.saturating)
                send_meter();
            return;
        }
        if (type != 3)
            return load_.problem(fmt::format("{}: message type {}", spec_.id, type));
        ++load_.results;
        on_result(p, d[2]);
    }

    void on_result(const Pending& p, const rapidjson::Value& payload) {
        switch (p.action) {
        case Action::Boot:
            if (member_str(payload, "status") != "Accepted")
                return retry_boot();
            heartbeat_s_ = static_cast<int>(std::max<std::int64_t>(10, member_int(payload, "interval", 300)));
            arm_heartbeat();
            send_status("Available");
            return;
        case Action::Status:
            if (!booted_ && !tx_id_ && !starting_) {
                booted_ = true;
                ++load_.booted;
                if (load_.saturating)
                    kick_saturation();
            }
            return;
        case Action::Meter: {
            const double ms = static_cast<double>(now_us() - p.t_us) / 1000.0;
            ++load_.meter_values;
            {
                std::lock_guard l(load_.m);
                load_.rtts.push_back(ms);
            }
            if (load_.saturating && meter_in_flight_ == 0)
                send_meter();
            return;
        }
        case Action::StartTx: {
            starting_ = false;
            std::string_view status = "(none)";
            if (payload.IsObject())
                if (const auto info = payload.FindMember("idTagInfo"); info != payload.MemberEnd())
                    status = member_str(info->value, "status");
            const auto tid = member_int(payload, "transactionId");
            {
                std::lock_guard l(load_.m);
                auto& k = load_.marks[index_];
                k.start_conf_us = now_us();
                k.transaction_id = tid;
                k.start_status = std::string(status);
            }
            if (status == "Accepted") {
                tx_id_ = tid;
                send_status("Charging");
            } else {
                load_.problem(fmt::format("{}: StartTransaction {}", spec_.id, status));
                send_status("Available");
            }
            return;
        }
        case Action::Heartbeat:
        case Action::StopTx:
            return;
        }
    }

    void retry_boot() {
        hb_timer_.expires_after(std::chrono::seconds(2));
        hb_timer_.async_wait([this](beast::error_code ec) {
            if (!ec)
                call(Action::Boot, R"({"chargePointVendor":"PileHubBench","chargePointModel":"LoadGen"})");
        });
    }

    void arm_heartbeat() {
        hb_timer_.expires_after(std::chrono::seconds(heartbeat_s_));
        hb_timer_.async_wait([this](beast::error_code ec) {
            if (ec)
                return;
            if (booted_)
                call(Action::Heartbeat, "{}");
            arm_heartbeat();
        });
    }

    void answer(std::string_view uid, std::string_view payload) { send(fmt::format(R"([3,"{}",{}])", uid, payload)); }

    void on_server_call(std::string_view uid, std::string_view action, const rapidjson::Value& payload) {
        ++load_.server_calls;
        if (action == "RemoteStartTransaction") {
            const auto tag = member_str(payload, "idTag");
            {
                std::lock_guard l(load_.m);
                auto& k = load_.marks[index_];
                k = OcppStartMarks{};
                k.remote_start_us = now_us();
                k.id_tag = std::string(tag);
                load_.has_marks[index_] = true;
            }
            if (tx_id_ || starting_) {
                answer(uid, R"({"status":"Rejected"})");
                return;
            }
            answer(uid, R"({"status":"Accepted"})");
            starting_ = true;
            send_status("Preparing");
            call(Action::StartTx, fmt::format(R"({{"connectorId":1,"idTag":"{}","meterStart":{},"timestamp":"{}"}})",
                                              tag, register_wh_, load_.now_text.get()));
            return;
        }
        if (action == "RemoteStopTransaction") {
            const auto tid = member_int(payload, "transactionId");
            if (!tx_id_ || tid != tx_id_) {
                answer(uid, R"({"status":"Rejected"})");
                return;
            }
            answer(uid, R"({"status":"Accepted"})");
            call(Action::StopTx,
                 fmt::format(R"({{"transactionId":{},"meterStop":{},"timestamp":"{}","reason":"Remote"}})", tx_id_,
                             register_wh_, load_.now_text.get()));
            tx_id_ = 0;
            send_status("Available");
            return;
        }
        if (action == "ChangeConfiguration") {
            answer(uid, R"({"status":"Accepted"})");
            return;
        }
        send(fmt::format(R"([4,"{}","NotImplemented","{} is not simulated",{{}}])", uid, action));
    }

    OcppLoad::Impl& load_;
    std::size_t index_;
    const OcppChargerSpec& spec_;
    std::string auth_, target_;
    std::shared_ptr<WsConn> conn_;
    net::steady_timer meter_timer_, hb_timer_, retry_timer_;
    std::unordered_map<std::uint64_t, Pending> pending_;
    std::uint64_t next_uid_ = 0;
    int meter_in_flight_ = 0;
    bool booted_ = false;
    bool starting_ = false;
    int heartbeat_s_ = 300;
    std::int64_t register_wh_ = 100'000;
    std::int64_t tx_id_ = 0;

    friend struct OcppLoad::Impl;
};

OcppLoad::Impl::Impl(int port, std::vector<OcppChargerSpec> s, double rate)
    : endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
      host(fmt::format("127.0.0.1:{}", port)), connect_rate(rate), specs(std::move(s)), marks(specs.size()),
      has_marks(specs.size(), false) {
    for (std::size_t i = 0; i < specs.size(); ++i)
        cps.push_back(std::make_unique<ChargePointSim>(*this, i));
}

void OcppLoad::Impl::start_connects() {
    // Every 5 ms, the connects due at connect_rate.
    connect_timer.expires_after(std::chrono::milliseconds(5));
    connect_timer.async_wait([this](beast::error_code ec) {
        if (ec)
            return;
        connect_credit += connect_rate * 0.005;
        while (connect_credit >= 1 && next_connect < cps.size()) {
            connect_credit -= 1;
            cps[next_connect++]->connect();
        }
        if (next_connect < cps.size())
            start_connects();
    });
}

OcppLoad::OcppLoad(int port, std::vector<OcppChargerSpec> chargers, double connect_rate)
    : impl_(std::make_unique<Impl>(port, std::move(chargers), connect_rate)) {
    impl_->start_connects();
    impl_->thread = std::thread([i = impl_.get()] {
        i->tid = static_cast<int>(::syscall(SYS_gettid));
        i->ioc.run();
    });
}

OcppLoad::~OcppLoad() {
    impl_->ioc.stop();
    impl_->thread.join();
    // The connections close with their sockets; no handler runs any more.
    impl_->cps.clear();
}

std::size_t OcppLoad::booted() const {
    return impl_->booted;
}

int OcppLoad::thread_id() const {
    return impl_->tid;
}

OcppLoadCounters OcppLoad::counters() const {
    const auto& i = *impl_;
    OcppLoadCounters c;
    c.connected = i.connected;
    c.connect_failures = i.connect_failures;
    c.disconnects = i.disconnects;
    c.calls_sent = i.calls_sent;
    c.results = i.results;
    c.errors = i.errors;
    c.server_calls = i.server_calls;
    c.meter_values = i.meter_values;
    return c;
}

void OcppLoad::meter(double period_s) {
    net::post(impl_->ioc, [i = impl_.get(), period_s] {
        i->meter_period_s = period_s;
        ++i->meter_epoch;
        const auto n = static_cast<double>(i->cps.size());
        for (std::size_t k = 0; k < i->cps.size(); ++k) {
            if (period_s > 0)
                i->cps[k]->schedule_meter(period_s * static_cast<double>(k) / n, i->meter_epoch);
            else
                i->cps[k]->stop_meter();
        }
    });
}

void OcppLoad::saturate(bool on) {
    net::post(impl_->ioc, [i = impl_.get(), on] {
        i->saturating = on;
        if (on)
            for (auto& cp : i->cps)
                cp->kick_saturation();
    });
}

std::vector<double> OcppLoad::take_rtts() {
    std::lock_guard l(impl_->m);
    return std::exchange(impl_->rtts, {});
}

std::optional<OcppStartMarks> OcppLoad::start_marks(std::size_t index) const {
    std::lock_guard l(impl_->m);
    if (index >= impl_->marks.size() || !impl_->has_marks[index])
        return std::nullopt;
    return impl_->marks[index];
}

std::vector<std::string> OcppLoad::problems() const {
    std::lock_guard l(impl_->m);
    return impl_->problems;
}

// ---------------------------------------------------------------------------------------------
// the bare echo server
// ---------------------------------------------------------------------------------------------

namespace {

class EchoSession : public std::enable_shared_from_this<EchoSession> {
public:
    explicit EchoSession(tcp::socket s) : ws_(std::move(s)) {}

    void start() {
        http::async_read(ws_.next_layer(), buf_, parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             if (!ec)
                                 self->upgrade();
                         });
    }

private:
    void upgrade() {
        auto req = parser_.release();
        const std::string_view target(req.target().data(), req.target().size());
        const auto protocols = req[http::field::sec_websocket_protocol];
        if (target.rfind("/ocpp/", 0) != 0 || !websocket::is_upgrade(req) ||
            std::string_view(protocols.data(), protocols.size()).find(kSubprotocol) == std::string_view::npos)
            return; // closed with the session
        ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& r) { r.set(http::field::sec_websocket_protocol, kSubprotocol); }));
        ws_.text(true);
        ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) {
            if (!ec)
                self->read();
        });
    }

    void read() {
        buf_.consume(buf_.size());
        ws_.async_read(buf_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec)
                return;
            self->answer();
            self->read();
        });
    }

    void answer() {
        const auto data = buf_.data();
        rapidjson::Document d;
        d.Parse(static_cast<const char*>(data.data()), data.size());
        if (d.HasParseError() || !d.IsArray() || d.Size() < 4 || !d[0].IsInt() || d[0].GetInt() != 2 ||
            !d[1].IsString() || !d[2].IsString())
            return;
        const auto uid = text_of(d[1]);
        if (text_of(d[2]) == "BootNotification")
            send(fmt::format(R"([3,"{}",{{"status":"Accepted","currentTime":"{}","interval":300}}])", uid,
                             now_text_.get()));
        else
            send(fmt::format(R"([3,"{}",{{}}])", uid));
    }

    void send(std::string text) {
        q_.push_back(std::move(text));
        if (q_.size() == 1)
            write();
    }

    void write() {
        ws_.async_write(net::buffer(q_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec)
                return;
            self->q_.pop_front();
            if (!self->q_.empty())
                self->write();
        });
    }

    websocket::stream<beast::tcp_stream> ws_;
    beast::flat_buffer buf_;
    http::request_parser<http::empty_body> parser_;
    std::deque<std::string> q_;
    NowText now_text_;
};

void accept_loop(tcp::acceptor& a) {
    a.async_accept([&a](beast::error_code ec, tcp::socket s) {
        if (!ec) {
            s.set_option(tcp::no_delay(true), ec);
            std::make_shared<EchoSession>(std::move(s))->start();
        }
        accept_loop(a);
    });
}

} // namespace

int run_ocpp_echo(int port) {
    net::io_context ioc{1};
    tcp::acceptor a(ioc);
    const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
    a.open(ep.protocol());
    a.set_option(net::socket_base::reuse_address(true));
    a.bind(ep);
    a.listen(net::socket_base::max_listen_connections);
    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&ioc](beast::error_code, int) { ioc.stop(); });
    accept_loop(a);
    say(fmt::format("ocpp-echo: listening on ws://127.0.0.1:{}/ocpp/<id>", port));
    ioc.run();
    return 0;
}

} // namespace pilehub::bench
