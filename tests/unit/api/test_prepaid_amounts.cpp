#include "web-api/prepaid_amounts.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace pilehub::api;

TEST_CASE("prepaid amounts: a station offers 1..12 distinct amounts, each 1..100000000 fen") {
    struct Row {
        std::vector<std::int64_t> amounts;
        bool ok;
        const char* says;
    };
    const Row rows[] = {
        {{1000}, true, ""},
        {{3000, 1000, 5000}, true, ""},
        {{1, 100'000'000}, true, ""},
        {{100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1200}, true, ""},
        {{}, false, "1..12 prepaid amounts, not 0"},
        {{100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1200, 1300}, false, "not 13"},
        {{1000, 1000}, false, "given twice"},
        {{0}, false, "not 0"},
        {{-500}, false, "not -500"},
        {{100'000'001}, false, "1..100000000 fen"},
    };
    for (const auto& r : rows) {
        const auto problem = prepaid_amounts_problem(r.amounts);
        CHECK(!problem.has_value() == r.ok);
        if (problem)
            CHECK_MESSAGE(problem->find(r.says) != std::string::npos, *problem);
    }
}

TEST_CASE("prepaid amounts: a rider's max_fen is one of the station's amounts, or any in range when it has none") {
    const std::vector<std::int64_t> offered{1000, 3000, 5000};
    struct Row {
        std::int64_t max_fen;
        const std::vector<std::int64_t>* offered;
        bool ok;
    };
    const std::vector<std::int64_t> none;
    const Row rows[] = {
        {3000, &offered, true},
        {5000, &offered, true},
        {2000, &offered, false},
        {2000, &none, true},
        {1, &none, true},
        {100'000'000, &none, true},
        {0, &none, false},
        {-1, &none, false},
        {100'000'001, &none, false},
        {100'000'001, &offered, false},
    };
    for (const auto& r : rows) {
        CAPTURE(r.max_fen);
        CHECK(!max_fen_problem(r.max_fen, *r.offered).has_value() == r.ok);
    }
    CHECK(max_fen_problem(2000, offered).value() ==
          "max_fen must be one of the station's prepaid amounts (1000, 3000, 5000)");
}
