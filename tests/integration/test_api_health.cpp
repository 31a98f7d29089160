// GET /api/v1/health against the real pilehub-api (issue 16, REVIEW-reliability §2.13): it answers 200
// with each check's figure while everything works, and 503 with the same body and `ok: false` while
// another process holds the core database's write lock, while the broker is gone, and when the data
// directory has less free space than pilehub-api.health.min_free_mb; it recovers by itself.
#include "tests/integration/api_stack.hpp"

#include <signal.h>

using namespace pilehub;
using namespace pilehub::test::api;

namespace {

/// Polls /health until its status is `want` or `timeout` passes; the last answer.
Http wait_health(const Stack& st, int want, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto h = st.get("/api/v1/health");
        if (h.status == want || std::chrono::steady_clock::now() > until)
            return h;
        std::this_thread::sleep_for(50ms);
    }
}

} // namespace

TEST_CASE("health: 200 with every check's figure; 503 ok:false while the database is held locked or the broker "
          "is gone, and back to 200 when they return") {
    StackOptions o;
    o.sets = {"pilehub-api.health.write_timeout_ms=200", "pilehub-api.health.min_free_mb=1"};
    Stack st(o);
    auto h = wait_health(st, 200, 10s);
    REQUIRE_MESSAGE(h.status == 200, h);
    CHECK(h.str("status") == "ok");
    CHECK(h.boolean("ok"));
    CHECK(h.boolean("dev_mode"));
    CHECK(!h.str("version").empty());
    CHECK(h.boolean("checks.database_write.ok"));
    CHECK(h.i64("checks.database_write.ms") >= 0);
    CHECK(h.boolean("checks.disk.ok"));
    CHECK(h.i64("checks.disk.free_mb") > 1);
    CHECK(h.i64("checks.disk.min_free_mb") == 1);
    CHECK(h.boolean("checks.broker.ok"));
    CHECK(h.boolean("checks.broker.connected"));
    {
        auto d = st.db();
        db::Statement q(d, "SELECT probes FROM health_probe WHERE id = 1");
        REQUIRE(q.step());
        CHECK(q.int64(0) >= 1);
    }

    SUBCASE("a held write lock") {
        auto blocker = st.db();
        blocker.exec("BEGIN IMMEDIATE");
        h = st.get("/api/v1/health");
        CHECK_MESSAGE(h.status == 503, h);
        CHECK(h.str("status") == "failing");
        CHECK_FALSE(h.boolean("ok"));
        CHECK_FALSE(h.boolean("checks.database_write.ok"));
        CHECK(h.i64("checks.database_write.ms") >= 150);
        CHECK(h.str("checks.database_write.error").find("locked") != std::string::npos);
        CHECK(h.boolean("checks.disk.ok"));
        CHECK(h.boolean("checks.broker.ok"));
        blocker.exec("ROLLBACK");
        h = st.get("/api/v1/health");
        CHECK_MESSAGE(h.status == 200, h);
    }
    SUBCASE("the broker killed, then back") {
        REQUIRE(::kill(st.broker().pid(), SIGKILL) == 0);
        h = wait_health(st, 503, 10s);
        CHECK_MESSAGE(h.status == 503, h);
        CHECK_FALSE(h.boolean("checks.broker.ok"));
        CHECK_FALSE(h.boolean("checks.broker.connected"));
        CHECK(h.boolean("checks.database_write.ok"));
        st.broker().restart();
        h = wait_health(st, 200, 20s);
        CHECK_MESSAGE(h.status == 200, h);
    }
}

TEST_CASE("health: 503 with the disk check's figure when free space is below pilehub-api.health.min_free_mb") {
    StackOptions o;
    o.sets = {"pilehub-api.health.min_free_mb=1073741824"}; // 1 PiB
    Stack st(o);
    const auto h = st.get("/api/v1/health");
    CHECK_MESSAGE(h.status == 503, h);
    CHECK_FALSE(h.boolean("ok"));
    CHECK_FALSE(h.boolean("checks.disk.ok"));
    CHECK(h.i64("checks.disk.min_free_mb") == 1073741824);
    CHECK(h.i64("checks.disk.free_mb") < 1073741824);
    CHECK(h.str("checks.disk.error").find("below 1073741824 MiB") != std::string::npos);
    CHECK(h.boolean("checks.database_write.ok"));
}
