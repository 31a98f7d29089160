#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// The prepaid amounts of a station (seed 003 预付值, CONTRACT D.1): the amounts riders pick from
/// when they start, and the rule a rider's `max_fen` must follow.
namespace pilehub::api {

/// At most this many amounts per station (seed 003: up to 12 preset values).
inline constexpr std::size_t kMaxPrepaidAmounts = 12;

/// Why a station cannot offer these amounts (none, more than 12, one given twice, one outside
/// 1..svc::kMaxPrepaidFen), or nullopt when it can.
std::optional<std::string> prepaid_amounts_problem(const std::vector<std::int64_t>& amounts_fen);

/// Why a rider's `max_fen` is refused (`invalid_amount`) at a station offering `offered`: outside
/// 1..svc::kMaxPrepaidFen, or not one of `offered` when the station has any; nullopt when accepted.
std::optional<std::string> max_fen_problem(std::int64_t max_fen, const std::vector<std::int64_t>& offered);

} // namespace pilehub::api
