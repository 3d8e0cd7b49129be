#pragma once
// Collects Herald's log lines while it lives, for tests that pin the
// contract's log lines. The logger belongs to common/log.cc; add the capture
// only while no other thread logs (before a server or io thread starts) and
// destroy it after they stop.

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"

namespace herald::test {

class LogCapture {
 public:
  LogCapture() {
    log::SetLevel(log::Level::kInfo);
    if (!spdlog::get("herald")) log::Info("test: capturing log lines");
    logger_ = spdlog::get("herald");
    sink_ = std::make_shared<Sink>();
    if (logger_) logger_->sinks().push_back(sink_);
  }
  ~LogCapture() {
    if (logger_) std::erase(logger_->sinks(), sink_);
  }

  int Count(std::string_view needle) const { return sink_->Count(needle); }
  std::string All() const { return sink_->All(); }

 private:
  class Sink : public spdlog::sinks::base_sink<std::mutex> {
   public:
    int Count(std::string_view needle) {
      std::lock_guard lock(lines_mu_);
      int n = 0;
      for (const auto& line : lines_) n += line.find(needle) != std::string::npos;
      return n;
    }
    std::string All() {
      std::lock_guard lock(lines_mu_);
      std::string all;
      for (const auto& line : lines_) all += line + "\n";
      return all;
    }

   protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
      std::lock_guard lock(lines_mu_);
      lines_.emplace_back(msg.payload.data(), msg.payload.size());
    }
    void flush_() override {}

   private:
    std::mutex lines_mu_;
    std::vector<std::string> lines_;
  };

  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<Sink> sink_;
};

}  // namespace herald::test
