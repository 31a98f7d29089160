#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

/// Customer service rules (issue 14): the state machine of a rider's fault report and the checks on
/// what riders and operators write (text length, photo URL, the words of categories and outcomes).
/// Pure: no database, no HTTP; tests/unit/api/test_fault_rules.cpp walks every (state, action) pair.
namespace pilehub::api::service {

/// Where a fault report stands: open (as the rider sent it) -> assigned (an operator's staff member
/// holds it) -> resolved or rejected (final).
enum class FaultState { Open, Assigned, Resolved, Rejected };
/// What an operator does to a report.
enum class FaultAction { Assign, Resolve, Reject };

/// Every state and action, in declaration order.
std::span<const FaultState> all_fault_states();
std::span<const FaultAction> all_fault_actions();
std::string_view to_string(FaultState s);
std::optional<FaultState> parse_fault_state(std::string_view s);
std::string_view to_string(FaultAction a);

/// The state an action leads to, or nothing when the action is refused in that state: assign
/// (again, to hand it over) while open or assigned; resolve or reject while open or assigned;
/// nothing once resolved or rejected.
std::optional<FaultState> next_state(FaultState from, FaultAction action);
/// Whether a report still waits for the operator (open or assigned): a rider holds at most
/// kMaxOpenReports of these.
bool is_pending(FaultState s);

/// The most reports one rider may have pending at once; one more is refused `rate_limited`.
inline constexpr int kMaxOpenReports = 3;
/// Longest rider text and operator resolution, in characters (UTF-8 code points).
inline constexpr std::size_t kMaxTextChars = 500;
/// Longest photo URL, in bytes.
inline constexpr std::size_t kMaxUrlBytes = 500;
/// Longest summary or description an operator writes, in characters.
inline constexpr std::size_t kMaxNoteChars = 1000;
/// Byte bound of a text field of at most `chars` characters (4 bytes each at most in UTF-8).
constexpr std::int64_t utf8_bytes(std::size_t chars) {
    return static_cast<std::int64_t>(chars) * 4;
}

/// Why a text is refused (empty or blank, more than `max_chars` characters), or nothing when it is fine.
std::optional<std::string> text_problem(std::string_view text, std::size_t max_chars);
/// Why a photo URL is refused, or nothing: only `http://` or `https://` with a host, at most
/// kMaxUrlBytes, without spaces or control characters (no `javascript:`, `data:` or `file:`).
std::optional<std::string> photo_url_problem(std::string_view url);

/// The words of a fault report's `category` (`other` when the rider names none).
std::span<const std::string_view> fault_categories();
/// The words of a service call's `category`.
std::span<const std::string_view> call_categories();
/// The words of a finished repair's `outcome`.
std::span<const std::string_view> repair_outcomes();

} // namespace pilehub::api::service
