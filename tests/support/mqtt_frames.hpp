#pragma once
// The MQTT 3.1.1 frame helpers live in common/ (the gateway's client uses them too); tests keep
// their spelling test::mqtt_frames.
#include "common/mqtt_frames.hpp"

namespace pilehub::test {
namespace mqtt_frames = ::pilehub::mqtt_frames;
} // namespace pilehub::test
