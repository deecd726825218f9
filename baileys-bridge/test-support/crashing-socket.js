// Loaded by src/main.js through WAPBRIDGE_BRIDGE_SOCKET_MODULE in a child-process test: a fake socket that,
// when opened with browser ['crash', …], throws from a timer — an uncaught exception inside that session.

import { FakeSocket } from './fake-socket.js';

export default function makeSocket(config) {
  const socket = new FakeSocket(config);
  // dependencies such as libsignal print to stdout; none of it may reach the protocol stream
  console.info('Closing session:', { registrationId: 1 });
  process.stdout.write('raw stdout noise\n');
  if (config.browser?.[0] === 'crash') {
    setTimeout(() => {
      throw new Error('socket internals exploded');
    }, 20);
  }
  return socket;
}
