#pragma once
// The REST representation of a job: the progress payload plus identity,
// ownership, timestamps, and (audits, once completed) the report; and the
// JSON object a request body must be.

#include <string>

#include "common/errors.h"
#include "jobs/job.h"

namespace boost::json {
class object;
}
namespace herald::http {
struct Request;
}

namespace herald::api {

std::string JobToJson(const jobs::Job& job);

// The request's body as a JSON object; kBadRequest (saying why) otherwise.
Result<boost::json::object> ParseBody(const http::Request& r);

}  // namespace herald::api
