// Which server the load generator talks to. Herald is the default; the peers
// are measured with the same scenarios by bench/compare-peers.sh and
// bench/vs-nchan.sh.
#pragma once

namespace herald::bench {

enum class Mode { kHerald, kNchan, kPushpin };

inline const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kHerald:
      return "herald";
    case Mode::kNchan:
      return "nchan";
    case Mode::kPushpin:
      return "pushpin";
  }
  return "?";
}

}  // namespace herald::bench
