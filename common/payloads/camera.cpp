#include "common/payloads/codec_detail.hpp"

namespace pilehub::payloads::detail {

namespace {

int req_space(json::Object &d) {
    return req_n(d, "space", 1, kMaxSpaces);
}

std::optional<std::string> opt_plate(json::Object &d) {
    return opt_text(d, "plate", kMaxPlateLen);
}

} // namespace

void read_data(json::Object &d, LockState &out) {
    out.st = req_enum<LockStatus>(d, "st");
    out.alarm = d.opt_bool("alarm").value_or(false);
}
void write_data(json::Writer &w, const LockState &v) {
    w.field("st", enum_name(v.st)).field("alarm", v.alarm);
}

void read_data(json::Object &d, CameraSpaceState &out) {
    out.occupied = d.req_bool("occupied");
    out.plate = opt_plate(d);
    out.since = req_ts(d, "since");
    auto l = d.opt_obj("lock");
    if (l.present()) {
        LockState x;
        read_data(l, x);
        out.lock = x;
    }
}
void write_data(json::Writer &w, const CameraSpaceState &v) {
    w.field("occupied", v.occupied).opt_field("plate", v.plate).field("since", v.since);
    if (v.lock)
        write_obj(w, "lock", *v.lock);
}

void read_data(json::Object &d, CameraPlate &out) {
    out.space = req_space(d);
    out.plate = req_text(d, "plate", kMaxPlateLen);
    out.color = opt_enum<PlateColor>(d, "color").value_or(PlateColor::Unknown);
    out.direction = req_enum<PlateDirection>(d, "direction");
    out.confidence = static_cast<int>(d.req_int("confidence", 0, 100));
    out.image_url = opt_url(d, "image_url");
}
void write_data(json::Writer &w, const CameraPlate &v) {
    w.field("space", v.space).field("plate", v.plate).field("color", enum_name(v.color));
    w.field("direction", enum_name(v.direction)).field("confidence", v.confidence).opt_field("image_url", v.image_url);
}

void read_data(json::Object &d, CameraSpace &out) {
    out.space = req_space(d);
    out.occupied = d.req_bool("occupied");
    out.plate = opt_plate(d);
}
void write_data(json::Writer &w, const CameraSpace &v) {
    w.field("space", v.space).field("occupied", v.occupied).opt_field("plate", v.plate);
}

void read_data(json::Object &d, CameraLockEvent &out) {
    out.space = req_space(d);
    out.st = req_enum<LockStatus>(d, "st");
    out.alarm = d.opt_bool("alarm").value_or(false);
}
void write_data(json::Writer &w, const CameraLockEvent &v) {
    w.field("space", v.space).field("st", enum_name(v.st)).field("alarm", v.alarm);
}

void read_data(json::Object &d, CameraLockCmd &out) {
    out.space = req_space(d);
    out.action = req_enum<LockAction>(d, "action");
}
void write_data(json::Writer &w, const CameraLockCmd &v) {
    w.field("space", v.space).field("action", enum_name(v.action));
}

void read_data(json::Object &d, CameraSnapshotCmd &out) {
    out.space = static_cast<int>(d.opt_int("space", 0, kMaxSpaces).value_or(0));
}
void write_data(json::Writer &w, const CameraSnapshotCmd &v) {
    w.field("space", v.space);
}

void read_data(json::Object &d, CameraSnapshotResult &out) {
    out.image_url = req_url(d, "image_url");
}
void write_data(json::Writer &w, const CameraSnapshotResult &v) {
    w.field("image_url", v.image_url);
}

} // namespace pilehub::payloads::detail

PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::CameraSpaceState)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::CameraPlate)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::CameraSpace)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::CameraLockEvent)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::CameraLockCmd)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::Reply<pilehub::payloads::LockState>)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::CameraSnapshotCmd)
PILEHUB_INSTANTIATE_PAYLOAD(pilehub::payloads::Reply<pilehub::payloads::CameraSnapshotResult>)
