#include "fakes/fake_job_store.h"

#include <stdlib.h>

#include <stdexcept>

#include "common/clock.h"
#include "store/sqlite_store.h"

namespace herald::test {

using Method = FakeJobStore::Method;

FakeJobStore::FakeJobStore(const Clock* clock) {
  std::string pattern = (std::filesystem::temp_directory_path() / "herald-store-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  store::SqliteOptions options;
  options.path = (dir_ / "test.db").string();
  options.clock = clock;
  auto opened = store::SqliteStore::Open(options);
  if (!opened) throw std::runtime_error(opened.error().message);
  real_ = std::move(*opened);
}

FakeJobStore::~FakeJobStore() {
  {
    // A call still held would otherwise wait forever.
    std::lock_guard lock(mu_);
    for (auto& m : methods_) m.held = false;
  }
  changed_.notify_all();
  real_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

const char* FakeJobStore::Name(Method method) {
  switch (method) {
    case Method::kCreateJob:
      return "CreateJob";
    case Method::kGetJob:
      return "GetJob";
    case Method::kListJobs:
      return "ListJobs";
    case Method::kUpdateJobs:
      return "UpdateJobs";
    case Method::kEventsAfter:
      return "EventsAfter";
    case Method::kAddNotice:
      return "AddNotice";
    case Method::kFeedFor:
      return "FeedFor";
    case Method::kFeedAll:
      return "FeedAll";
    case Method::kLatestFeedId:
      return "LatestFeedId";
    case Method::kPing:
      return "Ping";
    case Method::kAddTicket:
      return "AddTicket";
    case Method::kRedeemTicket:
      return "RedeemTicket";
    case Method::kClaimAudit:
      return "ClaimAudit";
    case Method::kRenewLease:
      return "RenewLease";
  }
  return "?";
}

Error FakeJobStore::ErrorFor(Failure failure, Method method) {
  const std::string doing = std::string("fake store, ") + Name(method);
  switch (failure) {
    case Failure::kDown:
      return DatabaseUnavailable(doing + ": the database is down");
    case Failure::kBusy:
      // SqlError's words for SQLITE_BUSY: "sqlite, while <doing>: database is locked".
      return DatabaseUnavailable("sqlite, while " + doing + ": database is locked");
    case Failure::kConflict:
      return MakeError(Errc::kConflict, doing + ": conflict");
  }
  return MakeError(Errc::kInternal, doing);
}

void FakeJobStore::Fail(Method method, Failure failure) { Fail(method, ErrorFor(failure, method)); }

void FakeJobStore::Fail(std::initializer_list<Method> methods, Failure failure) {
  for (Method m : methods) Fail(m, failure);
}

void FakeJobStore::Fail(Method method, Error error) {
  std::lock_guard lock(mu_);
  methods_[static_cast<int>(method)].always = std::move(error);
}

void FakeJobStore::FailAll(Failure failure) {
  for (int i = 0; i < kMethodCount; ++i) Fail(static_cast<Method>(i), failure);
}

void FakeJobStore::FailNext(Method method, Failure failure) {
  FailNext(method, ErrorFor(failure, method));
}

void FakeJobStore::FailNext(Method method, Error error) {
  std::lock_guard lock(mu_);
  methods_[static_cast<int>(method)].next.push_back(std::move(error));
}

void FakeJobStore::Heal(Method method) {
  std::lock_guard lock(mu_);
  auto& m = methods_[static_cast<int>(method)];
  m.always.reset();
  m.next.clear();
}

void FakeJobStore::Heal() {
  for (int i = 0; i < kMethodCount; ++i) Heal(static_cast<Method>(i));
}

int FakeJobStore::Calls(Method method) const {
  std::lock_guard lock(mu_);
  return methods_[static_cast<int>(method)].calls;
}

int FakeJobStore::TotalCalls() const {
  std::lock_guard lock(mu_);
  int total = 0;
  for (const auto& m : methods_) total += m.calls;
  return total;
}

bool FakeJobStore::WaitForCalls(Method method, int n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout,
                           [&] { return methods_[static_cast<int>(method)].returned >= n; });
}

void FakeJobStore::Hold(Method method) {
  std::lock_guard lock(mu_);
  methods_[static_cast<int>(method)].held = true;
}

void FakeJobStore::Release(Method method) {
  {
    std::lock_guard lock(mu_);
    methods_[static_cast<int>(method)].held = false;
  }
  changed_.notify_all();
}

bool FakeJobStore::WaitUntilHeld(Method method, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout,
                           [&] { return methods_[static_cast<int>(method)].waiting > 0; });
}

std::optional<Error> FakeJobStore::Enter(Method method) {
  std::unique_lock lock(mu_);
  auto& m = methods_[static_cast<int>(method)];
  ++m.calls;
  if (m.held) {
    ++m.waiting;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !m.held; });
    --m.waiting;
  }
  changed_.notify_all();
  if (!m.next.empty()) {
    Error e = std::move(m.next.front());
    m.next.erase(m.next.begin());
    return e;
  }
  return m.always;
}

void FakeJobStore::Leave(Method method) {
  {
    std::lock_guard lock(mu_);
    ++methods_[static_cast<int>(method)].returned;
  }
  changed_.notify_all();
}

template <class Call>
auto FakeJobStore::Run(Method method, Call call) -> decltype(call()) {
  if (auto e = Enter(method)) {
    Leave(method);
    return *e;
  }
  auto result = call();
  Leave(method);
  return result;
}

Result<store::Applied> FakeJobStore::CreateJob(const store::NewJob& job) {
  return Run(Method::kCreateJob, [&] { return real_->CreateJob(job); });
}

Result<jobs::Job> FakeJobStore::GetJob(int64_t id) {
  return Run(Method::kGetJob, [&] { return real_->GetJob(id); });
}

Result<std::vector<jobs::Job>> FakeJobStore::ListJobs(const store::JobQuery& q) {
  return Run(Method::kListJobs, [&] { return real_->ListJobs(q); });
}

Result<std::vector<store::UpdateOutcome>> FakeJobStore::UpdateJobs(
    std::span<const store::JobUpdate> updates) {
  return Run(Method::kUpdateJobs, [&] { return real_->UpdateJobs(updates); });
}

Result<std::vector<store::StoredEvent>> FakeJobStore::EventsAfter(int64_t job_id, int64_t after_seq,
                                                                  int limit) {
  return Run(Method::kEventsAfter, [&] { return real_->EventsAfter(job_id, after_seq, limit); });
}

Result<store::FeedEntry> FakeJobStore::AddNotice(const store::NewNotice& n) {
  return Run(Method::kAddNotice, [&] { return real_->AddNotice(n); });
}

Result<std::vector<store::FeedEntry>> FakeJobStore::FeedFor(const std::string& user, bool admin,
                                                            int64_t after, int limit) {
  return Run(Method::kFeedFor, [&] { return real_->FeedFor(user, admin, after, limit); });
}

Result<std::vector<store::FeedEntry>> FakeJobStore::FeedAll(int64_t after, int limit) {
  return Run(Method::kFeedAll, [&] { return real_->FeedAll(after, limit); });
}

Result<int64_t> FakeJobStore::LatestFeedId() {
  return Run(Method::kLatestFeedId, [&] { return real_->LatestFeedId(); });
}

Result<void> FakeJobStore::Ping() {
  return Run(Method::kPing, [&] { return real_->Ping(); });
}

Result<void> FakeJobStore::AddTicket(const store::NewTicket& t) {
  return Run(Method::kAddTicket, [&] { return real_->AddTicket(t); });
}

Result<store::RedeemedTicket> FakeJobStore::RedeemTicket(const std::string& hash) {
  return Run(Method::kRedeemTicket, [&] { return real_->RedeemTicket(hash); });
}

Result<std::optional<store::AuditClaim>> FakeJobStore::ClaimAudit(const std::string& worker,
                                                                  int64_t lease_ms) {
  return Run(Method::kClaimAudit, [&] { return real_->ClaimAudit(worker, lease_ms); });
}

Result<bool> FakeJobStore::RenewLease(int64_t id, const std::string& worker, int64_t lease_ms) {
  return Run(Method::kRenewLease, [&] { return real_->RenewLease(id, worker, lease_ms); });
}

}  // namespace herald::test
