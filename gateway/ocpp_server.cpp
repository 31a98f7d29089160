// The only file of the gateway that uses Boost.Beast (and Asio's sockets and TLS).
#include "gateway/ocpp_server.hpp"

#include "common/crypto.hpp"
#include "common/log.hpp"
#include "common/topics.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <fmt/format.h>

#include <deque>
#include <optional>
#include <stdexcept>

namespace pilehub::ocpp {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using PlainStream = beast::tcp_stream;
using TlsStream = ssl::stream<beast::tcp_stream>;

namespace {

constexpr std::string_view kPathPrefix = "/ocpp/";
constexpr std::string_view kSubprotocol = "ocpp1.6";

/// Whether a comma-separated Sec-WebSocket-Protocol list offers `ocpp1.6`.
bool offers_ocpp16(std::string_view list) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        auto token = list.substr(0, comma);
        while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
            token.remove_prefix(1);
        while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
            token.remove_suffix(1);
        if (token == kSubprotocol)
            return true;
        if (comma == std::string_view::npos)
            break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

/// The password of `Authorization: Basic base64(<id>:<password>)` when the user part is exactly `id`.
std::optional<std::string> basic_password(std::string_view header, std::string_view id) {
    constexpr std::string_view kBasic = "Basic ";
    if (header.size() <= kBasic.size() || header.substr(0, kBasic.size()) != kBasic)
        return std::nullopt;
    const auto decoded = crypto::unbase64(header.substr(kBasic.size()));
    if (decoded.size() <= id.size() || decoded.compare(0, id.size(), id) != 0 || decoded[id.size()] != ':')
        return std::nullopt;
    return decoded.substr(id.size() + 1);
}

std::string peer_of(const beast::tcp_stream& s) {
    beast::error_code ec;
    const auto ep = s.socket().remote_endpoint(ec);
    return ec ? std::string("?") : fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

} // namespace

struct Server::Impl {
    net::io_context& ioc;
    ServerOptions opt;
    ServerHooks hooks;
    std::optional<tcp::acceptor> plain;
    std::optional<tcp::acceptor> tls;
    std::optional<ssl::context> tls_ctx;
    std::uint64_t serials = 0;
    bool stopped = false;

    Impl(net::io_context& io, ServerOptions o, ServerHooks h) : ioc(io), opt(std::move(o)), hooks(std::move(h)) {}

    void listen(std::optional<tcp::acceptor>& a, int port) {
        beast::error_code ec;
        const auto addr = net::ip::make_address(opt.bind, ec);
        if (ec)
            throw std::runtime_error(fmt::format("bind address {}: {}", opt.bind, ec.message()));
        a.emplace(ioc);
        const tcp::endpoint ep(addr, static_cast<unsigned short>(port));
        a->open(ep.protocol(), ec);
        if (!ec)
            a->set_option(net::socket_base::reuse_address(true), ec);
        if (!ec)
            a->bind(ep, ec);
        if (!ec)
            a->listen(net::socket_base::max_listen_connections, ec);
        if (ec)
            throw std::runtime_error(fmt::format("listen on {}:{}: {}", opt.bind, port, ec.message()));
    }

    void accept(tcp::acceptor& a, bool secure);
};

namespace {

/// An upgraded connection: the WebSocket read loop and the write queue.
template <typename Stream> class WsLink final : public Link, public std::enable_shared_from_this<WsLink<Stream>> {
public:
    WsLink(Stream&& s, std::string id, std::uint64_t serial, bool secure, Server::Impl& srv)
        : Link(std::move(id), serial, secure), ws_(std::move(s)), srv_(srv) {}

    void start(http::request<http::empty_body> req) {
        beast::get_lowest_layer(ws_).expires_never(); // the websocket's own timeouts from here on
        websocket::stream_base::timeout t;
        t.handshake_timeout = std::chrono::seconds(srv_.opt.handshake_timeout_s);
        t.idle_timeout = std::chrono::seconds(srv_.opt.idle_timeout_s);
        t.keep_alive_pings = true;
        ws_.set_option(t);
        ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
            res.set(http::field::sec_websocket_protocol, kSubprotocol);
            res.set(http::field::server, "pilehub-ocpp");
        }));
        ws_.read_message_max(srv_.opt.max_message_bytes);
        ws_.text(true);
        ws_.async_accept(req, [self = this->shared_from_this()](beast::error_code ec) {
            if (ec) {
                log::info("ocpp {}: WebSocket accept failed: {}", self->charger_id(), ec.message());
                return;
            }
            self->open_ = true;
            if (self->srv_.hooks.opened)
                self->srv_.hooks.opened(self);
            self->read();
        });
    }

    void send(std::string text) override {
        if (closing_ || !open_)
            return;
        queue_.push_back(std::move(text));
        if (queue_.size() == 1)
            write();
    }

    void close(std::string reason) override {
        if (closing_ || !open_)
            return;
        closing_ = true;
        if (reason.size() > 120)
            reason.resize(120);
        ws_.async_close(websocket::close_reason(websocket::close_code::normal, reason),
                        [self = this->shared_from_this()](beast::error_code) {});
    }

private:
    void read() {
        ws_.async_read(buf_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec)
                return self->finish(ec == websocket::error::closed
                                        ? fmt::format("closed by the charger ({})", self->ws_.reason().code)
                                        : ec.message());
            if (!self->ws_.got_text()) {
                self->buf_.consume(self->buf_.size());
                log::warn("ocpp {}: a binary frame (OCPP-J uses text frames only): closing", self->charger_id());
                self->close("binary frames are not OCPP-J");
                return self->read();
            }
            auto text = beast::buffers_to_string(self->buf_.data());
            self->buf_.consume(self->buf_.size());
            if (!self->closing_ && self->srv_.hooks.message)
                self->srv_.hooks.message(self, std::move(text));
            self->read();
        });
    }

    void write() {
        ws_.async_write(net::buffer(queue_.front()),
                        [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                            if (ec) {
                                self->queue_.clear();
                                return; // the read loop sees the failure and reports it
                            }
                            self->queue_.pop_front();
                            if (!self->queue_.empty())
                                self->write();
                        });
    }

    void finish(const std::string& reason) {
        if (finished_)
            return;
        finished_ = true;
        queue_.clear();
        if (srv_.hooks.closed)
            srv_.hooks.closed(this->shared_from_this(), reason);
    }

    websocket::stream<Stream> ws_;
    Server::Impl& srv_;
    beast::flat_buffer buf_;
    std::deque<std::string> queue_;
    bool open_ = false;
    bool closing_ = false;
    bool finished_ = false;
};

/// The HTTP request before the upgrade: path, Basic auth, subprotocol; refused with a status, or
/// handed to a WsLink.
template <typename Stream> class Handshake final : public std::enable_shared_from_this<Handshake<Stream>> {
public:
    Handshake(Stream&& s, bool secure, Server::Impl& srv) : stream_(std::move(s)), secure_(secure), srv_(srv) {
        parser_.header_limit(8 * 1024);
        parser_.body_limit(0);
    }

    void start() {
        beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(srv_.opt.handshake_timeout_s));
        if constexpr (std::is_same_v<Stream, TlsStream>) {
            stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
                if (ec) {
                    log::info("ocpp {}: TLS handshake failed: {}", self->peer(), ec.message());
                    return;
                }
                self->read();
            });
        } else {
            read();
        }
    }

private:
    std::string peer() const { return peer_of(beast::get_lowest_layer(stream_)); }

    void read() {
        http::async_read(stream_, buf_, parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec)
                return; // time-out, garbage, closed: nothing to answer
            self->decide();
        });
    }

    void decide() {
        auto req = parser_.release();
        const std::string_view target(req.target().data(), req.target().size());
        if (target.substr(0, kPathPrefix.size()) != kPathPrefix)
            return refuse(http::status::not_found, "the OCPP endpoint is /ocpp/<charge point id>");
        const std::string id(target.substr(kPathPrefix.size()));
        if (!topics::valid_device_id(id))
            return refuse(http::status::not_found, "not a charge point id");
        if (!websocket::is_upgrade(req))
            return refuse(http::status::upgrade_required, "this endpoint speaks WebSocket (OCPP-J) only");
        const auto auth = req[http::field::authorization];
        const auto password = basic_password(std::string_view(auth.data(), auth.size()), id);
        if (!password || !srv_.hooks.authenticate || !srv_.hooks.authenticate(id, *password))
            return refuse(http::status::unauthorized, "unknown charge point or wrong key", id);
        const auto protocols = req[http::field::sec_websocket_protocol];
        if (!offers_ocpp16(std::string_view(protocols.data(), protocols.size())))
            return refuse(http::status::bad_request, "the WebSocket subprotocol ocpp1.6 is required", id);
        auto link = std::make_shared<WsLink<Stream>>(std::move(stream_), id, ++srv_.serials, secure_, srv_);
        link->start(std::move(req));
    }

    void refuse(http::status status, std::string why, const std::string& id = {}) {
        if (srv_.hooks.refused)
            srv_.hooks.refused(id.empty() ? peer() : fmt::format("{} ({})", peer(), id), static_cast<int>(status), why);
        auto res = std::make_shared<http::response<http::string_body>>(status, 11);
        res->set(http::field::server, "pilehub-ocpp");
        res->set(http::field::content_type, "text/plain; charset=utf-8");
        if (status == http::status::unauthorized)
            res->set(http::field::www_authenticate, "Basic realm=\"pilehub-ocpp\", charset=\"UTF-8\"");
        res->keep_alive(false);
        res->body() = why + "\n";
        res->prepare_payload();
        http::async_write(stream_, *res,
                          [self = this->shared_from_this(), res](beast::error_code, std::size_t) { self->shutdown(); });
    }

    void shutdown() {
        beast::error_code ec;
        beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
    }

    Stream stream_;
    bool secure_;
    Server::Impl& srv_;
    beast::flat_buffer buf_;
    http::request_parser<http::empty_body> parser_;
};

} // namespace

void Server::Impl::accept(tcp::acceptor& a, bool secure) {
    a.async_accept([this, &a, secure](beast::error_code ec, tcp::socket socket) {
        if (stopped)
            return;
        if (ec) {
            log::warn("ocpp: accept failed: {}", ec.message());
        } else {
            socket.set_option(tcp::no_delay(true), ec);
            if (secure)
                std::make_shared<Handshake<TlsStream>>(TlsStream(beast::tcp_stream(std::move(socket)), *tls_ctx), true,
                                                       *this)
                    ->start();
            else
                std::make_shared<Handshake<PlainStream>>(PlainStream(std::move(socket)), false, *this)->start();
        }
        accept(a, secure);
    });
}

Server::Server(net::io_context& ioc, ServerOptions options, ServerHooks hooks)
    : impl_(std::make_unique<Impl>(ioc, std::move(options), std::move(hooks))) {}

Server::~Server() = default;

void Server::start() {
    auto& i = *impl_;
    i.listen(i.plain, i.opt.port);
    i.accept(*i.plain, false);
    if (i.opt.tls_port >= 0) {
        i.tls_ctx.emplace(ssl::context::tls_server);
        i.tls_ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                               ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
        beast::error_code ec;
        i.tls_ctx->use_certificate_chain_file(i.opt.tls_cert_file, ec);
        if (!ec)
            i.tls_ctx->use_private_key_file(i.opt.tls_key_file, ssl::context::pem, ec);
        if (ec)
            throw std::runtime_error(
                fmt::format("TLS certificate {} / key {}: {}", i.opt.tls_cert_file, i.opt.tls_key_file, ec.message()));
        i.listen(i.tls, i.opt.tls_port);
        i.accept(*i.tls, true);
    }
}

int Server::port() const {
    return impl_->plain ? impl_->plain->local_endpoint().port() : 0;
}

int Server::tls_port() const {
    return impl_->tls ? impl_->tls->local_endpoint().port() : 0;
}

void Server::stop() {
    impl_->stopped = true;
    beast::error_code ec;
    if (impl_->plain)
        impl_->plain->close(ec);
    if (impl_->tls)
        impl_->tls->close(ec);
}

} // namespace pilehub::ocpp
