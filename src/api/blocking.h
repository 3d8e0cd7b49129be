#pragma once
// Runs a blocking call (SQLite, DNS) on the blocking pool and resumes the
// calling coroutine on its own executor (strand) with the result. The I/O
// threads never wait on the database.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <type_traits>

namespace herald::api {

template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> RunBlocking(boost::asio::thread_pool& pool,
                                                             F f) {
  using R = std::invoke_result_t<F&>;
  co_return co_await boost::asio::co_spawn(
      pool.get_executor(), [&]() -> boost::asio::awaitable<R> { co_return f(); },
      boost::asio::use_awaitable);
}

}  // namespace herald::api
