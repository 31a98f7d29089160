// The worker loop without threads: tests post, then drain() on their own thread; back-offs are
// recorded instead of slept, and giving up throws instead of exiting.
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/worker_loop.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

using namespace pilehub;
using namespace std::chrono_literals;

namespace {

mqtt::Message msg(const std::string& payload, int qos = 1) {
    return {"ph/v1/dev/pile-1/evt/x", payload, qos, false};
}

db::Error busy() {
    return db::Error("sqlite: step `COMMIT`: database is locked", SQLITE_BUSY);
}

struct Harness {
    ManualClock clock;
    std::vector<std::string> handled; ///< payloads tried, in order (failed tries too)
    std::vector<bool> duplicates;     ///< their duplicate flags
    std::vector<std::chrono::milliseconds> waits;
    int gave_up = 0;
    std::function<void(const mqtt::Message&)> behave = [](const mqtt::Message&) {};

    worker::Loop::Options options(std::optional<worker::Spool> spool = std::nullopt) {
        worker::Loop::Options o;
        o.name = "test";
        o.retry = {4, 100ms, 300ms};
        o.spool = std::move(spool);
        o.give_up = [this] { ++gave_up; };
        o.sleep = [this](std::chrono::milliseconds d) { waits.push_back(d); };
        return o;
    }
    worker::Loop::Handler handler() {
        return [this](const mqtt::Message& m) {
            handled.push_back(m.payload);
            duplicates.push_back(m.duplicate);
            behave(m);
        };
    }
};

struct TempSpool {
    std::string path =
        (std::filesystem::temp_directory_path() / ("pilehub-loop-" + std::to_string(::getpid()) + ".spool")).string();
    TempSpool() { std::filesystem::remove(path); }
    ~TempSpool() { std::filesystem::remove(path); }
};

} // namespace

TEST_CASE("worker loop: a storage failure is retried with a growing back-off, in order, before later messages") {
    log::set_level(log::Level::Error);
    Harness h;
    int failures = 2;
    h.behave = [&](const mqtt::Message& m) {
        if (m.payload == "a" && failures-- > 0)
            throw busy();
    };
    worker::Loop loop(h.clock, h.options(), h.handler());
    loop.post(msg("a"));
    loop.post(msg("b"));
    CHECK(h.handled.empty()); // posting never runs anything
    CHECK(loop.drain() == 2);
    CHECK(h.handled == std::vector<std::string>{"a", "a", "a", "b"});
    CHECK(h.waits == std::vector<std::chrono::milliseconds>{100ms, 200ms});
    const auto s = loop.stats();
    CHECK(s.errors == 2);
    CHECK(s.retries == 2);
    CHECK(s.handled == 2);
    CHECK(h.gave_up == 0);
}

TEST_CASE("worker loop: a failure that is not a storage failure is counted, logged and skipped, never retried") {
    log::set_level(log::Level::Error);
    Harness h;
    h.behave = [](const mqtt::Message& m) {
        if (m.payload == "bug")
            throw std::logic_error("a bug");
        if (m.payload == "unique")
            throw db::Error("UNIQUE constraint failed", SQLITE_CONSTRAINT_UNIQUE);
    };
    worker::Loop loop(h.clock, h.options(), h.handler());
    for (const char* p : {"bug", "unique", "fine"})
        loop.post(msg(p));
    loop.drain();
    CHECK(h.handled == std::vector<std::string>{"bug", "unique", "fine"});
    CHECK(h.waits.empty());
    CHECK(loop.stats().errors == 2);
    CHECK(h.gave_up == 0);
    CHECK(worker::retryable(busy()));
    CHECK(worker::retryable(db::Error("disk full", SQLITE_FULL)));
    CHECK(worker::retryable(db::Error("disk I/O error", SQLITE_IOERR_WRITE)));
    CHECK_FALSE(worker::retryable(db::Error("constraint", SQLITE_CONSTRAINT)));
    CHECK_FALSE(worker::retryable(std::runtime_error("x")));
}

TEST_CASE("worker loop: a loop that skips failures (billingd) never retries, even a storage failure") {
    log::set_level(log::Level::Error);
    Harness h;
    h.behave = [](const mqtt::Message&) { throw busy(); };
    auto o = h.options();
    o.retry_failures = false;
    worker::Loop loop(h.clock, o, h.handler());
    loop.post(msg("a"));
    loop.post(msg("b"));
    loop.drain();
    CHECK(h.handled == std::vector<std::string>{"a", "b"});
    CHECK(h.waits.empty());
    CHECK(h.gave_up == 0);
}

TEST_CASE("worker loop: after the last try the messages held are spooled, the process gives up, and the next start "
          "replays them first, flagged duplicate") {
    log::set_level(log::Level::Error);
    TempSpool tmp;
    {
        Harness h;
        h.behave = [](const mqtt::Message& m) {
            if (m.payload == "b")
                throw busy();
        };
        worker::Loop loop(h.clock, h.options(worker::Spool(tmp.path)), h.handler());
        loop.post(msg("a"));
        loop.post(msg("b"));
        loop.post(msg("c", 0));
        loop.post(msg("d\nwith a newline"));
        CHECK_THROWS_AS(loop.drain(), worker::GaveUp);
        CHECK(h.gave_up == 1);
        CHECK(h.handled == std::vector<std::string>{"a", "b", "b", "b", "b"}); // 4 tries, nothing after b
        CHECK(h.waits == std::vector<std::chrono::milliseconds>{100ms, 200ms, 300ms});
        CHECK_FALSE(loop.post(msg("late"))); // a loop that gave up takes nothing more
    }
    REQUIRE(std::filesystem::exists(tmp.path));
    CHECK((std::filesystem::status(tmp.path).permissions() & std::filesystem::perms::others_read) ==
          std::filesystem::perms::none);

    Harness again;
    worker::Loop loop(again.clock, again.options(worker::Spool(tmp.path)), again.handler());
    loop.post(msg("new"));
    CHECK(loop.replay_spool() == 3);
    loop.drain();
    CHECK(again.handled == std::vector<std::string>{"b", "c", "d\nwith a newline", "new"});
    CHECK(again.duplicates == std::vector<bool>{true, true, true, false});
    CHECK(loop.stats().replayed == 3);
    CHECK_FALSE(std::filesystem::exists(tmp.path)); // all handled: the spool is gone
}

TEST_CASE("worker loop: a handler's own commit step under with_retry gives up the same way, spooling its message") {
    log::set_level(log::Level::Error);
    TempSpool tmp;
    Harness h;
    worker::Loop* self = nullptr;
    int commits = 0;
    h.behave = [&](const mqtt::Message&) {
        self->with_retry("a commit", [&] {
            ++commits;
            throw busy();
        });
    };
    worker::Loop loop(h.clock, h.options(worker::Spool(tmp.path)), h.handler());
    self = &loop;
    loop.post(msg("a"));
    CHECK_THROWS_AS(loop.drain(), worker::GaveUp);
    CHECK(commits == 4);
    CHECK(h.handled.size() == 1); // the message itself is not run again: only the commit
    const auto kept = worker::Spool(tmp.path).load();
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].payload == "a");
}

TEST_CASE("worker loop: run_inline (inside Paho's callback) retries, then gives up without spooling the message: "
          "unacknowledged, the broker delivers it again") {
    log::set_level(log::Level::Error);
    TempSpool tmp;
    Harness h;
    worker::Loop loop(h.clock, h.options(worker::Spool(tmp.path)), h.handler());
    int tries = 0;
    loop.run_inline(msg("ok"), [&](const mqtt::Message&) { ++tries; });
    CHECK(tries == 1);
    CHECK_THROWS_AS(loop.run_inline(msg("x"),
                                    [&](const mqtt::Message&) {
                                        ++tries;
                                        throw busy();
                                    }),
                    worker::GaveUp);
    CHECK(tries == 5);
    CHECK(h.gave_up == 1);
    CHECK_FALSE(std::filesystem::exists(tmp.path));
}

TEST_CASE("worker loop: a full queue drops QoS 0 messages (counted) and keeps QoS 1 messages and tasks") {
    log::set_level(log::Level::Error);
    Harness h;
    auto o = h.options();
    o.queue_max = 2;
    worker::Loop loop(h.clock, o, h.handler());
    CHECK(loop.post(msg("1", 0)));
    CHECK(loop.post(msg("2", 0)));
    CHECK_FALSE(loop.post(msg("3", 0)));
    CHECK(loop.post(msg("4", 1)));
    int tasks = 0;
    loop.post([&] { ++tasks; });
    CHECK(loop.stats().dropped == 1);
    CHECK(loop.queued() == 4);
    loop.drain();
    CHECK(h.handled == std::vector<std::string>{"1", "2", "4"});
    CHECK(tasks == 1);
}

TEST_CASE("worker loop: the tick runs at once, then whenever its period is up by the injected clock") {
    Harness h;
    auto o = h.options();
    o.tick = 1000ms;
    int ticks = 0;
    worker::Loop loop(h.clock, o, h.handler(), [&] { ++ticks; });
    loop.drain();
    CHECK(ticks == 1);
    loop.drain();
    CHECK(ticks == 1);
    h.clock.advance_ms(999);
    loop.drain();
    CHECK(ticks == 1);
    h.clock.advance_ms(1);
    loop.drain();
    CHECK(ticks == 2);
    loop.tick_now();
    CHECK(ticks == 3);
    CHECK(loop.stats().ticks == 3);
}

TEST_CASE("worker loop: its thread handles everything posted, in order, and stop() drains the rest") {
    Harness h;
    auto o = h.options();
    o.queue_max = 8; // producers wait for room instead of dropping QoS 1
    worker::Loop loop(SystemClock::instance(), o, h.handler());
    loop.start();
    for (int i = 0; i < 1000; ++i)
        loop.post(msg(std::to_string(i)));
    loop.stop();
    REQUIRE(h.handled.size() == 1000);
    for (int i = 0; i < 1000; ++i)
        CHECK(h.handled[static_cast<std::size_t>(i)] == std::to_string(i));
    CHECK(loop.stats().queued == 0);
    CHECK_FALSE(loop.post(msg("after stop")));
}

TEST_CASE("log: a rate limiter lets 5 lines per key through in each 10 s window") {
    log::RateLimiter r;
    int allowed = 0;
    for (int i = 0; i < 20; ++i)
        allowed += r.allow("pile-1", "malformed", 1'000) ? 1 : 0;
    CHECK(allowed == 5);
    CHECK(r.allow("pile-2", "malformed", 1'000)); // another key has its own budget
    CHECK_FALSE(r.allow("pile-1", "malformed", 10'999));
    CHECK(r.allow("pile-1", "malformed", 11'000)); // a new window
}

TEST_CASE("worker loop: it is the only one: no daemon keeps its own queue thread, ticker or warning limiter") {
    // The spellings of the five hand-rolled loops and three warn_allowed copies it replaced.
    const std::vector<std::string> gone{"warn_allowed",
                                        "kWarnsPerWindow",
                                        "class Ticker",
                                        "std::thread thread_",
                                        "std::thread rules_thread_",
                                        "std::thread decode_thread_",
                                        "std::thread write_thread_",
                                        "std::deque<Event> queue_"};
    for (const char* daemon : {"billingd", "presenced", "autostopd", "recorderd", "sessiond"}) {
        for (const char* ext : {".hpp", ".cpp"}) {
            const auto path = std::string(PILEHUB_SOURCE_DIR) + "/workers/" + daemon + "/" + daemon + "_worker" + ext;
            std::ifstream in(path);
            REQUIRE_MESSAGE(in.good(), path);
            const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            for (const auto& s : gone)
                CHECK_MESSAGE(text.find(s) == std::string::npos, path << " still has `" << s << "`");
        }
    }
}
