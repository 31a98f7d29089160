#pragma once
#include "web-api/http.hpp"

#include <string>
#include <vector>

namespace pilehub::api {

/// The OpenAPI 3.0 document of `routes` (the same list the server registers): one operation per
/// route with its parameters, body fields, success status, error codes, security and the
/// permission it needs (`x-permission`).
std::string openapi_document(const std::vector<Route>& routes, const std::string& version);

} // namespace pilehub::api
