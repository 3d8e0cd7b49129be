#include "proc_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

namespace herald::bench {

uint64_t ReadRssKb(long pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

double ReadCpuSeconds(long pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  // Fields after the command: state is field 3; utime and stime are 14 and 15.
  const char* p = stat.c_str() + paren + 2;
  unsigned long long utime = 0, stime = 0;
  if (std::sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) !=
      2) {
    return -1;
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::vector<long> ProcessTree(long root) {
  std::multimap<long, long> children;  // parent -> child
  if (DIR* dir = ::opendir("/proc")) {
    while (dirent* entry = ::readdir(dir)) {
      char* end = nullptr;
      long pid = std::strtol(entry->d_name, &end, 10);
      if (pid <= 0 || *end != '\0') continue;
      std::ifstream in(std::string("/proc/") + entry->d_name + "/stat");
      std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::size_t paren = stat.rfind(')');
      long ppid = 0;
      if (paren == std::string::npos ||
          std::sscanf(stat.c_str() + paren + 2, "%*c %ld", &ppid) != 1) {
        continue;
      }
      children.emplace(ppid, pid);
    }
    ::closedir(dir);
  }
  std::vector<long> tree{root};
  for (std::size_t i = 0; i < tree.size(); ++i) {
    auto [lo, hi] = children.equal_range(tree[i]);
    for (auto it = lo; it != hi; ++it) tree.push_back(it->second);
  }
  return tree;
}

long CountFds(long pid) {
  DIR* dir = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (!dir) return -1;
  long n = 0;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n;
}

uint64_t SumRssKb(const std::vector<long>& roots, bool tree) {
  uint64_t sum = 0;
  for (long root : roots) {
    if (root <= 0) continue;
    if (!tree) {
      sum += ReadRssKb(root);
      continue;
    }
    for (long pid : ProcessTree(root)) sum += ReadRssKb(pid);
  }
  return sum;
}

double SumCpuSeconds(const std::vector<long>& roots, bool tree) {
  if (roots.empty()) return -1;
  double sum = 0;
  for (long root : roots) {
    double own = ReadCpuSeconds(root);
    if (own < 0) return -1;
    if (!tree) {
      sum += own;
      continue;
    }
    for (long pid : ProcessTree(root)) sum += std::max(0.0, ReadCpuSeconds(pid));
  }
  return sum;
}

}  // namespace herald::bench
