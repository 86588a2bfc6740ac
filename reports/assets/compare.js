// The comparison page: scenarios × targets (the interoperability matrix).
// Differences first: the rows where targets disagree (a pass against a
// fail), then those missing from some target, then those that differ in
// coverage only (a skip or an error on some target: not a disagreement),
// then those on which all agree; within each block, rows are grouped by RFC
// section (rfc.group, e.g. "RFC 5321 §4.1") in section order. A cell's
// tooltip is its reason. Each target's name links to its own report when
// compare found one. Every string from the data goes in as text, never as
// markup. Data: #report-data (reports/compare.h ComparisonJson).
(function () {
  const PAGE = 500;
  const data = H.readJson('report-data') || {targets: [], rows: []};
  const targets = Array.isArray(data.targets) ? data.targets : [];
  const rows = Array.isArray(data.rows) ? data.rows : [];
  const app = document.getElementById('app');
  const st = {q: '', diff: '', level: '', limit: PAGE, open: new Set()};
  const BLOCKS = ['Targets disagree (pass vs fail)', 'Missing from some target',
                  'Coverage differs (skip or error on some target)', 'All targets agree'];
  rows.forEach((r, i) => {
    r.key = String(i);
    r.rfc = r.rfc || {};
    r.cells = Array.isArray(r.cells) ? r.cells : [];
    r.block = r.disagree === true ? 0 : r.missing === true ? 1 : r.coverage === true ? 2 : 3;
    r.section = H.str(r.rfc.group) || '(no RFC clause)';
    r.search = [r.id, r.title, r.group, r.level, r.rfc.document, r.rfc.section, r.rfc.group]
                   .map(H.str).join('\n').toLowerCase();
  });
  // Differences first, then by RFC section (numeric order), then as compare
  // listed them.
  rows.sort((a, b) => a.block - b.block || H.natural(a.section, b.section) || Number(a.key) - Number(b.key));

  const s = data.summary || {};
  const h1 = H.el('h1', null, 'SMTP conformance comparison: ' + targets.map((t) => H.str(t.name)).join(' · '));
  const note = H.el('p', null, H.str(s.rows) + ' scenarios × ' + targets.length + ' targets: ');
  note.id = 'compare-summary';
  const kinds = [
    ['disagree', 'disagree (pass vs fail)'],
    ['missing', 'missing from some target'],
    ['coverage', 'coverage differences (skip or error on some target; not disagreements)'],
  ];
  kinds.forEach(([k, label], i) => {
    const n = H.el('span', 'diff-count dc-' + k + (Number(s[k]) ? '' : ' zero'), H.str(s[k] || 0) + ' ' + label);
    n.id = 'count-' + k;
    H.add(note, i ? ', ' : '', n);
  });
  H.add(note, '.');

  // A link to a target's own report: compare writes a relative path of
  // unreserved and percent-encoded characters, or a file:/// URL; anything
  // else (a scheme, "//host") is not made a link.
  function reportLink(t) {
    const u = H.str(t.report);
    const ok = /^file:\/\/\/[A-Za-z0-9\-._~%\/]*$/.test(u) || /^[A-Za-z0-9\-._~%][A-Za-z0-9\-._~%\/]*$/.test(u);
    if (!ok) return H.el('span', null, H.str(t.name));
    const a = H.el('a', 'report-link', H.str(t.name));
    a.setAttribute('href', u);
    a.title = 'this run\'s report (' + H.str(t.file) + ')';
    return a;
  }

  // Targets and their totals.
  const tt = H.el('table', 'counts');
  tt.id = 'targets';
  const hr = H.el('tr');
  for (const c of ['Target', 'Address', 'Banner', 'pass', 'fail', 'skip', 'error', 'run']) {
    H.add(hr, H.el('th', ['pass', 'fail', 'skip', 'error'].includes(c) ? 'num' : '', c));
  }
  H.add(tt, hr);
  for (const t of targets) {
    const tr = H.el('tr');
    const tot = t.totals || {};
    H.add(tr, H.add(H.el('td', 'mono'), reportLink(t)), H.add(H.el('td'), H.visible(H.str(t.target))),
          H.add(H.el('td', 'mono'), H.visible(H.str(t.banner))));
    for (const v of ['pass', 'fail', 'skip', 'error']) H.add(tr, H.add(H.el('td', 'num'), H.el('span', 'badge v-' + v, tot[v] || 0)));
    H.add(tr, H.el('td', null, t.complete === false ? 'incomplete' : 'complete'));
    H.add(tt, tr);
  }

  const search = H.el('input');
  search.type = 'search';
  search.id = 'search';
  search.placeholder = 'Search id, title, section…';
  search.addEventListener('input', H.debounce(() => {
    st.q = search.value.trim().toLowerCase();
    st.limit = PAGE;
    renderTable();
  }, 120));
  const dsel = H.select('rows', [['', 'all rows'], ['differ', 'disagree or missing'],
                                 ['disagree', 'disagree (pass vs fail)'], ['missing', 'missing'],
                                 ['coverage', 'coverage (skip/error)']], '', (v) => {
    st.diff = v;
    st.limit = PAGE;
    renderTable();
  });
  dsel.id = 'f-diff';
  const levels = [...new Set(rows.map((r) => H.str(r.level)))].sort(H.natural);
  const lsel = H.select('level', [['', 'all levels'], ...levels.map((l) => [l, l || '(none)'])], '', (v) => {
    st.level = v;
    st.limit = PAGE;
    renderTable();
  });
  lsel.id = 'f-level';
  const shown = H.el('span', 'muted');
  shown.id = 'shown';
  const controls = H.add(H.el('div', 'controls'), search, dsel, lsel, shown);

  const table = H.el('table', 'matrix');
  table.id = 'matrix';
  const thead = H.el('thead');
  const htr = H.el('tr');
  for (const c of ['ID', 'Title', 'Level', 'RFC']) H.add(htr, H.el('th', null, c));
  for (const t of targets) H.add(htr, H.add(H.el('th', 'cell'), reportLink(t)));
  H.add(thead, htr);
  let tbody = H.el('tbody');
  H.add(table, thead, tbody);
  const more = H.el('div', 'more');
  H.add(app, h1, note, H.el('h2', null, 'Targets'), tt, H.el('h2', null, 'Scenarios'), controls, table, more);
  const ncols = 4 + targets.length;

  table.addEventListener('click', (e) => {
    const tr = e.target.closest('tr.scenario');
    if (!tr) return;
    const key = tr.dataset.key;
    if (st.open.has(key)) st.open.delete(key);
    else st.open.add(key);
    renderTable();
  });

  function matches(r) {
    const diff = st.diff === 'differ' ? r.disagree || r.missing : st.diff ? r[st.diff] === true : true;
    return diff && (!st.level || H.str(r.level) === st.level) &&
           (!st.q || r.search.includes(st.q));
  }

  function detail(r) {
    const tr = H.el('tr', 'detail');
    const td = H.el('td');
    td.colSpan = ncols;
    const dl = H.el('dl', 'kv');
    targets.forEach((t, i) => {
      const c = r.cells[i];
      H.add(dl, H.el('dt', null, t.name));
      const dd = H.el('dd');
      if (!c) {
        H.add(dd, H.el('span', 'missing', 'missing'), ' — no result for this scenario in ' + H.str(t.file));
      } else {
        H.add(dd, H.badge(c.verdict), ' ');
        const why = c.verdict === 'pass' ? '' : H.str(c.message) || H.str(c.reason);
        if (why) H.add(dd, H.visible(why));
        if (c.verdict !== 'pass' && (c.expected || c.actual)) {
          H.add(dd, H.el('br'), 'expected: ', H.visible(H.str(c.expected)), H.el('br'), 'actual: ',
                H.visible(H.str(c.actual)));
        }
      }
      H.add(dl, dd);
    });
    return H.add(tr, H.add(td, dl));
  }

  function renderTable() {
    const hits = rows.filter(matches);
    const body = H.el('tbody');
    let block = null;
    let group = null;
    let drawn = 0;
    for (const r of hits) {
      if (drawn >= st.limit) break;
      if (r.block !== block) {
        block = r.block;
        group = null;
        const n = hits.filter((h) => h.block === block).length;
        const btd = H.el('td', null, BLOCKS[block] + ' (' + n + ')');
        btd.colSpan = ncols;
        H.add(body, H.add(H.el('tr', 'block'), btd));
      }
      if (r.section !== group) {
        group = r.section;
        const gtd = H.el('td', null, group);
        gtd.colSpan = ncols;
        H.add(body, H.add(H.el('tr', 'group'), gtd));
      }
      const tr = H.el('tr', 'scenario' + (r.disagree ? ' disagree' : '') + (r.missing ? ' missing' : '') +
                            (r.coverage && !r.disagree && !r.missing ? ' coverage' : ''));
      tr.dataset.key = r.key;
      H.add(tr, H.el('td', 'mono', r.id), H.add(H.el('td'), H.visible(H.str(r.title))), H.el('td', null, r.level),
            H.add(H.el('td'), H.rfcLink(r.rfc.document, r.rfc.section, r.rfc.url)));
      targets.forEach((t, i) => {
        const c = r.cells[i];
        const td = H.add(H.el('td', 'cell'), c ? H.badge(c.verdict) : H.el('span', 'missing', 'missing'));
        if (c && c.verdict !== 'pass') td.title = H.str(c.message) || H.str(c.reason);
        H.add(tr, td);
      });
      H.add(body, tr);
      if (st.open.has(r.key)) H.add(body, detail(r));
      drawn++;
    }
    table.replaceChild(body, tbody);
    tbody = body;
    shown.textContent = 'showing ' + drawn + ' of ' + hits.length + ' matching (' + rows.length + ' total)';
    more.textContent = '';
    if (hits.length > st.limit) {
      const b = H.el('button', null, 'Show more');
      b.id = 'show-more';
      b.addEventListener('click', () => {
        st.limit += PAGE;
        renderTable();
      });
      H.add(more, b);
    }
  }

  renderTable();
  document.body.dataset.ready = '1';
})();
