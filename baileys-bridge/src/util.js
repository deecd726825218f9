// @ts-check
// Small helpers shared by the session modules.

/**
 * T with the properties that may be undefined made optional instead.
 * @template {object} T
 * @typedef {{ [K in keyof T as undefined extends T[K] ? never : K]: T[K] }
 *   & { [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined> }} WithoutUndefined
 */

/**
 * The object without its undefined properties (the protocol omits absent fields rather than sending null).
 * @template {object} T
 * @param {T} object
 * @returns {WithoutUndefined<T>}
 */
export function withoutUndefined(object) {
  return /** @type {WithoutUndefined<T>} */ (Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)));
}

/**
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} message
 * @returns {Promise<T>}
 */
export function withTimeout(promise, ms, message) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  /** @type {Promise<never>} */
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A promise settled from outside, once; later calls are ignored.
 * @returns {{ promise: Promise<void>, resolve: (value?: void) => void, reject: (error: Error) => void }}
 */
export function deferred() {
  /** @type {(value?: void) => void} */
  let resolve = () => {};
  /** @type {(error: Error) => void} */
  let reject = () => {};
  /** @type {Promise<void>} */
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // a pairing wait that nobody awaits must not become an unhandled rejection
  let settled = false;
  return {
    promise,
    resolve: (value) => {
      if (!settled) (settled = true), resolve(value);
    },
    reject: (error) => {
      if (!settled) (settled = true), reject(error);
    },
  };
}
