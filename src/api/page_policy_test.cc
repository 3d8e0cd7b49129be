// The dashboard's Content-Security-Policy: each inline block allowed by its
// own hash, nothing else.
#include "api/page_policy.h"

#include <gtest/gtest.h>

#include "api/dashboard_page.h"

namespace herald::api {
namespace {

TEST(PagePolicyTest, EachInlineBlockIsAllowedByItsHashAndNothingElse) {
  const std::string csp = ContentSecurityPolicy(
      "<html><style>body{}</style><script src=\"/x.js\"></script><script>x()</script></html>");
  // printf 'x()' | openssl dgst -sha256 -binary | base64
  EXPECT_NE(csp.find("script-src 'sha256-D6IGS8VMvCoyaR/l0h9tERrBTATY01CoPS7l6xDv0kI='"),
            std::string::npos)
      << csp;
  EXPECT_NE(csp.find("style-src 'sha256-fJgEClQWV1hGkK4qHMO0KotTsVnMYMXTq7/suurGyUo='"),
            std::string::npos)
      << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_NE(csp.find("connect-src 'self'"), std::string::npos);
}

TEST(PagePolicyTest, APageWithoutScriptsAllowsNone) {
  const std::string csp = ContentSecurityPolicy("<p>plain</p>");
  EXPECT_NE(csp.find("script-src 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("style-src 'none'"), std::string::npos) << csp;
}

TEST(PagePolicyTest, TheBuiltInDashboardHasOneScriptAndOneStyleHashed) {
  const std::string csp = ContentSecurityPolicy(kDashboardPage);
  const auto script = csp.find("script-src 'sha256-");
  const auto style = csp.find("style-src 'sha256-");
  ASSERT_NE(script, std::string::npos) << csp;
  ASSERT_NE(style, std::string::npos) << csp;
}

}  // namespace
}  // namespace herald::api
