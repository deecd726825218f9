// @ts-check
// The periodic `stats` event (PROTOCOL.md, "Process stats"): the process's memory and how late its event loop ran,
// so the host can export them as metrics without reading /proc of a process it only knows by pid.

import { monitorEventLoopDelay } from 'node:perf_hooks';

export const DEFAULT_STATS_INTERVAL_MS = 15000;

/**
 * How often the loop-delay timer samples, in ms. Each sample is the time between two firings of a timer due every
 * RESOLUTION_MS, so an idle loop reads RESOLUTION_MS and the lag is what comes on top of it.
 */
export const RESOLUTION_MS = 10;

const NS_PER_MS = 1e6;

/**
 * @typedef {object} ProcessStats
 * @property {number} rss resident set size in bytes
 * @property {number} heapUsed V8 heap in use, in bytes
 * @property {number} heapTotal V8 heap reserved, in bytes
 * @property {number | null} eventLoopLagMs lag of the event loop, 99th percentile over the period, ms (null: no sample)
 * @property {number | null} eventLoopLagMeanMs mean lag over the period, ms
 * @property {number | null} eventLoopLagMaxMs longest lag in the period, ms
 * @property {number} sessions sessions holding a socket
 * @property {number} intervalMs the period these figures cover
 */

/**
 * Samples the event-loop delay and calls `send` with the figures of the last period every `intervalMs`. The timer is
 * unref'd: stats never keep the process alive. Returns `stop()`, and `sample()` (what the next event would carry, and
 * starts a new period) for tests.
 * @param {object} options
 * @param {number} options.intervalMs
 * @param {(stats: ProcessStats) => void} options.send
 * @param {() => number} options.sessions
 * @param {() => { rss: number, heapUsed: number, heapTotal: number }} [options.memoryUsage]
 */
export function startStats({ intervalMs, send, sessions, memoryUsage = () => process.memoryUsage() }) {
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();

  /** @returns {ProcessStats} */
  function sample() {
    const { rss, heapUsed, heapTotal } = memoryUsage();
    const sampled = delay.count > 0;
    /** @param {number} nanoseconds */
    const lag = (nanoseconds) => (sampled ? round(Math.max(0, nanoseconds / NS_PER_MS - RESOLUTION_MS)) : null);
    const stats = {
      rss,
      heapUsed,
      heapTotal,
      eventLoopLagMs: lag(delay.percentile(99)),
      eventLoopLagMeanMs: lag(delay.mean),
      eventLoopLagMaxMs: lag(delay.max),
      sessions: sessions(),
      intervalMs,
    };
    delay.reset();
    return stats;
  }

  const timer = setInterval(() => send(sample()), intervalMs);
  timer.unref();
  return {
    sample,
    stop() {
      clearInterval(timer);
      delay.disable();
    },
  };
}

/** @param {number} value */
const round = (value) => Math.round(value * 1000) / 1000;
