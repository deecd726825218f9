#!/bin/bash
# Start-up to /healthz and /readyz, and idle RSS 20 s later, of two published builds on an empty data folder,
# interleaved so both see the same machine load. Usage: bench/startup-ab.sh OLD_PUBLISH_DIR NEW_PUBLISH_DIR [runs]
set -u
OLD=$1 NEW=$2 RUNS=${3:-4}
one() {
  rm -rf /tmp/wb-data; s=$(date +%s.%N)
  (cd /tmp && ASPNETCORE_URLS=http://127.0.0.1:5399 WAPBRIDGE_DATA_DIR=/tmp/wb-data dotnet $1/WapBridge.Web.dll > /tmp/wb-start.log 2>&1 &)
  until curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:5399/healthz 2>/dev/null | grep -q 200; do sleep 0.02; done
  h=$(date +%s.%N)
  until curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:5399/readyz 2>/dev/null | grep -q 200; do sleep 0.02; done
  r=$(date +%s.%N); pid=$(pgrep -f "$1/WapBridge.Web.dll")
  sleep 20; rss=$(grep VmRSS /proc/$pid/status | awk '{print $2}')
  echo "$2 healthz $(echo "$h - $s" | bc | cut -c1-5) s readyz $(echo "$r - $s" | bc | cut -c1-5) s RSS $((rss/1024)) MB load $(cut -d' ' -f1 /proc/loadavg)"
  kill $pid; sleep 2
}
for _ in $(seq 1 "$RUNS"); do one "$OLD" old; one "$NEW" new; done
