// Node.js conformance target for smtp-harness (started by scripts/real-servers.sh):
// nodemailer's smtp-server package (npm, installed privately under
// NODE_SMTP_ROOT by scripts/real-servers/install.sh), in the foreground on
// HOST:PORT with:
//   - hostname mx.test, SIZE 10240000; PIPELINING, 8BITMIME, SMTPUTF8 (the
//     package's defaults);
//   - STARTTLS with the given certificate and key (offered, not required);
//   - no AUTH (disabled: nothing to authenticate against);
//   - RCPT accepted for any local part at example.test, localhost or mx.test
//     (and <Postmaster>), anything else refused with 550 5.7.1;
//   - each accepted message written as raw bytes into MAILDIR/new.
// It binds and reads the key as root, then drops to user nobody.
//
//   node node_smtp_server.js --root DIR --listen HOST:PORT --maildir DIR --cert PEM --key PEM
'use strict';

const fs = require('fs');
const path = require('path');

function args(argv) {
  const out = {};
  for (let i = 2; i + 1 < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const k of ['root', 'listen', 'maildir', 'cert', 'key']) {
    if (!out[k]) {
      console.error('node_smtp_server: missing --' + k);
      process.exit(2);
    }
  }
  return out;
}

const opt = args(process.argv);
const { SMTPServer } = require(path.join(opt.root, 'node_modules', 'smtp-server'));
const LOCAL_DOMAINS = ['example.test', 'localhost', 'mx.test'];
const SIZE_LIMIT = 10240000;
let counter = 0;

const server = new SMTPServer({
  name: 'mx.test',
  banner: 'Node.js smtp-server',
  size: SIZE_LIMIT,
  key: fs.readFileSync(opt.key),
  cert: fs.readFileSync(opt.cert),
  disabledCommands: ['AUTH'],
  hideSTARTTLS: false,
  logger: false,
  // No reverse DNS: nothing leaves the machine.
  disableReverseLookup: true,
  onRcptTo(address, session, callback) {
    const addr = address.address;
    const isPostmaster = !addr.includes('@') && addr.toLowerCase() === 'postmaster';
    const domain = addr.split('@').pop().toLowerCase();
    if (!isPostmaster && !LOCAL_DOMAINS.includes(domain)) {
      const err = new Error('5.7.1 <' + addr + '>: relaying denied');
      err.responseCode = 550;
      return callback(err);
    }
    return callback();
  },
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      if (stream.sizeExceeded) {
        const err = new Error('5.3.4 Message exceeds fixed maximum message size');
        err.responseCode = 552;
        return callback(err);
      }
      counter += 1;
      const name = Date.now() + '.P' + process.pid + 'Q' + counter + '.mx.test';
      const tmp = path.join(opt.maildir, 'tmp', name);
      try {
        fs.writeFileSync(tmp, Buffer.concat(chunks));
        fs.renameSync(tmp, path.join(opt.maildir, 'new', name));
      } catch (e) {
        const err = new Error('4.3.0 cannot store the message: ' + e.code);
        err.responseCode = 451;
        return callback(err);
      }
      return callback(null, '2.0.0 Ok: queued as ' + name);
    });
  },
});

server.on('error', (e) => console.error('node_smtp_server: ' + e.message));
const sep = opt.listen.lastIndexOf(':');
const host = opt.listen.slice(0, sep);
const port = Number(opt.listen.slice(sep + 1));
server.listen(port, host, () => {
  try {
    process.setgid('nogroup');
    process.setuid('nobody');
  } catch (e) {
    console.error('node_smtp_server: cannot drop to nobody: ' + e.message);
  }
  console.error('node_smtp_server: listening on ' + host + ':' + port + ' as uid ' + process.getuid());
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
