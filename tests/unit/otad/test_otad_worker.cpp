// otad's glue without a broker: a fake MQTT client injects presence and evt/ota and records cmd/ota;
// the rollouts are rows in a real core database, as the API writes them.
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt_router.hpp"
#include "common/ota.hpp"
#include "common/payloads.hpp"
#include "common/topics.hpp"
#include "tests/support/fake_mqtt.hpp"
#include "tests/support/registry_seed.hpp"
#include "workers/otad/otad_worker.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>

using namespace pilehub;

namespace {

struct World {
    std::string path =
        (std::filesystem::temp_directory_path() / ("pilehub-otad-worker-" + std::to_string(::getpid()) + ".db"))
            .string();
    World() {
        clean();
        db::Database core(path);
        db::migrate(core, db::core_migrations());
        test::register_piles(core, {"P1", "P2"});
        core.exec("INSERT INTO firmware (id, kind, model, version, sha256, size, path, created_at) VALUES "
                  "(1, 'ebike_pile', '', '2.0', '" +
                  std::string(64, 'a') + "', 10, '/x', 0)");
        core.exec("INSERT INTO rollouts (id, firmware_id, batch_size, batch_interval_s, max_failures, timeout_s, "
                  "token_hash, token_expires_at, created_at) VALUES (5, 1, 1, 0, 0, 600, 'h', 9999999999999, 0)");
        core.exec("INSERT INTO rollout_devices (rollout_id, device_id, updated_at) VALUES (5, 'P1', 0), (5, 'P2', 0)");
    }
    ~World() { clean(); }
    void clean() const {
        for (const char* suffix : {"", "-wal", "-shm", ".spool"})
            std::filesystem::remove(path + suffix);
    }
};

std::string presence(std::int64_t boot, const char* fw) {
    payloads::Presence p;
    p.online = true;
    p.boot = boot;
    p.fw = fw;
    return payloads::encode_presence(p);
}

std::string state_of(db::Database& d, const char* dev) {
    db::Statement st(d, "SELECT state FROM rollout_devices WHERE rollout_id = 5 AND device_id = ?1");
    st.bind(1, dev);
    return st.step() ? st.text(0) : "";
}

} // namespace

TEST_CASE("otad worker: sends cmd/ota with the rollout's URL, rid and exp; the new fw installs; an operator's halt "
          "meanwhile stops it") {
    log::set_level(log::Level::Error);
    World w;
    db::Database core(w.path);
    test::FakeMqtt mqtt("svc.otad");
    mqtt::Router router;
    ManualClock clock;
    otad::Options o;
    o.download_base_url = "http://api.test:8080/";
    o.token_key = std::string(64, 'k');
    otad::Worker worker(mqtt, router, core, clock, o);
    router.attach(mqtt);
    worker.restore();
    CHECK(worker.rules().holds(5));

    mqtt.deliver({topics::presence("P1"), presence(1, "1.0"), 1, true});
    mqtt.deliver({topics::presence("P2"), presence(1, "1.0"), 1, true});
    worker.drain();
    worker.tick_now();
    auto sent = mqtt.on(topics::cmd("P1", "ota"));
    REQUIRE(sent.size() == 1);
    auto cmd = payloads::decode<payloads::CmdOta>(sent[0].payload);
    REQUIRE(cmd);
    CHECK(cmd->env.rid == std::optional<std::string>("ota-5"));
    CHECK(cmd->env.exp == clock.now_ms() + 60'000);
    CHECK(cmd->data.url == "http://api.test:8080/api/v1/firmware/1?token=" + ota::rollout_token(o.token_key, 5));
    CHECK(cmd->data.version == "2.0");
    CHECK(mqtt.on(topics::cmd("P2", "ota")).empty()); // batches of 1
    CHECK(state_of(core, "P1") == "sent");

    // P1 comes back with 2.0: installed and recorded; P2 is next.
    mqtt.deliver({topics::presence("P1"), presence(2, "2.0"), 1, true});
    worker.drain();
    CHECK(state_of(core, "P1") == "installed");
    db::Statement fw(core, "SELECT version FROM device_firmware WHERE device_id = 'P1'");
    REQUIRE(fw.step());
    CHECK(fw.text(0) == "2.0");
    worker.tick_now();
    CHECK(mqtt.on(topics::cmd("P2", "ota")).size() == 1);

    // An operator halts the rollout (as the API does); P2's failure is then not written.
    core.exec("UPDATE rollouts SET state = 'halted' WHERE id = 5");
    payloads::Message<payloads::EvtOta> failed{payloads::make_event_envelope(1, 1, 1, "e-1"),
                                               {"2.0", payloads::OtaStatus::Failed, std::nullopt, "bad"}};
    mqtt.deliver({topics::evt("P2", "ota"), payloads::encode(failed), 1, false});
    worker.drain();
    CHECK(state_of(core, "P2") == "sent");
    worker.tick_now();
    CHECK_FALSE(worker.rules().holds(5));
    worker.stop();
}
