#include "sse/event_format.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::sse {
namespace {

// What a client's EventSource dispatches, per the WHATWG "interpreting an
// event stream" algorithm (browser flavour).
struct ParsedEvent {
  std::string type;  // "message" when no event: field was given
  std::string data;
  std::optional<std::string> id;  // last event id when the event was dispatched
};

struct ParsedStream {
  std::vector<ParsedEvent> events;
  std::optional<long long> retry;
  int comments = 0;
  std::string leftover;  // bytes after the last line terminator (an unfinished line)
};

// A tiny, spec-following SSE parser: lines end in CRLF, LF or CR; a blank line
// dispatches; "field: value" strips one space after the colon; data lines are
// joined with "\n" and the final "\n" is removed.
ParsedStream ParseSse(std::string_view stream) {
  ParsedStream out;
  std::string data, type;
  std::optional<std::string> last_id;
  bool data_seen = false;

  auto process_line = [&](std::string_view line) {
    if (line.empty()) {
      if (data_seen) {
        if (!data.empty() && data.back() == '\n') data.pop_back();
        out.events.push_back({type.empty() ? "message" : type, data, last_id});
      }
      data.clear();
      type.clear();
      data_seen = false;
      return;
    }
    if (line.front() == ':') {
      ++out.comments;
      return;
    }
    std::string_view field = line, value;
    if (size_t colon = line.find(':'); colon != std::string_view::npos) {
      field = line.substr(0, colon);
      value = line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
      data.append(value);
      data += '\n';
      data_seen = true;
    } else if (field == "event") {
      type = std::string(value);
    } else if (field == "id") {
      if (value.find('\0') == std::string_view::npos) last_id = std::string(value);
    } else if (field == "retry") {
      bool digits = !value.empty();
      for (char c : value) digits = digits && c >= '0' && c <= '9';
      if (digits) out.retry = std::stoll(std::string(value));
    }
  };

  size_t i = 0;
  while (i < stream.size()) {
    size_t end = stream.find_first_of("\r\n", i);
    if (end == std::string_view::npos) {
      out.leftover = std::string(stream.substr(i));
      break;
    }
    process_line(stream.substr(i, end - i));
    if (stream[end] == '\r' && end + 1 < stream.size() && stream[end + 1] == '\n') ++end;
    i = end + 1;
  }
  return out;
}

// The data a client reconstructs: every line ending becomes "\n".
std::string NormaliseLineEndings(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out += '\n';
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// FormatEvent

TEST(EventFormatTest, InternalErrorFrameIsTheContractsErrorEventWithoutAnId) {
  EXPECT_EQ(InternalErrorFrame("job 7", Error{Errc::kUnavailable, "database is locked"}),
            "event: error\ndata: {\"error\": \"Internal server error\"}\n\n");
}

TEST(EventFormatTest, FormatEventWritesIdNameDataAndABlankLine) {
  EXPECT_EQ(FormatEvent(7, "message", R"({"a":1})"), "id: 7\nevent: message\ndata: {\"a\":1}\n\n");
}

TEST(EventFormatTest, FormatEventWithoutIdWritesNoIdLine) {
  std::string frame = FormatEvent(std::nullopt, "message", "x");
  EXPECT_EQ(frame, "event: message\ndata: x\n\n");
  ParsedStream parsed = ParseSse(frame);
  ASSERT_EQ(parsed.events.size(), 1u);
  EXPECT_FALSE(parsed.events[0].id.has_value());
}

TEST(EventFormatTest, FormatEventWithEmptyNameWritesNoEventLine) {
  std::string frame = FormatEvent(3, "", "x");
  EXPECT_EQ(frame, "id: 3\ndata: x\n\n");
  ParsedStream parsed = ParseSse(frame);
  ASSERT_EQ(parsed.events.size(), 1u);
  EXPECT_EQ(parsed.events[0].type, "message");
  EXPECT_EQ(parsed.events[0].id, "3");
}

TEST(EventFormatTest, FormatEventKeepsLargeAndZeroIds) {
  EXPECT_EQ(FormatEvent(0, "", "x"), "id: 0\ndata: x\n\n");
  EXPECT_EQ(FormatEvent(9007199254740993LL, "", "x"), "id: 9007199254740993\ndata: x\n\n");
}

TEST(EventFormatTest, FormatEventDropsLineBreaksFromTheName) {
  std::string frame = FormatEvent(1, "au\r\ndit\n", "x");
  EXPECT_EQ(frame, "id: 1\nevent: audit\ndata: x\n\n");
  ParsedStream parsed = ParseSse(frame);
  ASSERT_EQ(parsed.events.size(), 1u);
  EXPECT_EQ(parsed.events[0].type, "audit");
}

TEST(EventFormatTest, FormatEventSplitsDataOnLf) {
  EXPECT_EQ(FormatEvent(std::nullopt, "", "a\nb"), "data: a\ndata: b\n\n");
}

TEST(EventFormatTest, FormatEventSplitsDataOnCrLfAsOneLineBreak) {
  EXPECT_EQ(FormatEvent(std::nullopt, "", "a\r\nb"), "data: a\ndata: b\n\n");
}

TEST(EventFormatTest, FormatEventSplitsDataOnLoneCr) {
  EXPECT_EQ(FormatEvent(std::nullopt, "", "a\rb"), "data: a\ndata: b\n\n");
}

TEST(EventFormatTest, FormatEventWritesOneEmptyDataLineForEmptyData) {
  EXPECT_EQ(FormatEvent(std::nullopt, "", ""), "data: \n\n");
}

TEST(EventFormatTest, FormatEventKeepsATrailingNewlineAsAnEmptyDataLine) {
  EXPECT_EQ(FormatEvent(std::nullopt, "", "a\n"), "data: a\ndata: \n\n");
}

// Every frame must parse back as exactly one event whose data is the input
// (with CR and CRLF read as LF, as any SSE client does).
class EventFormatRoundTripTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EventFormatRoundTripTest, ClientReconstructsTheExactData) {
  const std::string& data = GetParam();
  std::string frame = FormatEvent(42, "audit", data);

  ParsedStream parsed = ParseSse(frame);
  ASSERT_EQ(parsed.events.size(), 1u) << "frame: " << testing::PrintToString(frame);
  EXPECT_EQ(parsed.events[0].data, NormaliseLineEndings(data))
      << "frame: " << testing::PrintToString(frame);
  EXPECT_EQ(parsed.events[0].type, "audit");
  EXPECT_EQ(parsed.events[0].id, "42");
  EXPECT_EQ(parsed.comments, 0);
  EXPECT_FALSE(parsed.retry.has_value());
  EXPECT_EQ(parsed.leftover, "");
  // A frame is only LF-terminated lines: no bare CR reaches the wire.
  EXPECT_EQ(frame.find('\r'), std::string::npos);
  ASSERT_GE(frame.size(), 2u);
  EXPECT_EQ(frame.substr(frame.size() - 2), "\n\n");
}

INSTANTIATE_TEST_SUITE_P(
    Data, EventFormatRoundTripTest,
    ::testing::Values(std::string("{\"status\":\"running\"}"), std::string(""), std::string("a\nb"),
                      std::string("a\r\nb"), std::string("a\rb"), std::string("a\n"),
                      std::string("a\r\n"), std::string("a\r"), std::string("\n"),
                      std::string("\r\n"), std::string("\n\n"), std::string("a\n\nb"),
                      std::string("a\r\r\nb"), std::string(" leading space"),
                      std::string("  two spaces"), std::string("data: nested"),
                      std::string(":not a comment"), std::string("id: 99"), std::string("retry: 1"),
                      // An attempt to end the event early and forge another one.
                      std::string("x\n\ndata: forged\nid: 99\nevent: error\n\n"),
                      std::string("x\r\n\r\ndata: forged\r\n\r\n"),
                      std::string("caf\xc3\xa9 \xe2\x9c\x93")));

// ---------------------------------------------------------------------------
// FormatComment and FormatRetry

TEST(EventFormatTest, FormatCommentWritesOneColonSpaceTextLine) {
  EXPECT_EQ(FormatComment("heartbeat"), ": heartbeat\n");
}

TEST(EventFormatTest, FormatCommentDoesNotDoubleALeadingSpace) {
  EXPECT_EQ(FormatComment(" ping"), ": ping\n");
}

TEST(EventFormatTest, FormatCommentOfEmptyTextIsABareColon) { EXPECT_EQ(FormatComment(""), ":\n"); }

TEST(EventFormatTest, FormatCommentDropsLineBreaksSoNoEventIsForged) {
  std::string frame = FormatComment("a\n\ndata: forged\r\n\r");
  EXPECT_EQ(frame, ": adata: forged\n");
  ParsedStream parsed = ParseSse(frame);
  EXPECT_TRUE(parsed.events.empty());
  EXPECT_EQ(parsed.comments, 1);
}

TEST(EventFormatTest, FormatRetryWritesTheRetryFieldAndNoEvent) {
  std::string frame = FormatRetry(5000);
  EXPECT_EQ(frame, "retry: 5000\n");  // joins the next block
  ParsedStream parsed = ParseSse(frame);
  EXPECT_TRUE(parsed.events.empty());
  EXPECT_EQ(parsed.retry, 5000);
}

TEST(EventFormatTest, FormatRetryOfZero) { EXPECT_EQ(FormatRetry(0), "retry: 0\n"); }

// ---------------------------------------------------------------------------
// MakeProgressEvent

TEST(EventFormatTest, MakeProgressEventUsesSeqAsTheIdAndIsNotTerminalWhileRunning) {
  const std::string payload = R"({"audit_id":1,"status":"running","progress":40,"seq":3})";
  EventPtr event = MakeProgressEvent(payload);
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(event->seq, 3);
  EXPECT_FALSE(event->terminal);
  EXPECT_FALSE(event->failed);
  EXPECT_FALSE(event->comment);
  EXPECT_EQ(event->wire, "id: 3\nevent: message\ndata: " + payload + "\n\n");
}

TEST(EventFormatTest, MakeProgressEventIsNotTerminalWhilePending) {
  EventPtr event = MakeProgressEvent(R"({"status":"pending","seq":1})");
  EXPECT_FALSE(event->terminal);
  EXPECT_FALSE(event->failed);
}

TEST(EventFormatTest, MakeProgressEventIsTerminalWhenCompleted) {
  EventPtr event = MakeProgressEvent(R"({"status":"completed","progress":100,"seq":9})");
  EXPECT_EQ(event->seq, 9);
  EXPECT_TRUE(event->terminal);
  EXPECT_FALSE(event->failed);
}

TEST(EventFormatTest, MakeProgressEventIsTerminalAndFailedWhenFailed) {
  EventPtr event = MakeProgressEvent(R"({"status":"failed","error":"boom","seq":4})");
  EXPECT_EQ(event->seq, 4);
  EXPECT_TRUE(event->terminal);
  EXPECT_TRUE(event->failed);
}

TEST(EventFormatTest, MakeProgressEventFramesANonJsonPayloadWithNoId) {
  const std::string payload = "not json\nsecond line";
  EventPtr event = MakeProgressEvent(payload);
  EXPECT_EQ(event->seq, 0);
  EXPECT_FALSE(event->terminal);
  EXPECT_FALSE(event->failed);
  EXPECT_EQ(event->wire.find("id:"), std::string::npos);
  ParsedStream parsed = ParseSse(event->wire);
  ASSERT_EQ(parsed.events.size(), 1u);
  EXPECT_EQ(parsed.events[0].data, payload);
  EXPECT_FALSE(parsed.events[0].id.has_value());
}

TEST(EventFormatTest, MakeProgressEventFramesAJsonNonObjectWithNoIdAndNotTerminal) {
  EventPtr event = MakeProgressEvent(R"(["status","failed"])");
  EXPECT_EQ(event->seq, 0);
  EXPECT_FALSE(event->terminal);
  EXPECT_EQ(event->wire, "event: message\ndata: [\"status\",\"failed\"]\n\n");
}

TEST(EventFormatTest, MakeProgressEventIgnoresASeqThatIsNotAPositiveInteger) {
  for (std::string payload : {R"({"seq":0,"status":"running"})", R"({"seq":-2})", R"({"seq":"5"})",
                              R"({"seq":1.5})", R"({"status":"running"})"}) {
    EventPtr event = MakeProgressEvent(payload);
    EXPECT_EQ(event->seq, 0) << payload;
    EXPECT_EQ(event->wire.find("id:"), std::string::npos) << payload;
  }
}

TEST(EventFormatTest, MakeProgressEventIgnoresAStatusThatIsNotAString) {
  EventPtr event = MakeProgressEvent(R"({"seq":2,"status":true})");
  EXPECT_EQ(event->seq, 2);
  EXPECT_FALSE(event->terminal);
  EXPECT_FALSE(event->failed);
}

TEST(EventFormatTest, MakeProgressEventKeepsAMultiLinePayloadInOneEvent) {
  const std::string payload = "{\n  \"status\": \"completed\",\n  \"seq\": 12\n}";
  EventPtr event = MakeProgressEvent(payload);
  EXPECT_TRUE(event->terminal);
  ParsedStream parsed = ParseSse(event->wire);
  ASSERT_EQ(parsed.events.size(), 1u);
  EXPECT_EQ(parsed.events[0].data, payload);
  EXPECT_EQ(parsed.events[0].id, "12");
}

}  // namespace
}  // namespace herald::sse
