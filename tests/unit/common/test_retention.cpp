// Retention (common/retention.hpp): which rows go after how long, by kind; the purge deletes exactly
// those, a batch at a time, only its own consumer's de-duplication records, and never money.
#include "common/db.hpp"
#include "common/retention.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

using namespace pilehub;
using retention::Kind;

namespace {

constexpr std::int64_t kDay = 86'400'000;
constexpr EpochMs kNow = 1'800'000'000'000;

std::string temp_db(const char* name) {
    const auto p = std::filesystem::temp_directory_path() / fmt::format("pilehub-retention-{}-{}.db", name, ::getpid());
    for (const auto* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(p.string() + suffix);
    return p.string();
}

std::int64_t count(db::Database& d, const std::string& sql) {
    db::Statement q(d, sql);
    REQUIRE(q.step());
    return q.int64(0);
}

} // namespace

TEST_CASE("retention: a row is purged when it is older than its kind's keep days (default telemetry 180, dedup 30)") {
    const retention::Policy p; // the defaults
    struct Row {
        Kind kind;
        std::int64_t age_ms;
        bool purged;
    };
    const Row rows[] = {
        {Kind::SessionSamples, 0, false},
        {Kind::SessionSamples, 179 * kDay, false},
        {Kind::SessionSamples, 180 * kDay, false}, // exactly the keep days: kept
        {Kind::SessionSamples, 180 * kDay + 1, true},
        {Kind::DeviceSamples, 31 * kDay, false},
        {Kind::DeviceSamples, 400 * kDay, true},
        {Kind::DeviceEvents, 100 * kDay, false},
        {Kind::DeviceEvents, 181 * kDay, true},
        {Kind::ProcessedMessages, 29 * kDay, false},
        {Kind::ProcessedMessages, 30 * kDay, false},
        {Kind::ProcessedMessages, 30 * kDay + 1, true},
        {Kind::ProcessedMessages, 100 * kDay, true},
        {Kind::ProcessedMessages, -kDay, false}, // from the future (a skewed clock): kept
    };
    for (const auto& r : rows) {
        CAPTURE(retention::to_string(r.kind));
        CAPTURE(r.age_ms);
        CHECK(retention::purged(r.kind, r.age_ms, p) == r.purged);
    }
    const retention::Policy shorter{.telemetry_days = 7, .dedup_days = 1};
    CHECK(retention::purged(Kind::SessionSamples, 8 * kDay, shorter));
    CHECK_FALSE(retention::purged(Kind::SessionSamples, 6 * kDay, shorter));
    CHECK(retention::purged(Kind::ProcessedMessages, 2 * kDay, shorter));
}

TEST_CASE("retention: money tables are never a purge target") {
    for (const auto* t : {"ledger", "wallets", "settlements", "payments", "refunds", "refund_parts", "sessions"})
        CHECK_MESSAGE(retention::is_money_table(t), t);
    for (const auto k : {Kind::SessionSamples, Kind::DeviceSamples, Kind::DeviceEvents, Kind::ProcessedMessages})
        CHECK_FALSE(retention::is_money_table(retention::table_of(k)));
    CHECK_FALSE(retention::is_money_table("processed_messages"));
    db::Database d(temp_db("targets"));
    // processed_messages only per consumer, and a consumer only for it
    CHECK_THROWS(retention::Purger(d, {{Kind::ProcessedMessages, ""}}, {}));
    CHECK_THROWS(retention::Purger(d, {{Kind::SessionSamples, "recorderd"}}, {}));
}

TEST_CASE("retention: the purge removes exactly the old rows of its targets, in batches, and no ledger row") {
    db::Database tele(temp_db("tele"));
    db::migrate(tele, db::telemetry_migrations());
    db::Database core(temp_db("core"));
    db::migrate(core, db::core_migrations());
    // 10 old and 3 recent rows of each kind; old processed_messages of two consumers; an old ledger row.
    for (int i = 0; i < 13; ++i) {
        const EpochMs t = i < 10 ? kNow - 200 * kDay - i : kNow - kDay - i;
        db::Statement(tele, "INSERT INTO session_samples (session_id, t, power_w, energy_wh) VALUES ('S1', ?1, 1, 1)")
            .bind(1, t)
            .run();
        db::Statement(tele, "INSERT INTO device_samples (device_id, t) VALUES ('P1', ?1)").bind(1, t).run();
        db::Statement(tele, "INSERT INTO device_events (device_id, msg_id, type, at, payload) VALUES ('P1', ?1, 'x', "
                            "?2, '{}')")
            .bind(1, fmt::format("m{}", i))
            .bind(2, t)
            .run();
        const EpochMs seen = i < 10 ? kNow - 40 * kDay : kNow - kDay;
        for (const auto* consumer : {"recorderd", "parkingd"})
            db::Statement(core, "INSERT INTO processed_messages (consumer, device_id, msg_id, processed_at) VALUES "
                                "(?1, 'P1', ?2, ?3)")
                .bind(1, consumer)
                .bind(2, fmt::format("m{}", i))
                .bind(3, seen)
                .run();
    }
    core.exec("INSERT INTO accounts (id, phone, created_at) VALUES (1, '13800000000', 0)");
    core.exec("INSERT INTO ledger (account_id, kind, real_fen, bonus_fen, real_after, bonus_after, at, "
              "idempotency_key) VALUES (1, 'recharge', 100, 0, 100, 0, 0, 'old')"); // years old
    const auto ledger_rows = count(core, "SELECT count(*) FROM ledger");
    REQUIRE(ledger_rows == 1);

    retention::Purger::Options o;
    o.batch_rows = 4;
    o.max_batches = 2;
    o.period_ms = 3'600'000;
    o.first_delay_ms = 0;
    retention::Purger tp(tele, {{Kind::SessionSamples, ""}, {Kind::DeviceSamples, ""}, {Kind::DeviceEvents, ""}}, {},
                         o);
    retention::Purger cp(core, {{Kind::ProcessedMessages, "recorderd"}}, {}, o);

    // A tick removes at most max_batches × batch_rows per target, and comes back at once while more is left.
    CHECK(tp.tick(kNow) == 3 * 8);
    CHECK(tp.next_at() == kNow);
    CHECK(count(tele, "SELECT count(*) FROM session_samples") == 13 - 8);
    CHECK(tp.tick(kNow) == 3 * 2);
    CHECK(tp.next_at() == kNow + o.period_ms); // all done: the next purge in an hour
    CHECK(tp.tick(kNow + 1) == 0);             // not due
    for (const auto* table : {"session_samples", "device_samples", "device_events"}) {
        CAPTURE(table);
        CHECK(count(tele, fmt::format("SELECT count(*) FROM {}", table)) == 3);
    }
    CHECK(count(tele, "SELECT count(*) FROM device_events WHERE at < " + std::to_string(kNow - 180 * kDay)) == 0);

    retention::Purger::Options later = o;
    later.first_delay_ms = 60'000;
    retention::Purger waits(core, {{Kind::ProcessedMessages, "recorderd"}}, {}, later);
    CHECK(waits.tick(kNow) == 0); // the first tick after a start only schedules
    CHECK(waits.next_at() == kNow + 60'000);
    CHECK(cp.tick(kNow) == 8);
    CHECK(cp.tick(kNow) == 2);
    CHECK(count(core, "SELECT count(*) FROM processed_messages WHERE consumer = 'recorderd'") == 3);
    CHECK(count(core, "SELECT count(*) FROM processed_messages WHERE consumer = 'parkingd'") == 13); // not its own
    CHECK(count(core, "SELECT count(*) FROM ledger") == ledger_rows);
}
