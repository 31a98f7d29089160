#pragma once
// Grep tests: a table of rules, each a pattern that must not appear in some source files, with the
// old lines it must catch (so the rule can fail) and legitimate lines it must let through. Used by
// tests/unit/svc/test_single_spelling.cpp and tests/unit/api/test_routes_without_sql.cpp.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace pilehub::test::grep {

struct Rule {
    const char* what;                ///< the rule, for the failure message
    const char* pattern;             ///< ECMAScript regex, matched per line
    std::vector<std::string> roots;  ///< searched: a file, a folder ending in '/' (recursive), or `dir/prefix*`
    std::vector<std::string> allow;  ///< files or folders where the pattern is the one spelling
    std::vector<std::string> caught; ///< old spellings the pattern must match (so the rule can fail)
    std::vector<std::string> passed; ///< legitimate lines it must not match
};

/// A full-line comment: docs may quote what code must not spell.
inline bool comment_line(const std::string& line) {
    const auto at = line.find_first_not_of(" \t");
    return at != std::string::npos &&
           (line.compare(at, 2, "//") == 0 || line.compare(at, 1, "*") == 0 || line.compare(at, 2, "/*") == 0);
}

/// Whether `rel` (a path relative to the source tree) is `entry` or lies under the folder `entry`.
inline bool covered(const std::string& rel, const std::string& entry) {
    return entry.back() == '/' ? rel.rfind(entry, 0) == 0 : rel == entry;
}

inline bool is_source(const std::filesystem::path& p) {
    const auto ext = p.extension().string();
    return ext == ".cpp" || ext == ".hpp" || ext == ".h";
}

/// The source files below `roots`, relative to the source tree, sorted.
inline std::vector<std::string> files_of(const std::vector<std::string>& roots) {
    namespace fs = std::filesystem;
    const fs::path root(PILEHUB_SOURCE_DIR);
    std::vector<std::string> out;
    for (const auto& entry : roots) {
        if (entry.back() == '*') { // dir/prefix*: the files of dir whose name starts with prefix
            const fs::path pattern(entry.substr(0, entry.size() - 1));
            const auto prefix = pattern.filename().string();
            REQUIRE_MESSAGE(fs::is_directory(root / pattern.parent_path()), entry << ": no such folder");
            for (const auto& f : fs::directory_iterator(root / pattern.parent_path()))
                if (f.is_regular_file() && is_source(f.path()) && f.path().filename().string().rfind(prefix, 0) == 0)
                    out.push_back(fs::relative(f.path(), root).generic_string());
            continue;
        }
        const auto p = root / entry;
        REQUIRE_MESSAGE(fs::exists(p), entry << " does not exist: fix the rule's roots");
        if (fs::is_regular_file(p)) {
            out.push_back(entry);
            continue;
        }
        for (const auto& f : fs::recursive_directory_iterator(p))
            if (f.is_regular_file() && is_source(f.path()))
                out.push_back(fs::relative(f.path(), root).generic_string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

/// Every rule's pattern matches each of its `caught` lines and none of its `passed` lines.
inline void check_patterns(const std::vector<Rule>& rules) {
    for (const auto& r : rules) {
        const std::string what = r.what;
        CAPTURE(what);
        const std::regex re(r.pattern);
        REQUIRE_FALSE(r.caught.empty());
        for (const auto& old : r.caught)
            CHECK_MESSAGE(std::regex_search(old, re), "not caught: " << old);
        for (const auto& fine : r.passed)
            CHECK_MESSAGE(!std::regex_search(fine, re), "wrongly caught: " << fine);
    }
}

/// No line outside comments of a rule's files (but its `allow`ed ones) matches its pattern; each
/// rule searches at least `min_files` files (so an emptied root cannot pass silently).
inline void check_tree(const std::vector<Rule>& rules, std::size_t min_files = 1) {
    for (const auto& r : rules) {
        const std::string what = r.what;
        CAPTURE(what);
        const std::regex re(r.pattern);
        const auto files = files_of(r.roots);
        CHECK(files.size() >= std::max(min_files, r.roots.size()));
        std::vector<std::string> found;
        for (const auto& rel : files) {
            if (std::any_of(r.allow.begin(), r.allow.end(), [&](const std::string& a) { return covered(rel, a); }))
                continue;
            std::ifstream in(std::filesystem::path(PILEHUB_SOURCE_DIR) / rel);
            REQUIRE(in);
            std::string line;
            for (int n = 1; std::getline(in, line); ++n)
                if (!comment_line(line) && std::regex_search(line, re))
                    found.push_back(fmt::format("{}:{}: {}", rel, n, line));
        }
        std::string report;
        for (const auto& f : found)
            report += "\n  " + f;
        CHECK_MESSAGE(found.empty(), what << report);
    }
}

} // namespace pilehub::test::grep
