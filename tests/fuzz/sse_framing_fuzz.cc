// SSE framing, both ways. Herald writes events whose data comes from
// workers; `herald watch` (cli::SseParser) reads streams from a server.
// Input: event name \0 data \0 a stream's raw bytes.
// Properties:
//  - whatever the data holds, FormatEvent's frame reads back (WHATWG rules)
//    as exactly one event with that data (line breaks normalised to LF),
//    that name (CR/LF dropped) and that id: no payload can end an event
//    early or forge another;
//  - reading a stream gives the same events however it is cut into chunks.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/client.h"
#include "fuzz/fuzz_input.h"
#include "sse/event_format.h"

namespace {

using herald::cli::SseEvent;
using herald::cli::SseParser;

std::vector<SseEvent> ReadAll(const std::vector<std::string_view>& chunks) {
  SseParser parser;
  std::vector<SseEvent> events;
  for (std::string_view chunk : chunks) {
    parser.Feed(chunk, [&](const SseEvent& e) {
      events.push_back(e);
      return true;
    });
  }
  return events;
}

bool Same(const std::vector<SseEvent>& a, const std::vector<SseEvent>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || a[i].event != b[i].event || a[i].data != b[i].data) return false;
  }
  return true;
}

// CRLF and lone CR become LF, as an EventSource reads them.
std::string NormaliseBreaks(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herald;
  const auto f = fuzz::Fields(data, size, 3);
  const std::string& name = f[0];
  const std::string& payload = f[1];
  const std::string& stream = f[2];

  // Writing: one frame, one event.
  const std::string frame = sse::FormatEvent(42, name, payload);
  const auto events = ReadAll({frame});
  FUZZ_CHECK(events.size() == 1);
  FUZZ_CHECK(events[0].id == "42");
  FUZZ_CHECK(events[0].data == NormaliseBreaks(payload));
  std::string expected_name;
  for (char c : name)
    if (c != '\r' && c != '\n') expected_name.push_back(c);
  // EventSource reads an event named "" as "message"; a NUL in a name is
  FUZZ_CHECK(events[0].event == (expected_name.empty() ? "message" : expected_name));
  // A comment frame is never an event.
  std::string one_line;
  for (char c : payload)
    if (c != '\r' && c != '\n') one_line.push_back(c);
  FUZZ_CHECK(ReadAll({sse::FormatComment(one_line)}).empty());

  // Reading: chunking does not matter (a CRLF may be split between chunks).
  const std::vector<SseEvent> whole = ReadAll({stream});
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < stream.size(); ++i) bytes.emplace_back(stream.data() + i, 1);
  FUZZ_CHECK(Same(whole, ReadAll(bytes)));
  const size_t half = stream.size() / 2;
  FUZZ_CHECK(Same(whole, ReadAll({std::string_view(stream).substr(0, half),
                                  std::string_view(stream).substr(half)})));
  return 0;
}
