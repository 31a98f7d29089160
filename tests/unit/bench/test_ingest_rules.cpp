#include "tests/bench/ingest_rules.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <string>

using namespace pilehub::bench::ingest;

namespace {

// What Mosquitto 2.0.11 writes with `log_type subscribe`, `log_type unsubscribe` and the
// installation's time stamp format, among its other lines.
const char* const kLog = R"(2026-12-06T04:39:08: mosquitto version 2.0.11 running
2026-12-06T04:39:09: New client connected from 127.0.0.1:40000 as svc.recorderd (p2, c0, k60, u'svc.recorderd').
2026-12-06T04:39:09: svc.recorderd 0 ph/v1/dev/+/tele
2026-12-06T04:39:09: svc.recorderd 1 ph/v1/dev/+/evt/+
2026-12-06T04:39:09: svc.sessiond 1 ph/v1/dev/+/req/+
2026-12-06T04:39:09: svc.autostopd 0 ph/v1/dev/#
2026-12-06T04:39:09: svc.billingd 0 ph/v1/dev/+/tele
2026-12-06T04:39:10: svc.billingd ph/v1/dev/+/tele
2026-12-06T04:39:10: svc.a 0 $share/ingest/ph/v1/dev/+/tele
2026-12-06T04:39:10: svc.b 0 $share/ingest/ph/v1/dev/+/tele
2026-12-06T04:39:10: svc.monitor 1 ph/v1/svc/+/status
2026-12-06T04:39:11: Client svc.x disconnected.
2026-12-06T04:39:12: svc.recorderd 0 ph/v1/dev/+/tele
)";

} // namespace

TEST_CASE("ingest: the consumers of raw telemetry are read from the broker's subscription log") {
    // A wildcard that covers tele counts; an unsubscribed filter does not; a shared group is one
    // consumer however many members it has; a renewed subscription is still one consumer.
    CHECK(consumers_of(kLog, "ph/v1/dev/blast-1/tele") ==
          std::vector<std::string>{"svc.recorderd", "svc.autostopd", "$share/ingest"});
    CHECK(consumers_of(kLog, "ph/v1/dev/blast-1/req/authorize") ==
          std::vector<std::string>{"svc.sessiond", "svc.autostopd"});
    CHECK(consumers_of(kLog, "ph/v1/svc/recorderd/status") == std::vector<std::string>{"svc.monitor"});
    CHECK(consumers_of("", "ph/v1/dev/blast-1/tele").empty());
    CHECK(subscription_lines(kLog) == 10);
}

TEST_CASE("ingest: a shared group consumes until its last member unsubscribes") {
    const std::string log = std::string(kLog) + "2026-12-06T04:39:13: svc.a $share/ingest/ph/v1/dev/+/tele\n";
    CHECK(consumers_of(log, "ph/v1/dev/blast-1/tele") ==
          std::vector<std::string>{"svc.recorderd", "svc.autostopd", "$share/ingest"});
    const auto gone = log + "2026-12-06T04:39:14: svc.b $share/ingest/ph/v1/dev/+/tele\n";
    CHECK(consumers_of(gone, "ph/v1/dev/blast-1/tele") == std::vector<std::string>{"svc.recorderd", "svc.autostopd"});
}

TEST_CASE("ingest: the bytes on their way to a process are its unread bytes plus the broker's unacknowledged ones") {
    // Broker on 11111 (0x2B67); the process's connection from 54210 (0xD3C2), inode 5555.
    const char* const tcp =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 00000000:2B67 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7777 1 0 100 0 0 "
        "10 0\n"
        "   1: 0100007F:D3C2 0100007F:2B67 01 00000000:00000400 00:00000000 00000000     0        0 5555 1 0 20 4 30 "
        "10 -1\n"
        "   2: 0100007F:2B67 0100007F:D3C2 01 00000800:00000000 00:00000000 00000000     0        0 6666 1 0 20 4 30 "
        "10 -1\n"
        "   3: garbage\n";
    const auto rows = parse_proc_net_tcp(tcp);
    REQUIRE(rows.size() == 3);
    CHECK(rows[1].local_port == 54210);
    CHECK(rows[1].remote_port == 11111);
    CHECK(rows[1].rx_queue == 1024);
    CHECK(rows[1].inode == 5555);
    CHECK(rows[2].tx_queue == 2048);
    CHECK(backlog_toward(rows, {5555}, 11111) == 3072);
    CHECK(backlog_toward(rows, {5555, 42}, 11111) == 3072);
    // No connection to the broker: unknown, not zero.
    CHECK(backlog_toward(rows, {9999}, 11111) == -1);
    CHECK(backlog_toward(rows, {5555}, 1883) == -1);
}

TEST_CASE("ingest: a status gives its queue, lag, telemetry and report counts and every dropped counter summed") {
    const auto s =
        parse_status(R"({"v":1,"online":true,"pid":7,"ts":1700000000123,"queue":12,"lag_ms":40,)"
                     R"("tele_received":900,"reports":700,"tele_dropped":3,"rpc_dropped":2,"rows_written":5})");
    REQUIRE(s);
    CHECK(s->ts_ms == 1700000000123);
    CHECK(s->queue == 12);
    CHECK(s->lag_ms == 40);
    CHECK(s->tele_received == 900);
    CHECK(s->reports == 700);
    CHECK(s->dropped == 5);
    const auto bare = parse_status(R"({"v":1,"online":true,"pid":7,"ts":5})");
    REQUIRE(bare);
    CHECK_FALSE(bare->queue);
    CHECK_FALSE(bare->tele_received);
    CHECK_FALSE(bare->reports);
    CHECK(bare->dropped == 0);
    CHECK_FALSE(parse_status("[1,2]"));
    CHECK_FALSE(parse_status("not json"));
}

TEST_CASE("ingest: a platform step keeps up only if every process does") {
    const auto base = [] {
        PlatformStep s;
        s.offered = 10000;
        s.achieved = 9800;
        s.sent = 60000;
        ProcessStep rec;
        rec.name = "recorderd";
        rec.cpu = 0.4;
        rec.reports_queue = true;
        rec.after = StatusView{};
        rec.after->queue = 0;
        rec.after->tele_received = 1;
        rec.received = 60000;
        rec.backlog_bytes = 0;
        rec.idle_after_ms = 300;
        ProcessStep ses;
        ses.name = "sessiond";
        ses.cpu = 0.5;
        ses.backlog_bytes = 200;
        ses.idle_after_ms = 350;
        s.processes = {rec, ses};
        return s;
    };
    CHECK(why_behind(base()).empty());
    const struct {
        const char* rule;
        std::function<void(PlatformStep&)> change;
        const char* reason;
    } table[] = {
        {"the generator offered < 97 %", [](PlatformStep& s) { s.achieved = 9600; }, "only 96 % of the rate was sent"},
        {"the broker dropped", [](PlatformStep& s) { s.broker_dropped = true; }, "broker dropped"},
        {"a thread saturated a core", [](PlatformStep& s) { s.processes[1].busiest_thread = 0.97; },
         "sessiond saturated"},
        {"a reporting process sent no status after the step", [](PlatformStep& s) { s.processes[0].after.reset(); },
         "recorderd published no status"},
        {"a queue left", [](PlatformStep& s) { s.processes[0].after->queue = 7; }, "recorderd queue 7"},
        {"reports missing", [](PlatformStep& s) { s.processes[0].received = 59000; }, "recorderd took in 59000/60000"},
        {"reports dropped", [](PlatformStep& s) { s.processes[0].dropped = 4; }, "recorderd dropped 4"},
        {"bytes still on the way", [](PlatformStep& s) { s.processes[1].backlog_bytes = 100000; },
         "sessiond: 100000 bytes"},
        {"still busy", [](PlatformStep& s) { s.processes[1].idle_after_ms = -1; }, "sessiond still busy"},
    };
    for (const auto& row : table) {
        CAPTURE(row.rule);
        auto s = base();
        row.change(s);
        const auto why = why_behind(s);
        CHECK(why.find(row.reason) != std::string::npos);
    }
    // Unknown backlog (no connection found), a process without a queue, and a process using more
    // than a core over several threads none of which is saturated are not failures.
    auto s = base();
    s.processes[1].backlog_bytes = -1;
    s.processes[0].cpu = 1.3;
    s.processes[0].busiest_thread = 0.7;
    CHECK(why_behind(s).empty());
}

TEST_CASE("ingest: the drain window stops waiting for a process once it is idle, drained and, if it reports, empty") {
    ProcessStep p;
    p.name = "sessiond";
    p.idle_after_ms = 300;
    p.backlog_bytes = 0;
    CHECK(caught_up(p, 1000));
    p.backlog_bytes = kBacklogSlackBytes + 1;
    CHECK_FALSE(caught_up(p, 1000));
    p.backlog_bytes = -1; // no connection found: nothing to wait for
    CHECK(caught_up(p, 1000));
    p.idle_after_ms = -1;
    CHECK_FALSE(caught_up(p, 1000));

    ProcessStep r;
    r.name = "recorderd";
    r.idle_after_ms = 300;
    r.backlog_bytes = 0;
    r.reports_queue = true;
    CHECK_FALSE(caught_up(r, 1000)); // no status since the step
    r.after = StatusView{};
    r.after->queue = 3;
    CHECK_FALSE(caught_up(r, 1000));
    r.after->queue = 0;
    r.after->tele_received = 5000;
    r.received = 999;
    CHECK_FALSE(caught_up(r, 1000));
    r.received = 1000;
    CHECK(caught_up(r, 1000));
}

TEST_CASE("ingest: a bare step keeps up only if every subscriber received everything") {
    CHECK(why_behind_bare(10000, 9900, 59400, {59400, 59400}, false).empty());
    CHECK(why_behind_bare(10000, 9900, 59400, {59400, 59399}, false).find("subscriber 2 received 59399/59400") !=
          std::string::npos);
    CHECK(why_behind_bare(10000, 9000, 54000, {54000}, false).find("only 90 % of the rate was sent") !=
          std::string::npos);
    CHECK(why_behind_bare(10000, 9900, 59400, {}, true).find("broker dropped") != std::string::npos);
    CHECK(why_behind_bare(10000, 9900, 59400, {}, false).empty());
}

TEST_CASE("ingest: the ramp climbs the list, then halves the interval around the first rate not kept up") {
    Ramp r({1000, 2000, 4000, 8000}, 2);
    CHECK(r.next() == 1000);
    r.record(true, 995);
    CHECK(r.next() == 2000);
    r.record(true, 1990);
    CHECK(r.next() == 4000);
    r.record(false, 3000);
    CHECK(r.next() == 3000);
    r.record(true, 2990);
    CHECK(r.next() == 3500);
    r.record(false, 3100);
    CHECK_FALSE(r.next());
    CHECK(r.best() == 2990);
    CHECK_FALSE(r.unbounded());
}

TEST_CASE("ingest: a ramp whose every rate keeps up is a lower bound; one whose first fails refines below it") {
    Ramp all({1000, 2000}, 3);
    all.record(true, 1000);
    all.record(true, 2000);
    CHECK_FALSE(all.next());
    CHECK(all.unbounded());
    CHECK(all.best() == 2000);

    Ramp none({1000}, 1);
    none.record(false, 500);
    CHECK(none.next() == 500);
    none.record(false, 400);
    CHECK_FALSE(none.next());
    CHECK(none.best() == 0);

    Ramp fine({1000, 1200}, 5); // 100 msg/s apart at most: nothing left to refine
    fine.record(true, 1000);
    fine.record(false, 1100);
    CHECK(fine.next() == 1100);
    fine.record(true, 1100);
    CHECK_FALSE(fine.next());
}
