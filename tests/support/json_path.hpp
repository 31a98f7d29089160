#pragma once
// A dotted path into a parsed JSON document, for tests and benchmarks that read API replies.
#include <rapidjson/document.h>

#include <cctype>
#include <string>

namespace pilehub::test {

/// The value at a dotted path (`session.id`, `stations.0.name`: member names, and array indexes
/// where the value is an array), or nullptr when any step is missing.
inline const rapidjson::Value* json_at(const rapidjson::Value& root, const std::string& path) {
    const rapidjson::Value* v = &root;
    std::size_t start = 0;
    while (v && start <= path.size()) {
        const auto dot = path.find('.', start);
        const auto key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (v->IsObject()) {
            auto it = v->FindMember(key.c_str());
            v = it == v->MemberEnd() ? nullptr : &it->value;
        } else if (v->IsArray() && !key.empty() && std::isdigit(static_cast<unsigned char>(key[0]))) {
            const auto i = static_cast<rapidjson::SizeType>(std::stoul(key));
            v = i < v->Size() ? &(*v)[i] : nullptr;
        } else {
            v = nullptr;
        }
        if (dot == std::string::npos)
            break;
        start = dot + 1;
    }
    return v;
}

} // namespace pilehub::test
