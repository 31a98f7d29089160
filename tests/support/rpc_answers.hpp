#pragma once
#include "common/json.hpp"
#include "common/mqtt.hpp"

#include <string>
#include <utility>
#include <vector>

namespace pilehub::test {

/// The rpc replies among `published` (what a fake client published on a reply topic) for the
/// request `rid`, as (status, code), in order; a reply that does not parse is ("unreadable", "").
inline std::vector<std::pair<std::string, std::string>> rpc_answers(const std::vector<mqtt::Message>& published,
                                                                    const std::string& rid) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& m : published) {
        auto doc = json::parse(m.payload);
        if (!doc) {
            out.emplace_back("unreadable", "");
            continue;
        }
        std::string err;
        auto o = json::Object::root(*doc, &err);
        if (o.req_str("rid", 64) == rid)
            out.emplace_back(o.req_str("status", 32), o.opt_str("code", 64).value_or(""));
    }
    return out;
}

} // namespace pilehub::test
