#pragma once
// Reads docs/billing.md for the pricing tests: its `json tariff=NAME` blocks and its table of
// worked bills. The page is the test data, so every example in it is checked.
#include "common/pricing.hpp"
#include "common/tariff.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace pilehub::billing::testing {

inline std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline std::string billing_doc() {
    return read_text(std::string(PILEHUB_SOURCE_DIR) + "/docs/billing.md");
}

inline std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos)
        return {};
    const auto e = s.find_last_not_of(" \t\r");
    return std::string(s.substr(b, e - b + 1));
}

inline std::vector<std::string> split(std::string_view s, std::string_view sep) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (true) {
        const auto next = s.find(sep, pos);
        out.push_back(trim(s.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos)));
        if (next == std::string_view::npos)
            break;
        pos = next + sep.size();
    }
    return out;
}

inline std::vector<std::string> lines_of(const std::string& text) {
    return split(text, "\n");
}

/// A fenced block of the page: its info string ("json tariff=residential") and its text.
struct Block {
    std::string info;
    std::string text;
};

inline std::vector<Block> fenced_blocks(const std::string& doc) {
    std::vector<Block> blocks;
    std::istringstream in(doc);
    std::string line;
    std::optional<Block> open;
    while (std::getline(in, line)) {
        if (line.rfind("```", 0) == 0) {
            if (open) {
                blocks.push_back(std::move(*open));
                open.reset();
            } else {
                open = Block{trim(line.substr(3)), {}};
            }
        } else if (open) {
            open->text += line + "\n";
        }
    }
    return blocks;
}

/// Every `json tariff=NAME` block, parsed (throws with the parser's error if one is refused).
inline std::map<std::string, Tariff> doc_tariffs() {
    std::map<std::string, Tariff> out;
    for (const auto& b : fenced_blocks(billing_doc())) {
        const std::string tag = "json tariff=";
        if (b.info.rfind(tag, 0) != 0)
            continue;
        const auto name = b.info.substr(tag.size());
        auto t = parse_tariff(b.text);
        if (!t)
            throw std::runtime_error("docs/billing.md tariff " + name + ": " + t.error());
        out.emplace(name, std::move(t).value());
    }
    return out;
}

inline std::int32_t offset_of(const Tariff& t) {
    return find_time_zone(t.timezone).value().utc_offset_s;
}

} // namespace pilehub::billing::testing

// Readable values in failed checks.
template <> struct doctest::StringMaker<pilehub::Fen> {
    static doctest::String convert(const pilehub::Fen& f) { return (std::to_string(f.value()) + " fen").c_str(); }
};
template <> struct doctest::StringMaker<pilehub::ExactFen> {
    static doctest::String convert(const pilehub::ExactFen& e) {
        return (std::to_string(e.units()) + "/" + std::to_string(pilehub::ExactFen::kUnitsPerFen) + " fen").c_str();
    }
};
