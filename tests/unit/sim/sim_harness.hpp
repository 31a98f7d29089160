#pragma once
// A device model driven without a broker: a ManualClock, an in-memory store, and helpers that
// build commands with the payload codecs and look through what the model published.
#include "common/payloads.hpp"
#include "common/topics.hpp"
#include "workers/pilehub-sim/device.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

namespace pilehub::sim::test {

struct Harness {
    ManualClock clock;
    Settings settings;
    std::shared_ptr<DeviceStore> store = std::make_shared<MemoryStore>();
    std::unique_ptr<Device> dev;
    std::vector<mqtt::Message> out; // everything published so far
    int rid_counter = 0;
    /// Other devices on the same clock and store; what `dev` asks of them (ask_peer) is applied as the
    /// runner applies it, and what they publish lands in `out` too.
    std::vector<std::unique_ptr<Device>> peers;

    explicit Harness(Kind kind = Kind::EbikePile, int ports = 10, std::string id = "e-0001") {
        make(FleetDevice{std::move(id), kind, ports, "secret", false});
    }
    void make(const FleetDevice& fd) { dev = make_device(fd, clock, settings, *store); }
    /// Connects with the next boot from the store, like the runner's make_will does.
    std::int64_t connect() {
        const auto boot = store->next_boot(dev->id());
        dev->connected(boot);
        drain();
        return boot;
    }
    /// Adds a peer device, connected.
    Device& add_peer(const FleetDevice& fd) {
        auto& p = *peers.emplace_back(make_device(fd, clock, settings, *store));
        p.connected(store->next_boot(p.id()));
        drain();
        return p;
    }
    void drain() {
        for (auto& m : dev->take_outbox())
            out.push_back(std::move(m));
        for (const auto& c : dev->take_peer_controls())
            for (auto& p : peers)
                if (p->id() == c.device)
                    REQUIRE_MESSAGE(p->control(c).empty(), "peer control refused");
        for (auto& p : peers)
            for (auto& m : p->take_outbox())
                out.push_back(std::move(m));
    }
    /// Moves the clock in steps of `step_ms`, ticking the device when it asked to be ticked.
    void run_for(std::int64_t ms, std::int64_t step_ms = 1000) {
        const auto end = clock.now_ms() + ms;
        while (clock.now_ms() < end) {
            clock.advance_ms(std::min<std::int64_t>(step_ms, end - clock.now_ms()));
            dev->tick();
            for (auto& p : peers)
                p->tick();
            drain();
        }
    }
    /// Sends `cmd/{name}`; an empty `rid` gets a fresh one, `exp` 0 means one minute from now.
    template <typename T>
    std::string command(std::string_view name, const T& data, const std::string& rid = "", EpochMs exp = 0) {
        const std::string r = rid.empty() ? "r" + std::to_string(++rid_counter) : rid;
        auto env = payloads::make_envelope(clock.now_ms(), 0, 0);
        env.rid = r;
        env.exp = exp != 0 ? exp : clock.now_ms() + 60'000;
        const payloads::Message<T> m{std::move(env), data};
        dev->handle({topics::cmd(dev->id(), name), payloads::encode(m), 1, false});
        drain();
        return r;
    }
    template <typename D>
    void request_reply(std::string_view name, const std::string& rid, payloads::ReplyStatus st,
                       std::optional<D> data = std::nullopt) {
        payloads::Message<payloads::Reply<D>> r;
        r.env = payloads::make_envelope(clock.now_ms(), 0, 0);
        r.env.rid = rid;
        r.data.status = st;
        r.data.data = std::move(data);
        dev->handle({topics::req_reply(dev->id(), name), payloads::encode(r), 1, false});
        drain();
    }
    /// Sends cfg/desired: an e-bike pile's (EbikeCfgDesired) or a charger's (EvCfgDesired) values.
    template <typename Desired = payloads::EbikeCfgDesired>
    void cfg(const decltype(Desired::values)& values, std::int64_t version) {
        payloads::Message<Desired> m;
        m.env = payloads::make_envelope(clock.now_ms(), 0, 0);
        m.data.version = version;
        m.data.values = values;
        dev->handle({topics::cfg_desired(dev->id()), payloads::encode(m), 1, true});
        drain();
    }
    std::string control(const std::string& line) {
        auto c = parse_control(line);
        REQUIRE_MESSAGE(c.ok(), c.error());
        auto err = dev->control(*c);
        drain();
        return err;
    }
    /// Messages published on `topic` so far.
    std::vector<mqtt::Message> on(const std::string& topic) const {
        std::vector<mqtt::Message> r;
        for (const auto& m : out)
            if (m.topic == topic)
                r.push_back(m);
        return r;
    }
    template <typename T> std::vector<payloads::Message<T>> decoded(const std::string& topic) const {
        std::vector<payloads::Message<T>> r;
        for (const auto& m : on(topic)) {
            auto d = payloads::decode<T>(m.payload);
            REQUIRE_MESSAGE(d.ok(), topic, ": ", d.error(), " in ", m.payload);
            r.push_back(std::move(d).value());
        }
        return r;
    }
    /// The reply to `rid` on cmd-reply/{name} (the last one if repeated), its `data` read as `D`.
    template <typename D = payloads::Empty>
    payloads::Message<payloads::Reply<D>> reply_to(std::string_view name, const std::string& rid) const {
        std::optional<payloads::Message<payloads::Reply<D>>> found;
        for (const auto& m : on(topics::cmd_reply(dev->id(), name))) {
            auto r = payloads::decode<payloads::Reply<D>>(m.payload);
            REQUIRE_MESSAGE(r.ok(), r.error(), " in ", m.payload);
            if (r->env.rid == rid)
                found = std::move(r).value();
        }
        REQUIRE_MESSAGE(found.has_value(), "no reply to ", rid, " on cmd-reply/", name);
        return *found;
    }
    std::size_t count(const std::string& topic) const { return on(topic).size(); }
    void clear() { out.clear(); }
};

} // namespace pilehub::sim::test
