#include "web-api/station_counts.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace pilehub::api;

namespace {
/// `free` free e-bike sockets of `total`.
StationCounts ebike(int free, int total) {
    StationCounts c;
    for (int i = 0; i < total; ++i)
        c.add("ebike_pile", i < free);
    return c;
}
} // namespace

TEST_CASE("station counts: e-bike sockets and car guns are counted apart and together") {
    StationCounts c;
    c.add("ebike_pile", true);
    c.add("ebike_pile", false);
    c.add("ebike_pile", true);
    c.add("ev_charger", false);
    c.add("ev_charger", true);
    CHECK(c.all.free == 3);
    CHECK(c.all.total == 5);
    CHECK(c.ebike.free == 2);
    CHECK(c.ebike.total == 3);
    CHECK(c.ev.free == 1);
    CHECK(c.ev.total == 2);
}

TEST_CASE("station counts: a count serves rider lists for its time to live, then is counted again") {
    StationCountsCache cache;
    CHECK_FALSE(cache.get(7, 1000, 1000).has_value());
    cache.put(7, ebike(3, 10), 1000, cache.generation());
    auto c = cache.get(7, 1999, 1000);
    REQUIRE(c.has_value());
    CHECK(c->all.free == 3);
    CHECK(c->all.total == 10);
    CHECK(c->ebike.total == 10);
    CHECK(c->ev.total == 0);
    CHECK_FALSE(cache.get(7, 2000, 1000).has_value()); // exactly ttl old: stale
    CHECK_FALSE(cache.get(8, 1500, 1000).has_value()); // another station
    CHECK_FALSE(cache.get(7, 999, 1000).has_value());  // a clock that went back does not make it fresh
    CHECK_FALSE(cache.get(7, 1500, 0).has_value());    // ttl 0: always counted
}

TEST_CASE("station counts: an operator's change forgets every count at once") {
    StationCountsCache cache;
    cache.put(1, ebike(5, 5), 0, cache.generation());
    cache.put(2, ebike(1, 4), 0, cache.generation());
    cache.invalidate();
    CHECK_FALSE(cache.get(1, 10, 1000).has_value());
    CHECK_FALSE(cache.get(2, 10, 1000).has_value());
}

TEST_CASE("station counts: a count made across an operator's change is never used") {
    StationCountsCache cache;
    const auto before = cache.generation(); // a request starts counting...
    cache.invalidate();                     // ...an operator disables a socket meanwhile...
    cache.put(1, ebike(9, 9), 0, before);
    CHECK_FALSE(cache.get(1, 10, 1000).has_value()); // ...and the old count is not served
    cache.put(1, ebike(8, 8), 0, cache.generation());
    CHECK(cache.get(1, 10, 1000)->all.total == 8);
}
