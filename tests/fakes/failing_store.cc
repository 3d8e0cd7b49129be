#include "fakes/failing_store.h"

#include <stdlib.h>

#include <stdexcept>

#include "store/sqlite_store.h"

namespace herald::test {

FailingStore::FailingStore() {
  std::string pattern = (std::filesystem::temp_directory_path() / "herald-store-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  store::SqliteOptions options;
  options.path = (dir_ / "test.db").string();
  auto opened = store::SqliteStore::Open(options);
  if (!opened) throw std::runtime_error(opened.error().message);
  real_ = std::move(*opened);
}

FailingStore::~FailingStore() {
  real_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void FailingStore::FailNextUpdate(Error error) {
  std::lock_guard lock(mu_);
  fail_next_ = std::move(error);
}

void FailingStore::FailReads(std::optional<Error> error) {
  std::lock_guard lock(mu_);
  fail_reads_ = std::move(error);
}

Result<jobs::Job> FailingStore::GetJob(int64_t id) {
  ++job_reads_;
  {
    std::lock_guard lock(mu_);
    if (fail_reads_) return *fail_reads_;
  }
  return real_->GetJob(id);
}

Result<std::vector<store::StoredEvent>> FailingStore::EventsAfter(int64_t job_id, int64_t after_seq,
                                                                  int limit) {
  ++job_reads_;
  {
    std::lock_guard lock(mu_);
    if (fail_reads_) return *fail_reads_;
  }
  return real_->EventsAfter(job_id, after_seq, limit);
}

Result<std::vector<store::UpdateOutcome>> FailingStore::UpdateJobs(
    std::span<const store::JobUpdate> updates) {
  ++update_transactions_;
  {
    std::lock_guard lock(mu_);
    if (fail_next_) {
      Error e = std::move(*fail_next_);
      fail_next_.reset();
      return e;
    }
  }
  return real_->UpdateJobs(updates);
}

}  // namespace herald::test
