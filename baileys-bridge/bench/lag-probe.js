// Preloaded into the bridge by event-loop-lag.js (`node --import`): measures the bridge's event-loop delay with
// perf_hooks.monitorEventLoopDelay. SIGUSR2 starts a fresh measurement; at exit the figures since then and the
// process's peak RSS are written as JSON to WAPBRIDGE_BENCH_LAG_FILE.

import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.WAPBRIDGE_BENCH_LAG_FILE;
const histogram = monitorEventLoopDelay({ resolution: 10 });
histogram.enable();
let rssAtStart = process.memoryUsage().rss;
process.on('SIGUSR2', () => {
  histogram.reset();
  rssAtStart = process.memoryUsage().rss;
});
process.on('exit', () => {
  if (!file) return;
  const ms = (ns) => Math.round(ns / 1e5) / 10;
  writeFileSync(
    file,
    JSON.stringify({
      maxLagMs: ms(histogram.max),
      p99LagMs: ms(histogram.percentile(99)),
      meanLagMs: ms(histogram.mean),
      rssAtStartMb: Math.round(rssAtStart / 1048576),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
});
