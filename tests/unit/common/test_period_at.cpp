#include "common/tariff.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using billing::Period;

TEST_CASE("tariff: the TOU period in force is the one of the local half hour, in the tariff's zone") {
    billing::EnergyPricing e;
    for (std::size_t i = 0; i < billing::kSlotsPerDay; ++i)
        e.slots[i] = i < 16 ? Period::Valley : i < 36 ? Period::Peak : i == 47 ? Period::Sharp : Period::Flat;
    // 2024-11-21T00:00:00Z; Asia/Shanghai is +08:00.
    constexpr EpochMs kMidnightUtc = 1'732'147'200'000;
    constexpr std::int32_t kShanghai = 8 * 3600;
    struct Row {
        EpochMs t;
        std::int32_t offset_s;
        Period want;
    };
    const Row rows[] = {
        {kMidnightUtc, 0, Period::Valley},                                     // 00:00 UTC
        {kMidnightUtc, kShanghai, Period::Peak},                               // 08:00 local: slot 16
        {kMidnightUtc - 1, kShanghai, Period::Valley},                         // 07:59:59.999 local
        {kMidnightUtc + 10 * 3'600'000, kShanghai, Period::Flat},              // 18:00 local: slot 36
        {kMidnightUtc + 15 * 3'600'000 + 1'800'000, kShanghai, Period::Sharp}, // 23:30 local: slot 47
        {kMidnightUtc + 16 * 3'600'000, kShanghai, Period::Valley},            // 00:00 local the next day
        {kMidnightUtc - 3'600'000, -5 * 3600, Period::Flat},                   // 18:00 the day before at -05:00
        {0, 0, Period::Valley},                                                // the epoch itself
    };
    for (const auto& r : rows) {
        CAPTURE(r.t);
        CAPTURE(r.offset_s);
        CHECK(billing::period_at(e, r.t, r.offset_s) == r.want);
    }
}
