// @ts-check
// Which session (and which of its sockets) the current code runs for. Sockets are created and their events handled
// inside `sessionContext.run({ session, generation }, …)`, so timers and promises Baileys starts inherit it; an
// uncaught error can then be pinned on the one session it came from instead of taking down the whole process.
// The generation lets errors from an already replaced or ended socket be logged without failing the session.

import { AsyncLocalStorage } from 'node:async_hooks';

export const sessionContext = new AsyncLocalStorage();
