#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

/// Calls from the API to the providers (WeChat, WeChat Pay, Alipay, Aliyun SMS): one seam, so a
/// provider's code never opens a socket itself and the base URLs come from the configuration.
namespace pilehub::api::outbound {

struct Request {
    std::string method = "GET"; ///< GET or POST
    std::string url;            ///< absolute: `https://api.mch.weixin.qq.com/v3/...` or `http://127.0.0.1:port/...`
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string content_type; ///< for a POST body
};

struct Response {
    int status = 0;                             ///< 0: no answer (then `error` says why)
    std::map<std::string, std::string> headers; ///< names in lower case
    std::string body;
    std::string error;
    bool ok() const { return status >= 200 && status < 300; }
};

/// Sends requests. Implementations are safe to call from several threads at once.
class Client {
public:
    virtual ~Client() = default;
    virtual Response send(const Request& r) = 0;
};

} // namespace pilehub::api::outbound
