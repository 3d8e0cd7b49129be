// Binding: one listening socket per I/O thread on the port (SO_REUSEPORT),
// yet a port another server holds is refused unless HERALD_REUSE_PORT
// says the port is to be shared.

#include <gtest/gtest.h>

#include <string>

#include "integration/test_server.h"
#include "runtime/runtime.h"
#include "support/http_client.h"

namespace herald::test {
namespace {

TEST(ListenTest, APortAnotherServerHoldsIsRefusedNamingTheAddress) {
  TestServer first;
  config::Config config = first.config();
  config.http.port = first.port();
  auto second = runtime::Runtime::Create(config);
  ASSERT_TRUE(second) << second.error().message;
  auto started = (*second)->Start();
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message.find("cannot bind 127.0.0.1:" + std::to_string(first.port())),
            std::string::npos)
      << started.error().message;
  // The first one still serves.
  EXPECT_EQ(Request(first.port(), "GET", "/healthz").status, 200);
}

TEST(ListenTest, WithReusePortTwoServersShareThePortAndBothAnswer) {
  TestServer first([](config::Config& c) { c.http.reuse_port = true; });
  config::Config config = first.config();
  config.http.port = first.port();
  auto second = runtime::Runtime::Create(config);
  ASSERT_TRUE(second) << second.error().message;
  ASSERT_TRUE((*second)->Start());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Request(first.port(), "GET", "/healthz").status, 200);
  (*second)->RequestStop();
  (*second)->Wait();
  // The second one's listeners are gone; the port is the first one's again.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Request(first.port(), "GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace herald::test
