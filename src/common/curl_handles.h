#pragma once
// Owning handles for libcurl's easy and multi handles and header lists, for
// the crawler (audit/) and the terminal client (cli/), which both link
// libcurl.

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <string>

namespace herald::curl {

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

using Easy = std::unique_ptr<CURL, EasyDeleter>;
using Multi = std::unique_ptr<CURLM, MultiDeleter>;
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// curl_global_init, once per process, before the first handle: it is not
// thread-safe, and the crawler and the client may both need it.
inline void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Appends a copy of `line`. On failure (out of memory) the list is left as
// it was, still owned, and false is returned.
inline bool Append(Slist& list, const std::string& line) {
  curl_slist* next = curl_slist_append(list.get(), line.c_str());
  if (next == nullptr) return false;
  (void)list.release();  // `next` is the same list, grown (or a new one if it was empty)
  list.reset(next);
  return true;
}

}  // namespace herald::curl
