// The fuzz report: header, summary, plots over time (inline SVG built with
// DOM calls) and one row per finding bucket, expandable to the minimized
// steps, the replay command and the transcript. Data: #report-data
// (fuzz.json with each finding's transcript, reports/fuzz_report.h),
// #report-config (poll_url for a live page).
(function () {
  const MAX_LINES = 4000;  // transcript lines drawn before "show all"
  const SVG = 'http://www.w3.org/2000/svg';  // a namespace name, never fetched
  const PLOT_W = 360;
  const PLOT_H = 150;
  const cfg = H.readJson('report-config') || {};
  const app = document.getElementById('app');
  const st = {open: new Set(), polled: null, pollError: ''};
  let run = prepare(H.readJson('report-data') || {});

  function prepare(r) {
    r = r && typeof r === 'object' ? r : {};
    r.stats = r.stats && typeof r.stats === 'object' ? r.stats : {};
    r.timeline = Array.isArray(r.timeline) ? r.timeline.filter((p) => p && typeof p === 'object') : [];
    r.findings = Array.isArray(r.findings) ? r.findings.filter((f) => f && typeof f === 'object') : [];
    r.unconfirmed = Array.isArray(r.unconfirmed) ? r.unconfirmed.filter((u) => u && typeof u === 'object') : [];
    r.defences = Array.isArray(r.defences) ? r.defences.filter((d) => d && typeof d === 'object') : [];
    r.conformance_notes = Array.isArray(r.conformance_notes)
                              ? r.conformance_notes.filter((n) => n && typeof n === 'object') : [];
    const seen = new Set();
    r.findings.forEach((f, i) => {
      let key = H.str(f.bucket) || 'finding ' + (i + 1);
      for (let n = 2; seen.has(key); n++) key = H.str(f.bucket) + ' #' + n;
      seen.add(key);
      f.key = key;
    });
    return r;
  }

  const num = (v) => Number(v) || 0;
  const int = (v) => Math.round(num(v)).toLocaleString('en-US');
  const pct = (part, whole) => (num(whole) > 0 ? (100 * num(part) / num(whole)).toFixed(1) + '%' : '—');

  function secs(s) {
    s = num(s);
    if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.round((s % 3600) / 60) + ' min';
  }

  // ---- skeleton -----------------------------------------------------------
  const header = H.el('header');
  const summary = H.el('section', 'cards');
  const plots = H.el('section', 'cards plots');
  plots.id = 'plots';
  const table = H.el('table', 'findings');
  table.id = 'findings';
  let tbody = H.el('tbody');
  const COLUMNS = [['', ''], ['Bucket', ''], ['Oracle', ''], ['Reply', ''], ['Verb', ''], ['Last code', 'num'],
                   ['Count', 'num'], ['Reproduced', ''], ['First found', 'num'], ['Minimized', '']];
  const headRow = H.el('tr');
  for (const [label, cls] of COLUMNS) H.add(headRow, H.el('th', cls, label));
  H.add(table, H.add(H.el('thead'), headRow), tbody);
  // Closes the server announced (a 421, a goodbye): its defences, not findings.
  const defences = H.el('section', 'defences');
  defences.id = 'defences';
  H.add(app, header, summary, H.el('h2', null, 'Over time'), plots, H.el('h2', null, 'Findings'), table,
        defences);
  table.addEventListener('click', (e) => {
    if (e.target.closest('button, a, code, pre')) return;
    const tr = e.target.closest('tr.finding');
    if (tr) toggle(tr);
  });

  // ---- header and summary -------------------------------------------------
  function renderHeader() {
    header.textContent = '';
    const h1 = H.el('h1', null, 'SMTP fuzzing: ' + (H.str(run.target) || 'run'));
    let status;
    const why = H.str(run.stop_reason);
    if (run.complete === true && why.startsWith('interrupted')) {
      status = H.el('span', 'status bad', 'stopped: ' + why + ' — ' + run.findings.length +
                    (run.findings.length === 1 ? ' finding' : ' findings'));
    } else if (run.complete === true) {
      status = run.findings.length ? H.el('span', 'status bad', 'complete — ' + run.findings.length +
                                          (run.findings.length === 1 ? ' finding' : ' findings'))
                                   : H.el('span', 'status done', 'complete');
    } else {
      status = H.el('span', 'status live', cfg.poll_url ? 'in progress — live' : 'in progress (snapshot)');
      if (st.polled) status.textContent += ', updated ' + st.polled.toLocaleTimeString();
      if (st.pollError) status.textContent += ' (' + st.pollError + ')';
    }
    status.id = 'run-status';
    H.add(header, H.add(h1, status));
  }

  function kv(dl, key, value) {
    if (value === null || value === undefined || value === '') return;
    H.add(dl, H.el('dt', null, key));
    H.add(dl, H.add(H.el('dd'), typeof value === 'string' ? H.visible(value) : value));
  }

  function card(title, ...children) {
    return H.add(H.el('div', 'card'), H.el('h2', null, title), ...children);
  }

  function renderSummary() {
    summary.textContent = '';
    const s = run.stats;
    const reached = s.reached && typeof s.reached === 'object' ? s.reached : {};
    const nums = H.el('dl', 'kv');
    nums.id = 'numbers';
    kv(nums, 'Sessions', int(s.sessions));
    kv(nums, 'Sessions/s', int(s.sessions_per_s));
    const source = { afl: ' (AFL++ edges)', 'trace-pc': ' (trace-pc blocks)' }[s.coverage_source] || '';
    kv(nums, 'Server coverage' + source, int(s.server_coverage));
    if (typeof s.server_restarts === 'number' && s.server_restarts > 0) {
      kv(nums, 'Server restarts', int(s.server_restarts));
    }
    kv(nums, 'Response states', int(s.response_states));
    kv(nums, 'Past MAIL', pct(reached.mail, s.sessions));
    kv(nums, 'Past RCPT', pct(reached.rcpt, s.sessions));
    kv(nums, 'Past DATA', pct(reached.data, s.sessions));
    kv(nums, 'Findings', run.findings.length + (run.findings.length === 1 ? ' bucket' : ' buckets') +
       (s.finding_sessions ? ' from ' + int(s.finding_sessions) + ' sessions' : ''));
    const rdl = H.el('dl', 'kv');
    rdl.id = 'run';
    kv(rdl, 'Target', H.str(run.target));
    kv(rdl, 'Command', H.str(run.command_line));
    if (Array.isArray(run.libfuzzer_args) && run.libfuzzer_args.length) {
      kv(rdl, 'libFuzzer', run.libfuzzer_args.map(H.str).join(' '));
    }
    kv(rdl, 'Started', H.str(run.started_at));
    kv(rdl, 'Updated', H.str(run.updated_at));
    kv(rdl, 'Elapsed', s.elapsed_s === undefined ? '' : secs(s.elapsed_s));
    H.add(summary, card('Summary', nums), card('Run', rdl));
  }

  // ---- plots --------------------------------------------------------------
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  // A round upper bound for the y axis: 1, 2 or 5 times a power of ten.
  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }

  function shortNum(v) {
    if (v >= 1e6) return +(v / 1e6).toFixed(1) + 'M';
    if (v >= 1e4) return +(v / 1e3).toFixed(1) + 'k';
    if (v >= 100) return int(v);
    return String(+v.toFixed(2));
  }

  // One line chart of timeline[*][key] against t; `step` draws a staircase
  // (counts that jump, like findings).
  function plot(key, title, step) {
    const pts = run.timeline.map((p) => [num(p.t), num(p[key])]);
    const L = 44, R = 8, T = 8, B = 22;
    const w = PLOT_W - L - R, h = PLOT_H - T - B;
    const tmax = Math.max(1e-9, ...pts.map((p) => p[0]));
    const ymax = niceMax(Math.max(0, ...pts.map((p) => p[1])));
    const x = (t) => (L + (w * t) / tmax).toFixed(1);
    const y = (v) => (T + h - (h * v) / ymax).toFixed(1);
    const root = svg('svg', {viewBox: '0 0 ' + PLOT_W + ' ' + PLOT_H, class: 'plot', role: 'img',
                             'aria-label': title});
    root.dataset.key = key;
    H.add(root, svg('title', {}, title));
    for (const f of [0, 0.5, 1]) {
      H.add(root, svg('line', {x1: L, x2: L + w, y1: y(ymax * f), y2: y(ymax * f), class: 'grid'}));
      H.add(root, svg('text', {x: L - 4, y: +y(ymax * f) + 4, class: 'ylabel'}, shortNum(ymax * f)));
    }
    H.add(root, svg('text', {x: L, y: PLOT_H - 6, class: 'xlabel'}, '0'));
    H.add(root, svg('text', {x: L + w / 2, y: PLOT_H - 6, class: 'xlabel mid'}, secs(tmax / 2)));
    H.add(root, svg('text', {x: L + w, y: PLOT_H - 6, class: 'xlabel end'}, secs(tmax)));
    if (pts.length) {
      let d = '';
      pts.forEach(([t, v], i) => {
        if (i === 0) d += 'M' + x(t) + ' ' + y(v);
        else if (step) d += 'H' + x(t) + 'V' + y(v);
        else d += 'L' + x(t) + ' ' + y(v);
      });
      H.add(root, svg('path', {d, class: 'series'}));
      const [lt, lv] = pts[pts.length - 1];
      H.add(root, svg('circle', {cx: x(lt), cy: y(lv), r: 2.5, class: 'last'}));
    } else {
      H.add(root, svg('text', {x: L + w / 2, y: T + h / 2, class: 'xlabel mid'}, 'no samples yet'));
    }
    const last = pts.length ? pts[pts.length - 1][1] : 0;
    const c = card(title);
    c.classList.add('plot-card');
    H.add(c.firstChild, H.el('span', 'muted plot-last', ' ' + shortNum(last)));
    return H.add(c, root);
  }

  function renderPlots() {
    plots.textContent = '';
    H.add(plots, plot('sessions_per_s', 'Sessions/s', false), plot('server_coverage', 'Server coverage', false),
          plot('response_states', 'Response states', false), plot('findings', 'Findings', true));
  }

  // ---- findings -----------------------------------------------------------
  function reproduced(f) {
    const reruns = num(f.reruns);
    if (!reruns) return H.el('span', 'badge v-none', 'not re-run');
    const det = f.deterministic === true;
    return H.el('span', 'badge ' + (det ? 'det' : 'flaky'),
                (det ? 'deterministic ' : 'flaky, reproduced ') + num(f.reproduced) + '/' + reruns);
  }

  function minimized(f) {
    const m = f.minimize && typeof f.minimize === 'object' ? f.minimize : null;
    if (!m) return '—';
    // A flaky finding is kept as found: never minimized.
    if (!num(m.runs) && num(m.steps_before) === num(m.steps_after)) return 'not minimized (' + num(m.steps_after) + ' steps)';
    return num(m.steps_before) + '→' + num(m.steps_after) + ' steps, ' + int(m.bytes_before) + '→' +
           int(m.bytes_after) + ' bytes';
  }

  function routes(list) {
    if (!Array.isArray(list)) return '';
    return list.filter((r) => r && typeof r === 'object')
        .map((r) => H.str(r.route || r.verb) + ': ' + int(r.count)).join(', ');
  }

  function row(f) {
    const open = st.open.has(f.key);
    const tr = H.el('tr', 'finding' + (open ? ' open' : ''));
    tr.dataset.key = f.key;
    const first = H.el('td', 'num', f.first_at_s === undefined ? '' : secs(f.first_at_s));
    if (f.first_at_session !== undefined) first.title = 'session ' + int(f.first_at_session);
    H.add(tr, H.el('td', 'twisty', open ? '▾' : '▸'), H.add(H.el('td', 'mono'), H.visible(H.str(f.bucket))),
          H.add(H.el('td'), H.visible(H.str(f.oracle))), H.add(H.el('td', 'mono reply'), H.visible(H.str(f.reply))),
          H.add(H.el('td', 'mono'), H.visible(H.str(f.verb))),
          H.el('td', 'num', H.str(f.last_code)), H.el('td', 'num', int(f.count)),
          H.add(H.el('td'), reproduced(f)), first, H.el('td', null, minimized(f)));
    return tr;
  }

  function renderTable() {
    const body = H.el('tbody');
    for (const f of run.findings) {
      H.add(body, row(f));
      if (st.open.has(f.key)) H.add(body, detail(f));
    }
    if (!run.findings.length) {
      const td = H.el('td', 'empty', run.complete === true ? 'No findings.' : 'No findings yet.');
      td.colSpan = COLUMNS.length;
      H.add(body, H.add(H.el('tr'), td));
    }
    table.replaceChild(body, tbody);
    tbody = body;
  }

  function toggle(tr) {
    const f = run.findings.find((x) => x.key === tr.dataset.key);
    if (f) H.toggleRow(tr, f.key, st.open, () => detail(f));
  }

  // The text of `code` to the clipboard; where the Clipboard API is refused
  // (a page opened from disk), the text is selected for Ctrl+C instead.
  function copyButton(code) {
    const b = H.el('button', 'copy', 'Copy');
    const done = (msg) => {
      b.textContent = msg;
      setTimeout(() => (b.textContent = 'Copy'), 1500);
    };
    b.addEventListener('click', (ev) => {
      ev.stopPropagation();
      const text = code.textContent;
      const select = () => {
        const range = document.createRange();
        range.selectNodeContents(code);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        let ok = false;
        try {
          ok = document.execCommand('copy');
        } catch (e) {
          ok = false;
        }
        done(ok ? 'Copied' : 'Selected: press Ctrl+C');
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(() => done('Copied'), select);
      } else {
        select();
      }
    });
    return b;
  }

  function detail(f) {
    const tr = H.el('tr', 'detail');
    tr.dataset.key = f.key;
    const td = H.el('td');
    td.colSpan = COLUMNS.length;
    const box = H.el('div', 'failure');
    H.add(box, H.add(H.el('strong'), H.visible(H.str(f.detail) || H.str(f.oracle) || 'finding')));
    const dl = H.el('dl', 'kv');
    kv(dl, 'Oracle', H.str(f.oracle));
    kv(dl, 'Server\'s abort reason', H.str(f.cause));
    kv(dl, 'Also reached as', Array.isArray(f.merged_buckets) ? f.merged_buckets.map(H.str).join(', ') : '');
    kv(dl, 'Reply that tripped it', H.str(f.reply));
    kv(dl, 'Last reply', H.str(f.last_code));
    kv(dl, 'Routes (verb, last code, and for a desync or hang the replies: hits)', routes(f.routes));
    kv(dl, 'Reproduced', reproduced(f));
    kv(dl, 'First found', f.first_at_s === undefined ? '' :
       secs(f.first_at_s) + (f.first_at_session === undefined ? '' : ', session ' + int(f.first_at_session)));
    const m = f.minimize && typeof f.minimize === 'object' ? f.minimize : null;
    kv(dl, 'Minimized', m ? minimized(f) + ' (' + int(m.runs) + ' runs)' : '');
    kv(dl, 'Files', H.str(f.dir) ? H.str(f.dir) + '/ (session.json, input.bin, finding.json)' : '');
    H.add(box, dl);
    H.add(td, box);
    if (H.str(f.error)) {
      H.add(td, H.add(H.el('div', 'failure error'), H.el('strong', null, 'Error: '), H.visible(H.str(f.error))));
    }

    H.add(td, H.el('h3', 'muted', 'Replay'));
    const code = H.el('code', 'replay-cmd', H.str(f.replay) || '(no replay command recorded)');
    H.add(td, H.add(H.el('div', 'replay-line'), code, H.str(f.replay) ? copyButton(code) : null));

    if (H.str(f.reproduce)) {
      H.add(td, H.el('h3', 'muted', 'Reproduce without smtp-harness'));
      const pre = H.el('pre', 'mono reproduce', H.str(f.reproduce));  // textContent: inert
      H.add(td, H.add(H.el('div', 'replay-line'), pre, copyButton(pre)));
    }

    const steps = H.str(f.steps).split('\n').filter((s) => s !== '');
    H.add(td, H.el('h3', 'muted', 'Minimized steps (' + steps.length + ')'));
    const ol = H.el('ol', 'steps mono');
    for (const s of steps) H.add(ol, H.add(H.el('li'), H.visible(s)));
    if (!steps.length) H.add(ol, H.el('li', 'muted', '(none recorded)'));
    H.add(td, ol);

    if (f.transcript && typeof f.transcript === 'object') {
      // The reply that tripped the oracle, highlighted (fuzz/net/finding_page.h).
      const trip = new Set();
      for (const p of Array.isArray(f.trip_lines) ? f.trip_lines : []) {
        if (Array.isArray(p) && p.length === 2) trip.add(Number(p[0]) + ':' + Number(p[1]));
      }
      if (f.session_shows_finding === false) {
        H.add(td, H.add(H.el('div', 'failure error session-unshown'),
                        H.el('strong', null, 'This recording did not show the finding: '),
                        'the session was recorded again after the finding and did not trip the ' +
                        'oracle then (a flaky finding); replay it to see it again.'));
      }
      H.add(td, H.transcript(f.transcript, 'oracle', MAX_LINES, trip));
    } else {
      const note = H.el('div', 'failure error transcript-missing');
      H.add(note, H.el('strong', null, 'Transcript not available: '), H.visible(H.str(f.transcript_error) || 'not recorded'));
      H.add(td, note);
    }
    return H.add(tr, td);
  }

  // ---- live updates -------------------------------------------------------
  function poll() {
    H.poll(cfg, st, () => run.complete === true, (next) => next && typeof next === 'object', (next) => {
      run = prepare(next);
      render();
    }, renderHeader);
  }

  // The server's defences (closes it announced) and the conformance notes:
  // listed apart, not findings (fuzz --defences_are_findings makes them so).
  function renderDefences() {
    defences.textContent = '';
    H.add(defences, H.el('h2', null, 'Unconfirmed hits (' + run.unconfirmed.length + ')'));
    H.add(defences, H.el('p', 'muted', 'Oracle hits that no re-run reproduced: not findings. Their sessions ' +
                         'are kept (input.bin) to feed back with fuzz.'));
    const ut = H.el('table', 'unconfirmed');
    const uhead = H.el('tr');
    for (const [label, cls] of [['Bucket', ''], ['Detail', ''], ['Hits', 'num'], ['Routes', ''], ['Session', '']]) {
      H.add(uhead, H.el('th', cls, label));
    }
    const ubody = H.el('tbody');
    for (const u of run.unconfirmed) {
      H.add(ubody, H.add(H.el('tr', 'unconfirmed'), H.add(H.el('td', 'mono'), H.visible(H.str(u.bucket))),
                         H.add(H.el('td'), H.visible(H.str(u.detail))), H.el('td', 'num', int(u.count)),
                         H.add(H.el('td', 'mono'), H.visible(routes(u.routes))),
                         H.add(H.el('td', 'mono'), H.visible(H.str(u.dir) ? H.str(u.dir) + '/input.bin' : ''))));
    }
    if (!run.unconfirmed.length) {
      const td = H.el('td', 'empty', 'None.');
      td.colSpan = 5;
      H.add(ubody, H.add(H.el('tr'), td));
    }
    H.add(defences, H.add(ut, H.add(H.el('thead'), uhead), ubody));
    H.add(defences, H.el('h2', null, 'Server defences (' + run.defences.length + ')'));
    H.add(defences, H.el('p', 'muted', 'Closes the server announced (a 421, a reply saying the session ends, ' +
                         'or a refusal at once followed by the close): a defence such as an error limit, ' +
                         'not a crash. Not counted as findings.'));
    const t = H.el('table', 'defences');
    const head = H.el('tr');
    for (const [label, cls] of [['Closing reply', ''], ['Sessions', 'num'], ['Routes (verb: sessions)', ''],
                                ['First seen', 'num'], ['First session\'s steps', '']]) {
      H.add(head, H.el('th', cls, label));
    }
    const body = H.el('tbody');
    for (const d of run.defences) {
      const via = routes(d.routes);
      const steps = H.el('details');
      H.add(steps, H.el('summary', null, 'steps'), H.add(H.el('pre', 'mono'), H.visible(H.str(d.steps))));
      H.add(body, H.add(H.el('tr', 'defence'),
                        H.add(H.el('td', 'mono'), H.visible(H.str(d.code) + ' ' + H.str(d.text))),
                        H.el('td', 'num', int(d.count)), H.add(H.el('td', 'mono'), H.visible(via)),
                        H.el('td', 'num', d.first_at_s === undefined ? '' : secs(d.first_at_s)),
                        H.add(H.el('td'), steps)));
    }
    if (!run.defences.length) {
      const td = H.el('td', 'empty', 'None.');
      td.colSpan = 5;
      H.add(body, H.add(H.el('tr'), td));
    }
    H.add(defences, H.add(t, H.add(H.el('thead'), head), body));
    if (run.conformance_notes.length) {
      H.add(defences, H.el('h2', null, 'Conformance notes'));
      const ul = H.el('ul', 'conformance');
      for (const n of run.conformance_notes) {
        const replies = Array.isArray(n.replies) ? n.replies.map(H.str).join(' | ') : '';
        H.add(ul, H.add(H.el('li'), H.visible(H.str(n.note) + ' (' + int(n.sessions) + ' sessions: ' + replies + ')')));
      }
      H.add(defences, ul);
    }
  }

  function render() {
    renderHeader();
    renderSummary();
    renderPlots();
    renderTable();
    renderDefences();
  }

  const t0 = performance.now();
  render();
  void document.body.offsetHeight;
  window.__reportRenderMs = performance.now() - t0;
  document.body.dataset.ready = '1';
  poll();
})();
