// Helpers shared by the run report and the comparison page. Every piece of
// data reaches the page through textContent or setAttribute, never through
// an HTML parser (no markup strings at all: reports/html_report_test.cc
// checks for the usual sinks).
'use strict';
const H = {};

H.el = function (tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
};

H.add = function (parent, ...children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return parent;
};

H.readJson = function (id) {
  const node = document.getElementById(id);
  if (!node) return null;
  const text = node.textContent.trim();
  return text ? JSON.parse(text) : null;
};

H.str = (v) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

H.fmtUs = function (us) {
  us = Number(us) || 0;
  if (us < 1000) return us + ' µs';
  if (us < 1e6) return (us / 1000).toFixed(1) + ' ms';
  if (us < 6e7) return (us / 1e6).toFixed(2) + ' s';
  const s = Math.round(us / 1e6);
  return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
};

H.stamp = function (us) {
  us = Math.max(0, Number(us) || 0);
  return '+' + Math.floor(us / 1e6) + '.' + String(us % 1e6).padStart(6, '0');
};

H.collator = new Intl.Collator(undefined, {numeric: true, sensitivity: 'base'});
H.natural = (a, b) => H.collator.compare(H.str(a), H.str(b));

H.badge = function (verdict) {
  const v = ['pass', 'fail', 'skip', 'error'].includes(verdict) ? verdict : 'none';
  return H.el('span', 'badge v-' + v, verdict || '—');
};

// A link to the RFC clause: the scenario's own URL when it is http(s), or one
// built from "RFC NNNN" and the section. Other schemes (javascript:, data:)
// are never turned into links.
H.rfcHref = function (doc, section, url) {
  url = H.str(url);
  if (/^https?:\/\/[^\s]+$/i.test(url)) return url;
  const m = /^\s*RFC\s*(\d{1,5})\s*$/i.exec(H.str(doc));
  if (!m) return '';
  let href = 'https://www.rfc-editor.org/rfc/rfc' + m[1];
  const sec = H.str(section).replace(/^§\s*/, '');
  if (/^[0-9A-Za-z][0-9A-Za-z.\-]*$/.test(sec)) href += '#section-' + sec;
  return href;
};

H.rfcLabel = function (doc, section) {
  doc = H.str(doc);
  section = H.str(section);
  return section ? (doc ? doc + ' §' + section : '§' + section) : doc;
};

H.rfcLink = function (doc, section, url) {
  const label = H.rfcLabel(doc, section) || H.str(url);
  const href = H.rfcHref(doc, section, url);
  if (!href) return H.el('span', null, label);
  const a = H.el('a', null, label || href);
  a.setAttribute('href', href);
  a.setAttribute('target', '_blank');
  a.setAttribute('rel', 'noopener noreferrer');
  a.addEventListener('click', (e) => e.stopPropagation());
  return a;
};

H.debounce = function (fn, ms) {
  let t = 0;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
};

// Decodes the transcript byte encoding (results/transcript.h: "\\", "\r",
// "\n", "\t", "\xHH"; other characters stand for themselves) into tokens for
// display: {t: text} for printable runs, {t, esc: true, name} for a byte
// made visible, with nl set on LF so callers can break lines there.
H.visualByte = function (b) {
  const hex = '\\x' + b.toString(16).padStart(2, '0');
  if (b === 13) return {t: '\\r', esc: true, name: 'CR (0x0d)'};
  if (b === 10) return {t: '\\n', esc: true, nl: true, name: 'LF (0x0a)'};
  if (b === 9) return {t: '\\t', esc: true, name: 'TAB (0x09)'};
  if (b === 0) return {t: '\\0', esc: true, name: 'NUL (0x00)'};
  if (b >= 0x20 && b < 0x7f) return {t: String.fromCharCode(b)};
  return {t: hex, esc: true, name: b >= 0x80 ? '8-bit byte' : 'control byte'};
};

H.tokens = function (s) {
  s = H.str(s);
  const out = [];
  let plain = '';
  const flush = () => {
    if (plain) out.push({t: plain});
    plain = '';
  };
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    let b = -1;
    if (ch === '\\' && i + 1 < s.length) {
      const n = s[i + 1];
      if (n === '\\') {
        plain += '\\';
        i++;
        continue;
      }
      if (n === 'r') b = 13;
      else if (n === 'n') b = 10;
      else if (n === 't') b = 9;
      else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(s.substr(i + 2, 2))) {
        b = parseInt(s.substr(i + 2, 2), 16);
        i += 2;
      }
      if (b < 0) {
        plain += ch;
        continue;
      }
      i++;
    } else {
      const c = s.charCodeAt(i);
      if (c >= 0x20 && c !== 0x7f) {
        plain += ch;
        continue;
      }
      b = c;
    }
    const v = H.visualByte(b);
    if (!v.esc) {
      plain += v.t;
      continue;
    }
    flush();
    out.push(v);
  }
  flush();
  return out;
};

// Appends tokens to `node` as text and <span class="esc"> elements.
H.addTokens = function (node, toks) {
  for (const tok of toks) {
    if (!tok.esc) {
      node.appendChild(document.createTextNode(tok.t));
      continue;
    }
    const span = H.el('span', 'esc', tok.t);
    span.setAttribute('title', tok.name);
    node.appendChild(span);
  }
};

// Splits tokens into lines after each LF token.
H.lines = function (toks) {
  const lines = [[]];
  for (const tok of toks) {
    lines[lines.length - 1].push(tok);
    if (tok.nl) lines.push([]);
  }
  if (lines.length > 1 && lines[lines.length - 1].length === 0) lines.pop();
  return lines;
};

H.visible = function (s) {
  const span = H.el('span');
  H.addTokens(span, H.tokens(s));
  return span;
};

H.select = function (label, options, value, onChange) {
  const sel = H.el('select');
  sel.setAttribute('aria-label', label);
  for (const [v, text] of options) {
    const o = H.el('option', null, text);
    o.value = v;
    sel.appendChild(o);
  }
  sel.value = value;
  sel.addEventListener('change', () => onChange(sel.value));
  return sel;
};

// ---- transcripts (results/transcript.h JSON form) -------------------------
// One line per line on the wire: C: / S: with the time since connect, bytes
// made visible by H.tokens, events in italics. Shared by the run report and
// the fuzz report.
H.EVENT_TEXT = {connect: 'connect', tls: 'TLS established', peer_close: 'peer closed',
                local_close: 'closed', timeout: 'timeout', error: 'error', note: 'note',
                truncated: 'transcript truncated', tls_opaque: 'TLS (not seen)'};

H.transcriptLine = function (cls, stamp, dir, toks) {
  const d = H.el('div', 'tl ' + cls);
  H.add(d, H.el('span', 't', stamp), H.el('span', 'dir', dir));
  const c = H.el('span', 'c');
  H.addTokens(c, toks);
  return H.add(d, c);
};

// Draws `entries` into `box`, at most `cap` lines and then a "Show all"
// button; a note whose text starts with `label` (non-empty) is marked, and
// the data lines in `trip` (a Set of "ENTRY:LINE", the entry's index and
// the line's within it) are highlighted: the reply that tripped an oracle.
H.drawEntries = function (box, entries, label, cap, trip) {
  const line = H.transcriptLine;
  box.textContent = '';
  const frag = document.createDocumentFragment();
  let n = 0;
  let cut = false;
  entries.forEach((e, index) => {
    if (cut) return;
    if (n >= cap) {
      cut = true;
      return;
    }
    const stamp = H.stamp(e.t_us);
    if (e.kind === 'c2s' || e.kind === 's2c') {
      const dir = e.kind === 'c2s' ? 'C:' : 'S:';
      const lines = H.lines(H.tokens(e.data));
      lines.forEach((toks, i) => {
        if (n++ < cap) {
          const d = line(e.kind, i ? '' : stamp, dir, toks);
          if (trip && trip.has(index + ':' + i)) {
            d.classList.add('trip');
            d.title = 'the reply that tripped the oracle';
          }
          frag.appendChild(d);
        } else {
          cut = true;
        }
      });
      const size = Number(e.size) || 0;
      if (size > 0) frag.appendChild(line('ev', '', '', [{t: '… ' + size + ' bytes seen, only the above stored'}]));
    } else {
      let text = H.EVENT_TEXT[e.kind] || H.str(e.kind);
      if (e.kind === 'tls') text += ' ' + [e.protocol, e.cipher, e.peer_subject].map(H.str).join(' ');
      const toks = [{t: text + (e.text ? ': ' : '')}, ...H.tokens(e.text)];
      const d = line('ev ' + H.str(e.kind), stamp, '*', toks);
      if (label && e.kind === 'note' && H.str(e.text).startsWith(label)) d.classList.add('mark');
      frag.appendChild(d);
      n++;
    }
  });
  box.appendChild(frag);
  if (cut) {
    const b = H.el('button', 'more', 'Show all ' + entries.length + ' entries');
    b.addEventListener('click', (ev) => {
      ev.stopPropagation();
      H.drawEntries(box, entries, label, Infinity, trip);
    });
    box.appendChild(b);
  }
};

// The transcript `t` with a heading of its sizes, in a scrolling box;
// `trip` as for H.drawEntries.
H.transcript = function (t, label, cap, trip) {
  const wrap = H.el('div');
  t = t || {};
  const entries = Array.isArray(t.entries) ? t.entries : [];
  const bytes = t.bytes || {};
  let head = 'Transcript: ' + entries.length + ' entries; client sent ' + (bytes.c2s || 0) +
             ' bytes, server sent ' + (bytes.s2c || 0) + ' bytes';
  if (t.truncated) head += '; truncated, ' + (t.omitted_bytes || 0) + ' bytes not stored';
  H.add(wrap, H.el('h3', 'muted', head));
  const box = H.el('div', 'transcript');
  H.add(wrap, box);
  H.drawEntries(box, entries, H.str(label), cap, trip);
  return wrap;
};

// Opens or closes the detail row after `tr`, a row whose first cell is a
// twisty (▸/▾): `open` is the set of open keys, `detail()` builds the row.
H.toggleRow = function (tr, key, open, detail) {
  const next = tr.nextElementSibling;
  if (open.has(key)) {
    open.delete(key);
    if (next && next.classList.contains('detail')) next.remove();
    tr.classList.remove('open');
    tr.firstChild.textContent = '▸';
  } else {
    open.add(key);
    tr.after(detail());
    tr.classList.add('open');
    tr.firstChild.textContent = '▾';
  }
};

// A live page: while `done()` is false, fetches cfg.poll_url every
// cfg.poll_interval_ms. Data that `valid(next)` accepts goes to
// onData(next), with st.polled set to now and st.pollError cleared; on any
// failure st.pollError says why and onError() is called.
H.poll = function (cfg, st, done, valid, onData, onError) {
  const tick = () => {
    if (!cfg.poll_url || done()) return;
    setTimeout(async () => {
      try {
        const r = await fetch(cfg.poll_url, {cache: 'no-store', credentials: 'same-origin'});
        if (!r.ok) throw new Error('HTTP ' + r.status);
        const next = await r.json();
        if (!valid(next)) throw new Error('bad data');
        st.polled = new Date();
        st.pollError = '';
        onData(next);
      } catch (err) {
        st.pollError = 'update failed: ' + H.str(err && err.message);
        onError();
      }
      tick();
    }, Number(cfg.poll_interval_ms) || 2000);
  };
  tick();
};
