#pragma once
#include "common/mqtt.hpp"

#include <string>
#include <vector>

namespace pilehub::mqtt {

/// Sends each inbound message to every handler whose filter matches its topic (topics::matches).
/// Register everything before the client starts; dispatch runs on the client's callback thread.
class Router {
public:
    /// Adds a handler and subscribes the client to `filter`.
    void add(Client& client, const std::string& filter, int qos, MessageHandler h);
    /// Adds a handler without subscribing (the filter is covered by another subscription).
    void add_local(const std::string& filter, MessageHandler h);
    /// Runs the matching handlers; returns how many ran. Unmatched topics are logged at debug.
    int dispatch(const Message& m) const;
    /// Installs dispatch as the client's message handler.
    void attach(Client& client);

private:
    std::vector<std::pair<std::string, MessageHandler>> routes_;
};

} // namespace pilehub::mqtt
