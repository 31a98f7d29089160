#include "common/money.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace pilehub;

TEST_CASE("money: fen arithmetic is exact and refuses overflow") {
    CHECK((Fen(150) + Fen(25)).value() == 175);
    CHECK((Fen(150) - Fen(200)).value() == -50);
    CHECK(Fen(12345).yuan_string() == "123.45");
    CHECK(Fen(-5).yuan_string() == "-0.05");
    CHECK_THROWS_AS(Fen(INT64_MAX) + Fen(1), std::overflow_error);
    CHECK_THROWS_AS(Fen(INT64_MIN) - Fen(1), std::overflow_error);
}

TEST_CASE("money: the worked example — 18 minutes at 30 fen/h is exactly 9 fen") {
    const auto cost = ExactFen::from_seconds_at(18 * 60, 30);
    CHECK(cost.is_whole_fen());
    CHECK(cost.floor_fen() == Fen(9));
}

TEST_CASE("money: a bill is rounded once, down, at the end") {
    // 59 s at 100 fen/h = 1.6388.. fen; three of them = 4.916.. fen.
    const auto part = ExactFen::from_seconds_at(59, 100);
    CHECK(part.floor_fen() == Fen(1));
    const auto total = part + part + part;
    CHECK(total.floor_fen() == Fen(4)); // not 3 (= 1+1+1 rounded per part)
    // Rounding is toward minus infinity, also for negative amounts (refund corrections).
    CHECK((ExactFen() - part).floor_fen() == Fen(-2));
}

TEST_CASE("money: energy priced in 0.0001 yuan per kWh is exact per mWh") {
    // 1 kWh at 1.2000 yuan = 120 fen.
    CHECK(ExactFen::from_mwh_at_e4(1'000'000, 12000).floor_fen() == Fen(120));
    // 1 Wh at 0.7000 + 0.6000 yuan per kWh = 0.13 fen: under a fen until the 8th Wh.
    const auto wh = ExactFen::from_mwh_at_e4(1000, 13000);
    ExactFen sum;
    for (int i = 0; i < 7; ++i)
        sum += wh;
    CHECK(sum.floor_fen() == Fen(0));
    sum += wh;
    CHECK(sum.floor_fen() == Fen(1));
    CHECK(ExactFen::from_fen(Fen(7)).floor_fen() == Fen(7));
}
