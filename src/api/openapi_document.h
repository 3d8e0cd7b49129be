#pragma once
// Herald's HTTP API as an OpenAPI 3.1 document (JSON text), served at
// GET /api/v1/openapi.json without authentication.

#include <string_view>

namespace herald::api {

extern const std::string_view kOpenApiDocument;

}  // namespace herald::api
