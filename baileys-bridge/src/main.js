#!/usr/bin/env node
// @ts-check
// Entry point: `node src/main.js`. Speaks PROTOCOL.md on stdin/stdout, logs JSON lines to stderr.

import { createBridge, readConfig } from './bridge.js';
import { createLogger } from './logger.js';
import { reserveStdoutForProtocol } from './stdio-guard.js';

const logger = createLogger({ level: readConfig().logLevel, stream: process.stderr, bindings: { component: 'bridge' } });
const protocolOut = reserveStdoutForProtocol(logger);

// Test seam: a module whose default export replaces makeWASocket (used by the child-process tests only).
const socketModule = process.env.WAPBRIDGE_BRIDGE_SOCKET_MODULE;
const makeSocket = socketModule ? (await import(socketModule)).default : undefined;

const bridge = await createBridge({ makeSocket, stdout: protocolOut, logger });

// One session's bug must not end every other session: errors are pinned on their session or just logged.
process.on('uncaughtException', (error, origin) => bridge.handleUncaught(error, origin));
process.on('unhandledRejection', (reason) => bridge.handleUncaught(reason, 'unhandledRejection'));

await bridge.run();
// Baileys may leave timers behind; the host closed stdin, so we are done. Flush stdout before exiting.
protocolOut.write('', () => process.exit(0));
