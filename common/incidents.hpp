#pragma once
#include <array>
#include <string_view>

/// The kinds of `incidents` rows (schema/core/006_session_faults.sql): something an operator should
/// look at, written by the process that noticed it (sessiond) and listed by the API
/// (`GET /api/v1/admin/incidents?kind=`).
namespace pilehub::incidents {

/// A suspended session settled on its last report because its pile never came back (power_loss).
inline constexpr std::string_view kSuspendTimeout = "suspend_timeout";
/// A stopping (or suspended) session settled on its last report: the pile shows the socket idle
/// but never sent the session record.
inline constexpr std::string_view kRecordOverdue = "record_overdue";
/// A session record beyond platform time or rated power, clamped before it was committed.
inline constexpr std::string_view kRecordClamped = "record_clamped";

/// Every kind, in the order the docs list them.
inline constexpr std::array<std::string_view, 3> kKinds{kSuspendTimeout, kRecordOverdue, kRecordClamped};

} // namespace pilehub::incidents
