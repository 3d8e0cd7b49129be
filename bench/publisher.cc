#include "publisher.h"

#include <time.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <thread>

#include "http_client.h"
#include "sse_parser.h"
#include "stats.h"

namespace herald::bench {
namespace {

// A request gets at most this long to be answered.
constexpr int64_t kRequestTimeoutNs = 10'000'000'000;
// Sleeps are cut into slices this long so that StopProgress() is seen soon.
constexpr int64_t kSleepSliceNs = 20'000'000;

void SleepUntil(int64_t when_ns) {
  timespec ts;
  ts.tv_sec = when_ns / 1'000'000'000;
  ts.tv_nsec = when_ns % 1'000'000'000;
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

bool Accepted(Mode mode, int status) {
  switch (mode) {
    case Mode::kHerald:
      return status == 202;
    // Nchan: 201 when subscribers got it, 202 when queued for none.
    case Mode::kNchan:
      return status == 201 || status == 202;
    case Mode::kPushpin:
      return status == 200;
  }
  return false;
}

// Pushpin: one item for the job's channel, in http-stream format, i.e. the
// SSE bytes to write to every held stream, as a JSON string.
std::string PushpinBody(const std::string& job, const std::string& json) {
  std::string content = "event: message\ndata: " + json + "\n\n";
  std::string escaped;
  for (char c : content) {
    if (c == '"' || c == '\\') {
      escaped += '\\';
      escaped += c;
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return R"({"items":[{"channel":"job-)" + job + R"(","formats":{"http-stream":{"content":")" +
         escaped + R"("}}}]})";
}

std::string Substitute(std::string text, std::string_view job) {
  for (std::size_t pos; (pos = text.find("{id}")) != std::string::npos;) {
    text.replace(pos, 4, job);
  }
  return text;
}

}  // namespace

std::string UpdateJson(Mode mode, bool terminal, int64_t progress, int64_t stamp_ns, uint64_t seq) {
  char body[192];
  int n;
  if (terminal) {
    n = std::snprintf(body, sizeof body, R"({"status":"completed","message":"t=%)" PRId64 "\"",
                      stamp_ns);
  } else {
    n = std::snprintf(body, sizeof body, R"({"progress":%)" PRId64 R"(,"message":"t=%)" PRId64 "\"",
                      progress, stamp_ns);
  }
  std::string out(body, static_cast<std::size_t>(n));
  // Herald numbers events itself (id:); the peers get a sequence in the
  // payload so that the receivers can check order and gaps the same way.
  if (mode != Mode::kHerald && seq > 0) out += ",\"seq\":" + std::to_string(seq);
  out += '}';
  return out;
}

bool ParseBatchReply(std::string_view body, std::vector<bool>* accepted) {
  accepted->clear();
  std::size_t i = body.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos || body[i] != '[') return false;
  // Walk the top-level objects of the array; strings may hold braces.
  int depth = 0;
  bool in_string = false;
  std::size_t start = 0;
  for (++i; i < body.size(); ++i) {
    char c = body[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      if (depth++ == 0) start = i;
    } else if (c == '}') {
      if (--depth < 0) return false;
      if (depth == 0) {
        std::string_view item = body.substr(start, i - start + 1);
        int64_t id = 0;
        bool error = item.find("\"error\"") != std::string_view::npos;
        accepted->push_back(!error && FindJsonInt(item, "id", &id));
      }
    } else if (c == ']' && depth == 0) {
      return true;
    }
  }
  return false;
}

struct Publisher::Worker {
  std::unique_ptr<HttpClient> client;
  std::thread thread;
  PublishResult r;  // This connection's share; merged by Join().
  int64_t last_k = -1;
};

Publisher::Publisher(PublisherOptions options) : o_(std::move(options)) {
  o_.connections = std::max(1, o_.connections);
  accepted_ = std::make_unique<std::atomic<uint64_t>[]>(o_.jobs.size());
  for (std::size_t j = 0; j < o_.jobs.size(); ++j) accepted_[j] = 0;
  if (o_.base_progress.size() != o_.jobs.size()) o_.base_progress.assign(o_.jobs.size(), 0);
  ordered_ = o_.batch == 0 && o_.jobs.size() >= static_cast<std::size_t>(o_.connections);
  sent_per_job_.assign(o_.jobs.size(), 0);
}

Publisher::~Publisher() {
  Abort();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

void Publisher::Start() {
  start_ns_ = NowNs();
  progress_running_ = o_.connections;
  for (int i = 0; i < o_.connections; ++i) {
    auto w = std::make_unique<Worker>();
    w->client = std::make_unique<HttpClient>(o_.server, o_.server_len, o_.host_header, o_.nodelay);
    workers_.push_back(std::move(w));
  }
  for (int i = 0; i < o_.connections; ++i) {
    workers_[static_cast<std::size_t>(i)]->thread = std::thread([this, i] { RunWorker(i); });
  }
}

void Publisher::Fail(Worker& w, const std::string& error) {
  if (w.r.first_error.empty()) w.r.first_error = error;
}

void Publisher::RunWorker(int index) {
  Worker& w = *workers_[static_cast<std::size_t>(index)];
  const uint64_t jobs = o_.jobs.size();
  const uint64_t P = static_cast<uint64_t>(o_.connections);
  const uint64_t t = static_cast<uint64_t>(index);
  const uint64_t K = o_.batch > 0 ? static_cast<uint64_t>(o_.batch) : 1;
  std::string headers;
  if (!o_.token.empty()) headers = "Authorization: Bearer " + o_.token + "\r\n";
  std::vector<std::string> targets;
  if (o_.batch == 0) {
    targets.reserve(jobs);
    for (const std::string& job : o_.jobs) targets.push_back(Substitute(o_.publish_path, job));
  }
  HttpResponse response;
  std::string error;
  std::vector<bool> items;
  std::vector<uint64_t> job_of;

  // Waits until `due` in slices; false when the phase should end instead.
  auto wait_for = [&](int64_t due, bool progress) {
    while (true) {
      if (abort_.load() || (progress && stop_progress_.load())) return false;
      int64_t now = NowNs();
      if (now >= o_.deadline_ns) return false;
      if (now >= due) return true;
      SleepUntil(std::min({due, now + kSleepSliceNs, o_.deadline_ns}));
    }
  };

  // Sends updates [k, k + n) of one phase (progress: update index, job
  // k % J; terminal: job index) in one request and books the outcome.
  auto send = [&](uint64_t k, uint64_t n, bool terminal, int64_t due) {
    int64_t stamp = NowNs();
    if (o_.rate > 0) {
      int64_t lag = std::max<int64_t>(0, stamp - due);
      w.r.lag_max_ns = std::max(w.r.lag_max_ns, lag);
      if (!terminal && static_cast<int64_t>(k) > w.last_k) {
        w.last_k = static_cast<int64_t>(k);
        w.r.lag_last_ns = lag;
      }
    }
    std::string body;
    std::string target;
    job_of.assign(n, 0);
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t j = terminal ? k + i : (k + i) % jobs;
      job_of[i] = j;
      uint64_t seq = 0;
      int64_t progress = o_.base_progress[j];
      if (ordered_) {
        // Only this connection publishes to job j, in order.
        seq = ++sent_per_job_[j];
        if (!terminal) progress = std::min<int64_t>(99, progress + static_cast<int64_t>(seq));
      }
      std::string json = UpdateJson(o_.mode, terminal, progress, stamp, seq);
      if (o_.batch > 0) {
        body += i == 0 ? "[" : ",";
        body += "{\"job_id\":" + o_.jobs[j] + "," + json.substr(1);
      } else {
        body = o_.mode == Mode::kPushpin ? PushpinBody(o_.jobs[j], json) : json;
        target = targets[j];
      }
    }
    if (o_.batch > 0) {
      body += "]";
      target = o_.batch_path;
    }
    int64_t until = std::min(o_.deadline_ns, stamp + kRequestTimeoutNs);
    bool ok = w.client->Request("POST", target, headers, body, until, &response, &error);
    int64_t now = NowNs();
    ++w.r.requests;
    w.r.reply_ns.push_back(now - stamp);
    uint64_t& sent = terminal ? w.r.completions_sent : w.r.progress_sent;
    uint64_t& accepted = terminal ? w.r.completions_accepted : w.r.progress_accepted;
    uint64_t& failed = terminal ? w.r.completions_failed : w.r.progress_failed;
    sent += n;
    if (!terminal) {
      if (w.r.first_progress_send_ns == 0) w.r.first_progress_send_ns = stamp;
      w.r.last_progress_send_ns = std::max(w.r.last_progress_send_ns, stamp);
    }
    auto book = [&](uint64_t i, bool good) {
      if (good) {
        ++accepted;
        accepted_[job_of[i]].fetch_add(1);
        if (!terminal) w.r.last_progress_accept_ns = std::max(w.r.last_progress_accept_ns, now);
      } else {
        ++failed;
      }
    };
    if (!ok) {
      for (uint64_t i = 0; i < n; ++i) book(i, false);
      Fail(w, "POST " + target + ": " + error);
      return;
    }
    if (o_.batch > 0) {
      if (response.status == 404 || response.status == 405) {
        for (uint64_t i = 0; i < n; ++i) book(i, false);
        w.r.batch_unsupported = true;
        Fail(w, "POST " + o_.batch_path + " answered " + std::to_string(response.status) +
                    ": this server has no batch endpoint (--batch needs Herald's "
                    "POST /api/v1/progress)");
        Abort();
        return;
      }
      if (response.status != 202 || !ParseBatchReply(response.body, &items) || items.size() != n) {
        for (uint64_t i = 0; i < n; ++i) book(i, false);
        Fail(w, "POST " + o_.batch_path + ": status " + std::to_string(response.status) + " for " +
                    std::to_string(n) + " items: " + response.body.substr(0, 200));
        return;
      }
      for (uint64_t i = 0; i < n; ++i) {
        book(i, items[i]);
        if (!items[i]) {
          Fail(w,
               "POST " + o_.batch_path + ": an item was refused: " + response.body.substr(0, 200));
        }
      }
      return;
    }
    bool good = Accepted(o_.mode, response.status);
    book(0, good);
    if (!good) {
      Fail(w, "POST " + target + ": status " + std::to_string(response.status) + ": " +
                  response.body.substr(0, 200));
    }
  };

  // The requests of one phase this connection owns, in order: request r
  // carries updates [r*K, r*K + K) of `total` (no limit when 0) and is due
  // at start + r*K / rate.
  auto run_phase = [&](bool terminal, int64_t start, uint64_t total) {
    for (uint64_t r = 0;; ++r) {
      uint64_t k = r * K;
      if (total > 0 && k >= total) break;
      // Ordered (K = 1): job k % J belongs to connection (k % J) % P.
      uint64_t owner = ordered_ ? (terminal ? k : k % jobs) % P : r % P;
      if (owner != t) continue;
      int64_t due =
          o_.rate > 0 ? start + static_cast<int64_t>(static_cast<double>(k) * 1e9 / o_.rate) : 0;
      if (!terminal && o_.progress_until_ns > 0 &&
          (o_.rate > 0 ? due : NowNs()) >= o_.progress_until_ns) {
        break;
      }
      if (!wait_for(due, !terminal)) break;
      uint64_t n = total > 0 ? std::min(K, total - k) : K;
      send(k, n, terminal, due);
    }
  };

  run_phase(false, start_ns_, o_.progress_updates);

  // Terminal updates only once every connection's progress is answered.
  if (progress_running_.fetch_sub(1) == 1) completion_start_ns_.store(NowNs());
  while (completion_start_ns_.load() == 0 && !abort_.load() && NowNs() < o_.deadline_ns) {
    SleepUntil(NowNs() + 1'000'000);
  }
  if (o_.completions && completion_start_ns_.load() != 0 && !abort_.load()) {
    run_phase(true, completion_start_ns_.load(), jobs);
  }
  finished_.fetch_add(1);
}

PublishResult Publisher::Join() {
  PublishResult out;
  for (auto& wp : workers_) {
    if (wp->thread.joinable()) wp->thread.join();
  }
  out.start_ns = start_ns_;
  out.ordered = ordered_;
  int64_t last_k = -1;
  for (auto& wp : workers_) {
    const PublishResult& r = wp->r;
    out.progress_sent += r.progress_sent;
    out.progress_accepted += r.progress_accepted;
    out.progress_failed += r.progress_failed;
    out.completions_sent += r.completions_sent;
    out.completions_accepted += r.completions_accepted;
    out.completions_failed += r.completions_failed;
    out.requests += r.requests;
    if (r.first_progress_send_ns > 0 && (out.first_progress_send_ns == 0 ||
                                         r.first_progress_send_ns < out.first_progress_send_ns)) {
      out.first_progress_send_ns = r.first_progress_send_ns;
    }
    out.last_progress_send_ns = std::max(out.last_progress_send_ns, r.last_progress_send_ns);
    out.last_progress_accept_ns = std::max(out.last_progress_accept_ns, r.last_progress_accept_ns);
    out.lag_max_ns = std::max(out.lag_max_ns, r.lag_max_ns);
    if (wp->last_k > last_k) {
      last_k = wp->last_k;
      out.lag_last_ns = r.lag_last_ns;
    }
    out.reply_ns.insert(out.reply_ns.end(), r.reply_ns.begin(), r.reply_ns.end());
    out.batch_unsupported = out.batch_unsupported || r.batch_unsupported;
    if (out.first_error.empty()) out.first_error = r.first_error;
  }
  // A batch 404 is the news, not the failures it caused on other connections.
  if (out.batch_unsupported) {
    for (auto& wp : workers_) {
      if (wp->r.batch_unsupported) out.first_error = wp->r.first_error;
    }
  }
  std::sort(out.reply_ns.begin(), out.reply_ns.end());
  out.accepted_per_job.resize(o_.jobs.size());
  for (std::size_t j = 0; j < o_.jobs.size(); ++j) out.accepted_per_job[j] = accepted_[j].load();
  out.end_ns = NowNs();
  return out;
}

}  // namespace herald::bench
