#include "common/registry.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace pilehub;
using registry::Connector;
using registry::ConnectorType;

TEST_CASE("registry: a connector type names its current (gbt_dc and ccs2 are dc, gbt_ac and type2 ac)") {
    struct Row {
        const char* word;
        ConnectorType type;
        const char* current;
        std::int64_t max_w;
    };
    const Row rows[] = {{"gbt_dc", ConnectorType::GbtDc, "dc", 1'000'000},
                        {"gbt_ac", ConnectorType::GbtAc, "ac", 44'000},
                        {"ccs2", ConnectorType::Ccs2, "dc", 1'000'000},
                        {"type2", ConnectorType::Type2, "ac", 44'000}};
    for (const auto& r : rows) {
        CAPTURE(r.word);
        CHECK(registry::parse_connector_type(r.word) == r.type);
        CHECK(std::string(registry::to_string(r.type)) == r.word);
        CHECK(std::string(registry::current_type(r.type)) == r.current);
        CHECK(registry::max_rated_power_w(r.type) == r.max_w);
    }
    for (const char* bad : {"", "GBT_DC", "chademo", "type 2"})
        CHECK_MESSAGE(!registry::parse_connector_type(bad), bad);
}

TEST_CASE("registry: connectors name guns of the charger once, each rated within its connector's range") {
    struct Row {
        std::vector<Connector> connectors;
        bool ok;
        const char* says; ///< part of the reason, when refused
    };
    const Row rows[] = {
        {{}, true, ""},
        {{{1, ConnectorType::GbtDc, 120'000}, {2, ConnectorType::GbtDc, 120'000}}, true, ""},
        {{{2, ConnectorType::Type2, 22'000}}, true, ""},
        {{{1, ConnectorType::GbtAc, 1'000}}, true, ""},
        {{{1, ConnectorType::Ccs2, 1'000'000}}, true, ""},
        {{{3, ConnectorType::GbtDc, 60'000}}, false, "guns 1..2"},
        {{{0, ConnectorType::GbtDc, 60'000}}, false, "guns 1..2"},
        {{{1, ConnectorType::GbtDc, 60'000}, {1, ConnectorType::GbtAc, 7'000}}, false, "given twice"},
        {{{1, ConnectorType::GbtAc, 60'000}}, false, "1000..44000 W"},
        {{{1, ConnectorType::GbtDc, 999}}, false, "1000..1000000 W"},
        {{{1, ConnectorType::Ccs2, 1'000'001}}, false, "1000..1000000 W"},
    };
    for (const auto& r : rows) {
        const auto problem = registry::connectors_problem(r.connectors, 2);
        CHECK(!problem.has_value() == r.ok);
        if (problem)
            CHECK_MESSAGE(problem->find(r.says) != std::string::npos, *problem);
    }
}

TEST_CASE("registry: pilehubctl's --connector n:type:watts") {
    std::string why;
    CHECK(registry::parse_connector_arg("1:gbt_dc:120000", &why) == Connector{1, ConnectorType::GbtDc, 120'000});
    CHECK(registry::parse_connector_arg("16:type2:7000", &why) == Connector{16, ConnectorType::Type2, 7'000});
    for (const char* bad : {"", "1", "1:gbt_dc", "x:gbt_dc:1000", "1:gbt_dc:", "1:gbt_dc:12kW", "-1:ccs2:1000",
                            "1::1000", "1:chademo:50000"}) {
        CAPTURE(bad);
        why.clear();
        CHECK(!registry::parse_connector_arg(bad, &why));
        CHECK(!why.empty());
    }
}
