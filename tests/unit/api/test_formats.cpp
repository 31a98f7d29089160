#include "web-api/export_formats.hpp"
#include "web-api/qr.hpp"

#include <doctest/doctest.h>

using namespace pilehub::api;

TEST_CASE("exports: CSV quotes separators and neutralises spreadsheet formulas") {
    exports::Table t;
    t.headers = {"a", "b", "c"};
    t.rows.push_back({std::int64_t{-12}, std::string("x,\"y\""), std::string("=HYPERLINK(\"evil\")")});
    t.rows.push_back({std::int64_t{3}, std::string("+1"), std::string("plain 中文")});
    const auto csv = exports::to_csv(t);
    CHECK(csv.rfind("\xEF\xBB\xBF"
                    "a,b,c\r\n",
                    0) == 0);
    CHECK(csv.find("-12,\"x,\"\"y\"\"\",\"'=HYPERLINK(\"\"evil\"\")\"\r\n") != std::string::npos);
    CHECK(csv.find("3,'+1,plain 中文\r\n") != std::string::npos);
}

TEST_CASE("exports: XLSX is a zip workbook") {
    exports::Table t;
    t.name = "sessions";
    t.headers = {"id", "cost_fen"};
    t.rows.push_back({std::string("s-1"), std::int64_t{900}});
    const auto x = exports::to_xlsx(t);
    REQUIRE(x.size() > 100);
    CHECK(x.substr(0, 2) == "PK");
}

TEST_CASE("qr: a socket code encodes to a scannable-size matrix, PNG and SVG") {
    auto m = qr::encode("demo-e00001-3");
    REQUIRE(m);
    CHECK(m->size >= 21);
    CHECK((m->size - 17) % 4 == 0); // QR versions are 21, 25, 29, ...
    // The three finder patterns: dark top-left corner modules.
    CHECK(m->at(0, 0));
    CHECK(m->at(m->size - 1, 0));
    CHECK(m->at(0, m->size - 1));
    const auto png = qr::png(*m, 4);
    CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
    CHECK(png.find("IHDR") == 12);
    CHECK(png.find("IEND") != std::string::npos);
    const auto svg = qr::svg(*m, 4, "demo-e00001-3 <&>");
    CHECK(svg.rfind("<svg", 0) == 0);
    CHECK(svg.find("demo-e00001-3 &lt;&amp;&gt;") != std::string::npos);
    CHECK_FALSE(qr::encode(""));
}
