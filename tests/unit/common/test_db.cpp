#include "common/db.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <unistd.h>

using namespace pilehub;

namespace {
std::string temp_db(const char* name) {
    auto p = std::filesystem::temp_directory_path() /
             (std::string("pilehub-test-") + name + "-" + std::to_string(::getpid()) + ".db");
    std::filesystem::remove(p);
    std::filesystem::remove(p.string() + "-wal");
    std::filesystem::remove(p.string() + "-shm");
    return p.string();
}
} // namespace

TEST_CASE("db: core migrations apply to an empty database and are numbered in order") {
    const auto path = temp_db("migrate");
    db::Database d(path);
    const auto migs = db::core_migrations();
    REQUIRE_FALSE(migs.empty());
    for (std::size_t i = 0; i < migs.size(); ++i) {
        char prefix[32];
        std::snprintf(prefix, sizeof prefix, "%03zu_", i + 1);
        CHECK(migs[i].name.rfind(prefix, 0) == 0);
    }
    CHECK(db::migrate(d, migs) == static_cast<int>(migs.size()));
    CHECK(d.user_version() == static_cast<int>(migs.size()));
    CHECK(db::migrate(d, migs) == 0); // idempotent
    db::Statement st(d, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN "
                        "('operators','stations','areas','devices','sockets','guns','spaces','device_credentials',"
                        "'processed_messages')");
    REQUIRE(st.step());
    CHECK(st.int64(0) == 9);
    db::Statement wal(d, "PRAGMA journal_mode");
    REQUIRE(wal.step());
    CHECK(wal.text(0) == "wal");
}

TEST_CASE("db: a database newer than the build is refused") {
    const auto path = temp_db("newer");
    db::Database d(path);
    d.exec("PRAGMA user_version=999");
    CHECK_THROWS_AS(db::migrate(d, db::core_migrations()), db::Error);
}

TEST_CASE("db: a transaction rolls back unless committed") {
    const auto path = temp_db("tx");
    db::Database d(path);
    d.exec("CREATE TABLE t(x INTEGER)");
    {
        db::Transaction tx(d);
        db::Statement(d, "INSERT INTO t VALUES (?)").bind(1, 1).run();
    } // no commit
    {
        db::Transaction tx(d);
        db::Statement(d, "INSERT INTO t VALUES (?)").bind(1, 2).run();
        tx.commit();
    }
    db::Statement st(d, "SELECT group_concat(x) FROM t");
    REQUIRE(st.step());
    CHECK(st.text(0) == "2");
}

TEST_CASE("db: a writer waits for another's lock up to its busy timeout, then gets SQLITE_BUSY; 0 means no wait") {
    const auto path = temp_db("busy");
    db::Database holder(path);
    holder.exec("CREATE TABLE t (x INTEGER)");
    db::Transaction held(holder); // BEGIN IMMEDIATE: the write lock until the end of this test
    for (const int timeout_ms : {0, 150}) {
        CAPTURE(timeout_ms);
        db::Database::Options o;
        o.busy_timeout_ms = timeout_ms;
        db::Database waiter(path, o);
        const auto t0 = std::chrono::steady_clock::now();
        int code = 0;
        try {
            db::Transaction t(waiter);
        } catch (const db::Error& e) {
            code = e.code() & 0xff;
        }
        const auto waited = std::chrono::steady_clock::now() - t0;
        CHECK(code == SQLITE_BUSY);
        CHECK(waited >= std::chrono::milliseconds(timeout_ms));
        CHECK(waited < std::chrono::milliseconds(timeout_ms + 1000));
    }
}

TEST_CASE("db: constraint violations surface as db::Error with is_constraint") {
    const auto path = temp_db("constraint");
    db::Database d(path);
    db::migrate(d, db::core_migrations());
    db::Statement(d, "INSERT INTO operators(name, created_at) VALUES ('op', 1)").run();
    try {
        db::Statement(d, "INSERT INTO operators(name, created_at) VALUES ('op', 2)").run();
        FAIL("duplicate accepted");
    } catch (const db::Error& e) {
        CHECK(e.is_constraint());
    }
    // The device id rule is also enforced by the schema.
    db::Statement(d, "INSERT INTO stations(operator_id, name, lat_e6, lon_e6, created_at) VALUES (1,'s',0,0,1)").run();
    CHECK_THROWS_AS(
        db::Statement(d, "INSERT INTO devices(id, kind, station_id, created_at) VALUES ('a/b','camera',1,1)").run(),
        db::Error);
}

TEST_CASE("db: statements bind text safely (no SQL from values)") {
    const auto path = temp_db("bind");
    db::Database d(path);
    d.exec("CREATE TABLE t(s TEXT)");
    const std::string evil = "x'); DROP TABLE t; --";
    db::Statement(d, "INSERT INTO t VALUES (?)").bind(1, evil).run();
    db::Statement st(d, "SELECT s FROM t");
    REQUIRE(st.step());
    CHECK(st.text(0) == evil);
}

TEST_CASE("db: a statement is prepared once per connection and comes back reset, without bindings") {
    const auto path = temp_db("stmtcache");
    db::Database d(path);
    d.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)");
    const char* kInsert = "INSERT INTO t (k, v) VALUES (?1, ?2)";
    const char* kSelect = "SELECT v FROM t WHERE k = ?1";
    CHECK(d.cached_statements() == 0);
    for (int k = 1; k <= 3; ++k)
        db::Statement(d, kInsert).bind_all(k, "v" + std::to_string(k)).run();
    CHECK(d.cached_statements() == 1); // one prepared INSERT, reused three times

    {
        // Left in the middle of its rows: the next user starts from the top, not where it stopped.
        db::Statement all(d, "SELECT k FROM t ORDER BY k");
        REQUIRE(all.step());
        CHECK(all.int64(0) == 1);
    }
    {
        db::Statement all(d, "SELECT k FROM t ORDER BY k");
        REQUIRE(all.step());
        CHECK(all.int64(0) == 1);
    }
    {
        // The bindings of the last use are gone: an unbound parameter is NULL, which matches no row.
        db::Statement(d, kSelect).bind(1, 2).step();
        db::Statement again(d, kSelect);
        CHECK_FALSE(again.step());
    }
    {
        // Two live statements with the same SQL are two prepared statements, each with its own cursor.
        db::Statement a(d, kSelect), b(d, kSelect);
        a.bind(1, 1);
        b.bind(1, 3);
        REQUIRE(a.step());
        REQUIRE(b.step());
        CHECK(a.text(0) == "v1");
        CHECK(b.text(0) == "v3");
    }
    const auto kept = d.cached_statements();
    CHECK(kept == 4); // INSERT, SELECT k, and two SELECT v

    // A schema change under a kept statement: SQLite prepares it again on its next step.
    d.exec("ALTER TABLE t ADD COLUMN w INTEGER DEFAULT 7");
    db::Statement(d, kInsert).bind_all(4, "v4").run();
    db::Statement w(d, "SELECT w FROM t WHERE k = 4");
    REQUIRE(w.step());
    CHECK(w.int64(0) == 7);

    // SQL made at run time beyond the cache's bound is prepared and finalized each time.
    for (int i = 0; i < 400; ++i)
        db::Statement(d, "SELECT " + std::to_string(i)).step();
    CHECK(d.cached_statements() <= 256);
    db::Statement(d, kInsert).bind_all(5, "v5").run(); // the early texts are still served
    CHECK(db::Statement(d, kSelect).bind(1, 5).step());
}

TEST_CASE("db: 009 rebuilds the ledger for the kind parking and keeps its rows and the settlements pointing at them") {
    const auto path = temp_db("rebuild");
    db::Database d(path);
    auto migs = db::core_migrations();
    REQUIRE(migs.size() >= 9);
    REQUIRE(migs[8].name.rfind("009_", 0) == 0);
    const std::vector<db::Migration> up_to_8(migs.begin(), migs.begin() + 8);
    db::migrate(d, up_to_8);
    d.exec("INSERT INTO operators (id, name, created_at) VALUES (1, 'op', 0)");
    d.exec("INSERT INTO stations (id, operator_id, name, lat_e6, lon_e6, created_at) VALUES (1, 1, 's', 0, 0, 0)");
    d.exec("INSERT INTO devices (id, kind, station_id, created_at) VALUES ('P1', 'ebike_pile', 1, 0)");
    d.exec("INSERT INTO accounts (id, phone, created_at) VALUES (7, '13800000007', 0)");
    d.exec("INSERT INTO wallets (account_id, balance_fen, updated_at) VALUES (7, 900, 0)");
    d.exec("INSERT INTO ledger (id, account_id, kind, real_fen, bonus_fen, real_after, bonus_after, at, "
           "idempotency_key) VALUES (1, 7, 'recharge', 1000, 0, 1000, 0, 0, 'r1'), "
           "(2, 7, 'charge', -100, 0, 900, 0, 1, 'settle:S1')");
    d.exec("INSERT INTO sessions (id, account_id, method, device_id, n, station_id, mode, state, created_at, "
           "updated_at) VALUES ('S1', 7, 'app', 'P1', 1, 1, 'power', 'completed', 0, 0)");
    d.exec("INSERT INTO settlements (session_id, account_id, ledger_id, priced_fen, debited_fen, shortfall_fen, bill, "
           "settled_at) VALUES ('S1', 7, 2, 100, 100, 0, '{}', 1)");

    CHECK(db::migrate(d, migs) == static_cast<int>(migs.size()) - 8);
    db::Statement rows(d, "SELECT count(*), sum(real_fen) FROM ledger");
    REQUIRE(rows.step());
    CHECK(rows.int64(0) == 2);
    CHECK(rows.int64(1) == 900);
    db::Statement fk(d, "PRAGMA foreign_key_check");
    CHECK_FALSE(fk.step());
    db::Statement on(d, "PRAGMA foreign_keys");
    REQUIRE(on.step());
    CHECK(on.int64(0) == 1); // switched back on after the rebuild
    d.exec("INSERT INTO ledger (account_id, kind, real_fen, bonus_fen, real_after, bonus_after, at, idempotency_key) "
           "VALUES (7, 'parking', -50, 0, 850, 0, 2, 'park:1')");
    d.exec("DELETE FROM settlements");
    CHECK_THROWS_AS(d.exec("INSERT INTO settlements (session_id, account_id, ledger_id, priced_fen, debited_fen, "
                           "shortfall_fen, bill, settled_at) VALUES ('S1', 7, 999, 1, 1, 0, '{}', 1)"),
                    db::Error); // the reference to the rebuilt ledger is enforced again
}

TEST_CASE("db: 012 keeps the ledger's rows, takes the new kinds, and turns earlier shortfalls into arrears") {
    const auto path = temp_db("arrears");
    db::Database d(path);
    auto migs = db::core_migrations();
    REQUIRE(migs.size() >= 12);
    REQUIRE(migs[11].name.rfind("012_", 0) == 0);
    db::migrate(d, std::vector<db::Migration>(migs.begin(), migs.begin() + 11));
    d.exec("INSERT INTO operators (id, name, created_at) VALUES (1, 'op', 0)");
    d.exec("INSERT INTO stations (id, operator_id, name, lat_e6, lon_e6, created_at) VALUES (1, 1, 's', 0, 0, 0)");
    d.exec("INSERT INTO devices (id, kind, station_id, created_at) VALUES ('P1', 'ebike_pile', 1, 0)");
    d.exec("INSERT INTO accounts (id, phone, created_at) VALUES (7, '13800000007', 0), (8, '13800000008', 0)");
    d.exec("INSERT INTO wallets (account_id, balance_fen, updated_at) VALUES (7, 0, 0)");
    d.exec("INSERT INTO ledger (id, account_id, kind, real_fen, bonus_fen, real_after, bonus_after, at, "
           "idempotency_key) VALUES (1, 7, 'recharge', 30, 0, 30, 0, 0, 'r1'), "
           "(2, 7, 'charge', -30, 0, 0, 0, 1, 'settle:S1')");
    d.exec("INSERT INTO sessions (id, account_id, method, device_id, n, station_id, mode, state, created_at, "
           "updated_at) VALUES ('S1', 7, 'app', 'P1', 1, 1, 'power', 'completed', 0, 0)");
    d.exec("INSERT INTO settlements (session_id, account_id, ledger_id, priced_fen, debited_fen, shortfall_fen, bill, "
           "settled_at) VALUES ('S1', 7, 2, 50, 30, 20, '{}', 1)");

    CHECK(db::migrate(d, migs) == static_cast<int>(migs.size()) - 11);
    db::Statement owed(d, "SELECT id, arrears_fen FROM accounts ORDER BY id");
    REQUIRE(owed.step());
    CHECK(owed.int64(1) == 20); // the shortfall is owed now
    REQUIRE(owed.step());
    CHECK(owed.int64(1) == 0);
    db::Statement rows(d, "SELECT count(*) FROM ledger");
    REQUIRE(rows.step());
    CHECK(rows.int64(0) == 2);
    db::Statement fk(d, "PRAGMA foreign_key_check");
    CHECK_FALSE(fk.step());
    d.exec("INSERT INTO ledger (account_id, kind, real_fen, bonus_fen, real_after, bonus_after, at, idempotency_key) "
           "VALUES (7, 'refund_order', 10, 0, 10, 0, 2, 'ro:1'), (7, 'arrears', -10, 0, 0, 0, 3, 'arrears:3')");
    CHECK_THROWS_AS(d.exec("UPDATE accounts SET arrears_fen = -1 WHERE id = 8"), db::Error);
}
