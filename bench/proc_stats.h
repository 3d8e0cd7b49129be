// What the server processes cost, read from /proc: VmRSS and user+system
// CPU, of one process, of a process and all its descendants (nginx's
// workers, Pushpin's services), or summed over a list of such roots (six
// `herald serve` on one port).
#pragma once

#include <cstdint>
#include <vector>

namespace herald::bench {

// VmRSS of a process in kB, or 0 when unknown.
uint64_t ReadRssKb(long pid);
// User plus system CPU time of a process in seconds, or -1 when unknown.
double ReadCpuSeconds(long pid);
// `root` and every process below it, from the parent pids in /proc/*/stat.
std::vector<long> ProcessTree(long root);

// Open file descriptors of a process (sockets included), -1 when unknown.
long CountFds(long pid);

// Sums over `roots` (each with its descendants when `tree`): kB, 0 when
// none is readable.
uint64_t SumRssKb(const std::vector<long>& roots, bool tree);
// Seconds, -1 when a root is unreadable (gone).
double SumCpuSeconds(const std::vector<long>& roots, bool tree);

}  // namespace herald::bench
