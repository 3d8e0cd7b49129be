#pragma once
// Ways for a coroutine on an I/O thread to wait for work done elsewhere
// without blocking that thread: RunBlocking (a blocking call, on the
// blocking pool) and AwaitCallback (a callback API such as the Publisher's).

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <optional>
#include <type_traits>

namespace herald::api {

// Runs a blocking call (SQLite, DNS) on the blocking pool and resumes the
// calling coroutine on its own executor (its connection's thread) with the
// result. The I/O threads never wait on the database.
template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> RunBlocking(boost::asio::thread_pool& pool, F f) {
  using R = std::invoke_result_t<F&>;
  co_return co_await boost::asio::co_spawn(
      pool.get_executor(), [&]() -> boost::asio::awaitable<R> { co_return f(); },
      boost::asio::use_awaitable);
}

// Awaits a callback API: `start(done)` must call `done(value)` exactly once,
// on any thread (the Publisher's Submit* calls). The coroutine resumes on
// its own executor, never on the caller's thread. (A timer woken by a post
// to that executor, rather than async_initiate with a shared handler: the
// latter corrupted strand reference counts under load with Boost 1.81.)
template <class T, class Start>
boost::asio::awaitable<T> AwaitCallback(Start start) {
  namespace asio = boost::asio;
  auto executor = co_await asio::this_coro::executor;
  auto timer =
      std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
  auto slot = std::make_shared<std::optional<T>>();
  start([timer, slot, executor](T value) {
    asio::post(executor, [timer, slot, value = std::move(value)]() mutable {
      slot->emplace(std::move(value));
      timer->cancel();
    });
  });
  // The answer is posted to this coroutine's executor (one thread), so it
  // cannot land between the check and the wait; the loop only guards an
  // executor that is not serial.
  while (!*slot) {
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return std::move(**slot);
}

}  // namespace herald::api
