#pragma once
// Logging front door. Thin on purpose: callers format with fmt (light
// headers) and spdlog stays inside log.cc. Tokens and secrets are never
// passed here.

#include <fmt/core.h>

#include <string_view>

namespace herald::log {

enum class Level { kDebug, kInfo, kWarn, kError, kOff };

// Sets the minimum level; "debug", "info", "warn", "error", "off".
void SetLevel(Level level);
bool ParseLevel(std::string_view text, Level* out);

// Lines are "2026-12-03T15:04:05.123Z info message" (UTC, always), or with
// kJson one JSON object per line: {"time":"…Z","level":"info","msg":"…"}.
enum class Format { kText, kJson };
void SetFormat(Format format);
bool ParseFormat(std::string_view text, Format* out);

void Write(Level level, std::string_view message);

template <class... Args>
void Debug(fmt::format_string<Args...> f, Args&&... args) {
  Write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void Info(fmt::format_string<Args...> f, Args&&... args) {
  Write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void Warn(fmt::format_string<Args...> f, Args&&... args) {
  Write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void Error(fmt::format_string<Args...> f, Args&&... args) {
  Write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace herald::log
