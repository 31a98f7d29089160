#pragma once
#include "common/clock.hpp"
#include "common/db.hpp"
#include "web-api/fault_rules.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

/// Customer service as the API reads and writes it (issue 14; schema/core/013_customer_service.sql):
/// riders' fault reports and the operators' handling of them, service-desk call records and repair
/// records. All SQL of these tables lives here.
namespace pilehub::api {

/// Stations in scope (nullopt: every station), as list filters take them.
using ServiceScope = std::optional<std::set<std::int64_t>>;

/// A fault report with the reporter's phone.
struct FaultReportRow {
    std::int64_t id = 0;
    std::int64_t account_id = 0;
    std::string phone;
    std::int64_t station_id = 0;
    std::string device_id;
    int n = 0;
    std::string socket_code;
    std::optional<std::string> session_id;
    std::string category, text;
    std::optional<std::string> photo_url;
    service::FaultState state = service::FaultState::Open;
    std::optional<std::string> assignee;
    std::optional<EpochMs> assigned_at;
    std::optional<std::string> resolution, resolved_by;
    std::optional<EpochMs> resolved_at;
    EpochMs created_at = 0;
};

/// A rider's new report, checked by the caller (known socket, text, URL, own session).
struct NewFaultReport {
    std::int64_t account_id = 0;
    std::int64_t station_id = 0;
    std::string device_id;
    int n = 0;
    std::string socket_code;
    std::optional<std::string> session_id;
    std::string category, text;
    std::optional<std::string> photo_url;
    EpochMs now = 0;
};

struct FaultReportFilter {
    std::optional<std::int64_t> account_id;
    std::optional<std::int64_t> station_id;
    ServiceScope scope;
    std::string state;               ///< one state word, `pending` (open or assigned), or empty (any)
    std::string device;              ///< empty: any
    std::string phone;               ///< the rider's phone; empty: any
    std::optional<EpochMs> from, to; ///< created_at in [from, to)
    std::int64_t limit = 50, offset = 0;
};

/// An operator's move of a report (service::next_state decided `to`); `by` and `text` go to the
/// assignee (assign) or the resolver and resolution (resolve, reject).
struct FaultMove {
    std::int64_t id = 0;
    service::FaultState from = service::FaultState::Open;
    service::FaultState to = service::FaultState::Open;
    std::string by;   ///< assign: the assignee; resolve/reject: the operator
    std::string text; ///< resolve/reject: the resolution or reason
    EpochMs now = 0;
};

/// A call the service desk took.
struct ServiceCallRow {
    std::int64_t id = 0;
    std::string caller_phone, caller_name;
    std::optional<std::int64_t> account_id;
    std::string category, summary, handled_by;
    std::optional<std::int64_t> station_id, fault_report_id;
    EpochMs called_at = 0, created_at = 0;
};

struct ServiceCallFilter {
    std::optional<std::int64_t> station_id;
    ServiceScope scope; ///< a scoped operator sees the calls of its stations (not those without a station)
    std::string phone, handled_by, category; ///< empty: any
    std::optional<EpochMs> from, to;         ///< called_at in [from, to)
    std::int64_t limit = 50, offset = 0;
};

/// A repair of a device or one socket of it.
struct RepairRow {
    std::int64_t id = 0;
    std::int64_t station_id = 0;
    std::string device_id;
    std::optional<int> n;
    std::optional<std::int64_t> fault_report_id;
    std::string description, parts, technician, technician_phone;
    EpochMs started_at = 0;
    std::optional<EpochMs> finished_at;
    std::optional<std::string> outcome;
    std::string created_by;
    EpochMs created_at = 0;
};

struct RepairFilter {
    std::optional<std::int64_t> station_id;
    ServiceScope scope;
    std::string device, technician;  ///< empty: any
    std::string state;               ///< `open` (not finished), `finished`, or empty (any)
    std::optional<EpochMs> from, to; ///< started_at in [from, to)
    std::int64_t limit = 50, offset = 0;
};

/// How a repair is finished.
struct RepairFinish {
    std::int64_t id = 0;
    EpochMs finished_at = 0;
    std::string outcome;
    std::optional<std::string> parts; ///< replaces the parts when given
};

class ServiceStore {
public:
    explicit ServiceStore(db::Database& d) : db_(d) {}

    // fault reports
    /// Adds a report unless the rider already has `max_pending` open or assigned ones (counted and
    /// inserted in one transaction, so concurrent reports cannot pass the limit); its id, or nothing.
    std::optional<std::int64_t> add_report(const NewFaultReport& r, int max_pending);
    std::optional<FaultReportRow> report(std::int64_t id);
    /// The reports of a filter, newest first, one page.
    std::vector<FaultReportRow> reports(const FaultReportFilter& f);
    /// Moves a report if it is still in `m.from`; false when it changed meanwhile.
    bool move_report(const FaultMove& m);

    // service calls
    std::int64_t add_call(const ServiceCallRow& c);
    std::optional<ServiceCallRow> call(std::int64_t id);
    std::vector<ServiceCallRow> calls(const ServiceCallFilter& f);
    /// Rewrites what an operator may change of a call: caller, account, category, summary, fault report.
    void update_call(const ServiceCallRow& c);

    // repairs
    std::int64_t add_repair(const RepairRow& r);
    std::optional<RepairRow> repair(std::int64_t id);
    std::vector<RepairRow> repairs(const RepairFilter& f);
    /// Finishes a repair that is not finished yet; false when it already was.
    bool finish_repair(const RepairFinish& f);

private:
    db::Database& db_;
};

} // namespace pilehub::api
