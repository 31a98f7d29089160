#include "web-api/device_config_store.hpp"

#include "api_test_util.hpp"
#include "tests/support/registry_seed.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace pilehub;
using namespace pilehub::api;

namespace {

struct World {
    db::Database d{testutil::temp_db("device-config")};
    std::int64_t station = test::register_piles(d, {"pa", "pb"}, 10, "A");
    DeviceConfigStore store{d};

    /// Saves `data` as the next desired document; returns the current one `next` was shown.
    std::optional<DesiredConfig> bump(const std::string& device, const std::string& data) {
        std::optional<DesiredConfig> seen;
        store.update_desired(device, 100, [&](const std::optional<DesiredConfig>& current) {
            seen = current;
            return DesiredConfig{current ? current->version + 1 : 1, data};
        });
        return seen;
    }
};

} // namespace

TEST_CASE("device config: the next desired document sees the one saved before (none the first time)") {
    World w;
    CHECK_FALSE(w.store.config("pa").has_value());
    CHECK_FALSE(w.bump("pa", R"({"version":1})").has_value());
    const auto seen = w.bump("pa", R"({"version":2})");
    REQUIRE(seen);
    CHECK(seen->version == 1);
    CHECK(seen->data == R"({"version":1})");
    const auto row = w.store.config("pa");
    REQUIRE(row);
    CHECK(row->desired.version == 2);
    CHECK(row->desired.data == R"({"version":2})");
    CHECK_FALSE(row->reported.has_value());
    CHECK_FALSE(w.store.config("pb").has_value());
}

TEST_CASE("device config: a row holding only what the device reported has no desired document yet") {
    World w;
    db::Statement(w.d, "INSERT INTO device_config(device_id, reported_version, reported, updated_at) VALUES ('pa', 7, "
                       "'{\"version\":7}', 1)")
        .run();
    const auto row = w.store.config("pa");
    REQUIRE(row);
    CHECK(row->desired.version == 0);
    CHECK(row->reported == R"({"version":7})");
    CHECK_FALSE(w.bump("pa", R"({"version":1})").has_value());
    CHECK(w.store.config("pa")->reported == R"({"version":7})");
}

TEST_CASE("device config: when the next document is refused, nothing is saved") {
    World w;
    w.bump("pa", R"({"version":1})");
    CHECK_THROWS_AS(w.store.update_desired("pa", 200,
                                           [](const std::optional<DesiredConfig>&) -> DesiredConfig {
                                               throw std::runtime_error("invalid document");
                                           }),
                    std::runtime_error);
    CHECK(w.store.config("pa")->desired.version == 1);
}
