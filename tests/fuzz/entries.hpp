#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// The fuzz targets' entry functions (tests/fuzz/README.md): one input in, the property it broke out.
/// libFuzzer runs them through fuzz_main.cpp (a broken property aborts, so libFuzzer keeps the
/// input); tests/unit/fuzz/ replays the committed regressions and seeds through the same functions
/// without libFuzzer. A crash or a sanitizer report inside is caught by ASan/UBSan in the fuzz build
/// and fails the replay test as a crash in the normal build.
namespace pilehub::fuzz {

/// Runs one input; "" when every property held, else what broke (with the input's selector).
using Entry = std::string (*)(const std::uint8_t* data, std::size_t size);

/// Every device and svc payload codec, topics, the rpc envelopes: byte 0 picks which
/// (entry_payloads.cpp), the rest is the text. Decode → encode → decode equals.
std::string payloads(const std::uint8_t* data, std::size_t size);
/// What each value of `payloads`' byte 0 picks (modulo the count): the schema names of the device
/// payloads sorted, those of the svc payloads sorted, then `topics`, `envelope`, `rpc_request`,
/// `rpc_reply`, `device_cache`. scripts/fuzz-seeds writes its seeds in this order.
std::vector<std::string> payload_selectors();
/// The tariff document parser, and the pricing of a short session generated from the input.
std::string tariff(const std::uint8_t* data, std::size_t size);
/// The API's router in process (no sockets) over a migrated database: bytes 0-1 pick the route,
/// byte 2 the caller; then path parameters, query and body. Never a 5xx but a missing worker's 504.
std::string http(const std::uint8_t* data, std::size_t size);
/// One seed per route for `http` (operation id → input): the caller the route needs, sample path
/// parameters, every query parameter and body field with a value its spec accepts.
std::vector<std::pair<std::string, std::string>> http_seeds();
/// OCPP 1.6-J: the frame parser, the schema check of every action, the meter values decoder, and a
/// booted charge point fed the frame.
std::string ocpp(const std::uint8_t* data, std::size_t size);

/// A target by its name (`payloads`, `tariff`, `http`, `ocpp`); nullptr for another name.
Entry find(std::string_view name);
/// The target names, in the order above.
const std::vector<std::string>& names();

} // namespace pilehub::fuzz

namespace pilehub::fuzz {

/// A fresh path for a scratch database of a target (in /dev/shm when there is one), removed with its
/// -wal and -shm files when the program exits.
std::string scratch_db(std::string_view name);
/// A fresh scratch directory of a target, removed with everything in it when the program exits.
std::string scratch_dir(std::string_view name);

} // namespace pilehub::fuzz
