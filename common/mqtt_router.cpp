#include "common/mqtt_router.hpp"

#include "common/log.hpp"
#include "common/topics.hpp"

namespace pilehub::mqtt {

void Router::add(Client& client, const std::string& filter, int qos, MessageHandler h) {
    client.subscribe(filter, qos);
    add_local(filter, std::move(h));
}

void Router::add_local(const std::string& filter, MessageHandler h) { routes_.emplace_back(filter, std::move(h)); }

int Router::dispatch(const Message& m) const {
    int n = 0;
    for (const auto& [filter, h] : routes_) {
        if (topics::matches(filter, m.topic)) {
            h(m);
            ++n;
        }
    }
    if (n == 0)
        log::debug("no handler for {}", m.topic);
    return n;
}

void Router::attach(Client& client) {
    client.on_message([this](const Message& m) { dispatch(m); });
}

} // namespace pilehub::mqtt
