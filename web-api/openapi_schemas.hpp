#pragma once
// Response schemas shared by route files (Route::returns): the named ones are written under the OpenAPI
// document's components/schemas and referred to as {"$ref":"#/components/schemas/<Name>"}; the
// property fragments are spliced into an object's "properties" where a writer adds members to the
// object it is in (write_modes, write_counts). OpenAPI 3.0 dialect: `nullable: true`, no type arrays.
// Every object a writer always writes in full is `additionalProperties: false`, so that a new member
// must be declared here (the contract check, tests/contract/, fails on an undeclared one).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pilehub::api::schemas {

/// {"type":"object","additionalProperties":false,"required":[<required>],"properties":{<props>}}:
/// `props` is a list of `"name":{schema}` members, `required` a list of `"name"` words.
inline std::string object(std::string_view props, std::string_view required) {
    std::string s = R"({"type":"object","additionalProperties":false,)";
    if (!required.empty())
        s.append(R"("required":[)").append(required).append("],");
    s.append(R"("properties":{)").append(props).append("}}");
    return s;
}
/// {"type":"object", ... "properties":{"<key>":{"type":"array","items":<item>}}} with `key` required.
inline std::string list_of(std::string_view key, std::string_view item) {
    std::string p = "\"";
    p.append(key).append(R"(":{"type":"array","items":)").append(item).append("}");
    return object(p, "\"" + std::string(key) + "\"");
}
/// {"type":"object", ... "properties":{"<key>":<item>}} with `key` required.
inline std::string one_of_key(std::string_view key, std::string_view item) {
    std::string p = "\"";
    p.append(key).append("\":").append(item);
    return object(p, "\"" + std::string(key) + "\"");
}
/// A reference to a named schema below.
inline std::string ref(std::string_view name) {
    return R"({"$ref":"#/components/schemas/)" + std::string(name) + "\"}";
}

// ---- scalars ----
inline constexpr const char* kTime = R"({"type":"string","format":"date-time"})";
inline constexpr const char* kTimeOrNull = R"({"type":"string","format":"date-time","nullable":true})";
inline constexpr const char* kInt = R"({"type":"integer","format":"int64"})";
inline constexpr const char* kIntOrNull = R"({"type":"integer","format":"int64","nullable":true})";
inline constexpr const char* kStr = R"({"type":"string"})";
inline constexpr const char* kStrOrNull = R"({"type":"string","nullable":true})";
inline constexpr const char* kBool = R"({"type":"boolean"})";
inline constexpr const char* kNum = R"({"type":"number"})";
/// Any JSON object (a free-form document: a tariff, a command's payload).
inline constexpr const char* kAnyObject = R"({"type":"object"})";
/// A list of numeric ids / of texts.
inline constexpr const char* kIntList = R"({"type":"array","items":{"type":"integer","format":"int64"}})";
inline constexpr const char* kStrList = R"({"type":"array","items":{"type":"string"}})";

// ---- fragments spliced into an object's properties ----

/// write_modes (routes_common.hpp): the tariff's modes with prices, free, free_minutes,
/// min_start_balance_fen and cap.
inline constexpr const char* kModesProps =
    R"("modes":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["mode"],)"
    R"("properties":{"mode":{"type":"string","enum":["time","power","energy"]},)"
    R"("fen_per_hour":{"type":"integer"},)"
    R"("options":{"type":"array","items":{"type":"object","additionalProperties":false,)"
    R"("required":["minutes","price_fen"],"properties":{"minutes":{"type":"integer"},"price_fen":{"type":"integer"}}}},)"
    R"("tiers":{"type":"array","items":{"type":"object","additionalProperties":false,)"
    R"("required":["up_to_w","fen_per_hour"],"properties":{"up_to_w":{"type":"integer"},"fen_per_hour":{"type":"integer"}}}},)"
    R"("periods":{"type":"object","additionalProperties":{"type":"object","additionalProperties":false,)"
    R"("required":["elec_e4","service_e4"],"properties":{"elec_e4":{"type":"integer"},"service_e4":{"type":"integer"}}}},)"
    R"("service_by":{"type":"string"},"current_period":{"type":"string"},"service_fen_per_hour":{"type":"integer"}}}},)"
    R"("free":{"type":"boolean"},"free_minutes":{"type":"integer"},"min_start_balance_fen":{"type":"integer"},)"
    R"("cap":{"type":"object","additionalProperties":false,"properties":{"max_minutes":{"type":"integer"},)"
    R"("max_fen":{"type":"integer"}}})";
inline constexpr const char* kModesRequired = R"("modes","free","free_minutes","min_start_balance_fen","cap")";

/// write_prepaid_amounts: `prepaid_amounts_fen`.
inline constexpr const char* kPrepaidProps = R"("prepaid_amounts_fen":{"type":"array","items":{"type":"integer"}})";

/// The rider's station counts: free_sockets, total_sockets, ebike and ev {free, total}.
inline constexpr const char* kCountsProps =
    R"("free_sockets":{"type":"integer"},"total_sockets":{"type":"integer"},)"
    R"("ebike":{"$ref":"#/components/schemas/FreeTotal"},"ev":{"$ref":"#/components/schemas/FreeTotal"})";
inline constexpr const char* kCountsRequired = R"("free_sockets","total_sockets","ebike","ev")";

// ---- named schemas (components/schemas) ----

/// The members of write_session (routes_common.hpp) that every reader sees.
inline constexpr const char* kSessionProps =
    R"("id":{"type":"string"},"state":{"type":"string"},"socket":{"type":"string"},"device_id":{"type":"string"},)"
    R"("n":{"type":"integer"},"station_id":{"type":"integer","format":"int64"},"kind":{"type":"string"},)"
    R"("mode":{"type":"string"},"minutes":{"type":"integer"},"method":{"type":"string"},)"
    R"("max_fen":{"type":"integer","nullable":true},"soc_pct":{"type":"integer","nullable":true},)"
    R"("created_at":{"type":"string","format":"date-time"},)"
    R"("started_at":{"type":"string","format":"date-time","nullable":true},)"
    R"("ended_at":{"type":"string","format":"date-time","nullable":true},)"
    R"("power_w":{"type":"integer"},"energy_wh":{"type":"integer"},"duration_s":{"type":"integer"},)"
    R"("cost_fen":{"type":"integer","nullable":true},"settled":{"type":"boolean"},)"
    R"("electricity_fen":{"type":"integer","nullable":true},"service_fen":{"type":"integer","nullable":true},)"
    R"("stop_reason":{"type":"string","nullable":true},"max_power_w":{"type":"integer"},"failure":{"type":"string"})";
inline constexpr const char* kSessionRequired =
    R"("id","state","socket","device_id","n","station_id","kind","mode","method","max_fen","soc_pct","created_at",)"
    R"("started_at","ended_at","power_w","energy_wh","duration_s","cost_fen","settled","electricity_fen",)"
    R"("service_fen","stop_reason","max_power_w")";
/// What write_session adds for operators.
inline constexpr const char* kAdminSessionProps =
    R"("account_id":{"type":"integer","format":"int64"},"phone":{"type":"string"},"operator":{"type":"string"},)"
    R"("card_no":{"type":"string"},"tariff_id":{"type":"integer","format":"int64"},)"
    R"("stop_requested":{"type":"string"},"last_report_at":{"type":"string","format":"date-time","nullable":true})";
inline constexpr const char* kAdminSessionRequired = R"("account_id","phone","last_report_at")";

/// One named schema: its name under components/schemas and its JSON text.
struct Named {
    std::string name;
    std::string json;
};

/// Every named schema, in the order the document lists them.
inline std::vector<Named> components() {
    const std::string space_props =
        R"("id":{"type":"string"},"name":{"type":"string"},"state":{"type":"string"},)"
        R"("lock":{"type":"object","nullable":true,"additionalProperties":false,"required":["st","alarm"],)"
        R"("properties":{"st":{"type":"string"},"alarm":{"type":"boolean"}}},"ev_gun":{"type":"string","nullable":true})";
    const std::string reservation_props =
        R"("id":{"type":"integer","format":"int64"},"state":{"type":"string"},"space":{"type":"string"},)"
        R"("plate":{"type":"string"},"station_id":{"type":"integer","format":"int64"},)"
        R"("created_at":{"type":"string","format":"date-time"},"expires_at":{"type":"string","format":"date-time"},)"
        R"("arrived_at":{"type":"string","format":"date-time","nullable":true},)"
        R"("ended_at":{"type":"string","format":"date-time","nullable":true},)"
        R"("ended_by":{"type":"string","nullable":true},"occupancy_id":{"type":"integer","nullable":true})";
    const std::string reservation_required =
        R"("id","state","space","plate","station_id","created_at","expires_at","arrived_at","ended_at","ended_by",)"
        R"("occupancy_id")";
    const std::string order_props =
        R"("id":{"type":"integer","format":"int64"},"station_id":{"type":"integer","format":"int64"},)"
        R"("space":{"type":"string"},"plate":{"type":"string","nullable":true},"color":{"type":"string","nullable":true},)"
        R"("arrived_at":{"type":"string","format":"date-time"},"left_at":{"type":"string","format":"date-time","nullable":true},)"
        R"("duration_s":{"type":"integer","nullable":true},"charging_s":{"type":"integer","nullable":true},)"
        R"("billable_s":{"type":"integer","nullable":true},"fee_fen":{"type":"integer","nullable":true},)"
        R"("owed_fen":{"type":"integer"},"state":{"type":"string"},"whitelisted":{"type":"boolean"},)"
        R"("paid_at":{"type":"string","format":"date-time","nullable":true})";
    const std::string order_required =
        R"("id","station_id","space","plate","color","arrived_at","left_at","duration_s","charging_s","billable_s",)"
        R"("fee_fen","owed_fen","state","whitelisted","paid_at")";
    const std::string plate_props =
        R"("plate":{"type":"string"},"color":{"type":"string"},"certified":{"type":"boolean"},)"
        R"("certified_at":{"type":"string","format":"date-time","nullable":true},)"
        R"("created_at":{"type":"string","format":"date-time"})";
    const std::string plate_required = R"("plate","color","certified","certified_at","created_at")";
    const std::string report_props =
        R"("id":{"type":"integer","format":"int64"},"state":{"type":"string"},"socket":{"type":"string"},)"
        R"("device_id":{"type":"string"},"n":{"type":"integer"},"category":{"type":"string"},"text":{"type":"string"},)"
        R"("photo_url":{"type":"string","nullable":true},"session_id":{"type":"string","nullable":true},)"
        R"("created_at":{"type":"string","format":"date-time"},"resolution":{"type":"string","nullable":true},)"
        R"("resolved_at":{"type":"string","format":"date-time","nullable":true})";
    const std::string report_required =
        R"("id","state","socket","device_id","n","category","text","photo_url","session_id","created_at",)"
        R"("resolution","resolved_at")";
    return {
        {"FreeTotal", object(R"("free":{"type":"integer"},"total":{"type":"integer"})", R"("free","total")")},
        {"Session", object(kSessionProps, kSessionRequired)},
        {"AdminSession", object(std::string(kSessionProps) + "," + kAdminSessionProps,
                                std::string(kSessionRequired) + "," + kAdminSessionRequired)},
        {"CurvePoint", object(R"("t":{"type":"string","format":"date-time"},"power_w":{"type":"integer"},)"
                              R"("energy_wh":{"type":"integer"})",
                              R"("t","power_w","energy_wh")")},
        {"Card", object(R"("card_no":{"type":"string"},"name":{"type":"string"},"status":{"type":"string"},)"
                        R"("account_id":{"type":"integer","format":"int64","nullable":true},)"
                        R"("fee_fen":{"type":"integer"},"issued_at":{"type":"string","format":"date-time"},)"
                        R"("bound_at":{"type":"string","format":"date-time","nullable":true},)"
                        R"("station_id":{"type":"integer","format":"int64","nullable":true})",
                        R"("card_no","name","status","account_id","fee_fen","issued_at","bound_at","station_id")")},
        {"Payment", object(R"("id":{"type":"string"},"amount_fen":{"type":"integer"},"bonus_fen":{"type":"integer"},)"
                           R"("package_id":{"type":"integer","format":"int64","nullable":true},)"
                           R"("provider":{"type":"string"},"status":{"type":"string"},)"
                           R"("created_at":{"type":"string","format":"date-time"},)"
                           R"("paid_at":{"type":"string","format":"date-time","nullable":true})",
                           R"("id","amount_fen","bonus_fen","package_id","provider","status","created_at","paid_at")")},
        {"LedgerEntry",
         object(R"("id":{"type":"integer","format":"int64"},"kind":{"type":"string"},"real_fen":{"type":"integer"},)"
                R"("bonus_fen":{"type":"integer"},"real_after":{"type":"integer"},"bonus_after":{"type":"integer"},)"
                R"("ref":{"type":"string"},"operator":{"type":"string"},"note":{"type":"string"},)"
                R"("at":{"type":"string","format":"date-time"},"idempotency_key":{"type":"string"},)"
                R"("account_id":{"type":"integer","format":"int64"},"phone":{"type":"string"})",
                R"("id","kind","real_fen","bonus_fen","real_after","bonus_after","ref","operator","note","at",)"
                R"("idempotency_key")")},
        {"Space", object(space_props, R"("id","name","state","lock","ev_gun")")},
        {"AdminSpace",
         object(
             space_props +
                 R"(,"station_id":{"type":"integer","format":"int64"},"camera_id":{"type":"string"},)"
                 R"("n":{"type":"integer"},"lock_type":{"type":"string","enum":["ground_lock","none"]},)"
                 R"("enabled":{"type":"boolean"},"side":{"type":"string","nullable":true},)"
                 R"("camera_enabled":{"type":"boolean"},"occupied":{"type":"boolean"},)"
                 R"("reservation_state":{"type":"string","nullable":true},)"
                 R"("camera_online":{"type":"boolean","nullable":true},)"
                 R"("fault":{"type":"object","nullable":true,"additionalProperties":false,)"
                 R"("required":["cause","detail","opened_at"],"properties":{"cause":{"type":"string"},)"
                 R"("detail":{"type":"string"},"opened_at":{"type":"string","format":"date-time","nullable":true}}})",
             R"("id","name","state","lock","ev_gun","station_id","camera_id","n","lock_type","enabled","side",)"
             R"("camera_enabled","occupied","reservation_state","camera_online","fault")")},
        {"Reservation", object(reservation_props, reservation_required)},
        {"AdminReservation", object(reservation_props + R"(,"account_id":{"type":"integer","format":"int64"},)"
                                                        R"("phone":{"type":"string"})",
                                    reservation_required + R"(,"account_id","phone")")},
        {"ParkingOrder", object(order_props, order_required)},
        {"AdminParkingOrder",
         object(order_props + R"(,"account_id":{"type":"integer","format":"int64","nullable":true},)"
                              R"("reservation_id":{"type":"integer","format":"int64","nullable":true})",
                order_required + R"(,"account_id","reservation_id")")},
        {"Plate", object(plate_props, plate_required)},
        {"AdminPlate",
         object(plate_props + R"(,"account_id":{"type":"integer","format":"int64"},)"
                              R"("phone":{"type":"string"},"certified_by":{"type":"string","nullable":true})",
                plate_required + R"(,"account_id","phone","certified_by")")},
        {"WhitelistEntry",
         object(R"("id":{"type":"integer","format":"int64"},"station_id":{"type":"integer","format":"int64"},)"
                R"("plate":{"type":"string"},"note":{"type":"string"},"enabled":{"type":"boolean"},)"
                R"("created_by":{"type":"string"},"created_at":{"type":"string","format":"date-time"})",
                R"("id","station_id","plate","note","enabled","created_by","created_at")")},
        {"FaultReport", object(report_props, report_required)},
        {"AdminFaultReport",
         object(report_props + R"(,"account_id":{"type":"integer","format":"int64"},"phone":{"type":"string"},)"
                               R"("station_id":{"type":"integer","format":"int64"},)"
                               R"("assignee":{"type":"string","nullable":true},)"
                               R"("assigned_at":{"type":"string","format":"date-time","nullable":true},)"
                               R"("resolved_by":{"type":"string","nullable":true})",
                report_required + R"(,"account_id","phone","station_id","assignee","assigned_at","resolved_by")")},
        {"ServiceCall",
         object(
             R"("id":{"type":"integer","format":"int64"},"caller_phone":{"type":"string"},)"
             R"("caller_name":{"type":"string"},"account_id":{"type":"integer","format":"int64","nullable":true},)"
             R"("category":{"type":"string"},"summary":{"type":"string"},"handled_by":{"type":"string"},)"
             R"("station_id":{"type":"integer","format":"int64","nullable":true},)"
             R"("fault_report_id":{"type":"integer","format":"int64","nullable":true},)"
             R"("called_at":{"type":"string","format":"date-time"},"created_at":{"type":"string","format":"date-time"})",
             R"("id","caller_phone","caller_name","account_id","category","summary","handled_by","station_id",)"
             R"("fault_report_id","called_at","created_at")")},
        {"Repair",
         object(R"("id":{"type":"integer","format":"int64"},"station_id":{"type":"integer","format":"int64"},)"
                R"("device_id":{"type":"string"},"n":{"type":"integer","nullable":true},)"
                R"("fault_report_id":{"type":"integer","format":"int64","nullable":true},)"
                R"("description":{"type":"string"},"parts":{"type":"string"},"technician":{"type":"string"},)"
                R"("technician_phone":{"type":"string"},"started_at":{"type":"string","format":"date-time"},)"
                R"("finished_at":{"type":"string","format":"date-time","nullable":true},)"
                R"("outcome":{"type":"string","nullable":true},"created_by":{"type":"string"},)"
                R"("created_at":{"type":"string","format":"date-time"})",
                R"("id","station_id","device_id","n","fault_report_id","description","parts","technician",)"
                R"("technician_phone","started_at","finished_at","outcome","created_by","created_at")")},
        {"Firmware",
         object(
             R"("id":{"type":"integer","format":"int64"},"kind":{"type":"string"},"model":{"type":"string"},)"
             R"("version":{"type":"string"},"sha256":{"type":"string"},"size":{"type":"integer"},)"
             R"("uploaded_by":{"type":"string"},"created_at":{"type":"string","format":"date-time","nullable":true})",
             R"("id","kind","model","version","sha256","size","uploaded_by","created_at")")},
        {"Rollout",
         object(R"("id":{"type":"integer","format":"int64"},"firmware_id":{"type":"integer","format":"int64"},)"
                R"("version":{"type":"string"},"target":{"type":"string"},"state":{"type":"string"},)"
                R"("failures":{"type":"integer"},"halt_reason":{"type":"string"},"batch_size":{"type":"integer"},)"
                R"("batch_interval_s":{"type":"integer"},"max_failures":{"type":"integer"},)"
                R"("timeout_s":{"type":"integer"},"created_by":{"type":"string"},)"
                R"("created_at":{"type":"string","format":"date-time","nullable":true},)"
                R"("finished_at":{"type":"string","format":"date-time","nullable":true},)"
                R"("token_expires_at":{"type":"string","format":"date-time","nullable":true},)"
                R"("devices_by_state":{"type":"object","additionalProperties":{"type":"integer"}},)"
                R"("devices":{"type":"array","items":{"type":"object","additionalProperties":false,)"
                R"("required":["device_id","state","error","sent_at","updated_at"],)"
                R"("properties":{"device_id":{"type":"string"},"state":{"type":"string"},"batch":{"type":"integer"},)"
                R"("progress_pct":{"type":"integer"},"error":{"type":"string"},"rid":{"type":"string"},)"
                R"("reported_version":{"type":"string"},)"
                R"("sent_at":{"type":"string","format":"date-time","nullable":true},)"
                R"("updated_at":{"type":"string","format":"date-time","nullable":true}}}})",
                R"("id","firmware_id","version","target","state","failures","halt_reason","batch_size",)"
                R"("batch_interval_s","max_failures","timeout_s","created_by","created_at","finished_at",)"
                R"("token_expires_at","devices_by_state")")},
        {"Command",
         object(R"("source":{"type":"string"},"device_id":{"type":"string"},)"
                R"("station_id":{"type":"integer","format":"int64","nullable":true},"name":{"type":"string"},)"
                R"("n":{"type":"integer","nullable":true},"rid":{"type":"string"},)"
                R"("payload":{"type":"object","nullable":true},"requested_by":{"type":"string"},)"
                R"("session_id":{"type":"string","nullable":true},"sent_at":{"type":"string","format":"date-time"},)"
                R"("reply_status":{"type":"string","nullable":true},"reply":{"type":"object","nullable":true},)"
                R"("replied_at":{"type":"string","format":"date-time","nullable":true},)"
                R"("latency_ms":{"type":"integer","nullable":true},"outcome":{"type":"string"})",
                R"("source","device_id","station_id","name","n","rid","payload","requested_by","session_id",)"
                R"("sent_at","reply_status","reply","replied_at","latency_ms","outcome")")},
        {"DeviceModel",
         object(R"("id":{"type":"integer","format":"int64"},"kind":{"type":"string"},"name":{"type":"string"},)"
                R"("ports":{"type":"integer"},"rated_power_w":{"type":"integer","nullable":true},)"
                R"("rated_voltage_v":{"type":"integer","nullable":true},)"
                R"("rated_current_a":{"type":"integer","nullable":true},)"
                R"("socket_overload_w":{"type":"integer","nullable":true},)"
                R"("device_overload_w":{"type":"integer","nullable":true},)"
                R"("gun_power_w":{"type":"integer","nullable":true},)"
                R"("connector_type":{"type":"string","nullable":true},)"
                R"("max_current_a":{"type":"integer","nullable":true},"note":{"type":"string"},)"
                R"("created_at":{"type":"string","format":"date-time"})",
                R"("id","kind","name","ports","rated_power_w","rated_voltage_v","rated_current_a",)"
                R"("socket_overload_w","device_overload_w","gun_power_w","connector_type","max_current_a","note",)"
                R"("created_at")")},
    };
}

} // namespace pilehub::api::schemas
