// ServiceStore (web-api/service_store.hpp): the pending-report limit, moves that happen only from
// the state they were decided on, a repair finished once, and lists within the stations in scope.
#include "web-api/service_store.hpp"

#include "api_test_util.hpp"
#include "common/ledger.hpp"
#include "common/registry.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace pilehub::api;
using service::FaultState;

namespace {

struct World {
    db::Database d{testutil::temp_db("service")};
    std::int64_t a = add_station("A", "pa"), b = add_station("B", "pb");
    ServiceStore store{d};
    std::int64_t rider = open("13800000001");

    std::int64_t add_station(const std::string& name, const std::string& pile) {
        registry::Store reg(d);
        registry::Station st;
        st.operator_id = reg.ensure_operator("op", 1);
        st.name = name;
        const auto id = reg.add_station(st, 1);
        registry::Device x;
        x.id = pile;
        x.kind = registry::DeviceKind::EbikePile;
        x.station_id = id;
        x.ports = 10;
        reg.add_device(x, "$7$unused", 1);
        return id;
    }
    std::int64_t open(const std::string& phone) { return testutil::open_account(d, phone); }
    NewFaultReport ask(std::int64_t station, const std::string& pile, int n, EpochMs now = 1000) {
        return NewFaultReport{rider,   station,  pile,         n,  pile + "-" + std::to_string(n), std::nullopt,
                              "other", "broken", std::nullopt, now};
    }
};

} // namespace

TEST_CASE("service store: a rider's reports beyond the pending limit are not written; a closed one frees a place") {
    World w;
    const auto first = w.store.add_report(w.ask(w.a, "pa", 1), 2);
    REQUIRE(first);
    REQUIRE(w.store.add_report(w.ask(w.a, "pa", 2), 2));
    CHECK_FALSE(w.store.add_report(w.ask(w.a, "pa", 3), 2));
    CHECK(w.store.reports(FaultReportFilter{}).size() == 2);
    REQUIRE(w.store.move_report(FaultMove{*first, FaultState::Open, FaultState::Rejected, "op", "dup", 2000}));
    CHECK(w.store.add_report(w.ask(w.a, "pa", 3), 2));
}

TEST_CASE("service store: a report moves only from the state it was read in, recording who and when") {
    World w;
    const auto id = *w.store.add_report(w.ask(w.a, "pa", 1), 3);
    CHECK(w.store.move_report(FaultMove{id, FaultState::Open, FaultState::Assigned, "tech", "", 2000}));
    // A second operator who read it open meanwhile loses.
    CHECK_FALSE(w.store.move_report(FaultMove{id, FaultState::Open, FaultState::Rejected, "op2", "no", 2500}));
    CHECK(w.store.move_report(FaultMove{id, FaultState::Assigned, FaultState::Resolved, "op", "fixed", 3000}));
    const auto r = *w.store.report(id);
    CHECK(r.state == FaultState::Resolved);
    CHECK(r.assignee == "tech");
    CHECK(r.assigned_at == 2000);
    CHECK(r.resolved_by == "op");
    CHECK(r.resolution == "fixed");
    CHECK(r.resolved_at == 3000);
    CHECK(r.phone == "13800000001");
}

TEST_CASE("service store: lists keep to the stations in scope, narrowed by station, state, device and period") {
    World w;
    w.store.add_report(w.ask(w.a, "pa", 1, 1000), 9);
    w.store.add_report(w.ask(w.b, "pb", 1, 2000), 9);
    FaultReportFilter f;
    CHECK(w.store.reports(f).size() == 2);
    f.scope = std::set<std::int64_t>{w.a};
    REQUIRE(w.store.reports(f).size() == 1);
    CHECK(w.store.reports(f)[0].device_id == "pa");
    f.station_id = w.b; // outside the scope: nothing
    CHECK(w.store.reports(f).empty());
    f = FaultReportFilter{};
    f.device = "pb";
    CHECK(w.store.reports(f).size() == 1);
    f = FaultReportFilter{};
    f.from = 1500;
    CHECK(w.store.reports(f).size() == 1);
    f.state = "pending";
    CHECK(w.store.reports(f).size() == 1);
    f.state = "resolved";
    CHECK(w.store.reports(f).empty());

    // A call without a station is seen without a scope only.
    ServiceCallRow c;
    c.caller_phone = "139";
    c.category = "other";
    c.summary = "hello";
    c.handled_by = "op";
    c.called_at = c.created_at = 1000;
    w.store.add_call(c);
    c.station_id = w.a;
    w.store.add_call(c);
    ServiceCallFilter cf;
    CHECK(w.store.calls(cf).size() == 2);
    cf.scope = std::set<std::int64_t>{w.a};
    CHECK(w.store.calls(cf).size() == 1);
}

TEST_CASE("service store: a repair is finished once, keeping its parts unless new ones are given") {
    World w;
    RepairRow x;
    x.station_id = w.a;
    x.device_id = "pa";
    x.n = 2;
    x.description = "relay";
    x.parts = "relay x1";
    x.technician = "li";
    x.started_at = x.created_at = 1000;
    x.created_by = "op";
    const auto id = w.store.add_repair(x);
    RepairFilter open;
    open.state = "open";
    CHECK(w.store.repairs(open).size() == 1);
    CHECK(w.store.finish_repair(RepairFinish{id, 5000, "fixed", std::nullopt}));
    CHECK_FALSE(w.store.finish_repair(RepairFinish{id, 6000, "replaced", "board"}));
    const auto r = *w.store.repair(id);
    CHECK(r.finished_at == 5000);
    CHECK(r.outcome == "fixed");
    CHECK(r.parts == "relay x1");
    CHECK(r.n == 2);
    CHECK(w.store.repairs(open).empty());
}
