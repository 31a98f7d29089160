#include "web-api/fault_rules.hpp"

#include <array>

#include <fmt/format.h>

namespace pilehub::api::service {
namespace {

constexpr std::array kStates{FaultState::Open, FaultState::Assigned, FaultState::Resolved, FaultState::Rejected};
constexpr std::array kActions{FaultAction::Assign, FaultAction::Resolve, FaultAction::Reject};
constexpr std::array<std::string_view, 6> kFaultCategories{"no_power", "cannot_start", "cannot_stop",
                                                           "damaged",  "billing",      "other"};
constexpr std::array<std::string_view, 6> kCallCategories{"fault",        "billing",   "account",
                                                          "consultation", "complaint", "other"};
constexpr std::array<std::string_view, 4> kOutcomes{"fixed", "replaced", "unrepairable", "no_fault_found"};

/// Characters (UTF-8 code points: every byte but continuation bytes) in `text`.
std::size_t chars(std::string_view text) {
    std::size_t n = 0;
    for (unsigned char c : text)
        n += (c & 0xC0) != 0x80;
    return n;
}

bool blank(std::string_view text) {
    return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

} // namespace

std::span<const FaultState> all_fault_states() {
    return kStates;
}

std::span<const FaultAction> all_fault_actions() {
    return kActions;
}

std::string_view to_string(FaultState s) {
    switch (s) {
    case FaultState::Open:
        return "open";
    case FaultState::Assigned:
        return "assigned";
    case FaultState::Resolved:
        return "resolved";
    case FaultState::Rejected:
        return "rejected";
    }
    return "open";
}

std::optional<FaultState> parse_fault_state(std::string_view s) {
    for (auto st : kStates)
        if (to_string(st) == s)
            return st;
    return std::nullopt;
}

std::string_view to_string(FaultAction a) {
    switch (a) {
    case FaultAction::Assign:
        return "assign";
    case FaultAction::Resolve:
        return "resolve";
    case FaultAction::Reject:
        return "reject";
    }
    return "assign";
}

std::optional<FaultState> next_state(FaultState from, FaultAction action) {
    if (!is_pending(from))
        return std::nullopt; // resolved and rejected are final: a new fault is a new report
    switch (action) {
    case FaultAction::Assign:
        return FaultState::Assigned;
    case FaultAction::Resolve:
        return FaultState::Resolved;
    case FaultAction::Reject:
        return FaultState::Rejected;
    }
    return std::nullopt;
}

bool is_pending(FaultState s) {
    return s == FaultState::Open || s == FaultState::Assigned;
}

std::optional<std::string> text_problem(std::string_view text, std::size_t max_chars) {
    if (blank(text))
        return std::string("must not be empty");
    if (chars(text) > max_chars)
        return fmt::format("must be at most {} characters", max_chars);
    return std::nullopt;
}

std::optional<std::string> photo_url_problem(std::string_view url) {
    if (url.size() > kMaxUrlBytes)
        return fmt::format("must be at most {} bytes", kMaxUrlBytes);
    for (unsigned char c : url)
        if (c <= 0x20 || c == 0x7F)
            return std::string("must not contain spaces or control characters");
    std::string_view rest;
    if (url.starts_with("https://"))
        rest = url.substr(8);
    else if (url.starts_with("http://"))
        rest = url.substr(7);
    else
        return std::string("must be an http:// or https:// URL");
    if (rest.empty() || rest.front() == '/')
        return std::string("must name a host");
    return std::nullopt;
}

std::span<const std::string_view> fault_categories() {
    return kFaultCategories;
}

std::span<const std::string_view> call_categories() {
    return kCallCategories;
}

std::span<const std::string_view> repair_outcomes() {
    return kOutcomes;
}

} // namespace pilehub::api::service
