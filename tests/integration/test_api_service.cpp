// Customer service at the API (issue 14) against the running stack: real Mosquitto, the real
// pilehub-api on real SQLite, real HTTP. Riders report faults on sockets; operators see the reports
// of their own stations, assign, resolve or reject them, and keep call and repair records with exports.
#include "api_stack.hpp"

#include "common/tariff.hpp"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace pilehub;
using namespace pilehub::test;
using namespace pilehub::test::api;

namespace {

/// Two stations, each with a 10-socket pile: `a-pile` at `a`, `b-pile` at `b`.
struct World {
    Stack st;
    std::string admin = st.admin();
    std::int64_t a = st.station(admin, "Station A");
    std::int64_t b = st.station(admin, "Station B");
    World() {
        st.device(admin, "a-pile", a);
        st.device(admin, "b-pile", b);
    }
    Http report(const std::string& rider, const std::string& body) const {
        return st.post("/api/v1/fault-reports", body, rider);
    }
};

std::string report_body(const std::string& socket, const std::string& text) {
    return fmt::format(R"({{"socket_code":"{}","text":"{}","category":"no_power"}})", socket, text);
}

EpochMs time_at(const Http& h, const std::string& path) {
    const auto t = billing::parse_rfc3339(h.str(path));
    REQUIRE_MESSAGE(t, path << " is not a time: " << h);
    return *t;
}

/// An error reply in the one shape: the status, `{"error": {"code", "message"}}` with a message.
void check_refused(const Http& h, int status, const std::string& code) {
    CHECK_MESSAGE(h.status == status, h);
    CHECK_MESSAGE(h.code() == code, h);
    CHECK_MESSAGE(!h.str("error.message").empty(), h);
}

} // namespace

TEST_CASE("service: a rider's fault report reaches its station's operators; another rider and another station's "
          "staff cannot see it") {
    World w;
    const auto rider = w.st.rider("13500000001");
    const auto other = w.st.rider("13500000002");
    const auto op_a = w.st.staff(w.admin, "op_a", "operator", fmt::format(R"("station_ids":[{}])", w.a));
    const auto op_b = w.st.staff(w.admin, "op_b", "operator", fmt::format(R"("station_ids":[{}])", w.b));

    auto made = w.st.post(
        "/api/v1/fault-reports",
        R"({"device_id":"a-pile","n":3,"text":"插座没电","photo_url":"https://img.example.com/1.jpg"})", rider);
    REQUIRE_MESSAGE(made.status == 201, made);
    const auto id = made.i64("report.id");
    CHECK(made.str("report.state") == "open");
    CHECK(made.str("report.socket") == "a-pile-3");
    CHECK(made.str("report.category") == "other");
    CHECK(made.str("report.photo_url") == "https://img.example.com/1.jpg");
    CHECK(made.at("report.assignee") == nullptr); // riders do not see who handles it

    // The rider lists and reads it; another rider gets 404 as for a report that does not exist.
    auto mine = w.st.get("/api/v1/fault-reports", rider);
    REQUIRE(mine.size("reports") == 1);
    CHECK(mine.i64("reports.0.id") == id);
    CHECK(w.st.get(fmt::format("/api/v1/fault-reports/{}", id), rider).str("report.text") == "插座没电");
    check_refused(w.st.get(fmt::format("/api/v1/fault-reports/{}", id), other), 404, "not_found");
    check_refused(w.st.get("/api/v1/fault-reports/999999", other), 404, "not_found");
    CHECK(w.st.get("/api/v1/fault-reports", other).size("reports") == 0);

    // The station's operator sees it with the rider's phone; the other station's does not.
    auto listed = w.st.get("/api/v1/admin/fault-reports?state=open", op_a);
    REQUIRE_MESSAGE(listed.size("reports") == 1, listed);
    CHECK(listed.i64("reports.0.id") == id);
    CHECK(listed.str("reports.0.phone") == "13500000001");
    CHECK(listed.i64("reports.0.station_id") == w.a);
    CHECK(w.st.get(fmt::format("/api/v1/admin/fault-reports?station_id={}&device=a-pile", w.a), w.admin)
              .size("reports") == 1);
    CHECK(w.st.get("/api/v1/admin/fault-reports?device=b-pile", w.admin).size("reports") == 0);
    CHECK(w.st.get("/api/v1/admin/fault-reports?phone=13500000001", w.admin).size("reports") == 1);
    CHECK(w.st.get("/api/v1/admin/fault-reports?phone=13500000002", w.admin).size("reports") == 0);
    CHECK(w.st.get("/api/v1/admin/fault-reports?state=resolved", op_a).size("reports") == 0);
    CHECK(w.st.get("/api/v1/admin/fault-reports", op_b).size("reports") == 0);
    check_refused(w.st.get(fmt::format("/api/v1/admin/fault-reports/{}", id), op_b), 404, "not_found");
    check_refused(w.st.get(fmt::format("/api/v1/admin/fault-reports?station_id={}", w.a), op_b), 404, "not_found");
    check_refused(w.st.post(fmt::format("/api/v1/admin/fault-reports/{}/resolve", id), R"({"resolution":"x"})", op_b),
                  404, "not_found");
    CHECK(w.st.get("/api/v1/admin/exports/fault-reports", op_b).body.find("插座没电") == std::string::npos);
    auto csv = w.st.get("/api/v1/admin/exports/fault-reports", op_a);
    REQUIRE(csv.status == 200);
    CHECK(csv.body.find("id,created_at,station_id,socket,account_id,phone,category,text") != std::string::npos);
    CHECK(csv.body.find("a-pile-3") != std::string::npos);
    CHECK(csv.body.find("插座没电") != std::string::npos);
    // A rider's token opens no operator route.
    CHECK(w.st.get("/api/v1/admin/fault-reports", rider).status == 403);
}

TEST_CASE("service: assign then resolve records who and when; a closed report refuses every further move") {
    World w;
    const auto rider = w.st.rider("13500000011");
    const auto op_a = w.st.staff(w.admin, "op_a", "operator", fmt::format(R"("station_ids":[{}])", w.a));
    w.st.staff(w.admin, "tech_b", "maintenance", fmt::format(R"("station_ids":[{}])", w.b));
    w.st.staff(w.admin, "tech_a", "maintenance", fmt::format(R"("station_ids":[{}])", w.a));

    auto made = w.report(rider, report_body("a-pile-1", "no power"));
    REQUIRE_MESSAGE(made.status == 201, made);
    const auto path = fmt::format("/api/v1/admin/fault-reports/{}", made.i64("report.id"));

    // Only staff who see the station may hold it.
    check_refused(w.st.post(path + "/assign", R"({"admin":"tech_b"})", op_a), 400, "invalid_request");
    check_refused(w.st.post(path + "/assign", R"({"admin":"nobody"})", op_a), 400, "invalid_request");
    auto assigned = w.st.post(path + "/assign", R"({"admin":"tech_a"})", op_a);
    REQUIRE_MESSAGE(assigned.status == 200, assigned);
    CHECK(assigned.str("report.state") == "assigned");
    CHECK(assigned.str("report.assignee") == "tech_a");
    const auto now = SystemClock::instance().now_ms();
    CHECK(std::llabs(time_at(assigned, "report.assigned_at") - now) < 60'000);

    auto resolved = w.st.post(path + "/resolve", R"({"resolution":"换了插座模块"})", op_a);
    REQUIRE_MESSAGE(resolved.status == 200, resolved);
    CHECK(resolved.str("report.state") == "resolved");
    CHECK(resolved.str("report.resolved_by") == "op_a");
    CHECK(resolved.str("report.resolution") == "换了插座模块");
    CHECK(std::llabs(time_at(resolved, "report.resolved_at") - now) < 60'000);
    CHECK(resolved.str("report.assignee") == "tech_a");

    // The rider sees the outcome.
    auto seen = w.st.get(fmt::format("/api/v1/fault-reports/{}", made.i64("report.id")), rider);
    CHECK(seen.str("report.state") == "resolved");
    CHECK(seen.str("report.resolution") == "换了插座模块");

    // Resolved is final.
    check_refused(w.st.post(path + "/resolve", R"({"resolution":"again"})", op_a), 409, "conflict");
    check_refused(w.st.post(path + "/reject", R"({"reason":"no"})", op_a), 409, "conflict");
    check_refused(w.st.post(path + "/assign", R"({"admin":"tech_a"})", op_a), 409, "conflict");

    // An open report may be rejected directly, with a reason; then it is final too.
    auto second = w.report(rider, report_body("a-pile-2", "sparks"));
    REQUIRE(second.status == 201);
    const auto path2 = fmt::format("/api/v1/admin/fault-reports/{}", second.i64("report.id"));
    check_refused(w.st.post(path2 + "/reject", R"({"reason":"   "})", op_a), 400, "invalid_request");
    auto rejected = w.st.post(path2 + "/reject", R"({"reason":"not reproducible"})", op_a);
    REQUIRE_MESSAGE(rejected.status == 200, rejected);
    CHECK(rejected.str("report.state") == "rejected");
    CHECK(rejected.str("report.resolution") == "not reproducible");
    check_refused(w.st.post(path2 + "/assign", R"({"admin":"tech_a"})", op_a), 409, "conflict");

    // Every write is in the audit log.
    auto d = w.st.db();
    db::Statement audit(d, "SELECT count(*) FROM audit_log WHERE action LIKE 'admin.fault_reports.%' AND status = 200");
    REQUIRE(audit.step());
    CHECK(audit.int64(0) == 3);
}

TEST_CASE("service: unknown sockets, empty or too long texts, non-http photo URLs and a 4th pending report are "
          "refused with the one error shape") {
    World w;
    const auto rider = w.st.rider("13500000021");
    check_refused(w.report(rider, report_body("nope-1", "x")), 404, "unknown_socket");
    check_refused(w.report(rider, report_body("a-pile-11", "x")), 404, "unknown_socket"); // a 10-socket pile
    check_refused(w.report(rider, report_body("not a code", "x")), 404, "unknown_socket");
    check_refused(w.report(rider, R"({"device_id":"a-pile","text":"x"})"), 400, "invalid_request");
    check_refused(w.report(rider, R"({"socket_code":"a-pile-1","device_id":"a-pile","n":1,"text":"x"})"), 400,
                  "invalid_request");
    check_refused(w.report(rider, report_body("a-pile-1", "")), 400, "invalid_request");
    check_refused(w.report(rider, report_body("a-pile-1", "  ")), 400, "invalid_request");
    check_refused(w.report(rider, R"({"socket_code":"a-pile-1"})"), 400, "invalid_request");
    check_refused(w.report(rider, report_body("a-pile-1", std::string(501, 'x'))), 400, "invalid_request");
    std::string long_chinese;
    for (int i = 0; i < 500; ++i)
        long_chinese += "坏";
    CHECK(w.report(rider, report_body("a-pile-1", long_chinese)).status == 201); // 500 characters is fine
    for (const char* url : {"javascript:alert(1)", "data:text/html,hi", "ftp://x.example/a.jpg", "https://"}) {
        CAPTURE(url);
        check_refused(w.report(rider, fmt::format(R"({{"socket_code":"a-pile-1","text":"x","photo_url":"{}"}})", url)),
                      400, "invalid_request");
    }
    check_refused(w.report(rider, R"({"socket_code":"a-pile-1","text":"x","category":"fire"})"), 400,
                  "invalid_request");
    check_refused(w.report(rider, R"({"socket_code":"a-pile-1","text":"x","session_id":"s-nope"})"), 404, "not_found");
    CHECK(w.st.post("/api/v1/fault-reports", report_body("a-pile-1", "x")).status == 401);

    // At most 3 pending per rider: the 4th waits until one is closed.
    CHECK(w.report(rider, report_body("a-pile-2", "two")).status == 201);
    auto third = w.report(rider, report_body("a-pile-3", "three"));
    REQUIRE(third.status == 201);
    check_refused(w.report(rider, report_body("a-pile-4", "four")), 429, "rate_limited");
    CHECK(w.report(w.st.rider("13500000022"), report_body("a-pile-4", "someone else")).status == 201);
    REQUIRE(w.st.post(fmt::format("/api/v1/admin/fault-reports/{}/resolve", third.i64("report.id")),
                      R"({"resolution":"fixed"})", w.admin)
                .status == 200);
    CHECK(w.report(rider, report_body("a-pile-4", "four")).status == 201);
    CHECK(w.st.get("/api/v1/fault-reports?state=pending", rider).size("reports") == 3);
    CHECK(w.st.get("/api/v1/fault-reports", rider).size("reports") == 4);
}

TEST_CASE("service: 8 reports of one rider sent at once: exactly 3 are written, the rest refused rate_limited") {
    World w;
    const auto rider = w.st.rider("13500000041");
    std::atomic<int> made{0}, limited{0}, other{0};
    std::vector<std::thread> senders;
    for (int i = 1; i <= 8; ++i)
        senders.emplace_back([&, i] {
            const auto h = w.report(rider, report_body(fmt::format("a-pile-{}", i), "at once"));
            (h.status == 201 ? made : h.code() == "rate_limited" ? limited : other)++;
        });
    for (auto& t : senders)
        t.join();
    CHECK(made == 3);
    CHECK(limited == 5);
    CHECK(other == 0);
    CHECK(w.st.get("/api/v1/fault-reports", rider).size("reports") == 3);
}

TEST_CASE("service: call and repair records are created, listed, filtered, scoped and exported") {
    World w;
    const auto rider = w.st.rider("13500000031");
    const auto rider_id = w.st.rider_id(rider);
    const auto op_a = w.st.staff(w.admin, "op_a", "operator", fmt::format(R"("station_ids":[{}])", w.a));
    auto fault = w.report(rider, report_body("a-pile-5", "no power"));
    REQUIRE(fault.status == 201);
    const auto fault_id = fault.i64("report.id");

    // Calls.
    auto call = w.st.post("/api/v1/admin/service-calls",
                          fmt::format(R"({{"caller_phone":"13500000031","caller_name":"张三",)"
                                      R"("category":"fault","summary":"5号插座不充电","station_id":{},)"
                                      R"("fault_report_id":{},"called_at":"2026-12-01T09:30:00+08:00"}})",
                                      w.a, fault_id),
                          op_a);
    REQUIRE_MESSAGE(call.status == 201, call);
    CHECK(call.str("call.handled_by") == "op_a");
    CHECK(call.i64("call.fault_report_id") == fault_id);
    CHECK(time_at(call, "call.called_at") == *billing::parse_rfc3339("2026-12-01T09:30:00+08:00"));
    // The account is linked by an operator who sees it (the rider opened it in the app: unscoped ones).
    auto linked = w.st.post("/api/v1/admin/service-calls",
                            fmt::format(R"({{"caller_phone":"13900000000","category":"billing","summary":"问余额",)"
                                        R"("account_id":{}}})",
                                        rider_id),
                            w.admin);
    REQUIRE_MESSAGE(linked.status == 201, linked);
    CHECK(linked.i64("call.account_id") == rider_id);
    CHECK(linked.at("call.station_id")->IsNull());
    check_refused(w.st.post("/api/v1/admin/service-calls",
                            fmt::format(R"({{"caller_phone":"139","category":"fault","summary":"x","station_id":{},)"
                                        R"("account_id":{}}})",
                                        w.a, rider_id),
                            op_a),
                  404, "not_found");
    REQUIRE(w.st.post("/api/v1/admin/service-calls",
                      fmt::format(R"({{"caller_phone":"13900000001","category":"complaint","summary":"排队",)"
                                  R"("station_id":{}}})",
                                  w.b),
                      w.admin)
                .status == 201);
    // A scoped operator names one of its stations; bad inputs are refused.
    check_refused(
        w.st.post("/api/v1/admin/service-calls", R"({"caller_phone":"139","category":"fault","summary":"x"})", op_a),
        400, "invalid_request");
    check_refused(
        w.st.post("/api/v1/admin/service-calls",
                  fmt::format(R"({{"caller_phone":"139","category":"fault","summary":"x","station_id":{}}})", w.b),
                  op_a),
        404, "not_found");
    check_refused(w.st.post("/api/v1/admin/service-calls",
                            R"({"caller_phone":"139","category":"weather","summary":"x"})", w.admin),
                  400, "invalid_request");
    // A caller_phone shorter than the table allows (3 characters) is the request's fault: 400, not a
    // constraint's 409 (found by the contract check, tests/contract/).
    for (const char* phone : {"", "13"})
        check_refused(w.st.post("/api/v1/admin/service-calls",
                                fmt::format(R"({{"caller_phone":"{}","category":"fault","summary":"x"}})", phone),
                                w.admin),
                      400, "invalid_request");
    check_refused(w.st.post("/api/v1/admin/service-calls",
                            R"({"caller_phone":"139","category":"fault","summary":"","station_id":1})", w.admin),
                  400, "invalid_request");

    CHECK(w.st.get("/api/v1/admin/service-calls", w.admin).size("calls") == 3);
    auto scoped = w.st.get("/api/v1/admin/service-calls", op_a);
    REQUIRE(scoped.size("calls") == 1);
    CHECK(scoped.str("calls.0.summary") == "5号插座不充电");
    CHECK(w.st.get("/api/v1/admin/service-calls?phone=13900000000", w.admin).size("calls") == 1);
    CHECK(w.st.get("/api/v1/admin/service-calls?category=complaint", w.admin).size("calls") == 1);
    CHECK(w.st.get("/api/v1/admin/service-calls?handled_by=op_a", w.admin).size("calls") == 1);
    CHECK(w.st.get("/api/v1/admin/service-calls?from=2026-12-01&to=2026-12-02", w.admin).size("calls") == 1);
    auto calls_csv = w.st.get("/api/v1/admin/exports/service-calls", w.admin);
    REQUIRE(calls_csv.status == 200);
    CHECK(calls_csv.body.find("id,called_at,caller_name,caller_phone,account_id,category,summary,handled_by") !=
          std::string::npos);
    CHECK(calls_csv.body.find("张三") != std::string::npos);
    CHECK(calls_csv.body.find("问余额") != std::string::npos);
    auto scoped_csv = w.st.get("/api/v1/admin/exports/service-calls", op_a);
    CHECK(scoped_csv.body.find("5号插座不充电") != std::string::npos);
    CHECK(scoped_csv.body.find("问余额") == std::string::npos);
    CHECK(w.st.get("/api/v1/admin/exports/service-calls?format=xlsx", w.admin).body.substr(0, 2) == "PK");

    // A call is corrected (修改): members left out keep their value, null unlinks; a scoped operator
    // cannot read or change a call of another station or one without a station.
    const auto call_path = fmt::format("/api/v1/admin/service-calls/{}", call.i64("call.id"));
    auto fixed = w.st.put(call_path, R"({"summary":"5号插座不充电，已派单","category":"complaint"})", op_a);
    REQUIRE_MESSAGE(fixed.status == 200, fixed);
    CHECK(fixed.str("call.summary") == "5号插座不充电，已派单");
    CHECK(fixed.str("call.category") == "complaint");
    CHECK(fixed.str("call.caller_name") == "张三");
    CHECK(fixed.i64("call.fault_report_id") == fault_id);
    auto unlinked = w.st.put(call_path, R"({"fault_report_id":null})", op_a);
    REQUIRE_MESSAGE(unlinked.status == 200, unlinked);
    CHECK(unlinked.at("call.fault_report_id")->IsNull());
    CHECK(w.st.get(call_path, op_a).str("call.category") == "complaint");
    check_refused(w.st.put(call_path, R"({"summary":" "})", op_a), 400, "invalid_request");
    check_refused(w.st.put(call_path, fmt::format(R"({{"account_id":{}}})", rider_id), op_a), 404, "not_found");
    const auto linked_path = fmt::format("/api/v1/admin/service-calls/{}", linked.i64("call.id"));
    check_refused(w.st.get(linked_path, op_a), 404, "not_found");
    check_refused(w.st.put(linked_path, R"({"summary":"x"})", op_a), 404, "not_found");
    CHECK(w.st.get(linked_path, w.admin).i64("call.account_id") == rider_id);

    // Repairs.
    auto repair =
        w.st.post("/api/v1/admin/repairs",
                  fmt::format(R"({{"device_id":"a-pile","n":5,"fault_report_id":{},"description":"继电器烧坏",)"
                              R"("technician":"李四","technician_phone":"13700000000"}})",
                              fault_id),
                  op_a);
    REQUIRE_MESSAGE(repair.status == 201, repair);
    const auto repair_id = repair.i64("repair.id");
    CHECK(repair.str("repair.created_by") == "op_a");
    CHECK(repair.i64("repair.station_id") == w.a);
    CHECK(repair.at("repair.finished_at")->IsNull());
    REQUIRE(w.st.post("/api/v1/admin/repairs", R"({"device_id":"b-pile","description":"外壳破损","technician":"王五"})",
                      w.admin)
                .status == 201);
    check_refused(
        w.st.post("/api/v1/admin/repairs", R"({"device_id":"b-pile","description":"x","technician":"y"})", op_a), 404,
        "unknown_device");
    check_refused(
        w.st.post("/api/v1/admin/repairs", R"({"device_id":"a-pile","n":11,"description":"x","technician":"y"})", op_a),
        404, "unknown_socket");
    check_refused(w.st.post("/api/v1/admin/repairs",
                            R"({"device_id":"a-pile","description":"x","technician":"y","fault_report_id":999999})",
                            op_a),
                  404, "not_found");

    CHECK(w.st.get("/api/v1/admin/repairs?state=open", w.admin).size("repairs") == 2);
    CHECK(w.st.get("/api/v1/admin/repairs", op_a).size("repairs") == 1);
    CHECK(w.st.get("/api/v1/admin/repairs?device=b-pile", w.admin).size("repairs") == 1);
    CHECK(w.st.get("/api/v1/admin/repairs?technician=%E6%9D%8E%E5%9B%9B", w.admin).size("repairs") == 1); // 李四

    const auto rpath = fmt::format("/api/v1/admin/repairs/{}", repair_id);
    check_refused(w.st.put(rpath, R"({"outcome":"magic"})", op_a), 400, "invalid_request");
    check_refused(w.st.put(rpath, R"({"outcome":"fixed","finished_at":"2000-01-01"})", op_a), 400, "invalid_request");
    auto finished = w.st.put(rpath, R"({"outcome":"replaced","parts":"继电器 x1"})", op_a);
    REQUIRE_MESSAGE(finished.status == 200, finished);
    CHECK(finished.str("repair.outcome") == "replaced");
    CHECK(finished.str("repair.parts") == "继电器 x1");
    CHECK(!finished.str("repair.finished_at").empty());
    check_refused(w.st.put(rpath, R"({"outcome":"fixed"})", op_a), 409, "conflict");
    CHECK(w.st.get("/api/v1/admin/repairs?state=finished", w.admin).size("repairs") == 1);
    CHECK(w.st.get(rpath, op_a).str("repair.outcome") == "replaced");

    auto repairs_csv = w.st.get("/api/v1/admin/exports/repairs?state=finished", w.admin);
    REQUIRE(repairs_csv.status == 200);
    CHECK(repairs_csv.body.find("id,station_id,device_id,n,fault_report_id,description,parts,technician") !=
          std::string::npos);
    CHECK(repairs_csv.body.find("继电器烧坏") != std::string::npos);
    CHECK(repairs_csv.body.find("replaced") != std::string::npos);
    CHECK(repairs_csv.body.find("外壳破损") == std::string::npos); // open: filtered out
}

TEST_CASE("service: the OpenAPI document lists every customer-service route") {
    Stack st;
    auto doc = st.get("/api/v1/openapi.json");
    REQUIRE(doc.status == 200);
    for (const char* path : {"/api/v1/fault-reports", "/api/v1/fault-reports/{id}", "/api/v1/admin/fault-reports",
                             "/api/v1/admin/fault-reports/{id}", "/api/v1/admin/fault-reports/{id}/assign",
                             "/api/v1/admin/fault-reports/{id}/resolve", "/api/v1/admin/fault-reports/{id}/reject",
                             "/api/v1/admin/service-calls", "/api/v1/admin/service-calls/{id}", "/api/v1/admin/repairs",
                             "/api/v1/admin/repairs/{id}", "/api/v1/admin/exports/fault-reports",
                             "/api/v1/admin/exports/service-calls", "/api/v1/admin/exports/repairs"}) {
        CAPTURE(path);
        CHECK(doc.json["paths"].HasMember(path));
    }
}
