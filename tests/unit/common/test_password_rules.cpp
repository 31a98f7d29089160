#include "common/password.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace pilehub;

TEST_CASE("password rules: 8 to 256 characters, the reason says which bound") {
    struct Row {
        std::size_t length;
        const char* problem; ///< nullptr: acceptable
    };
    const Row rows[] = {
        {0, "must have at least 8 characters"},
        {7, "must have at least 8 characters"},
        {8, nullptr},
        {64, nullptr},
        {256, nullptr},
        {257, "must have at most 256 characters"},
        {10000, "must have at most 256 characters"},
    };
    for (const auto& r : rows) {
        const auto why = password::password_problem(std::string(r.length, 'x'));
        if (r.problem)
            CHECK_MESSAGE(why == std::optional<std::string>(r.problem), r.length);
        else
            CHECK_MESSAGE(!why, r.length);
    }
}
