// Rules with one owner stay with their owner: a spelling that once stood in several places may appear
// only in the files listed for it. Add a rule as one row: what it guards, the text that gives a copy
// away (plain text, or an ECMAScript regex), and the only files (relative to the source tree) that may
// contain it. Production code is scanned (common/, web-api/, workers/, gateway/); tests may do anything.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Rule {
    const char* what;              ///< the rule and its owner
    std::string pattern;           ///< the text of a copy
    std::set<std::string> allowed; ///< the only files that may contain it
    bool regex = false;            ///< pattern is an ECMAScript regex, else plain text
};

const std::vector<Rule>& rules() {
    static const std::vector<Rule> k{
        // Random bytes, digests, MACs: common/crypto.
        {"random bytes come from crypto::random_bytes", "RAND_bytes", {"common/crypto.cpp"}},
        {"only common/crypto includes OpenSSL's RNG", "openssl/rand.h", {"common/crypto.cpp"}},
        {"HMAC is crypto::hmac_sha256_hex", "openssl/hmac.h", {"common/crypto.cpp"}},
        {"SHA-256 is crypto::sha256_hex", "EVP_sha256", {"common/crypto.cpp"}},
        {"digests are crypto's", "EVP_Digest", {"common/crypto.cpp"}},
        {"constant-time comparison is crypto::equal_constant_time", "CRYPTO_memcmp", {"common/crypto.cpp"}},
        {"base64 is crypto::base64", "EVP_EncodeBlock", {"common/crypto.cpp"}},
        // Secret files: common/files.
        {"file modes are set only by common/files (created 0600 before any byte)",
         R"(\bf?chmod\s*\()",
         {"common/files.cpp"},
         true},
        {"no umask juggling around secret writers", R"(\bumask\s*\()", {}, true},
        // Passwords: password::password_problem.
        {"the password length rule is password::password_problem", "must have at least 8", {"common/password.hpp"}},
        {"no hand-written password length check",
         R"(\b(pw|password|new_pw)(->|\.)size\(\)\s*<)",
         {"common/password.cpp"},
         true},
        // Socket codes: common/socket_code.
        {"socket codes are parsed by sockets::parse_socket_code", "rfind('-')", {"common/socket_code.cpp"}},
        {"sessiond's old socket-code parser", R"(\bparse_socket\s*\()", {}, true},
        // Socket availability: common/socket_availability.
        {"socket availability is sockets::socket_availability", "SocketUse", {}},
        {"status words are read by sockets::reported_from_word",
         R"re(\bst\s*==\s*"(idle|starting|charging|full_wait|fault|faulted|disabled|available|preparing|suspended_evse|suspended_ev|finishing|reserved|unavailable)")re",
         {},
         true},
        // The tariff in force: billing::TariffStore.
        {"no SQL chooses the tariff in force", R"(effective_from\s*<=)", {}, true},
        {"tariff versions are read by billing::TariffStore (and the catalog's listings)",
         "FROM tariffs",
         {"common/tariff_store.cpp", "web-api/catalog_store.cpp"}},
    };
    return k;
}

struct SourceFile {
    std::string path; ///< relative, with forward slashes
    std::string text;
};

std::vector<SourceFile> production_sources() {
    const fs::path root(PILEHUB_SOURCE_DIR);
    std::vector<SourceFile> out;
    for (const char* dir : {"common", "web-api", "workers", "gateway"}) {
        if (!fs::exists(root / dir))
            continue;
        for (const auto& e : fs::recursive_directory_iterator(root / dir)) {
            const auto ext = e.path().extension().string();
            if (!e.is_regular_file() || (ext != ".cpp" && ext != ".hpp" && ext != ".h" && ext != ".cc"))
                continue;
            std::ifstream in(e.path(), std::ios::binary);
            std::stringstream ss;
            ss << in.rdbuf();
            out.push_back({fs::relative(e.path(), root).generic_string(), ss.str()});
        }
    }
    return out;
}

bool contains(const Rule& r, const std::string& text) {
    if (!r.regex)
        return text.find(r.pattern) != std::string::npos;
    return std::regex_search(text, std::regex(r.pattern));
}

} // namespace

TEST_CASE("single owner: the old spellings of shared rules stay gone") {
    const auto sources = production_sources();
    REQUIRE(sources.size() > 50);
    for (const auto& r : rules()) {
        for (const auto& f : sources)
            if (!r.allowed.count(f.path))
                CHECK_MESSAGE(!contains(r, f.text), std::string(r.what)
                                                        << ": `" << r.pattern << "` found in " << f.path);
    }
}

TEST_CASE("single owner: the table is alive — every owner still holds its spelling, and a copy is caught") {
    const auto sources = production_sources();
    for (const auto& r : rules())
        for (const auto& owner : r.allowed) {
            bool found = false;
            for (const auto& f : sources)
                if (f.path == owner)
                    found = contains(r, f.text);
            CHECK_MESSAGE(found, std::string(r.what) << ": the owner " << owner << " no longer contains `" << r.pattern
                                                     << "` (update the table)");
        }
    // The patterns catch what the old copies looked like.
    for (const char* copy : {
             "if (RAND_bytes(b, sizeof b) != 1)",
             "    ::chmod(tmp.c_str(), 0600);",
             "const auto old = ::umask(077);",
             "if (pw.size() < 8)",
             "const auto dash = code.rfind('-');",
             R"re(if (st == "fault" || st == "faulted"))re",
             "WHERE station_id = ?1 AND effective_from <= ?2",
             "SocketUse socket_use(const payloads::EbikeConnState &s);",
         }) {
        bool caught = false;
        for (const auto& r : rules())
            caught = caught || contains(r, copy);
        CHECK_MESSAGE(caught, "no rule catches: " << copy);
    }
}
