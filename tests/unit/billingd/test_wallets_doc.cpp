// docs/wallets.md: every JSON example parses, and the payload examples have exactly the fields
// billingd writes.
#include "billingd_rules.hpp"
#include "billingd_worker.hpp"

#include "common/json.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>

using namespace pilehub;

namespace {

std::vector<std::string> json_blocks(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    const auto text = ss.str();
    std::vector<std::string> out;
    std::size_t at = 0;
    while ((at = text.find("```json\n", at)) != std::string::npos) {
        at += 8;
        const auto end = text.find("```", at);
        REQUIRE(end != std::string::npos);
        out.push_back(text.substr(at, end - at));
        at = end + 3;
    }
    return out;
}

std::set<std::string> keys(const std::string& json_text) {
    auto doc = json::parse(json_text);
    REQUIRE_MESSAGE(doc.ok(), json_text);
    std::set<std::string> k;
    for (auto it = doc->MemberBegin(); it != doc->MemberEnd(); ++it)
        k.insert(it->name.GetString());
    return k;
}

} // namespace

TEST_CASE("docs: every JSON example of docs/wallets.md parses; the payload examples match what billingd writes") {
    const auto blocks = json_blocks(std::string(PILEHUB_SOURCE_DIR) + "/docs/wallets.md");
    REQUIRE(blocks.size() == 3);
    for (const auto& b : blocks)
        CHECK_MESSAGE(json::parse(b).ok(), b);

    billing::SessionFacts f;
    f.id = "s1";
    f.account_id = 17;
    f.device_id = "P1";
    billing::Settled s;
    s.from_state = "stopping";
    CHECK(keys(blocks[1]) == keys(svc::encode(billing::completed_transition(f, s, "full", "billingd"))));

    billing::CostUpdate u;
    u.sid = "s1";
    CHECK(keys(blocks[2]) == keys(svc::encode(billing::running_cost(u))));
}
