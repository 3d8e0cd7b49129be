#!/usr/bin/env bash
# Medians of repeated benchmark runs, and Herald/Nchan ratios.
#
#   bench/medians.sh [FILE...]     (RESULT lines; stdin when no file)
#
# Reads the RESULT lines that bench/vs-nchan.sh (or compare-peers.sh, with
# scenario= taken as absent) prints, groups them by scenario and server, and
# for every numeric key prints the median over the runs (the mean of the two
# middle values for an even count), then one line per scenario with the
# ratio herald/nchan of each key's medians:
#
#   MEDIAN scenario=storm server=herald runs=3 connect_per_s=... lat_p50_ms=...
#   RATIO scenario=storm herald/nchan connect_per_s=0.52 lat_p50_ms=1.10 ...
#
# followed by a table per scenario for reading. Runs whose line carries
# error= are left out (and counted as failed_runs). Keys whose Nchan median
# is 0 get no ratio.
set -euo pipefail

# scenario, server, key, value: one line per numeric field of a good run.
grep -h '^RESULT ' "$@" | awk '
  {
    scenario = "-"; server = "-"; bad = 0
    for (i = 2; i <= NF; i++) {
      split($i, kv, "=")
      if (kv[1] == "scenario") scenario = kv[2]
      else if (kv[1] == "server") server = kv[2]
      else if (kv[1] == "error") bad = 1
    }
    if (bad) { print scenario "\t" server "\tfailed_runs\t1"; next }
    print scenario "\t" server "\truns\t1"
    for (i = 2; i <= NF; i++) {
      eq = index($i, "=")
      if (eq == 0) continue
      key = substr($i, 1, eq - 1); value = substr($i, eq + 1)
      if (key == "scenario" || key == "server" || key == "rep" || key == "rc") continue
      if (value ~ /^-?[0-9]+(\.[0-9]+)?$/) print scenario "\t" server "\t" key "\t" value
    }
  }' | sort -t "$(printf '\t')" -k1,1 -k2,2 -k3,3 -k4,4g | awk -F '\t' '
  # Sorted by scenario, server, key, value: each group is one key of one server.
  function flush() {
    if (n == 0) return
    if (gkey == "runs" || gkey == "failed_runs") m = n
    else if (n % 2) m = v[(n + 1) / 2]
    else m = (v[n / 2] + v[n / 2 + 1]) / 2
    med[gs, gsv, gkey] = m
    if (!((gs, gkey) in seenkey)) { seenkey[gs, gkey] = 1; keys[gs] = keys[gs] " " gkey }
    if (!((gs, gsv) in seensrv)) { seensrv[gs, gsv] = 1; srvs[gs] = srvs[gs] " " gsv }
    if (!(gs in seensc)) { seensc[gs] = 1; order[++nsc] = gs }
    n = 0
  }
  {
    if ($1 != gs || $2 != gsv || $3 != gkey) { flush(); gs = $1; gsv = $2; gkey = $3 }
    v[++n] = $4
  }
  function fmt(x) { return (x == int(x)) ? sprintf("%d", x) : sprintf("%.3f", x) }
  END {
    flush()
    for (i = 1; i <= nsc; i++) {
      s = order[i]
      ns = split(srvs[s], sv, " "); nk = split(keys[s], k, " ")
      for (j = 1; j <= ns; j++) {
        line = "MEDIAN scenario=" s " server=" sv[j]
        for (x = 1; x <= nk; x++) if ((s, sv[j], k[x]) in med) line = line " " k[x] "=" fmt(med[s, sv[j], k[x]])
        print line
      }
      if ((s, "herald", "runs") in med && (s, "nchan", "runs") in med) {
        line = "RATIO scenario=" s " herald/nchan"
        for (x = 1; x <= nk; x++) {
          if (k[x] == "runs" || k[x] == "failed_runs") continue
          if ((s, "herald", k[x]) in med && (s, "nchan", k[x]) in med && med[s, "nchan", k[x]] != 0)
            line = line " " k[x] "=" sprintf("%.3f", med[s, "herald", k[x]] / med[s, "nchan", k[x]])
        }
        print line
      }
    }
    for (i = 1; i <= nsc; i++) {
      s = order[i]
      nk = split(keys[s], k, " ")
      printf "\n%s: medians\n", s
      printf "  %-28s %14s %14s %10s\n", "key", "herald", "nchan", "ratio"
      for (x = 1; x <= nk; x++) {
        h = ((s, "herald", k[x]) in med) ? fmt(med[s, "herald", k[x]]) : "-"
        c = ((s, "nchan", k[x]) in med) ? fmt(med[s, "nchan", k[x]]) : "-"
        r = "-"
        if (k[x] != "runs" && k[x] != "failed_runs" && h != "-" && c != "-" && med[s, "nchan", k[x]] != 0) r = sprintf("%.3f", med[s, "herald", k[x]] / med[s, "nchan", k[x]])
        printf "  %-28s %14s %14s %10s\n", k[x], h, c, r
      }
    }
  }'
