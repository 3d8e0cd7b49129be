#pragma once
// The JobStore conformance suite: every behaviour the rest of Herald relies
// on, written once against the interface so each implementation runs the
// same tests (the TEST_P bodies are in src/store/job_store_conformance_test.cc). A
// backend's test file provides a StoreBackend and instantiates:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, JobStoreTest,
//                            ::testing::Values(StoreBackendParam{"Sqlite", MakeX}),
//                            StoreBackendName);

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/errors.h"
#include "fakes/manual_clock.h"
#include "jobs/job.h"
#include "store/job_store.h"

namespace herald::store {

// What every backend must honour when opening a store for a test.
struct StoreTestOptions {
  int event_retention = 1000;
  const Clock* clock = nullptr;
};

// A fresh, empty database owned by one test. Open() may be called again
// (reopen tests) and reaches the same data. Destroying the backend deletes
// the database; stores it opened must be destroyed first.
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  virtual Result<std::unique_ptr<JobStore>> Open(const StoreTestOptions& options) = 0;
};

struct StoreBackendParam {
  std::string name;
  std::function<std::unique_ptr<StoreBackend>()> make;
};

inline void PrintTo(const StoreBackendParam& param, std::ostream* os) { *os << param.name; }

inline std::string StoreBackendName(const ::testing::TestParamInfo<StoreBackendParam>& info) {
  return info.param.name;
}

template <class T>
::testing::AssertionResult IsOk(const Result<T>& r) {
  if (r) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << ToString(r.error().code) << ": " << r.error().message;
}

template <class T>
::testing::AssertionResult IsError(const Result<T>& r, Errc code) {
  if (r) return ::testing::AssertionFailure() << "expected " << ToString(code) << ", got a value";
  if (r.error().code != code) {
    return ::testing::AssertionFailure() << "expected " << ToString(code) << ", got "
                                         << ToString(r.error().code) << ": " << r.error().message;
  }
  return ::testing::AssertionSuccess();
}

class JobStoreTest : public ::testing::TestWithParam<StoreBackendParam> {
 protected:
  // 2026-11-22T15:04:05Z, the contract's example timestamp.
  static constexpr int64_t kT0 = 1795359845000;
  // Spelled out in JobQuery initializers: every owner (as for an admin).
  static constexpr std::nullopt_t kAnyOwner = std::nullopt;

  void SetUp() override {
    backend_ = GetParam().make();
    ASSERT_NE(backend_, nullptr);
    Reopen();
  }

  void TearDown() override {
    store_.reset();  // before the backend deletes the database
    backend_.reset();
  }

  // Closes the current store (if any) and opens the same database again.
  void Reopen(int event_retention = 1000) {
    store_.reset();
    auto opened = backend_->Open(StoreTestOptions{event_retention, &clock_});
    ASSERT_TRUE(IsOk(opened));
    store_ = std::move(*opened);
  }

  // Value accessors that fail the test (by exception) with the store's message.
  Applied Create(std::string owner, std::string type = "translation", std::string title = "") {
    return store_->CreateJob(NewJob{std::move(type), std::move(owner), std::move(title), "", 0})
        .value();
  }
  Applied Update(int64_t id, const jobs::ProgressUpdate& u) {
    return store_->UpdateJob(id, u).value();
  }
  static jobs::ProgressUpdate Progress(int p) {
    jobs::ProgressUpdate u;
    u.progress = p;
    return u;
  }
  static jobs::ProgressUpdate Message(std::string m) {
    jobs::ProgressUpdate u;
    u.message = std::move(m);
    return u;
  }
  static jobs::ProgressUpdate Status(jobs::JobStatus s) {
    jobs::ProgressUpdate u;
    u.status = s;
    return u;
  }
  std::vector<int64_t> Seqs(int64_t job_id, int64_t after = 0, int limit = 10000) {
    std::vector<int64_t> out;
    for (const StoredEvent& e : store_->EventsAfter(job_id, after, limit).value()) {
      out.push_back(e.seq);
    }
    return out;
  }
  std::vector<int64_t> Ids(const JobQuery& q) {
    std::vector<int64_t> out;
    for (const jobs::Job& j : store_->ListJobs(q).value()) out.push_back(j.id);
    return out;
  }
  static boost::json::object Json(const std::string& text) {
    return boost::json::parse(text).as_object();
  }
  static std::vector<int64_t> Range(int64_t first, int64_t last) {
    std::vector<int64_t> out;
    for (int64_t i = first; i <= last; ++i) out.push_back(i);
    return out;
  }

  test::ManualClock clock_{kT0};
  std::unique_ptr<StoreBackend> backend_;
  std::unique_ptr<JobStore> store_;
};

}  // namespace herald::store
