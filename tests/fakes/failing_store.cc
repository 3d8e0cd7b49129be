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
