#pragma once
// The REST representation of a job: the progress payload plus identity,
// ownership, timestamps, and (audits, once completed) the report.

#include <string>

#include "jobs/job.h"

namespace herald::api {

std::string JobToJson(const jobs::Job& job);

}  // namespace herald::api
