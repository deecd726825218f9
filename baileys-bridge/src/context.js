// Which session the current code runs for. Sockets are created and their events handled inside
// `sessionContext.run(session, …)`, so timers and promises Baileys starts inherit it; an uncaught error can then be
// pinned on the one session it came from instead of taking down the whole process.

import { AsyncLocalStorage } from 'node:async_hooks';

export const sessionContext = new AsyncLocalStorage();
