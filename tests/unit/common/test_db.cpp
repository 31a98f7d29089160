#include "common/db.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <unistd.h>

using namespace pilehub;

namespace {
std::string temp_db(const char* name) {
    auto p = std::filesystem::temp_directory_path() / (std::string("pilehub-test-") + name + "-" + std::to_string(::getpid()) + ".db");
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
    CHECK_THROWS_AS(db::Statement(d, "INSERT INTO devices(id, kind, station_id, created_at) VALUES ('a/b','camera',1,1)").run(),
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
