#pragma once
// The dashboard page, compiled into the binary so that `herald serve`
// needs no files beside it: built from web/src and clients/js by
// web/build.mjs, embedded by cmake/dashboard.cmake.

#include <string_view>

namespace herald::api {
extern const std::string_view kDashboardPage;
}
