#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>

#include "common/json_text.h"

namespace herald::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{Format::kText};

// UTC with a Z, whatever the machine's time zone: lines from several hosts
// sort together, and nobody has to guess the offset.
constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v";
// The message arrives already quoted (JsonQuote).
constexpr const char* kJsonPattern = R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":%v})";

spdlog::logger& Logger() {
  // stderr keeps stdout free for commands that print results (herald token).
  static auto logger = [] {
    auto l = spdlog::stderr_color_mt("herald");
    l->set_pattern(kTextPattern, spdlog::pattern_time_type::utc);
    l->set_level(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

}  // namespace

void SetLevel(Level level) { g_level.store(level); }

void SetFormat(Format format) {
  g_format.store(format);
  Logger().set_pattern(format == Format::kJson ? kJsonPattern : kTextPattern,
                       spdlog::pattern_time_type::utc);
}

bool ParseFormat(std::string_view text, Format* out) {
  if (text == "text")
    *out = Format::kText;
  else if (text == "json")
    *out = Format::kJson;
  else
    return false;
  return true;
}

bool ParseLevel(std::string_view text, Level* out) {
  if (text == "debug")
    *out = Level::kDebug;
  else if (text == "info")
    *out = Level::kInfo;
  else if (text == "warn" || text == "warning")
    *out = Level::kWarn;
  else if (text == "error")
    *out = Level::kError;
  else if (text == "off")
    *out = Level::kOff;
  else
    return false;
  return true;
}

void Write(Level level, std::string_view text) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  std::string quoted;
  std::string_view message = text;
  if (g_format.load(std::memory_order_relaxed) == Format::kJson) {
    quoted = JsonQuote(text);
    message = quoted;
  }
  switch (level) {
    case Level::kDebug:
      Logger().debug("{}", message);
      break;
    case Level::kInfo:
      Logger().info("{}", message);
      break;
    case Level::kWarn:
      Logger().warn("{}", message);
      break;
    case Level::kError:
      Logger().error("{}", message);
      break;
    case Level::kOff:
      break;
  }
}

}  // namespace herald::log
