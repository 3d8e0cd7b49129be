#include "worker/audit_runner.h"

#include <algorithm>

#include "audit/analysis.h"
#include "common/log.h"
#include "publish/publisher.h"

namespace herald::worker {
namespace {

// Progress budget per phase: crawling is the slow part.
constexpr int kCrawlStart = 5;
constexpr int kCrawlEnd = 60;
constexpr int kAnalyzeEnd = 85;
constexpr int kSiteChecks = 90;
constexpr int kReport = 95;

jobs::ProgressUpdate Step(std::string step, std::string message, int progress) {
  jobs::ProgressUpdate u;
  u.status = jobs::JobStatus::kRunning;
  u.step = std::move(step);
  u.message = std::move(message);
  u.progress = progress;
  return u;
}

}  // namespace

AuditRunner::AuditRunner(publish::Publisher& publisher, RunnerOptions options)
    : publisher_(publisher), options_(std::move(options)) {}

bool AuditRunner::Report(int64_t job_id, jobs::ProgressUpdate update) {
  if (update.progress) {
    update.progress = std::max(*update.progress, last_progress_);
    last_progress_ = *update.progress;
  }
  auto applied = publisher_.Update(job_id, update);
  if (!applied) {
    if (applied.error().code != Errc::kConflict)
      log::Warn("audit {}: progress update failed: {}", job_id, Describe(applied.error()));
    return false;
  }
  return true;
}

void AuditRunner::Run(const jobs::Job& job, const std::function<bool()>& cancelled) {
  last_progress_ = job.progress;
  const int64_t id = job.id;
  bool stopped = false;  // a refused update (cancelled elsewhere) ends the run
  auto report = [&](jobs::ProgressUpdate u) {
    if (!stopped && !Report(id, std::move(u))) stopped = true;
    return !stopped;
  };
  auto should_stop = [&] { return stopped || cancelled(); };

  if (!report(Step("start", "Starting audit of " + job.url, 1))) return;

  audit::CrawlOptions crawl = options_.crawl;
  crawl.max_pages = std::clamp(job.max_pages > 0 ? job.max_pages : 20, 1, 500);
  crawl.allow_private = options_.allow_private;
  audit::CrawlCallbacks callbacks;
  callbacks.cancelled = should_stop;
  callbacks.on_step = [&](std::string_view step, std::string_view message) {
    report(Step(std::string(step), std::string(message), kCrawlStart - 2));
  };
  callbacks.on_page = [&](const audit::FetchedPage&, int done, int known) {
    int total = std::max(known, 1);
    int progress =
        kCrawlStart + (kCrawlEnd - kCrawlStart) * done / std::max(crawl.max_pages, total);
    auto u =
        Step("crawl", "Crawling pages (" + std::to_string(done) + "/" + std::to_string(total) + ")",
             progress);
    u.total_pages = known;
    report(std::move(u));
  };
  auto crawled = audit::Crawl(job.url, crawl, callbacks);
  if (should_stop()) return;
  if (!crawled) {
    jobs::ProgressUpdate failed;
    failed.status = jobs::JobStatus::kFailed;
    failed.error_message = crawled.error().message;
    failed.message = "Audit failed: " + crawled.error().message;
    report(std::move(failed));
    return;
  }

  std::vector<audit::PageFacts> facts;
  std::vector<audit::Finding> findings;
  const int n = static_cast<int>(crawled->pages.size());
  for (int i = 0; i < n; ++i) {
    if (should_stop()) return;
    const auto& page = crawled->pages[static_cast<size_t>(i)];
    facts.push_back(audit::AnalyzeHtml(page));
    auto page_findings = audit::CheckPage(facts.back(), page);
    findings.insert(findings.end(), page_findings.begin(), page_findings.end());
    auto u =
        Step("analyze", "Analyzing pages (" + std::to_string(i + 1) + "/" + std::to_string(n) + ")",
             kCrawlEnd + (kAnalyzeEnd - kCrawlEnd) * (i + 1) / std::max(n, 1));
    u.total_pages = n;
    if (!report(std::move(u))) return;
  }

  if (!report(Step("ai_access", "Checking AI crawler access", kSiteChecks))) return;
  auto site = audit::CheckSite(*crawled, facts);
  findings.insert(findings.end(), site.begin(), site.end());

  if (!report(Step("report", "Generating report", kReport))) return;
  // One problem on many pages is one finding listing them.
  findings = audit::MergeRepeated(std::move(findings));
  auto score = audit::Score(findings, n);
  int64_t counts[4] = {0, 0, 0, 0};
  for (const auto& f : findings) ++counts[static_cast<int>(f.severity)];

  jobs::ProgressUpdate done;
  done.status = jobs::JobStatus::kCompleted;
  done.progress = 100;
  done.step = "done";
  done.message = fmt::format("Audit complete: GEO score {:.1f}", score.geo_score);
  done.total_pages = n;
  done.geo_score = score.geo_score;
  done.critical_issues = counts[static_cast<int>(audit::Severity::kCritical)];
  done.high_issues = counts[static_cast<int>(audit::Severity::kHigh)];
  done.medium_issues = counts[static_cast<int>(audit::Severity::kMedium)];
  done.low_issues = counts[static_cast<int>(audit::Severity::kLow)];
  done.report_json = audit::BuildReport(*crawled, facts, findings, score);
  if (should_stop()) return;
  report(std::move(done));
}

}  // namespace herald::worker
