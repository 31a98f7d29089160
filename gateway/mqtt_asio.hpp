#pragma once
#include "common/mqtt.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>

namespace pilehub::ocpp {

/// An MQTT 3.1.1 client on `ioc` implementing mqtt::Client, for the gateway's one connection per
/// charger: no thread of its own, its socket waits in the io_context's epoll with everything else.
/// Plain TCP only (the gateway's broker is local): `options.tls` set → std::invalid_argument.
///
/// Every handler runs on the io_context's thread. The other calls may come from any thread; the
/// gateway makes them all on the io thread. `stop()` never blocks: it publishes `last`, waits for
/// the broker's acknowledgements (at most 2 s) and disconnects in the background, and the client may
/// be destroyed as soon as it returns (the connection keeps its own state alive until it is closed;
/// messages arriving after the destruction are not acknowledged, so a persistent session gets them
/// again). `wait_ready()` blocks on a condition variable: on the io thread it only reports whether
/// the client is ready (waiting there would wait for itself).
std::unique_ptr<mqtt::Client> make_asio_client(boost::asio::io_context& ioc, const mqtt::Options& options);

} // namespace pilehub::ocpp
