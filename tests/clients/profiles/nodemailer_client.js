#!/usr/bin/env node
// Sends one message with nodemailer: the client of nodemailer.json.
//
//   nodemailer_client.js MODE HOST PORT FROM TO MESSAGE_FILE [USER PASSWORD CAFILE]
//
// MODE: plain (ignoreTLS), starttls (STARTTLS when offered: nodemailer's
// default), require_tls (requireTLS) or auth (requireTLS and AUTH). The
// message file is sent as is (`raw`), the envelope from FROM and TO. The
// server certificate is verified against CAFILE. Connection, greeting and
// socket timeouts 5 s. Exit 0 when the message was accepted, 1 otherwise.
'use strict';
const fs = require('fs');
const nodemailer = require('nodemailer');

const [mode, host, port, from, to, message, user, password, cafile] = process.argv.slice(2);
const options = {
  host,
  port: Number(port),
  secure: false,
  ignoreTLS: mode === 'plain',
  requireTLS: mode === 'require_tls' || mode === 'auth',
  connectionTimeout: 5000,
  greetingTimeout: 5000,
  socketTimeout: 5000,
  tls: cafile && cafile !== '-' ? {ca: fs.readFileSync(cafile), servername: 'localhost'} : {},
};
if (mode === 'auth') options.auth = {user, pass: password};
const transport = nodemailer.createTransport(options);
transport.sendMail({envelope: {from, to: [to]}, raw: fs.readFileSync(message)})
    .then((info) => {
      console.log(info.response);
      process.exit(0);
    })
    .catch((err) => {
      console.error(`nodemailer: ${err.code || ''} ${err.message}`);
      process.exit(1);
    });
