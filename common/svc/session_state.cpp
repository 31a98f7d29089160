#include "common/svc/session_state.hpp"

namespace pilehub::svc {

namespace {
// Indexed by the enum value, in declaration order.
constexpr std::array<std::string_view, kAllSessionStates.size()> kWords{
    "starting", "charging", "stopping", "suspended", "settling", "completed", "failed"};
} // namespace

std::string_view to_string(SessionState s) {
    const auto i = static_cast<std::size_t>(s);
    return i < kWords.size() ? kWords[i] : std::string_view("?");
}

std::optional<SessionState> parse_session_state(std::string_view s) {
    for (auto st : kAllSessionStates)
        if (to_string(st) == s)
            return st;
    return std::nullopt;
}

bool holds_socket(SessionState s) {
    return !is_ended(s);
}

bool is_running(SessionState s) {
    return s == SessionState::Starting || s == SessionState::Charging;
}

bool is_ended(SessionState s) {
    return s == SessionState::Completed || s == SessionState::Failed;
}

bool duration_grows(SessionState s) {
    return s == SessionState::Charging || s == SessionState::Stopping;
}

bool takes_reports(SessionState s) {
    return s == SessionState::Starting || s == SessionState::Charging || s == SessionState::Stopping ||
           s == SessionState::Suspended;
}

bool awaits_settlement(SessionState s) {
    return s == SessionState::Stopping || s == SessionState::Settling;
}

} // namespace pilehub::svc
