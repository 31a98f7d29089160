// Card authorisation (CardAuth) on its own with a stub pre-check, and through the worker: a swipe at a
// socket out of service (its area, property or provider disabled) is refused like an app start; a
// request id handled before is accepted again only for its own live session of the same card.
#include "tests/unit/sessiond/sessiond_fixture.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace pilehub::sessiond;
using pilehub::test::World;

namespace {

payloads::Message<payloads::EbikeAuthorize> swipe(World& w, const std::string& card, int n, const std::string& id) {
    auto e = w.env();
    e.id = id;
    e.rid = id;
    return {e, payloads::EbikeAuthorize{card, n}};
}

/// A CardAuth on the world's database whose pre-check answers `answer` and counts its calls.
struct Auth {
    World& w;
    std::variant<StartPlan, Refusal> answer;
    int calls = 0;
    Store store{*w.db};
    CardAuth auth{*w.db, store, w.clock, CardAuth::Options{30'000},
                  [this](std::int64_t, const sockets::SocketRef&, StartBy by, std::optional<ModeChoice> mode) {
                      ++calls;
                      CHECK(by == StartBy::Card);
                      CHECK_FALSE(mode.has_value());
                      return answer;
                  }};
    explicit Auth(World& world, std::variant<StartPlan, Refusal> a) : w(world), answer(std::move(a)) {}
};

StartPlan plan_for(World& w, int n) {
    StartPlan p;
    p.socket = *Store(*w.db).socket("P1", n);
    p.tariff_id = 1;
    p.mode = ModeChoice{billing::Mode::Power, std::nullopt};
    p.limit = payloads::ChargeLimit::full();
    p.available_fen = 1000;
    return p;
}

} // namespace

TEST_CASE("card auth: a refused pre-check is answered with its code and the wallet, and the id is handled") {
    World w;
    Auth a(w, Refusal{ErrorCode::BalanceTooLow, "too little", 150});
    const auto m = swipe(w, "CARD0001", 1, "auth-1");
    const auto ans = a.auth.decide("P1", m);
    CHECK(ans.reply.decision == payloads::Decision::Reject);
    CHECK(ans.reply.reason == ErrorCode::BalanceTooLow);
    CHECK(ans.reply.balance_fen == 150);
    CHECK_FALSE(ans.created.has_value());
    CHECK(a.store.processed({"P1", "auth-1"}));
    // Asked again (a restart forgot the reply): handled before, nothing to accept.
    const auto again = a.auth.decide("P1", m);
    CHECK(again.reply.reason == ErrorCode::Duplicate);
    CHECK(a.calls == 1);
}

TEST_CASE("card auth: unknown and lost cards are refused before the pre-check") {
    World w;
    Auth a(w, plan_for(w, 1));
    CHECK(a.auth.decide("P1", swipe(w, "NOSUCH", 1, "a-1")).reply.reason == ErrorCode::UnknownCard);
    CHECK(a.auth.decide("P1", swipe(w, "CARDLOST", 1, "a-2")).reply.reason == ErrorCode::CardLost);
    CHECK(a.calls == 0);
}

TEST_CASE("card auth: an accepted card creates its session; the very same request gets the very same reply text") {
    World w;
    Auth a(w, plan_for(w, 1));
    const auto m = swipe(w, "CARD0001", 1, "auth-1");
    CHECK_FALSE(a.auth.repeat("P1", m).has_value());
    const auto ans = a.auth.decide("P1", m);
    REQUIRE(ans.created.has_value());
    CHECK(ans.reply.decision == payloads::Decision::Accept);
    CHECK(ans.reply.sid == card_sid("P1", "auth-1"));
    CHECK(ans.created->id == card_sid("P1", "auth-1"));
    CHECK(ans.created->cmd_exp == w.clock.now_ms() + 30'000);
    CHECK(ans.reply.limit == payloads::ChargeLimit::full());
    a.auth.remember("P1", m, ans, "the reply text");
    CHECK(a.auth.repeat("P1", m) == "the reply text");
    // Another card with the same request id is not that request.
    CHECK_FALSE(a.auth.repeat("P1", swipe(w, "CARD0002", 1, "auth-1")).has_value());
    // Once the session has ended, the remembered answer no longer holds.
    db::Statement q(*w.db, "UPDATE sessions SET state = 'failed' WHERE id = ?1");
    q.bind(1, *ans.reply.sid).run();
    CHECK_FALSE(a.auth.repeat("P1", m).has_value());
    CHECK(a.auth.decide("P1", m).reply.reason == ErrorCode::Duplicate);
}

TEST_CASE("card auth: a swipe at a socket whose area, property or provider is disabled is refused like an app start") {
    struct Case {
        const char* what;
        const char* sql;
    };
    const Case cases[] = {
        {"area", "UPDATE areas SET enabled = 0"},
        {"property", "UPDATE properties SET enabled = 0"},
        {"provider", "UPDATE providers SET enabled = 0"},
        {"station", "UPDATE stations SET enabled = 0"},
        {"device", "UPDATE devices SET enabled = 0 WHERE id = 'P1'"},
        {"socket", "UPDATE sockets SET enabled = 0 WHERE device_id = 'P1'"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        World w;
        const auto now = w.clock.now_ms();
        // Provider → property → the station; the piles in an area of the station.
        db::Statement(*w.db, "INSERT INTO providers (id, operator_id, name, created_at) "
                             "SELECT 1, operator_id, 'Grid Co', 0 FROM stations LIMIT 1")
            .run();
        db::Statement(*w.db, "INSERT INTO properties (id, provider_id, name, created_at) VALUES (1, 1, 'Estate', 0)")
            .run();
        db::Statement(*w.db, "UPDATE stations SET property_id = 1").run();
        db::Statement a(*w.db, "INSERT INTO areas (id, station_id, name, created_at) VALUES (1, ?1, 'B1', ?2)");
        a.bind(1, w.station).bind(2, now).run();
        db::Statement(*w.db, "UPDATE devices SET area_id = 1").run();
        w.presence("P1", true, 1);
        // All enabled: both ways start.
        const auto ok = w.authorize("P1", 1, "CARD0001", "ok-1");
        REQUIRE(ok.has_value());
        REQUIRE(ok->decision == payloads::Decision::Accept);
        CHECK(w.rpc("start", fmt::format(R"({{"account_id":{},"socket":"P1-2","mode":"power"}})", w.rich2)).status ==
              "ok");

        db::Statement(*w.db, c.sql).run();
        const auto no = w.authorize("P1", 3, "CARD0001", "no-1");
        REQUIRE(no.has_value());
        CHECK(no->decision == payloads::Decision::Reject);
        CHECK(no->reason == ErrorCode::UnknownSocket);
        const auto app =
            w.rpc("start", fmt::format(R"({{"account_id":{},"socket":"P1-4","mode":"power"}})", w.frozen + 100));
        CHECK(app.code == "unknown_socket"); // checked before the account
        CHECK(w.count("SELECT count(*) FROM sessions") == 2);
    }
}

TEST_CASE("card auth: a request id handled before is not accepted against an ended session or for another card") {
    World w;
    w.presence("P1", true, 1);
    const auto first = w.authorize("P1", 1, "CARD0001", "auth-1");
    REQUIRE(first.has_value());
    REQUIRE(first->decision == payloads::Decision::Accept);
    const auto sid = *first->sid;

    // The same id with another card (a pile whose ids repeat after its boot counter was reset).
    db::Statement c(*w.db, "INSERT INTO cards (card_no, account_id, status, issued_at) VALUES ('CARD0002', ?1, "
                           "'active', 0)");
    c.bind(1, w.rich2).run();
    const auto other = w.authorize("P1", 1, "CARD0002", "auth-1");
    REQUIRE(other.has_value());
    CHECK(other->decision == payloads::Decision::Reject);
    CHECK(other->reason == ErrorCode::Duplicate);
    // The same card at another socket is not that request either.
    CHECK(w.authorize("P1", 2, "CARD0001", "auth-1")->reason == ErrorCode::Duplicate);

    // The session fails (the pile never started it); the id comes again, in memory and after a restart.
    w.clock.advance_ms(w.opts.card_start_timeout_ms + w.opts.reply_grace_ms);
    w.worker->tick();
    REQUIRE(w.state(sid) == State::Failed);
    const auto late = w.authorize("P1", 1, "CARD0001", "auth-1");
    REQUIRE(late.has_value());
    CHECK(late->decision == payloads::Decision::Reject);
    CHECK(late->reason == ErrorCode::Duplicate);
    w.restart_worker();
    w.presence("P1", true, 1);
    CHECK(w.authorize("P1", 1, "CARD0001", "auth-1")->reason == ErrorCode::Duplicate);
    CHECK(w.count("SELECT count(*) FROM sessions") == 1);
}

TEST_CASE("card auth: a live card session is found again by its request id after a restart") {
    World w;
    w.presence("P1", true, 1);
    const auto first = w.authorize("P1", 1, "CARD0001", "auth-1");
    REQUIRE(first.has_value());
    w.restart_worker();
    w.presence("P1", true, 1);
    const auto again = w.authorize("P1", 1, "CARD0001", "auth-1");
    REQUIRE(again.has_value());
    CHECK(again->decision == payloads::Decision::Accept);
    CHECK(again->sid == first->sid);
    CHECK(again->balance_fen == 1000);
}

TEST_CASE("card auth and app starts: a device in stock or retired starts nothing; the app is told "
          "device_not_installed, the pile unknown_socket (the device contract has no such code)") {
    World w;
    w.presence("P1", true, 1);
    w.presence("P2", true, 1);
    // P1 back in stock (no station), P2 retired where it stood.
    db::Statement(*w.db, "UPDATE devices SET lifecycle = 'stock', station_id = NULL, area_id = NULL WHERE id = 'P1'")
        .run();
    db::Statement(*w.db, "UPDATE devices SET lifecycle = 'retired', retired_at = 1 WHERE id = 'P2'").run();
    for (const char* dev : {"P1", "P2"}) {
        CAPTURE(dev);
        const auto app =
            w.rpc("start", fmt::format(R"({{"account_id":{},"socket":"{}-1","mode":"power"}})", w.rich, dev));
        CHECK(app.code == "device_not_installed");
        const auto card = w.authorize(dev, 2, "CARD0001", std::string("lc-") + dev);
        REQUIRE(card.has_value());
        CHECK(card->decision == payloads::Decision::Reject);
        CHECK(card->reason == ErrorCode::UnknownSocket);
    }
    CHECK(w.count("SELECT count(*) FROM sessions") == 0);
    // Installed again, it starts.
    db::Statement(*w.db, "UPDATE devices SET lifecycle = 'installed', station_id = ? WHERE id = 'P1'")
        .bind_all(w.station)
        .run();
    CHECK(w.rpc("start", fmt::format(R"({{"account_id":{},"socket":"P1-1","mode":"power"}})", w.rich)).status == "ok");
}
