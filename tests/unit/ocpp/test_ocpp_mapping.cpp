// CONTRACT D.2's word tables and OCPP's value formats, as rules.
#include "common/json.hpp"
#include "gateway/ocpp_mapping.hpp"
#include "gateway/ocpp_meter.hpp"

#include <doctest/doctest.h>

using namespace pilehub;
using namespace pilehub::ocpp;
using payloads::EvFault;
using payloads::EvGunStatus;
using payloads::EvStopReason;

TEST_CASE("every ChargePointStatus is a gun state, and nothing else is") {
    const std::pair<const char*, EvGunStatus> table[] = {
        {"Available", EvGunStatus::Available},     {"Preparing", EvGunStatus::Preparing},
        {"Charging", EvGunStatus::Charging},       {"SuspendedEVSE", EvGunStatus::SuspendedEvse},
        {"SuspendedEV", EvGunStatus::SuspendedEv}, {"Finishing", EvGunStatus::Finishing},
        {"Reserved", EvGunStatus::Reserved},       {"Unavailable", EvGunStatus::Unavailable},
        {"Faulted", EvGunStatus::Faulted},
    };
    for (const auto& [word, st] : table) {
        CAPTURE(word);
        CHECK(parse_status(word) == st);
    }
    CHECK_FALSE(parse_status("charging"));
    CHECK_FALSE(parse_status(""));
}

TEST_CASE("error codes: hardware failures are their fault bit, a weak signal is none, the rest `other`") {
    const std::pair<const char*, std::uint32_t> table[] = {
        {"NoError", 0},
        {"WeakSignal", 0},
        {"LocalListConflict", 0},
        {"GroundFailure", payloads::ev_fault_mask(EvFault::NoGround)},
        {"PowerSwitchFailure", payloads::ev_fault_mask(EvFault::RelayWelded)},
        {"OverCurrentFailure", payloads::ev_fault_mask(EvFault::OverCurrent)},
        {"OverVoltage", payloads::ev_fault_mask(EvFault::OverVoltage)},
        {"UnderVoltage", payloads::ev_fault_mask(EvFault::UnderVoltage)},
        {"PowerMeterFailure", payloads::ev_fault_mask(EvFault::MeterFault)},
        {"EVCommunicationError", payloads::ev_fault_mask(EvFault::CpError)},
        {"HighTemperature", payloads::ev_fault_mask(EvFault::OverTemp)},
        {"ReaderFailure", payloads::ev_fault_mask(EvFault::ReaderFault)},
        {"ConnectorLockFailure", payloads::ev_fault_mask(EvFault::Other)},
        {"InternalError", payloads::ev_fault_mask(EvFault::Other)},
        {"OtherError", payloads::ev_fault_mask(EvFault::Other)},
        {"ResetFailure", payloads::ev_fault_mask(EvFault::Other)},
    };
    for (const auto& [word, bits] : table) {
        CAPTURE(word);
        CHECK(fault_bits_of(word) == bits);
    }
    CHECK_FALSE(fault_bits_of("Meltdown"));
}

TEST_CASE("stop reasons: OCPP's eleven words, nothing else") {
    const std::pair<const char*, EvStopReason> table[] = {
        {"EmergencyStop", EvStopReason::EmergencyStop},
        {"EVDisconnected", EvStopReason::EvDisconnected},
        {"HardReset", EvStopReason::HardReset},
        {"Local", EvStopReason::Local},
        {"Other", EvStopReason::Other},
        {"PowerLoss", EvStopReason::PowerLoss},
        {"Reboot", EvStopReason::Reboot},
        {"Remote", EvStopReason::Remote},
        {"SoftReset", EvStopReason::SoftReset},
        {"UnlockCommand", EvStopReason::UnlockCommand},
        {"DeAuthorized", EvStopReason::DeAuthorized},
    };
    for (const auto& [word, r] : table) {
        CAPTURE(word);
        CHECK(parse_stop_reason(word) == r);
    }
    CHECK_FALSE(parse_stop_reason("ev_disconnected"));
}

TEST_CASE("the platform's decision in idTagInfo words") {
    using payloads::Decision;
    CHECK(id_tag_status(Decision::Accept, std::nullopt) == "Accepted");
    CHECK(id_tag_status(Decision::Reject, ErrorCode::CardLost) == "Blocked");
    CHECK(id_tag_status(Decision::Reject, ErrorCode::AccountFrozen) == "Blocked");
    CHECK(id_tag_status(Decision::Reject, ErrorCode::SessionLimit) == "ConcurrentTx");
    CHECK(id_tag_status(Decision::Reject, ErrorCode::Expired) == "Expired");
    CHECK(id_tag_status(Decision::Reject, ErrorCode::UnknownCard) == "Invalid");
    CHECK(id_tag_status(Decision::Reject, ErrorCode::BalanceTooLow) == "Invalid");
    CHECK(id_tag_status(Decision::Reject, std::nullopt) == "Invalid");
}

TEST_CASE("plugging in and out, read from status changes") {
    CHECK(plug_change(EvGunStatus::Available, EvGunStatus::Preparing) == Plug::In);
    CHECK(plug_change(EvGunStatus::Available, EvGunStatus::Charging) == Plug::In);
    CHECK(plug_change(EvGunStatus::Unavailable, EvGunStatus::Preparing) == Plug::In);
    CHECK(plug_change(EvGunStatus::Preparing, EvGunStatus::Available) == Plug::Out);
    CHECK(plug_change(EvGunStatus::Finishing, EvGunStatus::Available) == Plug::Out);
    CHECK(plug_change(EvGunStatus::Charging, EvGunStatus::Available) == Plug::Out);
    CHECK(plug_change(EvGunStatus::Preparing, EvGunStatus::Charging) == Plug::None);
    CHECK(plug_change(EvGunStatus::Charging, EvGunStatus::Finishing) == Plug::None);
    CHECK(plug_change(EvGunStatus::Available, EvGunStatus::Finishing) == Plug::None);
    CHECK(plug_change(EvGunStatus::Available, EvGunStatus::Unavailable) == Plug::None);
    CHECK(plug_change(EvGunStatus::Available, EvGunStatus::Available) == Plug::None);
}

TEST_CASE("decimal strings scale to integers exactly, toward zero") {
    CHECK(parse_decimal_scaled("12.345", 3) == 12345);
    CHECK(parse_decimal_scaled("12", 3) == 12000);
    CHECK(parse_decimal_scaled("0.0019", 3) == 1);
    CHECK(parse_decimal_scaled("-0.5", 3) == -500);
    CHECK(parse_decimal_scaled("+7", 0) == 7);
    CHECK(parse_decimal_scaled("1e3", 0) == 1000);
    CHECK(parse_decimal_scaled("1.5E-1", 3) == 150);
    CHECK(parse_decimal_scaled("123456789.987654321", 0) == 123456789);
    CHECK(parse_decimal_scaled(".5", 1) == 5);
    CHECK_FALSE(parse_decimal_scaled("", 0));
    CHECK_FALSE(parse_decimal_scaled("abc", 0));
    CHECK_FALSE(parse_decimal_scaled("1.2.3", 0));
    CHECK_FALSE(parse_decimal_scaled("12kWh", 0));
    CHECK_FALSE(parse_decimal_scaled("1e", 0));
    CHECK_FALSE(parse_decimal_scaled("99999999999999999999", 3));
}

namespace {
Result<MeterReading> read(const char* text) {
    auto doc = json::parse(text);
    REQUIRE(doc);
    return read_meter_value(*doc);
}
} // namespace

TEST_CASE("a meter value: default measurand and unit, kWh exactly, phases summed, voltage averaged") {
    auto r = read(R"({"timestamp":"2026-12-07T01:00:00Z","sampledValue":[{"value":"5000"}]})");
    REQUIRE(r);
    CHECK(r->register_wh == 5000);
    CHECK(r->ts == 1'796'605'200'000);
    r = read(R"({"timestamp":"2026-12-07T01:00:00Z","sampledValue":[
        {"value":"1.001","unit":"kWh","measurand":"Energy.Active.Import.Register"},
        {"value":"7.4","unit":"kW","measurand":"Power.Active.Import"},
        {"value":"10","measurand":"Current.Import","phase":"L1"},{"value":"11","measurand":"Current.Import","phase":"L2"},
        {"value":"3","measurand":"Current.Import","phase":"N"},
        {"value":"229","measurand":"Voltage","phase":"L1-N"},{"value":"231","measurand":"Voltage","phase":"L2-N"},
        {"value":"80","measurand":"SoC","unit":"Percent"}]})");
    REQUIRE(r);
    CHECK(r->register_wh == 1001);
    CHECK(r->power_w == doctest::Approx(7400));
    CHECK(r->current_a == doctest::Approx(21)); // the neutral is not a phase
    CHECK(r->voltage_v == doctest::Approx(230));
    CHECK(r->soc_pct == 80);
}

TEST_CASE("a meter value: the total wins over phases; per-phase energy registers add up") {
    auto r = read(R"({"timestamp":"2026-12-07T01:00:00Z","sampledValue":[
        {"value":"100","phase":"L1"},{"value":"200","phase":"L2"},{"value":"300","phase":"L3"}]})");
    REQUIRE(r);
    CHECK(r->register_wh == 600);
    r = read(R"({"timestamp":"2026-12-07T01:00:00Z","sampledValue":[
        {"value":"100","phase":"L1"},{"value":"999"},{"value":"300","phase":"L3"}]})");
    REQUIRE(r);
    CHECK(r->register_wh == 999);
}

TEST_CASE("a meter value: signed data, the grid side and other measurands are not the gun's") {
    const auto r = read(R"({"timestamp":"2026-12-07T01:00:00Z","sampledValue":[
        {"value":"AbCd==","format":"SignedData"},{"value":"77","location":"Inlet"},
        {"value":"5","measurand":"Temperature","unit":"Celsius"},{"value":"42"}]})");
    REQUIRE(r);
    CHECK(r->register_wh == 42);
    CHECK_FALSE(r->power_w);
}

TEST_CASE("a meter value that cannot be believed is refused with the reason") {
    CHECK(read(R"({"timestamp":"2026-12-07T01:00:00Z","sampledValue":[{"value":"lots"}]})").error().find("lots") !=
          std::string::npos);
    CHECK_FALSE(read(R"({"timestamp":"2026-12-07T01:00:00Z","sampledValue":[{"value":"-5"}]})"));
    CHECK_FALSE(read(R"({"timestamp":"2026-12-07T01:00:00Z","sampledValue":[{"value":"101","measurand":"SoC"}]})"));
    CHECK_FALSE(read(R"({"timestamp":"2026-12-07T01:00:00Z","sampledValue":[{"value":"5","unit":"W"}]})"));
    CHECK_FALSE(read(R"({"timestamp":"not a time","sampledValue":[]})"));
}
