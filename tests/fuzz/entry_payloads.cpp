// fuzz_payloads: every decoder of text that arrives over MQTT. Byte 0 picks the decoder, the rest is
// the text: a device payload codec (common/payloads; the codecs in the order of their schema names,
// schema/payloads/*.json sorted), an svc codec (schema/svc/*.json sorted), the topic parsers, the envelope, an rpc
// request and an rpc reply, the API's live device cache. A codec must be a fixed point: decode → encode → decode gives
// the same value, and encoding that again gives the same text.
#include "common/json.hpp"
#include "common/log.hpp"
#include "common/mqtt_router.hpp"
#include "common/payloads.hpp"
#include "common/rpc.hpp"
#include "common/svc.hpp"
#include "common/topics.hpp"
#include "tests/fuzz/entries.hpp"
#include "tests/support/fake_mqtt.hpp"
#include "web-api/device_cache.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace pilehub::fuzz {
namespace {

/// The checks every codec shares: `recode` and `round_trips` of one codec, named `name`.
template <typename Codec> std::string fixed_point(const Codec& c, std::string_view name, std::string_view text) {
    auto once = c.recode(text);
    auto round = c.round_trips(text);
    if (!once) {
        if (round)
            return fmt::format("{}: recode refused what round_trips accepted", name);
        return {};
    }
    if (!round)
        return fmt::format("{}: {}", name, round.error());
    if (!round.value())
        return fmt::format("{}: decode(encode(x)) differs from x", name);
    auto twice = c.recode(once.value());
    if (!twice)
        return fmt::format("{}: its own encoding does not decode: {}", name, twice.error());
    if (twice.value() != once.value())
        return fmt::format("{}: encoding is not stable: {} then {}", name, once.value(), twice.value());
    return {};
}

std::string topic_parsers(std::string_view text) {
    // Text is one topic, or "filter\ntopic".
    const auto nl = text.find('\n');
    const auto topic = nl == std::string_view::npos ? text : text.substr(nl + 1);
    if (auto t = topics::parse_device_topic(topic)) {
        if (t->device_id.empty())
            return "parse_device_topic: an empty device id was accepted";
        if (!topics::matches(topics::any_device::all(), topic))
            return fmt::format("parse_device_topic accepted {} but the device wildcard does not match it",
                               std::string(topic));
    }
    (void)topics::session_of(topic);
    (void)topics::device_of_presence(topic);
    (void)topics::device_of_report(topic);
    if (nl != std::string_view::npos) {
        const auto filter = text.substr(0, nl);
        const bool valid = topics::valid_filter(filter);
        const bool hit = topics::matches(filter, topic);
        if (filter == topic && valid && filter.find_first_of("+#") == std::string_view::npos && !hit)
            return "matches: a topic does not match itself";
    }
    return {};
}

std::string envelope(std::string_view text) {
    auto e = payloads::peek_envelope(text);
    (void)e;
    return {};
}

std::string rpc_request(std::string_view text) {
    static test::FakeMqtt mqtt("svc.fuzz");
    static mqtt::Router router;
    static ManualClock clock{1'800'000'000'000};
    static rpc::Server* server = [] {
        auto* s = new rpc::Server(mqtt, router, "sessiond", clock);
        s->handle("start", [](rpc::Request& r) {
            auto req = svc::decode<svc::StartRequest>(*r.data_value);
            if (!req)
                return rpc::Reply::refuse("invalid_request", req.error(), "invalid");
            return rpc::Reply::success(svc::encode(req.value()));
        });
        s->handle_async("stop", [](rpc::Request& r, rpc::Responder answer) {
            auto req = svc::decode<svc::StopRequest>(*r.data_value);
            answer.reply(req ? rpc::Reply::success() : rpc::Reply::refuse("invalid_request", req.error(), "invalid"));
        });
        return s;
    }();
    const auto before = mqtt.published().size();
    // The first byte picks the method (odd: stop, asynchronous), the rest is the request.
    if (text.empty())
        return {};
    const bool stop = static_cast<unsigned char>(text[0]) & 1;
    text.remove_prefix(1);
    server->on_request({topics::rpc("sessiond", stop ? "stop" : "start"), std::string(text), 1, false});
    const auto out = mqtt.published();
    for (auto i = before; i < out.size(); ++i) {
        auto doc = json::parse(out[i].payload);
        if (!doc || !doc->IsObject() || !doc->HasMember("rid") || !doc->HasMember("status"))
            return "rpc: a reply is not a {rid, status} object: " + out[i].payload;
    }
    return {};
}

std::string rpc_reply(std::string_view text) {
    static test::FakeMqtt mqtt("svc.fuzz-client");
    static mqtt::Router router;
    static rpc::Client client(mqtt, router);
    router.dispatch({topics::rpc_reply(mqtt.client_id()), std::string(text), 1, false});
    return {};
}

std::string device_cache(std::string_view text) {
    static ManualClock clock{1'800'000'000'000};
    static api::DeviceCache cache(clock);
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos)
        return {};
    cache.handle({std::string(text.substr(0, nl)), std::string(text.substr(nl + 1)), 1, false});
    return {};
}

/// A registry's codecs in the order of their names (so that a seed's byte 0 does not depend on the
/// order of registration; scripts/fuzz-seeds sorts the schema files the same way).
template <typename C> std::vector<const C*> by_name(const std::vector<C>& all) {
    std::vector<const C*> v;
    for (const auto& c : all)
        v.push_back(&c);
    std::sort(v.begin(), v.end(), [](const C* a, const C* b) { return a->name < b->name; });
    return v;
}

} // namespace

std::vector<std::string> payload_selectors() {
    std::vector<std::string> out;
    for (const auto* c : by_name(payloads::payload_codecs()))
        out.emplace_back(c->name);
    for (const auto* c : by_name(svc::codecs()))
        out.emplace_back(c->name);
    for (const char* other : {"topics", "envelope", "rpc_request", "rpc_reply", "device_cache"})
        out.emplace_back(other);
    return out;
}

std::string payloads(const std::uint8_t* data, std::size_t size) {
    static const bool quiet = (log::set_level(log::Level::Error), true);
    (void)quiet;
    if (size == 0)
        return {};
    static const auto device = by_name(payloads::payload_codecs());
    static const auto platform = by_name(svc::codecs());
    const std::size_t others = 5;
    const std::size_t pick = data[0] % (device.size() + platform.size() + others);
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (pick < device.size())
        return fixed_point(*device[pick], device[pick]->name, text);
    if (pick < device.size() + platform.size()) {
        const auto* c = platform[pick - device.size()];
        return fixed_point(*c, c->name, text);
    }
    switch (pick - device.size() - platform.size()) {
    case 0:
        return topic_parsers(text);
    case 1:
        return envelope(text);
    case 2:
        return rpc_request(text);
    case 3:
        return rpc_reply(text);
    default:
        return device_cache(text);
    }
}

} // namespace pilehub::fuzz
