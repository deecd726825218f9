// Waiting for what the fake server sees: an event that matches, or a promise, within a deadline.

export const DEFAULT_WAIT_MS = 5000;

/** Resolves with the first `event` payload of `emitter` satisfying `predicate` (including ones already in `backlog`). */
export function waitFor(emitter, event, predicate, { timeoutMs = DEFAULT_WAIT_MS, backlog = [], description = event } = {}) {
  const found = backlog.find(predicate);
  if (found) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const onEvent = (value) => {
      if (!predicate(value)) return;
      cleanup();
      resolve(value);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`fake WhatsApp: no ${description} within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
    };
    emitter.on(event, onEvent);
  });
}

export function withTimeout(promise, timeoutMs, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`fake WhatsApp: no ${what} within ${timeoutMs} ms`)), timeoutMs);
    }),
  ]);
}
