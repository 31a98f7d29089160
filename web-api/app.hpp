#pragma once
#include "web-api/context.hpp"
#include "web-api/http.hpp"

#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace pilehub::api {

/// Builds the router with every route of the API (the one table the server registers and the
/// OpenAPI document describes).
std::unique_ptr<Router> build_router(Services& s);

/// Prepares the core database for the API: migrations, built-in roles.
void prepare_database(Services& s);

/// The HTTP server: binds, serves on its own thread, stops.
class ApiServer {
public:
    explicit ApiServer(Services& s);
    ~ApiServer();
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    /// Binds `host:port` (port 0: any free port). Throws std::runtime_error if it cannot.
    void bind(const std::string& host, int port);
    /// The bound port.
    int port() const { return port_; }
    /// Serves on a background thread until stop().
    void start();
    void stop();
    const Router& router() const { return *router_; }

private:
    Services& s_;
    std::unique_ptr<Router> router_;
    std::unique_ptr<httplib::Server> server_;
    std::thread thread_;
    int port_ = 0;
};

} // namespace pilehub::api
