#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>

namespace herald::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};

spdlog::logger& Logger() {
  // stderr keeps stdout free for commands that print results (herald token).
  static auto logger = [] {
    auto l = spdlog::stderr_color_mt("herald");
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    l->set_level(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

}  // namespace

void SetLevel(Level level) { g_level.store(level); }

bool ParseLevel(std::string_view text, Level* out) {
  if (text == "debug") *out = Level::kDebug;
  else if (text == "info") *out = Level::kInfo;
  else if (text == "warn" || text == "warning") *out = Level::kWarn;
  else if (text == "error") *out = Level::kError;
  else if (text == "off") *out = Level::kOff;
  else return false;
  return true;
}

void Write(Level level, std::string_view message) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  switch (level) {
    case Level::kDebug: Logger().debug("{}", message); break;
    case Level::kInfo: Logger().info("{}", message); break;
    case Level::kWarn: Logger().warn("{}", message); break;
    case Level::kError: Logger().error("{}", message); break;
    case Level::kOff: break;
  }
}

}  // namespace herald::log
