#include "web-api/prepaid_amounts.hpp"

#include "common/svc/codec.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

namespace pilehub::api {

std::optional<std::string> prepaid_amounts_problem(const std::vector<std::int64_t>& amounts_fen) {
    if (amounts_fen.empty() || amounts_fen.size() > kMaxPrepaidAmounts)
        return fmt::format("a station offers 1..{} prepaid amounts, not {}", kMaxPrepaidAmounts, amounts_fen.size());
    std::set<std::int64_t> seen;
    for (auto a : amounts_fen) {
        if (a < 1 || a > svc::kMaxPrepaidFen)
            return fmt::format("a prepaid amount is 1..{} fen, not {}", svc::kMaxPrepaidFen, a);
        if (!seen.insert(a).second)
            return fmt::format("the prepaid amount {} is given twice", a);
    }
    return std::nullopt;
}

std::optional<std::string> max_fen_problem(std::int64_t max_fen, const std::vector<std::int64_t>& offered) {
    if (max_fen < 1 || max_fen > svc::kMaxPrepaidFen)
        return fmt::format("max_fen must be within 1..{} fen", svc::kMaxPrepaidFen);
    if (!offered.empty() && std::find(offered.begin(), offered.end(), max_fen) == offered.end())
        return fmt::format("max_fen must be one of the station's prepaid amounts ({})", fmt::join(offered, ", "));
    return std::nullopt;
}

} // namespace pilehub::api
