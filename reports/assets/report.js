// The run report: summary, scenario table (grouped by RFC section, searched,
// filtered, sorted, paginated; failures first by default, each row with its
// one-line reason) and per-scenario details with the transcript, drawn on
// first expand. The filters, the sort and the scenario opened live in the
// URL's fragment (#verdict=fail&tag=smuggling, #id=SCENARIO for one
// scenario alone, #open=SCENARIO to open one in place), so a link can point
// at either. Data: #report-data (results.json), #report-config.
(function () {
  const PAGE = 500;              // scenario rows drawn before "show more"
  const MAX_LINES = 4000;        // transcript lines drawn before "show all"
  const LEVELS = ['MUST', 'SHOULD', 'MAY', 'policy', 'security'];
  const VERDICTS = ['fail', 'error', 'skip', 'pass'];
  const cfg = H.readJson('report-config') || {};
  const app = document.getElementById('app');
  // sort 'verdict' (the default): failures first, and the groups that hold
  // them before the others. `id`: one scenario alone (a deep link).
  const st = {q: '', verdict: '', level: '', tag: '', id: '', sort: 'verdict', dir: 1, limit: PAGE,
              open: new Set(), polled: null, pollError: ''};
  const HASH_KEYS = ['q', 'verdict', 'level', 'tag', 'id', 'sort', 'dir', 'open'];
  let lastOpened = '';   // the row expanded last: #open= in the URL
  let writtenHash = null;  // what we last put in the URL (hashchange ignores it)
  let byKey = new Map();
  let run = prepare(H.readJson('report-data') || {scenarios: []});

  // Keys follow the scenario id (not its position), so open rows stay open
  // when a live run's results arrive in a different order.
  function prepare(r) {
    r.scenarios = Array.isArray(r.scenarios) ? r.scenarios : [];
    r.target = r.target || {};
    byKey = new Map();
    r.scenarios.forEach((s) => {
      let key = H.str(s.id);
      for (let n = 2; byKey.has(key); n++) key = H.str(s.id) + ' #' + n;
      s.key = key;
      byKey.set(key, s);
      s.rfc = s.rfc || {};
      s.tags = Array.isArray(s.tags) ? s.tags.map(H.str) : [];
      const f = s.failure || {};
      s.search = [s.id, s.title, s.group, s.level, s.verdict, s.reason, s.description, s.file,
                  s.rfc.document, s.rfc.section, f.message, f.expected, f.actual, s.tags.join(' ')]
                     .map(H.str).join('\n').toLowerCase();
    });
    return r;
  }

  function levelRank(l) {
    const i = LEVELS.indexOf(l);
    return i < 0 ? LEVELS.length : i;
  }

  // ---- skeleton -----------------------------------------------------------
  const header = H.el('header');
  const summary = H.el('section', 'cards');
  const search = H.el('input');
  search.type = 'search';
  search.placeholder = 'Search id, title, section, tag, reply text…';
  search.setAttribute('aria-label', 'search');
  search.id = 'search';
  search.addEventListener('input', H.debounce(() => {
    st.q = search.value.trim().toLowerCase();
    st.limit = PAGE;
    renderTable();
  }, 120));
  const selects = H.el('span');
  const shown = H.el('span', 'muted');
  shown.id = 'shown';
  const reset = H.el('button', null, 'Reset');
  reset.addEventListener('click', () => setFilter({q: '', verdict: '', level: '', tag: '', id: ''}));
  const controls = H.add(H.el('div', 'controls'), search, selects, reset, shown);
  const table = H.el('table', 'scenarios');
  table.id = 'scenarios';
  const thead = H.el('thead');
  let tbody = H.el('tbody');
  const more = H.el('div', 'more');
  H.add(table, thead, tbody);
  H.add(app, header, summary, H.el('h2', null, 'Scenarios'), controls, table, more);
  table.addEventListener('click', (e) => {
    const tr = e.target.closest('tr.scenario');
    if (tr) toggle(tr);
  });

  function setFilter(f) {
    Object.assign(st, f);
    st.limit = PAGE;
    search.value = st.q;
    renderSelects();
    renderTable();
    writeHash();
  }

  // ---- the URL fragment ---------------------------------------------------
  function hashState() {
    const p = new URLSearchParams();
    for (const k of ['q', 'verdict', 'level', 'tag', 'id']) if (st[k]) p.set(k, st[k]);
    if (st.sort !== 'verdict') p.set('sort', st.sort);
    if (st.dir < 0) p.set('dir', 'desc');
    if (lastOpened && st.open.has(lastOpened) && lastOpened !== st.id) p.set('open', lastOpened);
    return p.toString();
  }

  function writeHash() {
    const h = hashState();
    if (h === location.hash.replace(/^#/, '')) return;
    writtenHash = h;
    const url = h ? '#' + h : location.pathname + location.search;
    try {
      history.replaceState(null, '', url);
    } catch (e) {  // a file: page where replaceState is refused
      location.replace(h ? '#' + h : '#');
    }
  }

  // Reads the fragment into the state; the scenario it opens (if any).
  function readHash() {
    const p = new URLSearchParams(location.hash.replace(/^#/, ''));
    for (const k of ['q', 'verdict', 'level', 'tag', 'id']) st[k] = (p.get(k) || '').slice(0, 500);
    st.q = st.q.toLowerCase();
    if (!VERDICTS.includes(st.verdict)) st.verdict = '';
    const sort = p.get('sort') || 'verdict';
    st.sort = Object.prototype.hasOwnProperty.call(SORTS, sort) ? sort : 'verdict';
    st.dir = p.get('dir') === 'desc' ? -1 : 1;
    st.limit = PAGE;
    // A scenario a live run has not reached yet opens when it arrives.
    const open = (st.id || p.get('open') || '').slice(0, 500);
    if (open) {
      st.open.add(open);
      lastOpened = open;
    }
    search.value = st.q;
    return byKey.has(open) ? open : '';
  }

  function scrollToRow(key) {
    const tr = [...table.querySelectorAll('tr.scenario')].find((r) => r.dataset.key === key);
    if (tr) tr.scrollIntoView({block: 'start'});
  }

  window.addEventListener('hashchange', () => {
    if (location.hash.replace(/^#/, '') === writtenHash) return;
    const open = readHash();
    renderSelects();
    renderHead();
    renderTable();
    if (open) scrollToRow(open);
  });
  // ---- header and summary -------------------------------------------------
  // A replay run (`smtp-harness replay`) decides on its "replay" results
  // alone: its page is a replay report, not a conformance one.
  function isReplay() {
    return Array.isArray(run.fail_on) && run.fail_on.length === 1 && run.fail_on[0] === 'replay';
  }

  // A client run (`run --client`): the harness was the server, the target
  // is the client under test ("client:NAME"); no banner, EHLO or TLS of a
  // server to show.
  function isClientRun() {
    return H.str(run.target && run.target.target).startsWith('client:');
  }

  function renderHeader() {
    header.textContent = '';
    const t = run.target;
    const kind = isReplay() ? 'SMTP replay: ' : isClientRun() ? 'SMTP client conformance: ' : 'SMTP conformance: ';
    const h1 = H.el('h1', null, kind + (H.str(t.name) || H.str(t.target) || 'run'));
    let status;
    if (H.str(run.stopped)) {
      status = H.el('span', 'status bad', 'stopped: ' + H.str(run.stopped));
    } else if (run.complete === false) {
      status = H.el('span', 'status live', cfg.poll_url ? 'in progress — live' : 'in progress (snapshot)');
      if (st.polled) status.textContent += ', updated ' + st.polled.toLocaleTimeString();
      if (st.pollError) status.textContent += ' (' + st.pollError + ')';
    } else {
      // As the run list says (RunStatusHtml in reports/report_site.cc).
      const exit = Number(run.exit_status);
      const failOn = Array.isArray(run.fail_on) ? run.fail_on : ['MUST', 'security'];
      const findings = run.scenarios.filter((s) => s.verdict === 'fail' && !failOn.includes(s.level)).length;
      if (exit === 2) status = H.el('span', 'status error', 'complete — errors');
      else if (exit !== 0) status = H.el('span', 'status bad', 'complete — findings');
      else if (findings > 0) {
        status = H.el('span', 'status note',
                      'complete — ' + findings + (findings === 1 ? ' finding' : ' findings') + ' not in fail-on');
      } else status = H.el('span', 'status done', 'complete');
    }
    status.id = 'run-status';
    H.add(h1, status);
    H.add(header, h1);
  }

  function kv(dl, key, value) {
    if (value === null || value === undefined || value === '') return;
    H.add(dl, H.el('dt', null, key));
    const dd = H.el('dd');
    H.add(dd, typeof value === 'string' ? H.visible(value) : value);
    H.add(dl, dd);
  }

  function card(title, ...children) {
    return H.add(H.el('div', 'card'), H.el('h2', null, title), ...children);
  }

  function fitCard(title, ...children) {
    const c = card(title, ...children);
    c.classList.add('fit');
    return c;
  }

  function renderSummary() {
    summary.textContent = '';
    const t = run.target;
    const tdl = H.el('dl', 'kv');
    tdl.id = 'target';
    if (isClientRun()) {
      const profile = H.str(t.target).slice('client:'.length);
      kv(tdl, 'Client under test', H.str(t.name) || profile);
      if (H.str(t.name) && H.str(t.name) !== profile) kv(tdl, 'Profile', profile);
      kv(tdl, 'Server', 'smtp-harness, scripted by each scenario');
      kv(tdl, 'Transcripts', 'C: the client under test, S: the harness');
      const rdl = runCard();
      H.add(summary, fitCard('Verdicts by level', countsTable()), card('Client', tdl), card('Run', rdl));
      return;
    }
    kv(tdl, 'Target', H.str(t.target));
    kv(tdl, 'Name', H.str(t.name));
    kv(tdl, 'Banner', H.str(t.banner));
    if (t.tls) {
      kv(tdl, 'TLS', H.str(t.tls.protocol) + ' ' + H.str(t.tls.cipher));
      kv(tdl, 'Certificate', H.str(t.tls.peer_subject) || '(none)');
    } else {
      kv(tdl, 'TLS', 'not used');
    }
    const ehlo = H.el('ul', 'ehlo mono');
    ehlo.id = 'ehlo';
    for (const line of Array.isArray(t.ehlo_lines) ? t.ehlo_lines : []) H.add(ehlo, H.add(H.el('li'), H.visible(H.str(line))));
    if (!ehlo.firstChild) H.add(ehlo, H.el('li', 'muted', '(no EHLO reply recorded)'));

    const rdl = runCard();

    H.add(summary, fitCard('Verdicts by level', countsTable()), card('Target', tdl),
          card('EHLO extensions', ehlo), card('Run', rdl));
    if (run.probe && H.str(run.stopped)) {
      const probe = card('Probe (why the run stopped)', transcript({transcript: run.probe}));
      probe.id = 'probe';
      H.add(summary, probe);
    }
  }

  function runCard() {
    const rdl = H.el('dl', 'kv');
    kv(rdl, 'Started', H.str(run.started_at));
    kv(rdl, 'Duration', H.fmtUs(run.duration_us));
    kv(rdl, 'Scenarios', String(run.scenarios.length) +
       (run.planned && run.planned !== run.scenarios.length ? ' of ' + String(run.planned) + ' planned' : ''));
    kv(rdl, 'Stopped', H.str(run.stopped));
    kv(rdl, 'Exit status', run.exit_status === undefined ? '' : String(run.exit_status));
    kv(rdl, 'Tool', H.str(run.tool_version));
    kv(rdl, 'Command', H.str(run.command_line));
    return rdl;
  }

  function countsTable() {
    const by = new Map();
    const bump = (level, v) => {
      if (!by.has(level)) by.set(level, {pass: 0, fail: 0, skip: 0, error: 0, total: 0});
      const c = by.get(level);
      c[v] = (c[v] || 0) + 1;
      c.total++;
    };
    for (const s of run.scenarios) {
      bump(H.str(s.level), s.verdict);
      bump('\u0000all', s.verdict);
    }
    const levels = [...by.keys()].filter((l) => l !== '\u0000all');
    levels.sort((a, b) => levelRank(a) - levelRank(b) || H.natural(a, b));
    levels.push('\u0000all');
    const tbl = H.el('table', 'counts');
    tbl.id = 'counts';
    const hr = H.el('tr');
    H.add(hr, H.el('th', null, 'Level'));
    for (const v of ['pass', 'fail', 'skip', 'error', 'total']) H.add(hr, H.el('th', 'num', v));
    H.add(tbl, hr);
    for (const l of levels) {
      // A run that stopped before any scenario has no row at all.
      const c = by.get(l) || {pass: 0, fail: 0, skip: 0, error: 0, total: 0};
      const all = l === '\u0000all';
      const tr = H.el('tr');
      H.add(tr, H.el(all ? 'th' : 'td', null, all ? 'all' : l || '(none)'));
      for (const v of ['pass', 'fail', 'skip', 'error', 'total']) {
        const td = H.el('td', 'num');
        if (c[v]) H.add(td, v === 'total' ? String(c[v]) : H.add(H.el('span', 'badge v-' + v, c[v])));
        td.addEventListener('click', () => setFilter({level: all ? '' : l, verdict: v === 'total' ? '' : v}));
        H.add(tr, td);
      }
      H.add(tbl, tr);
    }
    return tbl;
  }

  // ---- filters ------------------------------------------------------------
  function renderSelects() {
    const levels = [...new Set(run.scenarios.map((s) => H.str(s.level)))];
    levels.sort((a, b) => levelRank(a) - levelRank(b) || H.natural(a, b));
    const tags = [...new Set(run.scenarios.flatMap((s) => s.tags))].sort(H.natural);
    // A value from a link that no scenario (yet) has is still shown as chosen.
    if (st.level && !levels.includes(st.level)) levels.push(st.level);
    if (st.tag && !tags.includes(st.tag)) tags.push(st.tag);
    selects.textContent = '';
    const vsel = H.select('verdict', [['', 'all verdicts'], ...VERDICTS.map((v) => [v, v])], st.verdict,
                          (v) => setFilter({verdict: v}));
    vsel.id = 'f-verdict';
    const lsel = H.select('level', [['', 'all levels'], ...levels.map((l) => [l, l || '(none)'])], st.level,
                          (v) => setFilter({level: v}));
    lsel.id = 'f-level';
    const tsel = H.select('tag', [['', 'all tags'], ...tags.map((t) => [t, t])], st.tag,
                          (v) => setFilter({tag: v}));
    tsel.id = 'f-tag';
    H.add(selects, vsel, ' ', lsel, ' ', tsel);
  }

  function matches(s) {
    if (st.id) return s.key === st.id;
    return (!st.verdict || s.verdict === st.verdict) && (!st.level || H.str(s.level) === st.level) &&
           (!st.tag || s.tags.includes(st.tag)) && (!st.q || s.search.includes(st.q));
  }

  // The best (lowest) verdict rank in a group: fail, error, skip, pass.
  function groupRank(list) {
    return Math.min(...list.map((s) => {
      const i = VERDICTS.indexOf(s.verdict);
      return i < 0 ? VERDICTS.length : i;
    }));
  }

  // ---- table --------------------------------------------------------------
  const COLUMNS = [
    ['', ''], ['id', 'ID'], ['title', 'Title'], ['level', 'Level'], ['verdict', 'Verdict'],
    ['rfc', 'RFC'], ['duration', 'Time'],
  ];
  const SORTS = {
    id: (a, b) => H.natural(a.id, b.id),
    title: (a, b) => H.natural(a.title, b.title),
    level: (a, b) => levelRank(a.level) - levelRank(b.level),
    verdict: (a, b) => VERDICTS.indexOf(a.verdict) - VERDICTS.indexOf(b.verdict),
    rfc: (a, b) => H.natural(H.rfcLabel(a.rfc.document, a.rfc.section), H.rfcLabel(b.rfc.document, b.rfc.section)),
    duration: (a, b) => (Number(a.duration_us) || 0) - (Number(b.duration_us) || 0),
  };

  function renderHead() {
    thead.textContent = '';
    const tr = H.el('tr');
    for (const [key, label] of COLUMNS) {
      const th = H.el('th', key ? 'sortable' : '', label + (st.sort === key ? (st.dir > 0 ? ' ▲' : ' ▼') : ''));
      if (key === 'duration') th.classList.add('num');
      if (key) {
        th.dataset.sort = key;
        th.addEventListener('click', () => {
          st.dir = st.sort === key ? -st.dir : 1;
          st.sort = key;
          renderHead();
          renderTable();
          writeHash();
        });
      }
      H.add(tr, th);
    }
    H.add(thead, tr);
  }

  function renderTable() {
    const hits = run.scenarios.filter(matches);
    const cmp = SORTS[st.sort] || SORTS.id;
    const groups = new Map();
    for (const s of hits) {
      const g = H.str(s.group) || '(ungrouped)';
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(s);
    }
    const names = [...groups.keys()].sort(H.natural);
    if (st.sort === 'verdict' && st.dir > 0) {
      // Failures first: the groups that hold a failure, then an error, ...
      const rank = new Map(names.map((g) => [g, groupRank(groups.get(g))]));
      names.sort((a, b) => rank.get(a) - rank.get(b) || H.natural(a, b));
    }
    const body = H.el('tbody');
    let drawn = 0;
    for (const g of names) {
      if (drawn >= st.limit) break;
      const list = groups.get(g).sort((a, b) => st.dir * cmp(a, b) || H.natural(a.id, b.id));
      const counts = {};
      for (const s of list) counts[s.verdict] = (counts[s.verdict] || 0) + 1;
      const gtr = H.el('tr', 'group');
      const gtd = H.el('td', null, g);
      gtd.colSpan = COLUMNS.length;
      H.add(gtd, H.el('span', 'gcount muted',
                      list.length + (list.length === 1 ? ' scenario · ' : ' scenarios · ') + VERDICTS.filter((v) => counts[v]).map((v) => counts[v] + ' ' + v).join(', ')));
      H.add(body, H.add(gtr, gtd));
      for (const s of list) {
        if (drawn++ >= st.limit) break;
        H.add(body, row(s));
        if (st.open.has(s.key)) H.add(body, detail(s));
      }
    }
    table.replaceChild(body, tbody);
    tbody = body;
    const n = Math.min(drawn, st.limit);
    shown.textContent = st.id
      ? 'showing scenario ' + st.id + ' alone (Reset shows all ' + run.scenarios.length + ')'
      : 'showing ' + n + ' of ' + hits.length + ' matching (' + run.scenarios.length + ' total)';
    more.textContent = '';
    if (!hits.length) H.add(more, H.el('div', 'empty', 'No scenario matches the filters.'));
    if (hits.length > st.limit) {
      const b = H.el('button', null, 'Show ' + Math.min(PAGE, hits.length - st.limit) + ' more');
      b.id = 'show-more';
      b.addEventListener('click', () => {
        st.limit += PAGE;
        renderTable();
      });
      H.add(more, b);
    }
  }

  function row(s) {
    const tr = H.el('tr', 'scenario' + (st.open.has(s.key) ? ' open' : ''));
    tr.dataset.key = s.key;
    tr.dataset.verdict = H.str(s.verdict);
    const title = H.add(H.el('td'), H.visible(H.str(s.title)));
    const why = oneLineReason(s);
    if (why) {
      const div = H.add(H.el('div', 'reason'), H.visible(why));
      div.title = why;
      H.add(title, div);
    }
    H.add(tr, H.el('td', 'twisty', st.open.has(s.key) ? '▾' : '▸'), H.el('td', 'mono', s.id),
          title, H.el('td', null, s.level),
          H.add(H.el('td'), H.badge(s.verdict)), H.add(H.el('td'), H.rfcLink(s.rfc.document, s.rfc.section, s.rfc.url)),
          H.el('td', 'num', H.fmtUs(s.duration_us)));
    return tr;
  }

  // What a row says without a click: the failure's message, else the
  // reason (why skipped, how a pass was reached), on one line, cut.
  function oneLineReason(s) {
    const f = s.failure || {};
    const text = H.str(f.message) || H.str(s.reason);
    const line = text.replace(/\s+/g, ' ').trim();
    return line.length > 300 ? line.slice(0, 299) + '…' : line;
  }

  function toggle(tr) {
    const s = byKey.get(tr.dataset.key);
    if (!s) return;
    H.toggleRow(tr, s.key, st.open, () => detail(s));
    lastOpened = st.open.has(s.key) ? s.key : '';
    writeHash();
  }

  // ---- details ------------------------------------------------------------
  function detail(s) {
    const tr = H.el('tr', 'detail');
    tr.dataset.key = s.key;
    const td = H.el('td');
    td.colSpan = COLUMNS.length;
    if (s.description) H.add(td, H.add(H.el('p'), H.visible(H.str(s.description))));
    const dl = H.el('dl', 'kv');
    kv(dl, 'RFC', H.rfcLink(s.rfc.document, s.rfc.section, s.rfc.url));
    kv(dl, 'Level', H.str(s.level));
    kv(dl, 'File', H.str(s.file));
    if (s.tags.length) kv(dl, 'Tags', H.add(H.el('span', 'tags'), ...s.tags.map((t) => H.el('span', null, t))));
    kv(dl, 'Timing', 'started ' + H.stamp(s.start_us) + ' s into the run, took ' + H.fmtUs(s.duration_us));
    if (!s.failure) kv(dl, 'Reason', H.str(s.reason));
    H.add(td, dl);
    if (s.failure) H.add(td, failureBox(s));
    if (s.replay && Array.isArray(s.replay.rows)) H.add(td, replayDiff(s.replay));
    H.add(td, transcript(s));
    H.add(tr, td);
    return tr;
  }

  function pre(text) {
    return H.add(H.el('pre', 'mono'), H.visible(H.str(text)));
  }

  function failureBox(s) {
    const f = s.failure;
    const box = H.el('div', 'failure' + (s.verdict === 'error' ? ' error' : ''));
    H.add(box, H.add(H.el('strong'), H.visible(H.str(f.message) || H.str(s.reason) || 'failed')));
    const dl = H.el('dl', 'kv');
    kv(dl, 'Step', H.str(f.step_label) || (f.step >= 0 ? 'step ' + f.step : ''));
    kv(dl, 'Expected', pre(f.expected));
    kv(dl, 'Actual', pre(f.actual));
    if (s.reason && s.reason !== f.message) kv(dl, 'Reason', H.str(s.reason));
    return H.add(box, dl);
  }

  // A replayed session side by side: per exchange, what was sent, the
  // recorded replies and the replayed ones; rows that differ are marked
  // with the level they differ at.
  function replayDiff(rp) {
    const wrap = H.el('div', 'replay');
    H.add(wrap, H.el('h3', 'muted', 'Recorded vs replayed (compared at the ' + H.str(rp.level) +
                     ' level; ' + (Number(rp.differences) || 0) + ' of ' + rp.rows.length +
                     ' exchanges differ)'));
    const table = H.el('table', 'replay-diff');
    const head = H.el('tr');
    for (const t of ['#', 'Client sent', 'Recorded reply', 'Replayed reply', 'Differs']) H.add(head, H.el('th', null, t));
    H.add(table, H.add(H.el('thead'), head));
    const body = H.el('tbody');
    rp.rows.forEach((row, i) => {
      const differs = H.str(row.differs);
      const tr = H.el('tr', differs ? 'rd-differs rd-' + differs : 'rd-same');
      const cell = (text, placeholder) => {
        const td = H.el('td', 'mono');
        const toks = H.tokens(H.str(text));
        if (!toks.length) {
          td.textContent = placeholder;
          td.classList.add('muted');
          return td;
        }
        for (const line of H.lines(toks)) {
          const div = H.el('div');
          H.addTokens(div, line);
          H.add(td, div);
        }
        return td;
      };
      H.add(tr, H.el('td', 'num', String(i + 1)), cell(row.sent, i ? '(nothing)' : '(greeting)'),
            cell(row.recorded, '(none)'), cell(row.replayed, '(no reply)'),
            H.el('td', null, differs || 'same'));
      H.add(body, tr);
    });
    H.add(wrap, H.add(table, body));
    return wrap;
  }

  function transcript(s) {
    return H.transcript(s.transcript, H.str(s.failure && s.failure.step_label), MAX_LINES);
  }

  // ---- live updates -------------------------------------------------------
  function poll() {
    H.poll(cfg, st, () => run.complete !== false, (next) => next && Array.isArray(next.scenarios), (next) => {
      run = prepare(next);
      render();
    }, renderHeader);
  }

  function render() {
    renderHeader();
    renderSummary();
    renderSelects();
    renderHead();
    renderTable();
  }

  const t0 = performance.now();
  const openedByLink = readHash();
  render();
  if (openedByLink) scrollToRow(openedByLink);
  void document.body.offsetHeight;  // include the first layout in the figure
  window.__reportRenderMs = performance.now() - t0;
  document.body.dataset.ready = '1';
  poll();
})();
