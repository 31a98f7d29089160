// The benchmark's raw MQTT publisher (tests/bench/raw_publisher.hpp) against the real broker
// configuration: it logs in as a device, its batched QoS 0 frames arrive whole and in order at a
// Paho subscriber, its QoS 1 and retained messages arrive (the retained one at a later subscriber)
// while the broker's PUBACKs are read and dropped, and a wrong password is refused. And the discard sink that stands in
// for the broker when the generator's own ceiling is measured takes every byte handed to it.
#include "tests/bench/discard_sink.hpp"
#include "tests/bench/raw_publisher.hpp"
#include "tests/support/broker.hpp"
#include "tests/support/mqtt_frames.hpp"

#include "common/topics.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <thread>

using namespace pilehub;
using namespace std::chrono_literals;

TEST_CASE("raw publisher: batched QoS 0 frames from a device user arrive whole and in order") {
    test::Broker broker({{"raw-1", ""}});
    std::mutex m;
    std::vector<std::string> got;
    auto sub = mqtt::make_client(broker.client_options("svc.monitor"));
    sub->subscribe(topics::tele("raw-1"), 0);
    sub->on_message([&](const mqtt::Message& msg) {
        std::lock_guard l(m);
        got.push_back(msg.payload);
    });
    sub->start();
    REQUIRE(sub->wait_ready(10s));

    bench::RawPublisher pub(broker.port(), "raw-1", broker.password("raw-1"));
    const std::string big(300, 'x'); // two remaining-length bytes
    constexpr int kBatches = 20, kPerBatch = 100;
    for (int b = 0; b < kBatches; ++b) {
        for (int i = 0; i < kPerBatch; ++i)
            pub.add(topics::tele("raw-1"), "{\"seq\":", std::to_string(b * kPerBatch + i), i % 2 ? "}" : big);
        CHECK(pub.flush() == kPerBatch);
    }
    CHECK(pub.ok());
    for (int i = 0; i < 200; ++i) {
        {
            std::lock_guard l(m);
            if (got.size() >= kBatches * kPerBatch)
                break;
        }
        std::this_thread::sleep_for(25ms);
    }
    std::lock_guard l(m);
    REQUIRE(got.size() == kBatches * kPerBatch);
    for (int n = 0; n < kBatches * kPerBatch; ++n) {
        const auto want = "{\"seq\":" + std::to_string(n) + (n % 2 ? "}" : big);
        if (got[static_cast<std::size_t>(n)] != want) {
            FAIL("message " << n << " differs: " << got[static_cast<std::size_t>(n)].substr(0, 40));
            break;
        }
    }
    sub->stop();
}

TEST_CASE("raw publisher: QoS 1 messages go out with their PUBACKs read and dropped; a retained one reaches a "
          "later subscriber") {
    test::Broker broker({{"raw-1", ""}});
    bench::RawPublisher pub(broker.port(), "raw-1", broker.password("raw-1"));
    pub.publish(topics::presence("raw-1"), R"({"v":1,"online":true,"boot":1})", 1, true);
    constexpr int kEvents = 300;
    for (int i = 0; i < kEvents; ++i)
        pub.publish(topics::evt("raw-1", "plate"), "{\"i\":" + std::to_string(i) + "}", 1, false);
    CHECK(pub.flush() == kEvents + 1);

    // Subscribed after the presence was published: it arrives as the retained message.
    test::Inbox inbox;
    auto sub = test::connect_client(broker.client_options("svc.monitor"),
                                    {topics::presence("raw-1"), topics::evt("raw-1", "plate")}, &inbox);
    CHECK(inbox.wait_for(topics::presence("raw-1"), "\"online\":true", 5s));
    // The broker's 301 PUBACKs are read by flush() without breaking the connection.
    for (int i = 0; i < 20; ++i) {
        pub.flush();
        std::this_thread::sleep_for(10ms);
    }
    REQUIRE(pub.ok());
    pub.publish(topics::evt("raw-1", "plate"), R"({"i":"after"})", 1, false);
    CHECK(pub.flush() == 1);
    CHECK(inbox.wait_for(topics::evt("raw-1", "plate"), "after", 5s));
    CHECK(pub.ok());
    sub->stop();
}

TEST_CASE("raw publisher: a wrong password is refused at CONNECT with Mosquitto's code 5") {
    test::Broker broker({{"raw-1", ""}});
    try {
        bench::RawPublisher pub(broker.port(), "raw-1", "wrong");
        FAIL("the login was accepted");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()).find("CONNACK 5") != std::string::npos);
    }
}

TEST_CASE("raw publisher: the discard sink accepts any login and takes every byte of every frame handed over") {
    bench::DiscardSink sink;
    bench::RawPublisher pub(sink.port(), "anyone", "anything");
    const std::string payload(700, 'p');
    std::string one;
    test::mqtt_frames::append_publish_qos0(one, topics::tele("anyone"), payload);
    constexpr std::size_t kFrames = 5000;
    std::size_t handed = 0;
    for (std::size_t i = 0; i < kFrames; ++i)
        pub.add(topics::tele("anyone"), payload);
    for (int i = 0; i < 400 && handed < kFrames; ++i) {
        handed += pub.flush();
        if (handed < kFrames)
            std::this_thread::sleep_for(5ms);
    }
    CHECK(handed == kFrames);
    CHECK(pub.unsent_bytes() == 0);
    for (int i = 0; i < 200 && sink.bytes() < kFrames * one.size(); ++i)
        std::this_thread::sleep_for(10ms);
    CHECK(sink.bytes() == kFrames * one.size());
}
