#include "sse/stream_quota.h"

namespace herald::sse {

StreamQuotaSlot* StreamQuota::Acquire(const std::string& user) {
  std::lock_guard lock(mu_);
  auto [it, added] = open_.try_emplace(user);
  if (max_ > 0 && it->second.open >= max_) return nullptr;
  ++it->second.open;
  if (added) it->second.user = &it->first;
  return &it->second;
}

void StreamQuota::Release(StreamQuotaSlot* slot) {
  if (slot == nullptr) return;
  std::lock_guard lock(mu_);
  if (--slot->open > 0) return;
  open_.erase(open_.find(*slot->user));  // by iterator: the key lives in the node
}

int StreamQuota::OpenFor(const std::string& user) {
  std::lock_guard lock(mu_);
  auto it = open_.find(user);
  return it == open_.end() ? 0 : it->second.open;
}

}  // namespace herald::sse
