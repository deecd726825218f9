// `node --expose-gc --import <this file>` preload for the idle-sessions bench: on SIGUSR2 the bridge collects garbage
// and writes its memory as one JSON line on stderr ({"probe":"memory",…}), which the bench reads. stdout stays the
// protocol's.

process.on('SIGUSR2', () => {
  globalThis.gc?.();
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  process.stderr.write(JSON.stringify({ probe: 'memory', rss, heapUsed, heapTotal, external, arrayBuffers }) + '\n');
});
