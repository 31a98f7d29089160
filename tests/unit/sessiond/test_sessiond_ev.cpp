// sessiond with EV chargers (CONTRACT A.5 `ev_charger`, D.1): the same sessions, states and exactly-once
// rules as e-bike piles, in the charger's own messages. The worker on real SQLite with a fake MQTT client.
#include "tests/unit/sessiond/sessiond_fixture.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace pilehub::sessiond;
using pilehub::test::World;

namespace {

/// Energy mode with TOU (BILLING.md §1), as car stations price.
constexpr const char* kEvTariff = R"({
  "name": "Highway DC", "timezone": "Asia/Shanghai", "modes": ["energy"],
  "energy": {"periods": {"flat": {"elec_e4": 7000, "service_e4": 6000}},
             "slots": ["flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat",
                       "flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat",
                       "flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat",
                       "flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat","flat"],
             "service_by": "energy"},
  "min_start_balance_fen": 200, "stop_below_balance_fen": 0})";

/// The world plus a car station with charger EV1 (2 guns, online) and its energy tariff.
struct EvWorld : World {
    std::int64_t highway = 0;
    EvWorld() {
        const auto now = clock.now_ms();
        registry::Store reg(*db);
        registry::Station st;
        st.operator_id = reg.ensure_operator("op", now);
        st.name = "Highway";
        highway = reg.add_station(st, now);
        registry::Device d;
        d.id = "EV1";
        d.kind = registry::DeviceKind::EvCharger;
        d.station_id = highway;
        d.ports = 2;
        reg.add_device(d, "$7$unused", now);
        // A 120 kW DC charger: its rating bounds what a record may claim (check_record).
        db::Statement g(*db, "UPDATE guns SET max_power_w = 120000, current_type = 'dc' WHERE device_id = 'EV1'");
        g.run();
        db::Statement t(*db, "INSERT INTO tariffs (station_id, version, document, effective_from, created_at) "
                             "VALUES (?1, 1, ?2, 0, 0)");
        t.bind(1, highway).bind(2, kEvTariff).run();
        presence("EV1", true, 1);
        presence("P1", true, 1);
    }

    void gun(int n, payloads::EvGunStatus st, std::optional<std::string> sid = {}) {
        payloads::EvConnState s;
        s.st = st;
        s.sid = std::move(sid);
        s.since = clock.now_ms();
        deliver(topics::conn_state("EV1", n), payloads::encode(payloads::Message<payloads::EvConnState>{env(), s}),
                true);
    }
    /// An app session at gun `n` confirmed by the charger's start reply and evt/session_started.
    std::string ev_charging(std::int64_t account, int n, std::int64_t meter_start_wh) {
        const auto sid = start(account, fmt::format("EV1-{}", n), "energy");
        cmd_reply("EV1", "start_session", sid + ".start");
        payloads::EvSessionStarted s;
        s.n = n;
        s.sid = sid;
        s.id_tag = app_id_tag(account);
        s.meter_start_wh = meter_start_wh;
        s.start_ts = clock.now_ms();
        event("EV1", "session_started", s, "EV1-started-" + sid);
        REQUIRE(state(sid) == State::Charging);
        return sid;
    }
    /// A charger report through recorderd: meter register and SoC, no session energy.
    void ev_report(int n, const std::string& sid, std::int64_t register_wh, std::int64_t power_w, int soc) {
        svc::DeviceReport r;
        r.device_id = "EV1";
        r.device_ts = clock.now_ms();
        r.received_at = clock.now_ms();
        svc::ReportSocket s(n, sid, power_w);
        s.register_wh = register_wh;
        s.soc_pct = soc;
        s.ev_status = payloads::EvGunStatus::Charging;
        r.sockets = {s};
        r.total_power_w = power_w;
        deliver(topics::device_report("EV1"), svc::encode(r));
    }
    std::string ev_record(int n, const std::string& sid, const std::string& id, std::int64_t start_wh,
                          std::int64_t stop_wh, payloads::EvStopReason reason, EpochMs start_ts) {
        payloads::EvSessionRecord rec;
        rec.n = n;
        rec.sid = sid;
        rec.reason = reason;
        rec.meter_start_wh = start_wh;
        rec.meter_stop_wh = stop_wh;
        rec.start_ts = start_ts;
        rec.stop_ts = clock.now_ms();
        auto e = env();
        e.id = id;
        e.rid = id;
        deliver(topics::req("EV1", "session_record"),
                payloads::encode(payloads::Message<payloads::EvSessionRecord>{e, rec}));
        return last_reply_status("EV1", "session_record", id).value_or("none");
    }
    std::optional<payloads::AuthorizeReply> tag(int n, const std::string& id_tag, const std::string& id) {
        auto e = env();
        e.id = id;
        e.rid = id;
        deliver(topics::req("EV1", "authorize"),
                payloads::encode(payloads::Message<payloads::EvAuthorize>{e, payloads::EvAuthorize{id_tag, n}}));
        std::optional<payloads::AuthorizeReply> out;
        for (const auto& m : mq.on(topics::req_reply("EV1", "authorize"))) {
            auto r = payloads::decode<payloads::Reply<payloads::AuthorizeReply>>(m.payload);
            REQUIRE_MESSAGE(r.ok(), m.payload);
            if (r->env.rid == id && r->data.data)
                out = *r->data.data;
        }
        return out;
    }
    std::optional<payloads::EvStartSessionReply> start_at_charger(int n, const std::string& id_tag,
                                                                  std::int64_t meter_wh, const std::string& id) {
        auto e = env();
        e.id = id;
        e.rid = id;
        payloads::EvStartSessionReq q;
        q.n = n;
        q.id_tag = id_tag;
        q.meter_start_wh = meter_wh;
        deliver(topics::req("EV1", "start_session"),
                payloads::encode(payloads::Message<payloads::EvStartSessionReq>{e, q}));
        std::optional<payloads::EvStartSessionReply> out;
        for (const auto& m : mq.on(topics::req_reply("EV1", "start_session"))) {
            auto r = payloads::decode<payloads::Reply<payloads::EvStartSessionReply>>(m.payload);
            REQUIRE_MESSAGE(r.ok(), m.payload);
            if (r->env.rid == id && r->data.data)
                out = *r->data.data;
        }
        return out;
    }
};

} // namespace

TEST_CASE("sessiond EV: an app session at a gun is started with cmd/start_session and the account's id tag, "
          "carries the rider's max_fen, and takes its meter start from evt/session_started") {
    EvWorld w;
    const auto r =
        w.rpc("start", fmt::format(R"({{"account_id":{},"socket":"EV1-1","mode":"energy","max_fen":500}})", w.rich));
    REQUIRE_MESSAGE(r.status == "ok", r.payload);
    CHECK(r.data_json.find(R"("max_fen":500)") != std::string::npos);
    const auto out = w.mq.on(topics::cmd("EV1", "start_session"));
    REQUIRE(out.size() == 1);
    const auto cmd = payloads::decode<payloads::EvStartSessionCmd>(out[0].payload);
    REQUIRE_MESSAGE(cmd.ok(), out[0].payload);
    CHECK(cmd->data.n == 1);
    CHECK(cmd->data.id_tag == app_id_tag(w.rich));
    const auto sid = cmd->data.sid;
    CHECK(cmd->env.rid == sid + ".start");
    CHECK(w.row(sid).max_fen == 500);
    CHECK(w.mq.on(topics::cmd("EV1", "start_port")).empty()); // never the e-bike command

    w.cmd_reply("EV1", "start_session", sid + ".start");
    CHECK(w.state(sid) == State::Charging);
    payloads::EvSessionStarted s;
    s.n = 1;
    s.sid = sid;
    s.meter_start_wh = 1'000'000;
    s.start_ts = w.clock.now_ms();
    w.event("EV1", "session_started", s, "e-1");
    CHECK(w.row(sid).meter_start_wh == 1'000'000);
    // The transition carries max_fen for billingd and autostopd.
    const auto states = w.state_messages(sid);
    REQUIRE_FALSE(states.empty());
    const auto t = svc::decode<svc::SessionTransition>(states.back());
    REQUIRE(t.ok());
    CHECK(t->max_fen == Fen(500));
}

TEST_CASE("sessiond EV: reports with only the meter register give the session energy as its rise since the start, "
          "and the car's SoC") {
    EvWorld w;
    const auto sid = w.ev_charging(w.rich, 1, 500'000);
    w.clock.advance_ms(60'000);
    w.ev_report(1, sid, 501'200, 72'000, 35);
    w.worker->flush();
    CHECK(w.row(sid).energy_wh == 1'200);
    CHECK(w.row(sid).soc_pct == 35);
    CHECK(w.row(sid).max_power_w == 72'000);
}

TEST_CASE("sessiond EV: the record settles the session once with the meter's delta as its energy; the same record "
          "again changes nothing") {
    EvWorld w;
    const auto t0 = w.clock.now_ms();
    const auto sid = w.ev_charging(w.rich, 2, 2'000'000);
    w.clock.advance_ms(30 * 60'000);
    w.stop(sid);
    const auto stops = w.commands("EV1", "stop_session");
    REQUIRE(stops.size() == 1);
    CHECK(stops[0].rid == sid + ".stop");
    CHECK(w.ev_record(2, sid, "rec-1", 2'000'000, 2'021'500, payloads::EvStopReason::Remote, t0) == "ok");
    auto row = w.row(sid);
    CHECK(row.record_msg_id == "rec-1");
    CHECK(row.energy_wh == 21'500);
    CHECK(row.meter_start_wh == 2'000'000);
    CHECK(row.meter_stop_wh == 2'021'500);
    CHECK(row.duration_s == 30 * 60);
    CHECK(row.stop_reason == "remote_stop");
    const auto events = w.events(sid);
    // Resent after an outage: acknowledged again, nothing moves.
    CHECK(w.ev_record(2, sid, "rec-1", 2'000'000, 2'021'500, payloads::EvStopReason::Remote, t0) == "ok");
    CHECK(w.events(sid) == events);
    CHECK(w.row(sid).energy_wh == 21'500);
}

TEST_CASE("sessiond EV: the charger's OCPP stop reasons become the platform's; an auto-stop keeps its own reason") {
    EvWorld w;
    const auto t0 = w.clock.now_ms();
    const auto a = w.ev_charging(w.rich, 1, 100);
    CHECK(w.ev_record(1, a, "ra", 100, 600, payloads::EvStopReason::EvDisconnected, t0) == "ok");
    CHECK(w.row(a).stop_reason == "unplugged");
    const auto b = w.ev_charging(w.rich2, 2, 100);
    w.stop(b, "unplugged", "autostopd");
    CHECK(w.ev_record(2, b, "rb", 100, 300, payloads::EvStopReason::Remote, t0) == "ok");
    CHECK(w.row(b).stop_reason == "unplugged");
}

TEST_CASE("sessiond EV: a charger dropping mid-session suspends it; back with its record it is settled once") {
    EvWorld w;
    const auto t0 = w.clock.now_ms();
    const auto sid = w.ev_charging(w.rich, 1, 10'000);
    w.ev_report(1, sid, 14'000, 7'000, 0);
    w.presence("EV1", false, 1, "lwt");
    CHECK(w.state(sid) == State::Suspended);
    w.clock.advance_ms(600'000);
    w.presence("EV1", true, 2);
    CHECK(w.ev_record(1, sid, "rec-out", 10'000, 15'000, payloads::EvStopReason::PowerLoss, t0) == "ok");
    CHECK(w.state(sid) == State::Settling);
    CHECK(w.row(sid).energy_wh == 5'000);
    CHECK(w.row(sid).stop_reason == "power_loss");
    CHECK(w.ev_record(1, sid, "rec-out", 10'000, 15'000, payloads::EvStopReason::PowerLoss, t0) == "ok");
    CHECK(w.events(sid, "to_state = 'settling'") == 1);
}

TEST_CASE("sessiond EV: an id tag is authorised without creating anything; an unknown or lost tag is rejected") {
    EvWorld w;
    w.gun(1, payloads::EvGunStatus::Available);
    const auto ok = w.tag(1, "CARD0001", "a-1");
    REQUIRE(ok.has_value());
    CHECK(ok->decision == payloads::Decision::Accept);
    CHECK(ok->balance_fen == 1000);
    CHECK_FALSE(ok->sid.has_value());
    CHECK(w.count("SELECT count(*) FROM sessions") == 0);
    const auto unknown = w.tag(1, "NOSUCHCARD", "a-2");
    REQUIRE(unknown.has_value());
    CHECK(unknown->decision == payloads::Decision::Reject);
    CHECK(unknown->reason == ErrorCode::UnknownCard);
    const auto lost = w.tag(1, "CARDLOST", "a-3");
    REQUIRE(lost.has_value());
    CHECK(lost->reason == ErrorCode::CardLost);
}

TEST_CASE("sessiond EV: req/start_session creates a card session of the card's account, charging from the charger's "
          "start, once per request id") {
    EvWorld w;
    w.gun(2, payloads::EvGunStatus::Charging); // the charger already runs it
    const auto r = w.start_at_charger(2, "CARD0001", 77'000, "ss-1");
    REQUIRE(r.has_value());
    REQUIRE(r->decision == payloads::Decision::Accept);
    REQUIRE(r->sid.has_value());
    const auto row = w.row(*r->sid);
    CHECK(row.method == "card");
    CHECK(row.card_no == "CARD0001");
    CHECK(row.account_id == w.rich);
    CHECK(row.state == State::Charging);
    CHECK(row.meter_start_wh == 77'000);
    CHECK(row.mode == "energy");
    // The same request again (QoS 1, an outage): the same session, nothing new.
    const auto again = w.start_at_charger(2, "CARD0001", 77'000, "ss-1");
    REQUIRE(again.has_value());
    CHECK(again->sid == r->sid);
    CHECK(w.count("SELECT count(*) FROM sessions") == 1);
    // An unknown tag is refused and nothing is created.
    const auto bad = w.start_at_charger(1, "NOSUCHCARD", 5, "ss-2");
    REQUIRE(bad.has_value());
    CHECK(bad->decision == payloads::Decision::Reject);
    CHECK(bad->reason == ErrorCode::UnknownCard);
    CHECK_FALSE(bad->sid.has_value());
}

TEST_CASE("sessiond EV: a charger that reports our app start as req/start_session (the OCPP way: StartTransaction "
          "with the id tag we sent) gets that session back, started, and no card session is made") {
    EvWorld w;
    const auto sid = w.start(w.rich, "EV1-2", "energy");
    const auto r = w.start_at_charger(2, app_id_tag(w.rich), 55'000, "st-1");
    REQUIRE(r.has_value());
    CHECK(r->decision == payloads::Decision::Accept);
    CHECK(r->sid == sid);
    CHECK(w.state(sid) == State::Charging);
    CHECK(w.row(sid).meter_start_wh == 55'000);
    CHECK(w.count("SELECT count(*) FROM sessions") == 1);
    // Sent again (QoS 1): the same answer, nothing new.
    const auto again = w.start_at_charger(2, app_id_tag(w.rich), 55'000, "st-1");
    REQUIRE(again.has_value());
    CHECK(again->sid == sid);
    CHECK(w.count("SELECT count(*) FROM sessions") == 1);
    // Another account's tag on that gun is not this session: a card start, refused (the gun is taken).
    const auto other = w.start_at_charger(2, "CARD0001", 55'000, "st-2");
    REQUIRE(other.has_value());
    CHECK(other->decision == payloads::Decision::Reject);
}

TEST_CASE("sessiond EV: one app and one card session per account hold across e-bikes and cars") {
    EvWorld w;
    w.charging(w.rich, "P1-1"); // an app session on an e-bike
    const auto r = w.rpc("start", fmt::format(R"({{"account_id":{},"socket":"EV1-1","mode":"energy"}})", w.rich));
    CHECK(r.code == "session_limit");
    // A card session at the charger is the account's card session: allowed beside the app session...
    const auto card = w.start_at_charger(1, "CARD0001", 0, "ss-1");
    REQUIRE(card.has_value());
    CHECK(card->decision == payloads::Decision::Accept);
    // ...but not a second one, at a pile or a charger.
    const auto swipe = w.authorize("P1", 2, "CARD0001", "sw-1");
    REQUIRE(swipe.has_value());
    CHECK(swipe->reason == ErrorCode::SessionLimit);
    const auto second = w.start_at_charger(2, "CARD0001", 0, "ss-2");
    REQUIRE(second.has_value());
    CHECK(second->reason == ErrorCode::SessionLimit);
}

TEST_CASE("sessiond EV: gun states drive the session like socket states: preparing waits, finishing ends it") {
    EvWorld w;
    const auto sid = w.start(w.rich, "EV1-1", "energy");
    w.gun(1, payloads::EvGunStatus::Preparing);
    CHECK(w.state(sid) == State::Starting);
    w.gun(1, payloads::EvGunStatus::Charging, sid);
    CHECK(w.state(sid) == State::Charging);
    w.gun(1, payloads::EvGunStatus::SuspendedEv, sid);
    CHECK(w.state(sid) == State::Charging);
    w.gun(1, payloads::EvGunStatus::Finishing);
    CHECK(w.state(sid) == State::Stopping);
}

TEST_CASE("sessiond EV: a record beyond the gun's rated power over the time it ran is clamped and flagged") {
    EvWorld w;
    const auto t0 = w.clock.now_ms();
    const auto sid = w.ev_charging(w.rich, 1, 0);
    w.ev_report(1, sid, 9'000, 120'000, 50);
    w.clock.advance_ms(10 * 60'000);
    // 500 kWh in ten minutes is 3 MW: a meter fault, not a bill.
    CHECK(w.ev_record(1, sid, "rec-x", 0, 500'000, payloads::EvStopReason::Local, t0) == "ok");
    const auto row = w.row(sid);
    CHECK(row.energy_wh == 9'000);
    CHECK(row.meter_stop_wh == 9'000);
    CHECK(row.stop_reason == "user_stop");
    REQUIRE(w.incidents(sid).size() == 1);
    CHECK(w.incidents(sid)[0].kind == "record_clamped");
}

TEST_CASE("sessiond EV: a start at a faulted or busy gun is refused with the e-bike codes") {
    EvWorld w;
    w.gun(1, payloads::EvGunStatus::Faulted);
    CHECK(w.rpc("start", fmt::format(R"({{"account_id":{},"socket":"EV1-1","mode":"energy"}})", w.rich)).code ==
          "socket_faulted");
    w.gun(2, payloads::EvGunStatus::Charging, "someone-else");
    CHECK(w.rpc("start", fmt::format(R"({{"account_id":{},"socket":"EV1-2","mode":"energy"}})", w.rich)).code ==
          "socket_busy");
    CHECK(w.rpc("start", fmt::format(R"({{"account_id":{},"socket":"EV1-3","mode":"energy"}})", w.rich)).code ==
          "unknown_socket");
}

TEST_CASE("sessiond EV: an operator commissions a gun for a set time; the charger's StartTransaction with the "
          "session's id tag is that session") {
    EvWorld w;
    w.gun(1, payloads::EvGunStatus::Available);
    const auto r =
        w.rpc("start", R"({"socket":"EV1-1","mode":"time","minutes":15,"method":"operator","operator":"ann"})");
    REQUIRE_MESSAGE(r.status == "ok", r.payload);
    const auto sid = svc::decode<svc::StartReply>(r.data_json).value().session.id;
    const auto cmds = w.mq.on(topics::cmd("EV1", "start_session"));
    REQUIRE(cmds.size() == 1);
    const auto cmd = payloads::decode<payloads::EvStartSessionCmd>(cmds[0].payload);
    REQUIRE_MESSAGE(cmd.ok(), cmds[0].payload);
    CHECK(cmd->data.limit == payloads::ChargeLimit::time(15));
    const auto reply = w.start_at_charger(1, cmd->data.id_tag, 1000, "EV1-st-1");
    REQUIRE(reply.has_value());
    CHECK(reply->decision == payloads::Decision::Accept);
    CHECK(reply->sid == sid);
    CHECK(w.state(sid) == State::Charging);
    CHECK(w.row(sid).method == "operator");
    CHECK(w.count("SELECT count(*) FROM sessions") == 1); // never a second (card) session
}
