#pragma once
// SSE framing (WHATWG HTML, "server-sent events"). Whatever the data holds,
// the frame stays one event: each line of data becomes its own `data:` line,
// so a payload containing "\n\ndata: x\n\n" cannot end the event early or
// forge another one; the client joins the lines back with "\n".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/errors.h"
#include "sse/event.h"

namespace herald::sse {

// `id: <id>` (when given), `event: <name>` (when non-empty), data lines, blank line.
// `name` must not contain CR or LF (callers validate; it is checked here too
// and such characters are dropped).
std::string FormatEvent(std::optional<int64_t> id, std::string_view name, std::string_view data);

// A notification-stream event (contract: "The notification stream"). Named:
// `id`, `event: <name>`, `data: <data>`. Plain (the default, as seed 004's
// onmessage consumer expects): `id` and `data` only, the name moved into
// the data as {"event": "<audit|job|notice>", ...}; `notice` says the entry
// is a notice (its name is its type, and its event is "notice").
std::string FormatFeedEvent(int64_t id, bool notice, std::string_view name, std::string_view data,
                            bool named);

// ": <text>\n": one comment line and no blank line after it. A blank line
// would end an empty block, which @microsoft/fetch-event-source hands the
// app as a message with empty data (JSON.parse throws); EventSource and
// every other parser ignore the lone comment line, and it joins the block
// of the next event harmlessly. Newlines in `text` are dropped.
std::string FormatComment(std::string_view text);

// "retry: <ms>\n": one line, no blank line after it, so that it joins the
// block of whatever is written next (the first event). A block of its own
// is handed to the application as an empty message by some clients
// (@microsoft/fetch-event-source), whose JSON.parse then throws.
std::string FormatRetry(int64_t milliseconds);

// The progress stream's frame for a progress payload: reads `seq` (the SSE id)
// and `status` (terminal when completed/failed) from the JSON. A payload that
// is not a JSON object is still framed, with no id and not terminal.
EventPtr MakeProgressEvent(std::string_view payload);

// The `event: error` frames the contract names.
inline constexpr std::string_view kTimeoutData = R"({"error": "Stream timeout"})";
inline constexpr std::string_view kTokenExpiredData = R"({"error": "Token expired"})";
inline constexpr std::string_view kInternalErrorData = R"({"error": "Internal server error"})";

// The contract's "unexpected fault" while opening a stream (the store failed
// a moment after the request was admitted): logs `error` for `label` and
// returns the `event: error` frame. The stream opens, says so, and ends;
// EventSource then reconnects after `retry` and resumes, where a 5xx would
// make it give up for good.
std::string InternalErrorFrame(std::string_view label, const Error& error);

}  // namespace herald::sse
