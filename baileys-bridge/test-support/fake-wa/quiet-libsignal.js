// libsignal reports normal session housekeeping ("Closing session: SessionEntry {…}", "Closing open session
// in favor of incoming prekey bundle", …) with console.info/warn, dumping key material into test output.
// Drop exactly those lines in test processes; everything else still prints.

const LIBSIGNAL_CHATTER = /^(Closing session|Opening session|Closing open session|Session already (closed|open)|Removing old closed session|Decrypted message with closed session|Migrating session to)/;

for (const level of ['info', 'warn', 'log']) {
  const original = console[level].bind(console);
  console[level] = (first, ...rest) => {
    if (typeof first === 'string' && LIBSIGNAL_CHATTER.test(first)) return;
    original(first, ...rest);
  };
}
