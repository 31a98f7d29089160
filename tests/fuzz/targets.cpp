#include "tests/fuzz/entries.hpp"

namespace pilehub::fuzz {

Entry find(std::string_view name) {
    if (name == "payloads")
        return &payloads;
    if (name == "tariff")
        return &tariff;
    if (name == "http")
        return &http;
    if (name == "ocpp")
        return &ocpp;
    return nullptr;
}

const std::vector<std::string>& names() {
    static const std::vector<std::string> k{"payloads", "tariff", "http", "ocpp"};
    return k;
}

} // namespace pilehub::fuzz
