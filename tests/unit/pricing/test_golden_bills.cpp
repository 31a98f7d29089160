// Every row of the table of worked bills in docs/billing.md is priced and checked here.
#include "doc_fixtures.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

using namespace pilehub;
using namespace pilehub::billing;
using namespace pilehub::billing::testing;

namespace {

constexpr std::string_view kHeader = "| id | tariff | mode | inputs | cost_fen | flags | explanation |";

struct Row {
    std::string id, tariff, mode, inputs, cost_fen, flags, explanation;
};

std::vector<Row> golden_rows() {
    const auto lines = lines_of(billing_doc());
    auto it = std::find(lines.begin(), lines.end(), std::string(kHeader));
    if (it == lines.end())
        throw std::runtime_error("docs/billing.md has no table of worked bills");
    std::vector<Row> rows;
    for (it += 2; it != lines.end() && !it->empty() && it->front() == '|'; ++it) {
        auto cells = split(std::string_view(*it).substr(1, it->size() - 2), "|");
        if (cells.size() != 7)
            throw std::runtime_error("docs/billing.md: a worked bill needs 7 cells: " + *it);
        rows.push_back({cells[0], cells[1], cells[2], cells[3], cells[4], cells[5], cells[6]});
    }
    return rows;
}

// "+1h05m30s" → milliseconds.
EpochMs offset_ms(std::string_view s) {
    if (s.empty() || s.front() != '+')
        throw std::runtime_error("an offset starts with +: " + std::string(s));
    EpochMs total = 0;
    std::int64_t n = 0;
    bool digits = false;
    for (std::size_t i = 1; i < s.size(); ++i) {
        const char c = s[i];
        if (c >= '0' && c <= '9') {
            n = n * 10 + (c - '0');
            digits = true;
        } else if (digits && (c == 'h' || c == 'm' || c == 's')) {
            total += n * (c == 'h' ? 3'600'000 : c == 'm' ? 60'000 : 1000);
            n = 0;
            digits = false;
        } else {
            throw std::runtime_error("bad offset: " + std::string(s));
        }
    }
    if (digits)
        throw std::runtime_error("an offset needs a unit (h, m, s): " + std::string(s));
    return total;
}

std::int64_t number_with_unit(std::string_view s, std::string_view unit) {
    if (s.size() <= unit.size() || s.substr(s.size() - unit.size()) != unit)
        throw std::runtime_error("expected a number of " + std::string(unit) + ": " + std::string(s));
    return std::stoll(std::string(s.substr(0, s.size() - unit.size())));
}

struct Case {
    std::vector<TariffVersion> versions;
    PricingInput in;
    std::vector<Sample> samples;
    std::string reason;
};

Case build(const Row& row, const std::map<std::string, Tariff>& tariffs) {
    Case c;
    // "A saved 2024-11-01 09:00 then B saved 2024-11-21 15:00", or just "A".
    const auto history = split(row.tariff, " then ");
    for (std::size_t i = 0; i < history.size(); ++i) {
        const auto parts = split(history[i], " saved ");
        const auto found = tariffs.find(parts[0]);
        if (found == tariffs.end())
            throw std::runtime_error("unknown tariff fixture " + parts[0]);
        TariffVersion v;
        v.id = static_cast<std::int64_t>(i + 1);
        v.tariff = found->second;
        if (parts.size() == 2) {
            v.saved_at_ms = parse_local_datetime(parts[1], offset_of(v.tariff)).value();
        } else if (history.size() != 1) {
            throw std::runtime_error("a tariff history needs 'saved' times");
        }
        v.effective_from_ms = effective_from(v.tariff, v.saved_at_ms, i == 0);
        c.versions.push_back(std::move(v));
    }
    const auto mode = parse_mode(row.mode);
    if (!mode)
        throw std::runtime_error("unknown mode " + row.mode);
    c.in.mode = *mode;
    const std::int32_t off = offset_of(c.versions.front().tariff);
    std::optional<EpochMs> stop_offset;
    for (const auto& item : split(row.inputs, ";")) {
        const auto eq = item.find('=');
        if (eq == std::string::npos)
            throw std::runtime_error("inputs are key=value: " + item);
        const auto key = item.substr(0, eq), value = trim(item.substr(eq + 1));
        if (key == "start") {
            c.in.start_ms = parse_local_datetime(value, off).value();
        } else if (key == "stop") {
            stop_offset = offset_ms(value);
        } else if (key == "reason") {
            c.reason = value;
        } else if (key == "minutes") {
            c.in.minutes = std::stoll(value);
        } else if (key == "max_fen") {
            c.in.max_fen = Fen(std::stoll(value));
        } else if (key == "samples") {
            for (const auto& s : split(value, ",")) {
                const auto f = split(s, ":");
                if (f.size() != 3)
                    throw std::runtime_error("a sample is +offset:NWh:NW: " + s);
                c.samples.push_back({offset_ms(f[0]), number_with_unit(f[1], "Wh"), number_with_unit(f[2], "W")});
            }
        } else {
            throw std::runtime_error("unknown input " + key);
        }
    }
    if (!stop_offset)
        throw std::runtime_error("inputs need stop=+…");
    for (auto& s : c.samples)
        s.t += c.in.start_ms;
    c.in.stop_ms = c.in.start_ms + *stop_offset;
    return c;
}

// A set of flags as the table spells it: sorted, comma-separated, "-" for none.
std::string spelled(const std::set<std::string>& f) {
    std::string out;
    for (const auto& x : f)
        out += (out.empty() ? "" : ",") + x;
    return out.empty() ? "-" : out;
}

std::string flags_of(const Bill& b) {
    std::set<std::string> f;
    if (b.overload)
        f.insert("overload");
    if (b.waived)
        f.insert("waived");
    if (b.cap_applied)
        f.insert("cap");
    if (b.prepaid_applied)
        f.insert("prepaid");
    if (b.time_limited)
        f.insert("time_limited");
    if (!b.warnings.empty())
        f.insert("warning");
    return spelled(f);
}

std::string expected_flags(const std::string& cell) {
    if (cell == "-")
        return cell;
    const auto parts = split(cell, ",");
    return spelled(std::set<std::string>(parts.begin(), parts.end()));
}

// "5831 = 3190 + 2641" (cost, electricity, service) or just "5831".
struct Cost {
    std::int64_t total = 0;
    std::optional<std::pair<std::int64_t, std::int64_t>> split;
};
Cost cost_of(const std::string& cell) {
    const auto eq = split(cell, "=");
    Cost c{std::stoll(eq[0]), std::nullopt};
    if (eq.size() == 2) {
        const auto parts = split(eq[1], "+");
        if (parts.size() != 2)
            throw std::runtime_error("a split cost is `total = electricity + service`: " + cell);
        c.split = std::make_pair(std::stoll(parts[0]), std::stoll(parts[1]));
    }
    return c;
}

} // namespace

TEST_CASE("golden bills: every worked bill in docs/billing.md costs what the page says") {
    const auto tariffs = doc_tariffs();
    const auto rows = golden_rows();
    REQUIRE(rows.size() >= 16);
    std::set<std::string> ids;
    for (const auto& row : rows) {
        INFO("row ", row.id, ": ", row.explanation);
        CHECK_MESSAGE(ids.insert(row.id).second, "duplicate id");
        Case c = build(row, tariffs);
        c.in.samples = c.samples;
        c.in.stop_reason = c.reason;
        const TariffVersion* v = version_in_force(c.versions, c.in.start_ms);
        REQUIRE(v != nullptr);
        const auto bill = price(v->tariff, c.in);
        const bool priced = bill.ok();
        REQUIRE_MESSAGE(priced, (priced ? std::string() : bill.error()));
        std::string text;
        for (const auto& l : bill->lines)
            text += "\n  [" + std::string(to_string(l.kind)) + "] " + l.text + " = " + std::to_string(l.fen.value());
        INFO("lines:", text);
        const Cost cost = cost_of(row.cost_fen);
        CHECK(bill->cost_fen.value() == cost.total);
        if (cost.split) {
            CHECK(bill->electricity_fen.value() == cost.split->first);
            CHECK(bill->service_fen.value() == cost.split->second);
        }
        CHECK(bill->electricity_fen + bill->service_fen == bill->cost_fen);
        CHECK(flags_of(*bill) == expected_flags(row.flags));
        // Whatever the row, the bill adds up and is rounded once.
        ExactFen sum;
        for (const auto& l : bill->lines)
            sum += l.exact;
        CHECK(sum == bill->exact_total);
        CHECK(bill->cost_fen == bill->exact_total.floor_fen());
        CHECK(bill->cost_fen >= Fen(0));
    }
}

TEST_CASE("golden bills: the page keeps BILLING.md's worked example (power, 180 W, 18 min → 9 fen)") {
    const auto rows = golden_rows();
    const auto b01 = std::find_if(rows.begin(), rows.end(), [](const Row& r) { return r.id == "B01"; });
    REQUIRE(b01 != rows.end());
    CHECK(b01->tariff == "residential");
    CHECK(b01->mode == "power");
    CHECK(b01->cost_fen == "9");
    CHECK(b01->inputs.find("stop=+18m;") != std::string::npos);
}

TEST_CASE("golden bills: rounding once differs from adding rounded lines (row B25)") {
    const auto tariffs = doc_tariffs();
    const auto rows = golden_rows();
    const auto b25 = std::find_if(rows.begin(), rows.end(), [](const Row& r) { return r.id == "B25"; });
    REQUIRE(b25 != rows.end());
    Case c = build(*b25, tariffs);
    c.in.samples = c.samples;
    const auto bill = price(c.versions.front().tariff, c.in);
    REQUIRE(bill.ok());
    std::int64_t sum_of_floors = 0;
    for (const auto& l : bill->lines)
        sum_of_floors += l.fen.value();
    CHECK(sum_of_floors == 25);
    CHECK(bill->cost_fen == Fen(26));
}

TEST_CASE("golden bills: every tariff of docs/billing.md parses and round-trips; no json block is untested") {
    const auto blocks = fenced_blocks(billing_doc());
    int tariffs = 0;
    for (const auto& b : blocks) {
        INFO("block ", b.info);
        const bool tagged_if_json = b.info.rfind("json", 0) != 0 || b.info.rfind("json tariff=", 0) == 0 ||
                                    b.info == "json quote-request" || b.info == "json quote-response";
        CHECK_MESSAGE(tagged_if_json, "a json block must be tagged (tariff=NAME, quote-request, quote-response)");
        if (b.info.rfind("json tariff=", 0) != 0)
            continue;
        ++tariffs;
        const auto t = parse_tariff(b.text);
        const bool parsed = t.ok();
        REQUIRE_MESSAGE(parsed, (parsed ? std::string() : t.error()));
        const auto again = parse_tariff(to_json(*t));
        REQUIRE(again.ok());
        CHECK(*again == *t);
    }
    CHECK(tariffs >= 6);
}

TEST_CASE("golden bills: the calculator example of docs/billing.md gives exactly the response shown") {
    std::string request, response;
    for (const auto& b : fenced_blocks(billing_doc())) {
        if (b.info == "json quote-request")
            request = b.text;
        if (b.info == "json quote-response")
            response = b.text;
    }
    REQUIRE_FALSE(request.empty());
    REQUIRE_FALSE(response.empty());
    const auto q = parse_quote_request(request);
    const bool parsed = q.ok();
    REQUIRE_MESSAGE(parsed, (parsed ? std::string() : q.error()));
    const auto bill = price_quote(*q);
    REQUIRE(bill.ok());
    const auto got = to_json(*bill);
    rapidjson::Document a, b;
    a.Parse(got.c_str());
    b.Parse(response.c_str());
    REQUIRE_FALSE(b.HasParseError());
    INFO("engine answers: ", got);
    CHECK(a == b);
}
