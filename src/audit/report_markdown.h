#pragma once
// An audit's report as Markdown, for people: what `herald audit --report
// x.md` writes and the dashboard's "Export Markdown" downloads (both from
// GET /api/v1/audits/{id}/report?format=markdown). Findings are grouped by
// check, so a problem found on 40 pages is one entry with its 40 pages.

#include <boost/json/fwd.hpp>

#include <string>

namespace herald::audit {

// `audit` is the audit as GET /api/v1/audits/{id} returns it (id, url,
// status, created_at, updated_at, report). Text from the audited site
// (titles, messages quoting the page) is escaped, so a page cannot inject
// Markdown or HTML into the report. Fields the report lacks are left out.
std::string RenderReportMarkdown(const boost::json::object& audit);

}  // namespace herald::audit
