#include "payload_test_support.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace pilehub;
using namespace pilehub::payloads;

namespace {

struct Bad {
    const char* schema;
    std::string text;
    const char* reason_mentions;
    /// false for rules JSON Schema draft-04 cannot state (uniqueness, order between fields, depth).
    bool schema_refuses_too = true;
};

const std::string kEnv = R"("v":1,"ts":1732183200123,"boot":17,"seq":1,)";
const std::string kEvt = kEnv + R"("id":"e-1",)";
const std::string kReq = kEnv + R"("id":"e-1","rid":"r-1",)";
const std::string kCmd = kEnv + R"("rid":"c-1","exp":1732183230500,)";
const std::string kRep = kEnv + R"("rid":"c-1",)";

std::string obj(const std::string& env, const std::string& data) {
    return "{" + env + R"("data":)" + data + "}";
}

// Hand-written bad inputs: each must be refused and the reason must name the field.
std::vector<Bad> bad_inputs() {
    return {
        {"ebike_tele", "", "malformed JSON"},
        {"ebike_tele", "{", "malformed JSON"},
        {"ebike_tele", "[]", "payload must be an object"},
        {"ebike_tele", "null", "payload must be an object"},
        {"ebike_tele", R"({"ts":1,"boot":1,"seq":1,"data":{}})", "v is required"},
        {"ebike_tele", R"({"v":"1","ts":1,"boot":1,"seq":1,"data":{}})", "v must be a number"},
        {"ebike_tele", R"({"v":1.0,"ts":1,"boot":1,"seq":1,"data":{}})", "v must be an integer"},
        {"ebike_tele", R"({"v":1,"ts":-1,"boot":1,"seq":1,"data":{}})", "ts is -1"},
        {"ebike_tele", R"({"v":1,"ts":1e20,"boot":1,"seq":1,"data":{}})", "ts must be an integer"},
        {"ebike_tele", R"({"v":1,"ts":253402300800000,"boot":1,"seq":1,"data":{}})", "ts is 253402300800000"},
        {"ebike_tele", R"({"v":1,"ts":1,"boot":-1,"seq":1,"data":{}})", "boot is -1"},
        {"ebike_tele", R"({"v":1,"ts":1,"boot":1,"seq":18446744073709551615,"data":{}})", "seq must be an integer"},
        {"ebike_tele", obj(kEnv, "[]"), "data must be an object"},
        {"ebike_tele", obj(kEnv, R"({"sockets":[]})"), "data.total_power_w is required"},
        {"ebike_tele", obj(kEnv, R"({"total_power_w":-1,"sockets":[]})"), "data.total_power_w is -1"},
        {"ebike_tele", obj(kEnv, R"({"total_power_w":1e9,"sockets":[]})"),
         "data.total_power_w is 1000000000, outside 0..200000"},
        {"ebike_tele", obj(kEnv, R"({"total_power_w":0})"), "data.sockets is required"},
        {"ebike_tele", obj(kEnv, R"({"total_power_w":0,"sockets":{}})"), "data.sockets must be an array"},
        {"ebike_tele", obj(kEnv, R"({"total_power_w":0,"sockets":[1]})"), "data.sockets[0] must be an object"},
        {"ebike_tele", obj(kEnv, R"({"total_power_w":0,"sockets":[{"n":65,"st":"idle","power_w":0}]})"),
         "data.sockets[0].n is 65, outside 1..64"},
        {"ebike_tele", obj(kEnv, R"({"total_power_w":0,"sockets":[{"n":0,"st":"idle","power_w":0}]})"),
         "data.sockets[0].n is 0"},
        {"ebike_tele",
         obj(kEnv,
             R"({"total_power_w":0,"sockets":[{"n":1,"st":"idle","power_w":0},{"n":2,"st":"busy","power_w":0}]})"),
         "data.sockets[1].st must be one of idle|"},
        {"ebike_tele",
         obj(kEnv,
             R"({"total_power_w":0,"sockets":[{"n":1,"st":"idle","power_w":0},{"n":1,"st":"idle","power_w":0}]})"),
         "data.sockets[1].n repeats socket 1", false},
        {"ebike_tele", obj(kEnv, R"({"total_power_w":0,"sockets":[{"n":1,"st":"idle","power_w":-5}]})"),
         "data.sockets[0].power_w is -5, outside 0..20000"},
        {"ebike_tele", obj(kEnv, R"({"total_power_w":0,"sockets":[{"n":1,"st":"idle","power_w":"5"}]})"),
         "data.sockets[0].power_w must be a number"},
        {"ebike_tele",
         obj(kEnv, R"({"total_power_w":0,"sockets":[{"n":1,"st":"idle","power_w":1,"session_energy_wh":1.5}]})"),
         "data.sockets[0].session_energy_wh must be an integer"},
        {"ebike_tele", obj(kEnv, R"({"total_power_w":0,"temp_c":500,"sockets":[]})"), "data.temp_c is 500"},
        {"ebike_tele", obj(kEnv, R"({"total_power_w":0,"rssi_dbm":3,"sockets":[]})"), "data.rssi_dbm is 3"},
        {"ebike_conn_state", obj(kEnv, R"({"st":"idle"})"), "data.since is required"},
        {"ebike_conn_state", obj(kEnv, R"({"st":"idle","since":1,"sid":""})"), "data.sid must be 1..64 characters"},
        {"ebike_conn_state", obj(kEnv, R"({"st":"idle","since":1,"sid":"a/b"})"), "data.sid must be"},
        {"ebike_conn_state", obj(kEnv, R"({"st":"idle","since":1,"sid":")" + std::string(65, 'a') + R"("})"),
         "data.sid is longer than 64 bytes"},
        {"ebike_conn_state", obj(kEnv, R"({"st":"idle","since":1,"faults":["Over Temp"]})"), "data.faults[0] must be"},
        {"ebike_conn_state", obj(kEnv, R"({"st":"idle","since":1,"faults":[1]})"), "data.faults[0] must be a string"},
        {"ebike_conn_state", obj(kEnv, R"({"st":"IDLE","since":1})"), "data.st must be one of"},
        {"ebike_evt_card_swipe", obj(kEvt, R"({"card_uid":"04-A1","n":1})"), "data.card_uid must be"},
        {"ebike_evt_card_swipe", obj(kEvt, R"({"n":1})"), "data.card_uid is required"},
        {"ebike_evt_card_swipe", "{" + kEnv + R"("id":"",)" + R"("data":{"card_uid":"04","n":1}})", "id must be"},
        {"ebike_evt_session_stopped",
         obj(kEvt, R"({"n":1,"sid":"s","reason":"bored","energy_wh":1,"duration_s":1,"max_power_w":1})"),
         "data.reason must be one of quota_reached|full|"},
        {"ebike_evt_session_stopped",
         obj(kEvt, R"({"n":1,"sid":"s","reason":"full","energy_wh":-1,"duration_s":1,"max_power_w":1})"),
         "data.energy_wh is -1"},
        {"ebike_evt_session_stopped",
         obj(kEvt, R"({"n":1,"sid":"s","reason":"full","energy_wh":1,"duration_s":9999999999,"max_power_w":1})"),
         "data.duration_s is 9999999999"},
        {"ebike_evt_fault", obj(kEvt, R"({"code":"x","bit":32,"active":true,"n":0})"), "data.bit is 32"},
        {"ebike_evt_fault", obj(kEvt, R"({"code":"x","bit":1,"active":1,"n":0})"), "data.active must be true or false"},
        {"ebike_req_session_record",
         obj(kReq,
             R"({"n":1,"sid":"s","reason":"full","energy_wh":1,"duration_s":1,"max_power_w":1,"start_ts":5,"stop_ts":4})"),
         "data.stop_ts is before start_ts", false},
        {"ebike_cmd_start_port", obj(kCmd, R"({"n":1,"sid":"s"})"), "data.limit is required"},
        {"ebike_cmd_start_port", obj(kCmd, R"({"n":1,"sid":"s","limit":"full"})"), "data.limit must be an object"},
        {"ebike_cmd_start_port", obj(kCmd, R"({"n":1,"sid":"s","limit":{"kind":"energy","wh":2000000}})"),
         "data.limit.wh is 2000000"},
        {"ebike_cmd_start_port",
         "{" + kEnv + R"("rid":"c-1","exp":-5,"data":{"n":1,"sid":"s","limit":{"kind":"full"}}})", "exp is -5"},
        {"cmd_ota", obj(kCmd, R"({"url":"ftp://x/y","version":"2","sha256":"00"})"), "data.url must be an http(s) URL"},
        {"cmd_ota", obj(kCmd, R"({"url":"https://x/y","version":"2","sha256":"zz"})"),
         "data.sha256 must be 64 hexadecimal"},
        {"cmd_ota", obj(kCmd, R"({"url":"https://x/y","version":"2\n","sha256":"00"})"),
         "data.version must be non-empty text"},
        {"evt_ota", obj(kEvt, R"({"st":"installing"})"), "data.version is required"},
        {"evt_ota", obj(kEvt, R"({"version":"2.0","st":"rebooting"})"),
         "data.st must be one of downloading|downloaded|installing|installed|failed"},
        {"evt_ota", obj(kEvt, R"({"version":"2.0","st":"downloading","progress_pct":101})"),
         "data.progress_pct is 101"},
        {"cmd_reboot", obj(kCmd, R"({"when":"later"})"), "data.when must be one of now|when_idle"},
        {"cmd_set_time", obj(kCmd, R"({"epoch_ms":"now"})"), "data.epoch_ms must be a number"},
        {"ebike_cfg_reported", obj(kEnv, R"({"version":1,"status":"applied"})"), "data.values is required"},
        {"ebike_cfg_reported", obj(kEnv, R"({"version":1,"status":"applied","values":{"tele_period_s":1}})"),
         "data.values.tele_period_s is 1, outside 5..3600"},
        {"req_reply_authorize", "{" + kRep + R"("status":"ok","data":{"decision":"maybe"}})", "data.decision must be"},
        {"req_reply_authorize", "{" + kRep + R"("status":"ok","data":{"decision":"reject","reason":"nope"}})",
         "data.reason 'nope' is not a known error code"},
        {"reply", "{" + kEnv + R"("status":"ok"})", "rid is required"},
        {"reply", "{" + kRep + R"("status":"ok","msg":")" + std::string(300, 'm') + R"("})", "msg is longer than 256"},
        {"ev_tele", obj(kEnv, R"({"guns":[{"n":17,"st":"charging","energy_register_wh":1,"power_w":1}]})"),
         "data.guns[0].n is 17, outside 1..16"},
        {"ev_tele", obj(kEnv, R"({"guns":[{"n":1,"st":"Charging","energy_register_wh":1,"power_w":1}]})"),
         "data.guns[0].st must be one of available|"},
        {"ev_tele", obj(kEnv, R"({"guns":[{"n":1,"st":"charging","energy_register_wh":1,"power_w":1,"soc_pct":101}]})"),
         "data.guns[0].soc_pct is 101"},
        {"ev_tele", obj(kEnv, R"({"guns":[{"n":1,"st":"charging","power_w":1}]})"),
         "data.guns[0].energy_register_wh is required"},
        {"ev_tele", obj(kEnv, R"({"guns":[{"n":1,"st":"charging","energy_register_wh":1,"power_w":2e6}]})"),
         "data.guns[0].power_w is 2000000, outside 0..1000000"},
        {"ev_evt_fault", obj(kEvt, R"({"n":1})"), "data.fault_bits is required"},
        {"ev_evt_session_stopped",
         obj(kEvt, R"({"n":1,"sid":"s","reason":"EVDisconnected","meter_start_wh":1,"meter_stop_wh":2})"),
         "data.reason must be one of emergency_stop|"},
        {"ev_req_authorize", obj(kReq, R"({"id_tag":"ABCDEFGHIJKLMNOPQRSTU","n":1})"), "data.id_tag is longer than 20"},
        {"ev_req_reply_start_session", "{" + kRep + R"("status":"ok","data":{"decision":"accept"}})",
         "data.sid is required when decision is accept", false},
        {"ev_cmd_set_availability", obj(kCmd, R"({"n":1})"), "data.operative is required"},
        {"ev_cmd_reset", obj(kCmd, R"({"type":"warm"})"), "data.type must be one of soft|hard"},
        {"ev_cmd_set_tariff", obj(kCmd, R"({"elec_e4":-1,"service_e4":0})"), "data.elec_e4 is -1"},
        {"camera_space_state", obj(kEnv, R"({"occupied":true,"since":1,"lock":{"st":"open"}})"),
         "data.lock.st must be one of raised|lowered|moving|fault|unknown"},
        {"camera_space_state", obj(kEnv, R"({"occupied":true,"since":1,"plate":")" + std::string(33, 'P') + R"("})"),
         "data.plate is longer than 32"},
        {"camera_evt_plate", obj(kEvt, R"({"space":1,"plate":"A1","direction":"up","confidence":1})"),
         "data.direction must be one of in|out"},
        {"camera_evt_plate", obj(kEvt, R"({"space":1,"plate":"A1","direction":"in","confidence":0.97})"),
         "data.confidence must be an integer"},
        {"camera_cmd_lock", obj(kCmd, R"({"space":1,"action":"open"})"), "data.action must be one of raise|lower"},
        {"camera_cmd_reply_snapshot", "{" + kRep + R"("status":"ok","data":{"image_url":"file:///etc/passwd"}})",
         "data.image_url must be an http(s) URL"},
        {"presence", R"({"v":1,"online":true,"boot":1,"fw":""})", "fw must be non-empty"},
        {"envelope", obj(kEnv, std::string(40, '[') + std::string(40, ']')), "data must be an object"},
        {"envelope", obj(kEnv, R"({"a":)" + std::string(40, '[') + std::string(40, ']') + "}"),
         "data nests deeper than 32", false},
    };
}

/// Every example of every schema, with its codec.
struct Example {
    const PayloadCodec* codec;
    std::string text;
};

std::vector<Example> all_examples() {
    std::vector<Example> out;
    for (const auto& s : test::schemas()) {
        const auto* c = find_codec(s->name);
        REQUIRE(c);
        for (const auto& e : s->examples)
            out.push_back({c, e});
    }
    return out;
}

/// Runs a codec on arbitrary input; whatever it accepts must re-encode stably. Returns acceptance.
bool exercise(const PayloadCodec& c, std::string_view text) {
    auto once = c.recode(text);
    (void)c.round_trips(text);
    (void)peek_envelope(text);
    if (!once.ok()) {
        CHECK_FALSE(once.error().empty());
        return false;
    }
    auto twice = c.recode(once.value());
    REQUIRE_MESSAGE(twice.ok(), c.name << ": accepted " << text << " but refused its own encoding: " << twice.error());
    CHECK(twice.value() == once.value());
    return true;
}

/// All values of a document in pre-order (the document itself first).
void collect_values(rapidjson::Value& v, std::vector<rapidjson::Value*>& out) {
    out.push_back(&v);
    if (v.IsObject())
        for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it)
            collect_values(it->value, out);
    else if (v.IsArray())
        for (auto it = v.Begin(); it != v.End(); ++it)
            collect_values(*it, out);
}

} // namespace

TEST_CASE("payloads: malformed payloads are refused with a reason naming the field") {
    for (const auto& b : bad_inputs()) {
        const std::string schema = b.schema, mentions = b.reason_mentions;
        CAPTURE(schema);
        CAPTURE(b.text);
        const auto* c = find_codec(schema);
        REQUIRE(c);
        auto r = c->recode(b.text);
        REQUIRE_FALSE(r.ok());
        CHECK_MESSAGE(r.error().find(mentions) != std::string::npos,
                      "reason '" << r.error() << "' does not mention '" << mentions << "'");
        const auto* s = test::find_schema(schema);
        REQUIRE(s);
        if (b.schema_refuses_too && mentions.find("JSON") == std::string::npos)
            CHECK_MESSAGE(!s->validates(b.text), "the schema accepts what the codec refuses");
    }
}

TEST_CASE("payloads: every example truncated at every byte offset is refused, never a crash") {
    std::size_t n = 0;
    for (const auto& e : all_examples()) {
        for (std::size_t i = 0; i < e.text.size(); ++i) {
            CHECK_FALSE(exercise(*e.codec, std::string_view(e.text).substr(0, i)));
            ++n;
        }
    }
    CHECK(n > 5000);
}

TEST_CASE("payloads: every value replaced by a wrong type, a huge number or deep nesting never crashes; "
          "whatever is accepted conforms to the schema and re-encodes stably") {
    const std::string deep = std::string(20'000, '[') + std::string(20'000, ']');
    std::vector<std::string> replacements = {R"("str")",
                                             "1.5",
                                             "-1",
                                             "0",
                                             "1e300",
                                             "-1e300",
                                             "9223372036854775807",
                                             "-9223372036854775808",
                                             "18446744073709551615",
                                             "123456789012345678901234567890",
                                             "true",
                                             "false",
                                             "[]",
                                             "{}",
                                             R"([1,"a",{}])",
                                             R"({"n":1})",
                                             "\"" + std::string(5000, 'x') + "\"",
                                             R"("")",
                                             R"("\u0000")",
                                             R"("ñ")",
                                             "null",
                                             deep};
    std::size_t accepted = 0, tried = 0;
    for (const auto& e : all_examples()) {
        rapidjson::Document original;
        original.Parse(e.text.c_str());
        std::vector<rapidjson::Value*> probe;
        collect_values(original, probe);
        const auto* s = test::find_schema(e.codec->name);
        for (std::size_t k = 1; k < probe.size(); ++k) {
            for (const auto& rep : replacements) {
                rapidjson::Document d;
                d.CopyFrom(original, d.GetAllocator());
                std::vector<rapidjson::Value*> values;
                collect_values(d, values);
                // splice the replacement in as text: the deep value is spliced as text
                values[k]->SetString("\x01PLACEHOLDER\x01", d.GetAllocator());
                auto text = test::to_text(d);
                const auto at = text.find("\"\\u0001PLACEHOLDER\\u0001\"");
                REQUIRE(at != std::string::npos);
                text.replace(at, 25, rep);
                ++tried;
                CAPTURE(e.codec->name);
                CAPTURE(text.substr(0, 400));
                if (exercise(*e.codec, text)) {
                    ++accepted;
                    // null counts as absent in the codec, but a schema types it; everything else must agree
                    if (rep != "null" && e.codec->name != "envelope") {
                        std::string why;
                        CHECK_MESSAGE(s->validates(text, &why), "codec accepts what the schema refuses: " << why);
                    }
                }
            }
        }
    }
    CHECK(tried > 10'000);
    CHECK(accepted > 0);
}

TEST_CASE("payloads: every member removed from any example is handled, and never accepted against the schema") {
    for (const auto& e : all_examples()) {
        rapidjson::Document original;
        original.Parse(e.text.c_str());
        std::vector<rapidjson::Value*> probe;
        collect_values(original, probe);
        for (std::size_t k = 0; k < probe.size(); ++k) {
            if (!probe[k]->IsObject())
                continue;
            for (rapidjson::SizeType m = 0; m < probe[k]->MemberCount(); ++m) {
                rapidjson::Document d;
                d.CopyFrom(original, d.GetAllocator());
                std::vector<rapidjson::Value*> values;
                collect_values(d, values);
                values[k]->EraseMember(values[k]->MemberBegin() + m);
                const auto text = test::to_text(d);
                CAPTURE(e.codec->name);
                CAPTURE(text);
                if (exercise(*e.codec, text))
                    CHECK(test::find_schema(e.codec->name)->validates(text));
            }
        }
    }
}

TEST_CASE("payloads: invalid UTF-8 anywhere in a string is refused") {
    const std::vector<std::string> bad = {"\xff",    "\xc3\x28", "\xc0\xaf", "\xed\xa0\x80", "\xf8\x88\x80\x80\x80",
                                          "\xe2\x82"};
    for (const auto& e : all_examples()) {
        // inside the first string value after "data" (or the first string at all)
        auto at = e.text.find(":\"", e.text.find("\"data\""));
        if (at == std::string::npos)
            at = e.text.find(":\"");
        if (at == std::string::npos)
            continue;
        for (const auto& b : bad) {
            auto text = e.text;
            text.insert(at + 2, b);
            CAPTURE(e.codec->name);
            auto r = e.codec->recode(text);
            REQUIRE_FALSE(r.ok());
            CHECK(r.error().find("malformed JSON") == 0);
        }
    }
}

TEST_CASE("payloads: degenerate documents are refused by every codec") {
    const std::vector<std::string> docs = {"",
                                           " ",
                                           "null",
                                           "true",
                                           "0",
                                           "\"x\"",
                                           "[]",
                                           "{}",
                                           "{\"v\":1}",
                                           "{\"v\":1}{\"v\":1}",
                                           "{\"v\":1,}",
                                           "\xef\xbb\xbf{}",
                                           std::string("{\"v\":1\0}", 8),
                                           std::string(300'000, ' '),
                                           std::string(200'000, '[') + std::string(200'000, ']'),
                                           std::string(100'000, '{'),
                                           "{\"a\":" + std::string(100'000, '[') + std::string(100'000, ']') + "}"};
    for (const auto& c : payload_codecs())
        for (const auto& d : docs) {
            CAPTURE(c.name);
            CHECK_FALSE(exercise(c, d));
        }
}

TEST_CASE("payloads: deep nesting anywhere, even in an ignored field, is refused by the parser's depth limit") {
    const std::string deep = std::string(50'000, '[') + std::string(50'000, ']');
    const std::string tele = R"({"v":1,"ts":1,"boot":1,"seq":1,"x":)" + deep +
                             R"(,"data":{"total_power_w":0,"sockets":[],"y":)" + deep + "}}";
    CHECK(decode<EbikeTele>(tele).error().find("nested deeper than 64 levels") != std::string::npos);
    CHECK(decode<RawData>(tele).error().find("nested deeper than 64 levels") != std::string::npos);
    // Within the parser's limit, the envelope codec's own bound on `data` still applies.
    const std::string mid = std::string(40, '[') + std::string(40, ']');
    const std::string tele40 =
        R"({"v":1,"ts":1,"boot":1,"seq":1,"x":)" + mid + R"(,"data":{"total_power_w":0,"sockets":[],"y":)" + mid + "}}";
    CHECK(decode<EbikeTele>(tele40).ok());
    CHECK(decode<RawData>(tele40).error() == "data nests deeper than 32 levels");
}

TEST_CASE("payloads: every single-byte mutation of every example is handled") {
    const char subs[] = {'"', '{', '}', '[', ']', ',', ':', '0', '9', '-', '.', 'e', 'x', ' ', '\\', '\0'};
    for (const auto& e : all_examples())
        for (std::size_t i = 0; i < e.text.size(); ++i)
            for (char s : subs) {
                auto text = e.text;
                text[i] = s;
                (void)exercise(*e.codec, text);
            }
}
