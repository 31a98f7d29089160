#pragma once
#include "common/mqtt.hpp"

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pilehub::test {

/// An mqtt::Client without a broker, for unit tests of a worker's glue: records what is published
/// and what is subscribed, and deliver() hands an inbound message to the message handler on the
/// caller's thread (as Paho's callback thread would). Always "connected"; start/stop do nothing.
class FakeMqtt : public mqtt::Client {
public:
    /// `id` is what client_id() answers, e.g. "svc.recorderd".
    explicit FakeMqtt(std::string id = "svc.test") : id_(std::move(id)) {}

    void subscribe(const std::string& filter, int) override { filters.push_back(filter); }
    void on_message(mqtt::MessageHandler h) override { handler_ = std::move(h); }
    void on_connect(mqtt::ConnectHandler) override {}
    void on_lost(mqtt::LostHandler) override {}
    void start() override {}
    bool wait_ready(std::chrono::milliseconds) override { return true; }
    bool publish(const mqtt::Message& m) override {
        std::lock_guard l(m_);
        published_.push_back(m);
        return true;
    }
    void stop(const std::optional<mqtt::Message>&) override {}
    void kill_connection() override {}
    bool connected() const override { return true; }
    mqtt::Stats stats() const override { return {}; }
    const std::string& client_id() const override { return id_; }

    /// Runs the message handler with `m`, as Paho's callback thread would.
    void deliver(const mqtt::Message& m) { handler_(m); }
    /// Everything published so far, in order.
    std::vector<mqtt::Message> published() const {
        std::lock_guard l(m_);
        return published_;
    }
    /// Everything published on exactly `topic`, in order.
    std::vector<mqtt::Message> on(const std::string& topic) const {
        std::lock_guard l(m_);
        std::vector<mqtt::Message> out;
        for (const auto& m : published_)
            if (m.topic == topic)
                out.push_back(m);
        return out;
    }

    /// Every filter subscribed, in order.
    std::vector<std::string> filters;

private:
    std::string id_;
    mqtt::MessageHandler handler_;
    mutable std::mutex m_;
    std::vector<mqtt::Message> published_;
};

} // namespace pilehub::test
