#pragma once
// sessiond's worker without a broker: a fake MQTT client that records what is published and lets
// the test deliver what arrives, a ManualClock, and a real migrated SQLite database in a private
// temporary directory with a station, two piles, a tariff, accounts and cards.
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/json.hpp"
#include "common/ledger.hpp"
#include "common/mqtt.hpp"
#include "common/payloads.hpp"
#include "common/registry.hpp"
#include "common/rpc.hpp"
#include "common/svc.hpp"
#include "common/topics.hpp"
#include "workers/sessiond/sessiond_store.hpp"
#include "workers/sessiond/sessiond_worker.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace pilehub::test {

/// Time and power modes, 60/120 minute options, 200 fen to start (BILLING.md §1 without energy).
inline constexpr const char* kSessiondTariff = R"({
  "name": "Residential e-bike", "timezone": "Asia/Shanghai", "modes": ["time", "power"],
  "time":  {"fen_per_hour": 100, "options_minutes": [60, 120]},
  "power": {"tiers": [{"up_to_w": 300, "fen_per_hour": 30}, {"up_to_w": 1000, "fen_per_hour": 57}],
            "ignore_first_s": 60},
  "free_minutes": 5, "cap": {"max_minutes": 720, "max_fen": 1000},
  "min_start_balance_fen": 200, "stop_below_balance_fen": 0})";

/// Records what the worker publishes; the test delivers inbound messages itself.
class FakeMqtt final : public mqtt::Client {
public:
    void subscribe(const std::string& filter, int) override { subscriptions.push_back(filter); }
    void on_message(mqtt::MessageHandler h) override { handler = std::move(h); }
    void on_connect(mqtt::ConnectHandler h) override { connect_handler = std::move(h); }
    void on_lost(mqtt::LostHandler) override {}
    void start() override {}
    bool wait_ready(std::chrono::milliseconds) override { return true; }
    bool publish(const mqtt::Message& m) override {
        std::lock_guard l(mu);
        out.push_back(m);
        return true;
    }
    void stop(const std::optional<mqtt::Message>&) override {}
    void kill_connection() override {}
    bool connected() const override { return true; }
    mqtt::Stats stats() const override { return {}; }
    const std::string& client_id() const override { return id; }

    /// Everything published on exactly `topic`, in order.
    std::vector<mqtt::Message> on(const std::string& topic) const {
        std::lock_guard l(mu);
        std::vector<mqtt::Message> r;
        for (const auto& m : out)
            if (m.topic == topic)
                r.push_back(m);
        return r;
    }
    /// Everything published on topics matching `filter`.
    std::vector<mqtt::Message> matching(const std::string& filter) const {
        std::lock_guard l(mu);
        std::vector<mqtt::Message> r;
        for (const auto& m : out)
            if (topics::matches(filter, m.topic))
                r.push_back(m);
        return r;
    }
    void clear() {
        std::lock_guard l(mu);
        out.clear();
    }

    std::string id = "svc.sessiond";
    std::vector<std::string> subscriptions;
    mqtt::MessageHandler handler;
    mqtt::ConnectHandler connect_handler;
    mutable std::mutex mu;
    std::vector<mqtt::Message> out;
};

/// A private temporary directory, removed at the end unless PILEHUB_KEEP_TEST_DIRS=1.
class SessiondDir {
public:
    SessiondDir() {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path() /
                fmt::format("pilehub-sessiond-{}-{}", ::getpid(), counter.fetch_add(1));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~SessiondDir() {
        const char* keep = std::getenv("PILEHUB_KEEP_TEST_DIRS");
        if (!keep || std::string(keep) != "1") {
            std::error_code ec;
            std::filesystem::remove_all(path_, ec);
        }
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

/// A reply read back from the fake broker.
struct SeenReply {
    std::string status;
    std::string code;
    std::string data_json;
    std::string payload;
};

/// The whole world of one worker test. Devices P1 and P2 (10 sockets each) at one station with
/// kSessiondTariff; accounts: rich (1000 fen, card CARD0001), rich2 (1000 fen), frozen (1000 fen,
/// frozen), poor (100 fen), lost (card CARDLOST reported lost).
struct World {
    SessiondDir dir;
    ManualClock clock;
    std::unique_ptr<db::Database> db;
    FakeMqtt mq;
    sessiond::Options opts;
    std::unique_ptr<sessiond::Worker> worker;
    std::int64_t station = 0;
    std::int64_t rich = 0, rich2 = 0, frozen = 0, poor = 0, lost = 0;
    int rid_counter = 0;
    std::int64_t seq = 0;

    World() {
        db::Database::Options o;
        o.sync = db::Sync::Full;
        db = std::make_unique<db::Database>(dir.file("pilehub.db"), o);
        db::migrate(*db, db::core_migrations());
        seed();
        start_worker();
    }

    void seed() {
        const auto now = clock.now_ms();
        registry::Store reg(*db);
        const auto op = reg.ensure_operator("op", now);
        registry::Station st;
        st.operator_id = op;
        st.name = "Garden";
        station = reg.add_station(st, now);
        for (const auto* id : {"P1", "P2"}) {
            registry::Device d;
            d.id = id;
            d.station_id = station;
            d.ports = 10;
            reg.add_device(d, "$7$unused", now);
        }
        db::Statement t(*db, "INSERT INTO tariffs (station_id, version, document, effective_from, created_at) "
                             "VALUES (?1, 1, ?2, 0, 0)");
        t.bind(1, station).bind(2, kSessiondTariff).run();
        ledger::Ledger l(*db, clock);
        auto account = [&](const char* phone, std::int64_t fen) {
            const auto a = l.open_account({phone, "", std::nullopt, ledger::DebitOrder::RealFirst}).account_id;
            ledger::Credit c;
            c.account_id = a;
            c.real_fen = Fen(fen);
            c.meta.idempotency_key = std::string("seed:") + phone;
            REQUIRE(l.credit(c).ok());
            return a;
        };
        rich = account("13800000001", 1000);
        rich2 = account("13800000002", 1000);
        frozen = account("13800000003", 1000);
        poor = account("13800000004", 100);
        lost = account("13800000005", 1000);
        REQUIRE(l.set_frozen(frozen, true) == ledger::Outcome::Applied);
        db::Statement c(*db, "INSERT INTO cards (card_no, account_id, status, issued_at) VALUES (?1, ?2, ?3, 0)");
        c.bind_all(std::string("CARD0001"), rich, std::string("active"));
        c.run();
        c.reset();
        c.bind_all(std::string("CARDLOST"), lost, std::string("lost"));
        c.run();
    }

    void start_worker() {
        worker = std::make_unique<sessiond::Worker>(*db, mq, clock, opts);
        worker->attach();
        worker->resume();
        worker->on_connected();
    }
    /// Drops the worker (as kill -9 would) and starts a new one on the same database.
    void restart_worker() {
        worker.reset();
        mq.handler = nullptr;
        mq.connect_handler = nullptr;
        start_worker();
    }

    void deliver(const std::string& topic, const std::string& payload, bool retained = false) {
        worker->on_message({topic, payload, 1, retained, false});
    }
    payloads::Envelope env() { return payloads::make_envelope(clock.now_ms(), 1, ++seq); }

    void presence(const std::string& dev, bool online, std::int64_t boot, const std::string& reason = "") {
        payloads::Presence p;
        p.online = online;
        p.boot = boot;
        if (!reason.empty())
            p.reason = reason;
        deliver(topics::presence(dev), payloads::encode_presence(p), true);
    }
    void conn(const std::string& dev, int n, payloads::EbikeSocketStatus st, std::optional<std::string> sid = {},
              std::vector<std::string> faults = {}) {
        payloads::EbikeConnState s;
        s.st = st;
        s.sid = std::move(sid);
        s.since = clock.now_ms();
        s.faults = std::move(faults);
        deliver(topics::conn_state(dev, n), payloads::encode(payloads::Message<payloads::EbikeConnState>{env(), s}),
                true);
    }

    /// Calls an rpc method as the API would and returns the published answer.
    SeenReply rpc(const std::string& method, const std::string& data_json) {
        const auto rid = fmt::format("t-{}", ++rid_counter);
        const auto text = fmt::format(R"({{"v":1,"rid":"{}","from":"svc.test","reply_to":"{}","exp":{},"data":{}}})",
                                      rid, topics::rpc_reply("svc.test"), clock.now_ms() + 5000, data_json);
        deliver(topics::rpc("sessiond", method), text);
        return reply_for(rid).value_or(SeenReply{"none", "", "{}", ""});
    }
    std::optional<SeenReply> reply_for(const std::string& rid) const {
        for (const auto& m : mq.on(topics::rpc_reply("svc.test"))) {
            auto doc = json::parse(m.payload);
            REQUIRE(doc.ok());
            std::string err;
            auto o = json::Object::root(*doc, &err);
            if (o.req_str("rid", 64) != rid)
                continue;
            SeenReply r;
            r.status = o.req_str("status", 32);
            r.code = o.opt_str("code", 64).value_or("");
            r.payload = m.payload;
            if (const auto* d = o.raw("data")) {
                json::Writer w;
                w.raw_value(*d);
                r.data_json = w.str();
            }
            return r;
        }
        return std::nullopt;
    }

    /// Starts an app session; returns its id (REQUIREs success).
    std::string start(std::int64_t account, const std::string& socket, const std::string& mode = "power",
                      std::optional<int> minutes = std::nullopt) {
        const auto r = rpc("start", fmt::format(R"({{"account_id":{},"socket":"{}","mode":"{}"{}}})", account, socket,
                                                mode, minutes ? fmt::format(R"(,"minutes":{})", *minutes) : ""));
        REQUIRE_MESSAGE(r.status == "ok", r.payload);
        const auto key = std::string(R"("id":")");
        const auto p = r.data_json.find(key);
        REQUIRE(p != std::string::npos);
        const auto e = r.data_json.find('"', p + key.size());
        return r.data_json.substr(p + key.size(), e - p - key.size());
    }

    /// Starts an app session and lets the pile confirm it (start_port ok); returns its id.
    std::string charging(std::int64_t account, const std::string& socket, const std::string& mode = "power",
                         std::optional<int> minutes = std::nullopt) {
        const auto sid = start(account, socket, mode, minutes);
        const auto ref = sockets::parse_socket_code(socket);
        REQUIRE(ref.has_value());
        cmd_reply(ref->device_id, "start_port", sid + ".start");
        REQUIRE(state(sid) == sessiond::State::Charging);
        return sid;
    }
    /// recorderd's report of the pile's telemetry for one running session (power rounded as
    /// recorderd rounds it).
    void report(const std::string& dev, int n, const std::string& sid, std::int64_t energy_wh, double power_w) {
        svc::DeviceReport r;
        r.device_id = dev;
        r.device_ts = clock.now_ms();
        r.received_at = clock.now_ms();
        r.sockets = {{n, sid, static_cast<std::int64_t>(std::llround(power_w)), energy_wh}};
        r.total_power_w = r.sockets[0].power_w;
        deliver(topics::device_report(dev), svc::encode(r));
    }
    /// A stop over rpc as the API (rider) or autostopd sends it.
    SeenReply stop(const std::string& sid, const std::string& reason = "user_stop",
                   const std::string& actor = "rider") {
        return rpc("stop", fmt::format(R"({{"session_id":"{}","reason":"{}","actor":"{}"}})", sid, reason, actor));
    }
    /// The first column of the first row of `sql`, an integer (counts).
    std::int64_t count(const std::string& sql) {
        db::Statement q(*db, sql);
        REQUIRE(q.step());
        return q.int64(0);
    }
    /// The session's incidents.
    std::vector<sessiond::Incident> incidents(const std::string& sid) { return sessiond::Store(*db).incidents(sid); }

    /// The commands published to `dev` named `name`, decoded as envelopes.
    std::vector<payloads::Envelope> commands(const std::string& dev, const std::string& name) const {
        std::vector<payloads::Envelope> r;
        for (const auto& m : mq.on(topics::cmd(dev, name))) {
            auto e = payloads::peek_envelope(m.payload);
            REQUIRE(e.ok());
            r.push_back(*e);
        }
        return r;
    }

    /// The device's answer to a command.
    void cmd_reply(const std::string& dev, const std::string& name, const std::string& rid,
                   payloads::ReplyStatus status = payloads::ReplyStatus::Ok, std::optional<ErrorCode> code = {},
                   const std::string& data_json = "") {
        payloads::Message<payloads::Reply<payloads::Empty>> r;
        r.env = env();
        r.env.rid = rid;
        r.data.status = status;
        r.data.code = code;
        auto text = payloads::encode(r);
        if (!data_json.empty()) {
            text.pop_back();
            text += R"(,"data":)" + data_json + "}";
        }
        deliver(topics::cmd_reply(dev, name), text);
    }

    template <typename T> void event(const std::string& dev, const std::string& type, const T& data, std::string id) {
        auto e = env();
        e.id = std::move(id);
        deliver(topics::evt(dev, type), payloads::encode(payloads::Message<T>{e, data}));
    }

    /// The pile's evt/session_stopped for `sid` (reason remote_stop) with message id `id`.
    void session_stopped(const std::string& dev, int n, const std::string& sid, std::int64_t energy_wh,
                         const std::string& id) {
        payloads::EbikeSessionStopped stopped;
        stopped.n = n;
        stopped.sid = sid;
        stopped.reason = payloads::EbikeStopReason::RemoteStop;
        stopped.energy_wh = energy_wh;
        event(dev, "session_stopped", stopped, id);
    }

    /// Sends the pile's session record with message id `id`; returns the reply status seen for it.
    std::string record(const std::string& dev, int n, const std::string& sid, const std::string& id,
                       std::int64_t energy_wh = 120, std::int64_t duration_s = 600,
                       payloads::EbikeStopReason reason = payloads::EbikeStopReason::RemoteStop) {
        payloads::EbikeSessionRecord rec;
        rec.n = n;
        rec.sid = sid;
        rec.reason = reason;
        rec.energy_wh = energy_wh;
        rec.duration_s = duration_s;
        rec.max_power_w = 180;
        rec.start_ts = clock.now_ms() - duration_s * 1000;
        rec.stop_ts = clock.now_ms();
        auto e = env();
        e.id = id;
        e.rid = id;
        deliver(topics::req(dev, "session_record"),
                payloads::encode(payloads::Message<payloads::EbikeSessionRecord>{e, rec}));
        return last_reply_status(dev, "session_record", id).value_or("none");
    }

    /// Sends a card authorisation; returns the decoded answer.
    std::optional<payloads::AuthorizeReply> authorize(const std::string& dev, int n, const std::string& card,
                                                      const std::string& id) {
        auto e = env();
        e.id = id;
        e.rid = id;
        deliver(topics::req(dev, "authorize"),
                payloads::encode(payloads::Message<payloads::EbikeAuthorize>{e, payloads::EbikeAuthorize{card, n}}));
        std::optional<payloads::AuthorizeReply> out;
        for (const auto& m : mq.on(topics::req_reply(dev, "authorize"))) {
            auto r = payloads::decode<payloads::Reply<payloads::AuthorizeReply>>(m.payload);
            REQUIRE_MESSAGE(r.ok(), m.payload);
            if (r->env.rid == id && r->data.data)
                out = *r->data.data;
        }
        return out;
    }

    /// The status of the latest `req-reply/{name}` to request `rid`.
    std::optional<std::string> last_reply_status(const std::string& dev, const std::string& name,
                                                 const std::string& rid) const {
        std::optional<std::string> s;
        for (const auto& m : mq.on(topics::req_reply(dev, name))) {
            auto r = payloads::decode<payloads::Reply<payloads::Empty>>(m.payload);
            if (r.ok() && r->env.rid == rid)
                s = std::string(payloads::to_string(r->data.status));
        }
        return s;
    }
    int replies_to(const std::string& dev, const std::string& name, const std::string& rid) const {
        int n = 0;
        for (const auto& m : mq.on(topics::req_reply(dev, name)))
            if (auto e = payloads::peek_envelope(m.payload); e.ok() && e->rid == rid)
                ++n;
        return n;
    }

    sessiond::SessionRow row(const std::string& sid) {
        sessiond::Store s(*db);
        auto r = s.session(sid);
        REQUIRE(r.has_value());
        return *r;
    }
    sessiond::State state(const std::string& sid) { return row(sid).state; }
    /// How many session_events rows match `where` (SQL over session_id = ?1).
    std::int64_t events(const std::string& sid, const std::string& where = "1") {
        db::Statement q(*db, "SELECT count(*) FROM session_events WHERE session_id = ?1 AND (" + where + ")");
        q.bind(1, sid);
        q.step();
        return q.int64(0);
    }
    /// The session_state messages published for `sid`.
    std::vector<std::string> state_messages(const std::string& sid) const {
        std::vector<std::string> r;
        for (const auto& m : mq.on(topics::session_state(sid)))
            r.push_back(m.payload);
        return r;
    }
};

} // namespace pilehub::test
