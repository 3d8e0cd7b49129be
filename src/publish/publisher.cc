#include "publish/publisher.h"

#include <future>

#include "bus/bus.h"
#include "bus/feed_message.h"
#include "common/log.h"
#include "common/metrics.h"

namespace herald::publish {

namespace {

Error ShuttingDown() { return MakeError(Errc::kUnavailable, "server is shutting down"); }

// Blocks on a Submit* call: `submit(done)` must call `done` exactly once.
template <class T, class Submit>
T Wait(Submit submit) {
  std::promise<T> promise;
  auto future = promise.get_future();
  submit([&promise](T value) { promise.set_value(std::move(value)); });
  return future.get();
}

}  // namespace

Publisher::Publisher(store::JobStore& store, bus::Bus& bus, Metrics& metrics,
                     PublisherOptions options)
    : store_(store), bus_(bus), metrics_(metrics), options_(std::move(options)) {
  committer_ = std::thread([this] { CommitLoop(); });
  fanout_ = std::thread([this] { FanOutLoop(); });
}

Publisher::~Publisher() { Stop(); }

void Publisher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_commit_.notify_all();
  if (committer_.joinable()) committer_.join();
  if (fanout_.joinable()) fanout_.join();
}

bool Publisher::Enqueue(Op& op) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    ops_.push_back(std::move(op));
  }
  wake_commit_.notify_one();
  return true;
}

void Publisher::SubmitUpdates(std::vector<store::JobUpdate> updates, UpdatesDone done) {
  if (updates.empty()) return done(std::vector<store::UpdateOutcome>{});
  Op op = UpdatesOp{std::move(updates), std::move(done)};
  if (!Enqueue(op)) std::get<UpdatesOp>(op).done(ShuttingDown());
}

void Publisher::SubmitCreate(store::NewJob job, CreateDone done) {
  Op op = CreateOp{std::move(job), std::move(done)};
  if (!Enqueue(op)) std::get<CreateOp>(op).done(ShuttingDown());
}

void Publisher::SubmitNotice(store::NewNotice notice, NoticeDone done) {
  Op op = NoticeOp{std::move(notice), std::move(done)};
  if (!Enqueue(op)) std::get<NoticeOp>(op).done(ShuttingDown());
}

Result<store::Applied> Publisher::Create(const store::NewJob& job) {
  return Wait<Result<store::Applied>>([&](CreateDone done) { SubmitCreate(job, std::move(done)); });
}

Result<store::Applied> Publisher::Update(int64_t job_id, const jobs::ProgressUpdate& update) {
  auto outcomes = Wait<Result<std::vector<store::UpdateOutcome>>>([&](UpdatesDone done) {
    // Herald's own updates (the audit runner, a worker giving up): never
    // refused for a progress an outside post raised meanwhile.
    SubmitUpdates({store::JobUpdate{.job_id = job_id, .update = update, .raise_progress = true}},
                  std::move(done));
  });
  if (!outcomes) return outcomes.error();
  return std::move(outcomes->front());
}

Result<store::FeedEntry> Publisher::Notify(const store::NewNotice& notice) {
  return Wait<Result<store::FeedEntry>>(
      [&](NoticeDone done) { SubmitNotice(notice, std::move(done)); });
}

void Publisher::Committed(const store::Applied& applied, std::vector<Outgoing>& out) {
  Outgoing o{jobs::ChannelFor(applied.job), applied.event.payload, applied.feed};
  if (options_.on_commit) options_.on_commit(o.channel, o.payload);
  out.push_back(std::move(o));
}

void Publisher::CommitUpdates(std::vector<Op>& ops, std::size_t begin, std::size_t end,
                              std::vector<Outgoing>& out) {
  std::vector<store::JobUpdate> all;
  for (std::size_t i = begin; i < end; ++i) {
    auto& updates = std::get<UpdatesOp>(ops[i]).updates;
    std::move(updates.begin(), updates.end(), std::back_inserter(all));
  }
  auto outcomes = store_.UpdateJobs(all);
  std::size_t next = 0;
  for (std::size_t i = begin; i < end; ++i) {
    auto& op = std::get<UpdatesOp>(ops[i]);
    // The op's updates were moved into `all`; their count is still known.
    const std::size_t count = op.updates.size();
    if (!outcomes) {
      op.done(outcomes.error());
      continue;
    }
    std::vector<store::UpdateOutcome> mine;
    mine.reserve(count);
    for (std::size_t k = 0; k < count; ++k, ++next) {
      auto& outcome = (*outcomes)[next];
      if (outcome) Committed(*outcome, out);
      mine.push_back(std::move(outcome));
    }
    op.done(std::move(mine));
  }
}

void Publisher::CommitLoop() {
  std::vector<Op> ops;
  std::vector<Outgoing> out;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_commit_.wait(lock, [&] { return stopping_ || !ops_.empty(); });
      if (ops_.empty()) break;  // stopping, and everything queued is done
      ops.swap(ops_);
    }
    for (std::size_t i = 0; i < ops.size();) {
      if (std::holds_alternative<UpdatesOp>(ops[i])) {
        // Consecutive updates, whoever sent them, share one transaction.
        std::size_t end = i, batched = 0;
        while (end < ops.size() && std::holds_alternative<UpdatesOp>(ops[end]) &&
               (batched == 0 ||
                batched + std::get<UpdatesOp>(ops[end]).updates.size() <= options_.max_batch)) {
          batched += std::get<UpdatesOp>(ops[end]).updates.size();
          ++end;
        }
        CommitUpdates(ops, i, end, out);
        i = end;
      } else if (auto* create = std::get_if<CreateOp>(&ops[i])) {
        auto applied = store_.CreateJob(create->job);
        if (applied) Committed(*applied, out);
        create->done(std::move(applied));
        ++i;
      } else {
        auto& notice = std::get<NoticeOp>(ops[i]);
        auto entry = store_.AddNotice(notice.notice);
        if (entry) out.push_back(Outgoing{"", "", *entry});
        notice.done(std::move(entry));
        ++i;
      }
    }
    ops.clear();
    if (!out.empty()) {
      {
        std::lock_guard lock(mu_);
        std::move(out.begin(), out.end(), std::back_inserter(outgoing_));
      }
      out.clear();
      wake_fanout_.notify_one();
    }
  }
  {
    std::lock_guard lock(mu_);
    committer_done_ = true;
  }
  wake_fanout_.notify_one();
}

void Publisher::FanOutLoop() {
  std::deque<Outgoing> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_fanout_.wait(lock, [&] { return committer_done_ || !outgoing_.empty(); });
      if (outgoing_.empty()) return;
      batch.swap(outgoing_);
    }
    for (auto& o : batch) {
      if (!o.channel.empty()) {
        bus_.Publish(o.channel, std::move(o.payload));
      }
      bus_.Publish(std::string(bus::kFeedChannel), bus::EncodeFeedMessage(o.feed));
      metrics_.events_published.fetch_add(1, std::memory_order_relaxed);
    }
    batch.clear();
  }
}

}  // namespace herald::publish
