#pragma once
// The stack the API's integration tests run against: a real Mosquitto (pilehub::test::Broker), the
// real pilehub-api as a child process on real SQLite files in the broker's data directory, real
// HTTP through cpp-httplib's client. Devices registered through the API get credentials the broker
// accepts without a restart (the API rewrites the password file and SIGHUPs the broker by PID).
// Optionally a fake sessiond (rpc service "sessiond" answering as the real one does) so every
// refusal code can be produced on demand. Children are stopped by their PID.
#include "common/broker_auth.hpp"
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/json.hpp"
#include "common/ledger.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/registry.hpp"
#include "common/rpc.hpp"
#include "common/svc.hpp"
#include "common/topics.hpp"
#include "tests/support/broker.hpp"
#include "tests/support/json_path.hpp"
#include "tests/support/process.hpp"

#include <atomic>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace pilehub::test::api {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

inline std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// The last `lines` lines of `text` (all of it when it has fewer).
inline std::string tail(const std::string& text, std::size_t lines = 60) {
    std::size_t pos = text.size();
    for (std::size_t n = 0; n <= lines; ++n) {
        if (pos == 0)
            return text;
        pos = text.rfind('\n', pos - 1);
        if (pos == std::string::npos)
            return text;
    }
    return text.substr(pos + 1);
}

inline int free_tcp_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

/// One HTTP exchange: status, body, headers, and the body parsed if it is JSON.
struct Http {
    int status = 0;
    std::string body;
    httplib::Headers headers;
    rapidjson::Document json;

    bool ok() const { return status >= 200 && status < 300; }
    /// The value at a dotted path (`session.id`, `stations.0.name`), or nullptr.
    const rapidjson::Value* at(const std::string& path) const { return test::json_at(json, path); }
    std::string str(const std::string& path) const {
        auto v = at(path);
        return v && v->IsString() ? v->GetString() : std::string();
    }
    std::int64_t i64(const std::string& path, std::int64_t def = -999999) const {
        auto v = at(path);
        return v && v->IsInt64() ? v->GetInt64() : def;
    }
    double num(const std::string& path) const {
        auto v = at(path);
        return v && v->IsNumber() ? v->GetDouble() : -1e300;
    }
    bool boolean(const std::string& path) const {
        auto v = at(path);
        return v && v->IsBool() && v->GetBool();
    }
    std::size_t size(const std::string& path) const {
        auto v = path.empty() ? &json : at(path);
        return v && v->IsArray() ? v->Size() : 0;
    }
    std::string code() const { return str("error.code"); }
};

inline std::ostream& operator<<(std::ostream& os, const Http& h) {
    return os << h.status << " " << h.body.substr(0, 600);
}

/// The built pilehub-api.
inline std::string api_binary() {
    return std::string(PILEHUB_BINARY_DIR) + "/web-api/pilehub-api";
}

struct StackOptions {
    bool dev_mode = true;
    std::vector<std::string> sets; ///< extra --set key=value
    std::vector<Credential> broker_users;
    bool admin_password_env = true; ///< start with PILEHUB_ADMIN_PASSWORD set
};

/// Broker + pilehub-api on the broker's data directory.
class Stack {
public:
    static constexpr const char* kAdminPassword = "admin-password-1";

    explicit Stack(StackOptions o = {}) : broker_(o.broker_users) {
        dir_ = broker_.data_dir();
        fs::create_directories(dir_ + "/secrets");
        fs::create_directories(dir_ + "/run");
        for (const auto& user : broker::service_users())
            std::ofstream(dir_ + "/secrets/" + user + ".pass") << broker_.password(user) << "\n";
        // The broker's PID where the API (like pilehubctl) looks for it to send SIGHUP.
        std::ofstream(dir_ + "/run/mosquitto.pid") << broker_.pid() << "\n";
        {
            // Our processes' broker credentials are in the database, so the API's rewrite of the
            // password file keeps them (as `pilehubctl services init` arranges in production).
            db::Database d(dir_ + "/pilehub.db");
            db::migrate(d, db::core_migrations());
            registry::Store store(d);
            for (const auto& user : broker::service_users())
                store.set_service_credential(user, broker::hash_password(broker_.password(user)), 0);
        }
        port_ = free_tcp_port();
        std::vector<std::string> argv{api_binary(),
                                      "--set",
                                      "data_dir=" + dir_,
                                      "--set",
                                      fmt::format("mqtt.port={}", broker_.port()),
                                      "--set",
                                      fmt::format("pilehub-api.http_port={}", port_),
                                      "--set",
                                      std::string("dev_mode=") + (o.dev_mode ? "true" : "false"),
                                      "--set",
                                      "pilehub-api.sms_min_interval_s=0",
                                      "--set",
                                      "pilehub-api.sms_max_per_hour=1000",
                                      "--set",
                                      "pilehub-api.sms_max_per_ip_hour=100000",
                                      "--set",
                                      "pilehub-api.login_max_failures_per_ip=100000"};
        for (const auto& s : o.sets) {
            argv.push_back("--set");
            argv.push_back(s);
        }
        SpawnOptions so;
        so.output = log_path();
        if (o.admin_password_env)
            so.env.push_back(std::string("PILEHUB_ADMIN_PASSWORD=") + kAdminPassword);
        else
            ::unsetenv("PILEHUB_ADMIN_PASSWORD");
        api_ = Process::spawn(argv, so);
        const auto ready = dir_ + "/run/pilehub-api.ready";
        for (int i = 0; i < 800 && !fs::exists(ready); ++i) {
            if (!api_.running())
                FAIL("pilehub-api exited during start-up:\n" << tail(log()));
            std::this_thread::sleep_for(25ms);
        }
        REQUIRE_MESSAGE(fs::exists(ready), "pilehub-api not ready in 20 s:\n" << tail(log()));
    }

    ~Stack() {
        if (api_.pid())
            api_.stop();
    }

    Broker& broker() { return broker_; }
    const std::string& dir() const { return dir_; }
    int port() const { return port_; }
    std::string log_path() const { return dir_ + "/pilehub-api.log"; }
    std::string log() const { return slurp(log_path()); }
    db::Database db() const { return db::Database(dir_ + "/pilehub.db"); }

    Http request(const std::string& method, const std::string& path, const std::string& body = "",
                 const std::string& token = "", httplib::Headers extra = {}) const {
        httplib::Client c("127.0.0.1", port_);
        c.set_read_timeout(15, 0);
        c.set_connection_timeout(5, 0);
        httplib::Headers h = std::move(extra);
        if (!token.empty())
            h.emplace("Authorization", "Bearer " + token);
        httplib::Result r = method == "GET"      ? c.Get(path, h)
                            : method == "DELETE" ? c.Delete(path, h, body, "application/json")
                            : method == "PUT"    ? c.Put(path, h, body, "application/json")
                                                 : c.Post(path, h, body, "application/json");
        Http out;
        if (!r)
            return out;
        out.status = r->status;
        out.body = r->body;
        out.headers = r->headers;
        if (r->get_header_value("Content-Type").find("json") != std::string::npos)
            out.json.Parse(out.body.c_str(), out.body.size());
        return out;
    }
    Http get(const std::string& path, const std::string& token = "") const { return request("GET", path, "", token); }
    Http post(const std::string& path, const std::string& body, const std::string& token = "") const {
        return request("POST", path, body, token);
    }
    Http put(const std::string& path, const std::string& body, const std::string& token = "") const {
        return request("PUT", path, body, token);
    }
    /// POST to a money route (Route::moves_money): with `key` as its Idempotency-Key, a fresh one when empty.
    Http money(const std::string& path, const std::string& body, const std::string& token, std::string key = "") const {
        static std::atomic<int> n{0};
        if (key.empty())
            key = fmt::format("test-{}-{}", ::getpid(), ++n);
        return request("POST", path, body, token, {{"Idempotency-Key", key}});
    }

    /// A rider's token: SMS code (dev mode) and login; the first login registers the account.
    std::string rider(const std::string& phone) const {
        auto c = post("/api/v1/auth/sms-code", fmt::format(R"({{"phone":"{}"}})", phone));
        REQUIRE_MESSAGE(c.status == 200, c);
        auto l = post("/api/v1/auth/login", fmt::format(R"({{"phone":"{}","code":"{}"}})", phone, c.str("dev_code")));
        REQUIRE_MESSAGE(l.status == 200, l);
        return l.str("token");
    }
    std::int64_t rider_id(const std::string& token) const { return get("/api/v1/me", token).i64("id"); }
    /// An operator's token.
    std::string admin(const std::string& user = "admin", const std::string& password = kAdminPassword) const {
        auto l = post("/api/v1/admin/login", fmt::format(R"({{"username":"{}","password":"{}"}})", user, password));
        REQUIRE_MESSAGE(l.status == 200, l);
        return l.str("token");
    }

    /// Creates a staff account `name` (password `password-<name>`) with a role and a scope (the JSON
    /// members `"all_stations":true` or `"station_ids":[...]`) and returns its token.
    std::string staff(const std::string& admin_token, const std::string& name, const std::string& role,
                      const std::string& scope) const {
        auto r =
            post("/api/v1/admin/admins",
                 fmt::format(R"({{"username":"{}","password":"password-{}","role":"{}",{}}})", name, name, role, scope),
                 admin_token);
        REQUIRE_MESSAGE(r.status == 201, r);
        return admin(name, "password-" + name);
    }

    /// Creates a station (Shenzhen by default) and returns its id.
    std::int64_t station(const std::string& admin_token, const std::string& name, double lat = 22.543096,
                         double lon = 114.057865, const std::string& extra = "") const {
        auto r = post("/api/v1/admin/stations",
                      fmt::format(R"({{"name":"{}","lat":{},"lon":{},"address":"1 Test Road"{}}})", name, lat, lon,
                                  extra.empty() ? std::string(R"(,"open_hours":"00:00-24:00")") : extra),
                      admin_token);
        REQUIRE_MESSAGE(r.status == 201, r);
        return r.i64("id");
    }
    /// Registers an e-bike pile and returns the reply (with its MQTT credentials).
    Http device(const std::string& admin_token, const std::string& id, std::int64_t station, int sockets = 10,
                const std::string& kind = "ebike_pile") const {
        auto r =
            post("/api/v1/admin/devices",
                 fmt::format(R"({{"id":"{}","kind":"{}","station_id":{},"sockets":{}}})", id, kind, station, sockets),
                 admin_token);
        REQUIRE_MESSAGE(r.status == 201, r);
        return r;
    }

private:
    Broker broker_;
    std::string dir_;
    int port_ = 0;
    Process api_;
};

/// A stand-in for sessiond's rpc service (docs/topics.md) that reads every request and writes every
/// reply with the svc codecs, as sessiond must: `start` refuses with the code set for a device, or
/// creates the session row sessiond would and answers the session; `stop` and `force_end` move a
/// running session (svc::is_running) to `stopping`, as sessiond does, and refuse an ended one;
/// `device_command` answers query_port with socket n idle, query_device with one idle socket, and
/// every other command (reboot, set_time, the EV commands) with `{}`, or with the device's refusal
/// set by device_answers().
class FakeSessiond {
public:
    FakeSessiond(Broker& broker, std::string db_path) : db_path_(std::move(db_path)) {
        mqtt_ = mqtt::make_client(broker.client_options("svc.sessiond"));
        server_ = std::make_unique<rpc::Server>(*mqtt_, router_, "sessiond");
        server_->handle("start", [this](rpc::Request& r) { return start(r); });
        server_->handle("stop", [this](rpc::Request& r) {
            const auto q = svc::decode<svc::StopRequest>(*r.data_value);
            return q ? stop(q.value().session_id, std::string(svc::to_string(q.value().reason))) : invalid(q.error());
        });
        server_->handle("force_end", [this](rpc::Request& r) {
            const auto q = svc::decode<svc::ForceEndRequest>(*r.data_value);
            return q ? stop(q.value().session_id, "forced") : invalid(q.error());
        });
        server_->handle("device_command", [this](rpc::Request& r) { return device_command(r); });
        router_.attach(*mqtt_);
        mqtt_->start();
        REQUIRE(mqtt_->wait_ready(10s));
    }
    ~FakeSessiond() { mqtt_->stop(); }

    /// Every start on `device` is refused with `code` (empty: accepted).
    void refuse(const std::string& device, const std::string& code) {
        std::lock_guard l(m_);
        if (code.empty())
            refusals_.erase(device);
        else
            refusals_[device] = code;
    }
    /// The last start request's data, as the svc codec reads it.
    std::string last_start() {
        std::lock_guard l(m_);
        return last_start_;
    }
    int calls() {
        std::lock_guard l(m_);
        return calls_;
    }
    /// The last device_command request's data, as the svc codec writes it.
    std::string last_command() {
        std::lock_guard l(m_);
        return last_command_;
    }
    /// Every device_command on `device` is answered with the device's `status` and `code` (empty status:
    /// answered ok), as sessiond relays a device's own answer.
    void device_answers(const std::string& device, const std::string& status, const std::string& code = "") {
        std::lock_guard l(m_);
        if (status.empty())
            answers_.erase(device);
        else
            answers_[device] = {status, code};
    }

private:
    static rpc::Reply invalid(const std::string& why) { return rpc::Reply::refuse("invalid_request", why, "invalid"); }

    std::optional<rpc::Reply> refusal(const std::string& device) {
        std::lock_guard l(m_);
        if (auto it = refusals_.find(device); it != refusals_.end())
            return rpc::Reply::refuse(it->second, "refused by the fake sessiond");
        return std::nullopt;
    }

    /// The session row as sessiond answers it (svc::SessionView).
    static svc::SessionView session_view(db::Database& d, const std::string& sid) {
        db::Statement st(d, "SELECT id, state, device_id, n, mode, minutes, method, account_id, created_at, "
                            "started_at, ended_at, energy_wh, duration_s, max_power_w, stop_reason, failure, cost_fen "
                            "FROM sessions WHERE id = ?");
        st.bind_all(sid);
        REQUIRE(st.step());
        svc::SessionView v;
        v.id = st.text(0);
        v.state = svc::parse_session_state(st.text(1)).value();
        v.socket = fmt::format("{}-{}", st.text(2), st.int64(3));
        v.mode = billing::parse_mode(st.text(4)).value();
        v.minutes = st.opt_int64(5);
        v.method = svc::parse_session_method(st.text(6)).value();
        v.account_id = st.int64(7);
        v.created_at = st.int64(8);
        v.started_at = st.opt_int64(9);
        v.ended_at = st.opt_int64(10);
        v.energy_wh = st.int64(11);
        v.duration_s = st.int64(12);
        v.max_power_w = st.int64(13);
        v.stop_reason = st.opt_text(14);
        v.failure = st.opt_text(15);
        if (const auto c = st.opt_int64(16))
            v.cost_fen = Fen(*c);
        return v;
    }

    rpc::Reply start(rpc::Request& r) {
        const auto q = svc::decode<svc::StartRequest>(*r.data_value);
        if (!q)
            return invalid(q.error());
        const auto& req = q.value();
        {
            std::lock_guard l(m_);
            last_start_ = svc::encode(req);
            ++calls_;
        }
        const auto dash = req.socket.rfind('-');
        const auto dev = req.socket.substr(0, dash);
        const int n = std::stoi(req.socket.substr(dash + 1));
        if (auto refused = refusal(dev))
            return *refused;
        db::Database d(db_path_);
        db::Statement st(d, "SELECT station_id FROM devices WHERE id = ?");
        st.bind_all(dev);
        if (!st.step())
            return rpc::Reply::refuse("unknown_socket", "no such socket");
        const auto station = st.int64(0);
        st.reset();
        const auto now = SystemClock::instance().now_ms();
        const auto sid = fmt::format("s-fake-{}-{}", now, ++seq_);
        try {
            db::Statement(
                d, "INSERT INTO sessions(id, account_id, method, device_id, n, station_id, mode, minutes, max_fen, "
                   "state, created_at, updated_at) VALUES (?, ?, 'app', ?, ?, ?, ?, ?, ?, 'starting', ?, ?)")
                .bind_all(sid, req.account_id, dev, n, station, std::string(billing::to_string(req.mode)), req.minutes,
                          req.max_fen ? std::optional(req.max_fen->value()) : std::nullopt, now, now)
                .run();
        } catch (const db::Error& e) {
            return rpc::Reply::refuse(e.is_constraint() ? "socket_busy" : "internal", e.what());
        }
        return rpc::Reply::success(svc::encode(svc::StartReply{session_view(d, sid)}));
    }

    rpc::Reply stop(const std::string& sid, const std::string& why) {
        db::Database d(db_path_);
        db::Statement st(d, "SELECT state FROM sessions WHERE id = ?");
        st.bind_all(sid);
        if (!st.step())
            return rpc::Reply::refuse("not_found", "no such session");
        const auto state = svc::parse_session_state(st.text(0)).value();
        st.reset();
        if (svc::is_ended(state))
            return rpc::Reply::refuse("conflict", "the session has already ended");
        const bool changed = svc::is_running(state);
        if (changed)
            db::Statement(d, "UPDATE sessions SET state = 'stopping', stop_requested = ?, updated_at = ? WHERE id = ?")
                .bind_all(why, SystemClock::instance().now_ms(), sid)
                .run();
        return rpc::Reply::success(svc::encode(svc::SessionChangeReply{session_view(d, sid), changed}));
    }

    rpc::Reply device_command(rpc::Request& r) {
        const auto q = svc::decode<svc::DeviceCommandRequest>(*r.data_value);
        if (!q)
            return invalid(q.error());
        if (auto refused = refusal(q.value().device_id))
            return *refused;
        {
            std::lock_guard l(m_);
            last_command_ = svc::encode(q.value());
            if (auto it = answers_.find(q.value().device_id); it != answers_.end())
                return rpc::Reply::refuse(it->second.second, "refused by the device", it->second.first);
        }
        svc::DeviceCommandReply reply = svc::CommandAck{};
        if (const auto* port = std::get_if<payloads::EbikeQueryPort>(&q.value().command)) {
            payloads::EbikePortStatus idle;
            idle.n = port->n;
            reply = svc::QueryPortReply{idle};
        } else if (std::holds_alternative<payloads::EbikeQueryDevice>(q.value().command)) {
            reply = svc::QueryDeviceReply{payloads::EbikeDeviceReport{{}, {payloads::EbikePortStatus{}}}};
        }
        return rpc::Reply::success(svc::encode(reply));
    }

    std::string db_path_;
    mqtt::Router router_;
    std::unique_ptr<mqtt::Client> mqtt_;
    std::unique_ptr<rpc::Server> server_;
    std::mutex m_;
    std::map<std::string, std::string> refusals_;
    std::map<std::string, std::pair<std::string, std::string>> answers_;
    std::string last_start_, last_command_;
    int calls_ = 0;
    int seq_ = 0;
};

/// `f()` within `limit`, asked every 50 ms.
template <typename F> bool eventually(F f, std::chrono::milliseconds limit = 5s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (f())
            return true;
        std::this_thread::sleep_for(50ms);
    }
    return f();
}

/// A worker daemon on the stack's data directory (its MQTT password is there already).
class Worker {
public:
    Worker(const Stack& st, std::string name, std::vector<std::string> sets = {})
        : name_(std::move(name)), dir_(st.dir()) {
        std::vector<std::string> argv{binary(name_), "--set", "data_dir=" + dir_, "--set",
                                      fmt::format("mqtt.port={}", const_cast<Stack&>(st).broker().port())};
        for (const auto& s : sets) {
            argv.push_back("--set");
            argv.push_back(s);
        }
        const auto ready = dir_ + "/run/" + name_ + ".ready";
        fs::remove(ready);
        SpawnOptions o;
        o.output = dir_ + "/" + name_ + ".log";
        proc_ = Process::spawn(argv, o);
        for (int i = 0; i < 600 && !fs::exists(ready); ++i) {
            if (!proc_.running())
                FAIL(name_ << " exited during start-up:\n" << tail(slurp(o.output)));
            std::this_thread::sleep_for(25ms);
        }
        REQUIRE_MESSAGE(fs::exists(ready), name_ << " not ready:\n" << tail(slurp(o.output)));
    }
    ~Worker() { stop(); }
    /// Stops it (SIGTERM, by PID) and waits.
    void stop() {
        if (proc_.pid())
            proc_.stop();
    }
    /// Where the build put `name`: the gateway's own folder for pilehub-ocpp, workers/ for the rest.
    static std::string binary(const std::string& name) {
        if (name == "pilehub-ocpp")
            return std::string(PILEHUB_BINARY_DIR) + "/gateway/pilehub-ocpp";
        return std::string(PILEHUB_BINARY_DIR) + "/workers/" + name + "/" + name;
    }
    static bool built(const std::string& name) { return fs::exists(binary(name)); }

private:
    std::string name_, dir_;
    Process proc_;
};

/// A device connected to the broker with the credentials the API issued.
inline std::unique_ptr<mqtt::Client> connect_device(Stack& st, const std::string& id, const std::string& password) {
    auto o = st.broker().client_options(id);
    o.password = password;
    auto c = mqtt::make_client(o);
    c->start();
    REQUIRE_MESSAGE(c->wait_ready(10s), "the broker refused the credentials the API issued for " << id);
    return c;
}

/// A device connected (connect_device) that has said it is online (retained presence, boot 1).
inline std::unique_ptr<mqtt::Client> bring_online(Stack& st, const std::string& id, const std::string& password) {
    auto c = connect_device(st, id, password);
    c->publish({topics::presence(id), R"({"v":1,"online":true,"boot":1,"ts":1,"fw":"1.0"})", 1, true});
    return c;
}

/// Debits a session's cost the way billingd does (the ledger entry `settle:<sid>`, partial: the
/// wallet pays what it can); returns the entry's id.
inline std::int64_t debit_settlement(db::Database& d, const std::string& sid, std::int64_t account,
                                     std::int64_t cost_fen) {
    ledger::Ledger l(d);
    ledger::Debit debit;
    debit.account_id = account;
    debit.amount_fen = Fen(cost_fen);
    debit.kind = ledger::Kind::Charge;
    debit.meta = ledger::Meta{"settle:" + sid, sid, "billingd", ""};
    debit.partial = true;
    const auto posted = l.debit(debit);
    REQUIRE(posted.ok());
    REQUIRE(posted.entry.has_value());
    return posted.entry->id;
}

/// Writes a telemetry sample (as recorderd would) for a session's power curve.
inline void add_sample(const std::string& dir, const std::string& sid, EpochMs t, std::int64_t power_w,
                       std::int64_t energy_wh) {
    db::Database tele(dir + "/telemetry.db");
    db::Statement(tele, "INSERT INTO session_samples(session_id, t, power_w, energy_wh) VALUES (?, ?, ?, ?)")
        .bind_all(sid, t, power_w, energy_wh)
        .run();
}

/// Writes a device-level reading (as recorderd would): the operator's device page shows the latest.
inline void add_device_sample(const std::string& dir, const std::string& device_id, EpochMs t, std::int64_t temp_dc,
                              std::int64_t total_power_w, std::int64_t rssi_dbm) {
    db::Database tele(dir + "/telemetry.db");
    db::Statement(tele,
                  "INSERT INTO device_samples(device_id, t, temp_dc, total_power_w, rssi_dbm) VALUES (?, ?, ?, ?, ?)")
        .bind_all(device_id, t, temp_dc, total_power_w, rssi_dbm)
        .run();
}

/// True when every named program is built; otherwise says which one is not (the test then skips).
inline bool all_built(std::initializer_list<const char*> names) {
    for (const char* w : names)
        if (!Worker::built(w)) {
            MESSAGE("skipped: " << w << " is not built in " << PILEHUB_BINARY_DIR);
            return false;
        }
    return true;
}

/// pilehub-sim playing `<dir>/fleet.json` against the stack's broker at `speed`, its state in `<dir>/sim` and
/// its output in `<dir>/sim.log`; `extra` adds options (e.g. `--tele-period-s 2`).
inline Process spawn_sim(Stack& st, int speed, const std::vector<std::string>& extra = {}) {
    SpawnOptions so;
    so.output = st.dir() + "/sim.log";
    std::vector<std::string> argv{std::string(PILEHUB_BINARY_DIR) + "/workers/pilehub-sim/pilehub-sim",
                                  "--fleet",
                                  st.dir() + "/fleet.json",
                                  "--state-dir",
                                  st.dir() + "/sim",
                                  "--port",
                                  std::to_string(st.broker().port()),
                                  "--speed",
                                  std::to_string(speed)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return Process::spawn(argv, so);
}

} // namespace pilehub::test::api
