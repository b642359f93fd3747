// The explorer of "asyncinstr graph -format html". The tree arrives as
// JSON (see pageData in html.go); rows are built only for the nodes whose
// parents are expanded, and at most CHUNK children of one node at a time,
// so that a tree of 100,000 nodes opens at once.
(function () {
  'use strict';
  const CHUNK = 1000;   // children built at a time under one node
  const REVEAL = 1000;  // matches a search opens the tree to
  const LEAKED = 1, BEFORE_TRACE = 2, SYNTHETIC = 4;

  const data = JSON.parse(document.getElementById('trace-data').textContent);
  const nodes = data.nodes, types = data.types, sites = data.sites;
  const N = nodes.length;
  const ID = 0, TYPE = 1, SITE = 2, PARENT = 3, FLAGS = 4, LIFE = 6, RUN = 7, RUNS = 8;

  // Children in one array, node i's from first[i] to first[i]+nkids[i];
  // pos[i] is i's place among its siblings, size[i] the nodes of its subtree.
  const nkids = new Int32Array(N), first = new Int32Array(N), kids = new Int32Array(N);
  const pos = new Int32Array(N), size = new Int32Array(N).fill(1);
  const roots = [];
  for (let i = 0; i < N; i++) {
    const p = nodes[i][PARENT];
    if (p >= 0) nkids[p]++; else roots.push(i);
  }
  for (let i = 0, acc = 0; i < N; i++) { first[i] = acc; acc += nkids[i]; }
  const filled = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const p = nodes[i][PARENT];
    if (p >= 0) { pos[i] = filled[p]; kids[first[p] + filled[p]++] = i; }
  }
  for (let i = N - 1; i >= 0; i--) {
    const p = nodes[i][PARENT];
    if (p >= 0) size[p] += size[i];
  }

  const expanded = new Uint8Array(N);
  const want = new Int32Array(N).fill(CHUNK); // children to show when expanded
  const shown = new Int32Array(N);             // children built
  let rows = new Array(N);                     // the li of each built node
  let matched = new Uint8Array(N), matches = [], current = -1, lastQuery = '';

  const tree = document.getElementById('tree');
  const search = document.getElementById('search');
  const count = document.getElementById('match-count');

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  const fmt = (n) => n.toLocaleString('en-US');
  const plural = (n, w) => fmt(n) + ' ' + w + (n === 1 ? '' : 's');

  // dur formats microseconds as the SVG does: 850ns, 12.3µs, 1.25ms, 2.50s.
  function dur(us) {
    const ns = Math.round(us * 1000);
    for (const [unit, size] of [['s', 1e9], ['ms', 1e6], ['µs', 1e3]]) {
      if (ns >= size) {
        const v = ns / size;
        return v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2) + unit;
      }
    }
    return ns + 'ns';
  }

  function siteText(n) {
    if (n[SITE] >= 0) return sites[n[SITE]];
    if (n[FLAGS] & BEFORE_TRACE) return 'created before the trace';
    if (n[FLAGS] & SYNTHETIC) return n[ID] === 1 ? 'package initialisation and main' : 'goroutines not started by rewritten code';
    return 'site unknown';
  }

  function timesText(n) {
    const parts = [];
    if (n[LIFE] >= 0) parts.push('lived ' + dur(n[LIFE]));
    if (n[RUNS] > 0) parts.push('ran ' + dur(n[RUN]) + ' in ' + plural(n[RUNS], 'run'));
    else if (!(n[FLAGS] & SYNTHETIC)) parts.push('never ran');
    return parts.join(' · ');
  }

  // row builds the li of node i, and its children's when it is expanded.
  function row(i) {
    const n = nodes[i], t = types[n[TYPE]], f = n[FLAGS];
    const li = el('li', 'node');
    li.id = 'n-' + n[ID];
    li.dataset.i = i;
    li.setAttribute('role', 'treeitem');
    if (f & LEAKED) li.classList.add('leaked');
    if (f & BEFORE_TRACE) li.classList.add('before-trace');
    if (f & SYNTHETIC) li.classList.add('synthetic');
    if (matched[i]) li.classList.add('match');
    const r = el('div', 'row');
    const chip = el('span', 'chip', t[0]);
    chip.style.background = t[1];
    chip.style.borderColor = t[2];
    r.append(el('span', 'toggle', nkids[i] ? (expanded[i] ? '▾' : '▸') : ''), chip,
      el('span', 'id', '#' + n[ID]), el('span', 'site', siteText(n)));
    r.title = t[0] + ' #' + n[ID] + '\n' + siteText(n) + '\n' + timesText(n);
    if (nkids[i]) {
      li.classList.add('parent');
      li.setAttribute('aria-expanded', expanded[i] ? 'true' : 'false');
      r.append(el('span', 'below', fmt(size[i] - 1) + ' below'));
    }
    if (f & LEAKED) r.append(el('span', 'leak-badge', 'never destroyed'));
    r.append(el('span', 'times', timesText(n)));
    li.append(r);
    rows[i] = li;
    if (nkids[i] && expanded[i]) fill(i);
    return li;
  }

  // fill builds node i's children up to want[i], and a button for more.
  function fill(i) {
    const li = rows[i];
    let ul = li.querySelector(':scope > ul');
    if (!ul) {
      ul = el('ul', 'children');
      ul.setAttribute('role', 'group');
      li.append(ul);
    }
    let more = ul.lastElementChild && ul.lastElementChild.classList.contains('more') ? ul.lastElementChild : null;
    const end = Math.min(nkids[i], Math.max(want[i], shown[i]));
    const frag = document.createDocumentFragment();
    for (let k = shown[i]; k < end; k++) frag.append(row(kids[first[i] + k]));
    if (more) more.before(frag); else ul.append(frag);
    shown[i] = end;
    const left = nkids[i] - end;
    if (left > 0) {
      if (!more) {
        more = el('li', 'more');
        more.append(el('button'));
        more.firstChild.type = 'button';
        more.firstChild.addEventListener('click', () => { want[i] += CHUNK; fill(i); });
        ul.append(more);
      }
      more.firstChild.textContent = 'Show ' + fmt(Math.min(left, CHUNK)) + ' more of ' + fmt(left);
    } else if (more) {
      more.remove();
    }
  }

  // render rebuilds the rows from the expansion state.
  function render() {
    rows = new Array(N);
    shown.fill(0);
    const ul = el('ul', 'roots');
    for (const r of roots) ul.append(row(r));
    tree.replaceChildren(ul);
  }

  function toggle(i) {
    const li = rows[i];
    expanded[i] ^= 1;
    li.setAttribute('aria-expanded', expanded[i] ? 'true' : 'false');
    li.querySelector(':scope > .row > .toggle').textContent = expanded[i] ? '▾' : '▸';
    const ul = li.querySelector(':scope > ul');
    if (ul) ul.hidden = !expanded[i];
    else if (expanded[i]) fill(i);
  }

  // openTo expands the ancestors of node i and has each show it.
  function openTo(i) {
    for (let c = i, p = nodes[i][PARENT]; p >= 0; c = p, p = nodes[p][PARENT]) {
      expanded[p] = 1;
      if (want[p] <= pos[c]) want[p] = (Math.floor(pos[c] / CHUNK) + 1) * CHUNK;
    }
  }

  function runSearch() {
    const q = search.value.trim().toLowerCase();
    lastQuery = search.value;
    matched = new Uint8Array(N);
    matches = [];
    current = -1;
    if (q) {
      const byID = q.startsWith('#');
      const id = /^#?\d+$/.test(q) ? Number(q.replace('#', '')) : -1;
      const typeHit = types.map((t) => !byID && t[0].toLowerCase().includes(q));
      const siteHit = sites.map((s) => !byID && s.toLowerCase().includes(q));
      for (let i = 0; i < N; i++) {
        const n = nodes[i];
        if (typeHit[n[TYPE]] || (n[SITE] >= 0 && siteHit[n[SITE]]) || n[ID] === id) {
          matched[i] = 1;
          matches.push(i);
        }
      }
    }
    for (const m of matches.slice(0, REVEAL)) openTo(m);
    render();
    count.dataset.count = matches.length;
    count.textContent = !q ? '' : matches.length === 0 ? 'no match'
      : plural(matches.length, 'match').replace(/matchs$/, 'matches') + (matches.length > REVEAL ? ' (the first ' + fmt(REVEAL) + ' opened)' : '');
    if (matches.length) goTo(0);
  }

  // goTo makes the k-th match current: opened, outlined, in view.
  function goTo(k) {
    if (!matches.length) return;
    if (current >= 0 && rows[matches[current]]) rows[matches[current]].classList.remove('current');
    current = (k + matches.length) % matches.length;
    const i = matches[current];
    if (!rows[i] || rows[i].offsetParent === null) { openTo(i); render(); }
    rows[i].classList.add('current');
    rows[i].scrollIntoView({ block: 'center' });
  }

  function step(d) {
    if (search.value !== lastQuery) runSearch(); else goTo(current + d);
  }

  let timer;
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(runSearch, 150); });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { clearTimeout(timer); step(e.shiftKey ? -1 : 1); }
  });
  document.getElementById('next-match').addEventListener('click', () => step(1));
  document.getElementById('prev-match').addEventListener('click', () => step(-1));
  document.getElementById('expand-all').addEventListener('click', () => {
    for (let i = 0; i < N; i++) if (nkids[i]) expanded[i] = 1;
    render();
  });
  document.getElementById('collapse-all').addEventListener('click', () => {
    expanded.fill(0);
    for (const r of roots) expanded[r] = 1;
    render();
  });
  tree.addEventListener('click', (e) => {
    const r = e.target.closest('.row');
    if (!r || e.target.closest('button')) return;
    const i = Number(r.parentElement.dataset.i);
    if (nkids[i] && !String(window.getSelection())) toggle(i);
  });

  // The legend: each type with its count, most frequent first; a click
  // searches for the type.
  const perType = new Map();
  for (const n of nodes) if (!(n[FLAGS] & SYNTHETIC)) perType.set(n[TYPE], (perType.get(n[TYPE]) || 0) + 1);
  const legend = document.getElementById('legend');
  for (const [t, c] of [...perType].sort((a, b) => b[1] - a[1] || (types[a[0]][0] < types[b[0]][0] ? -1 : 1))) {
    const li = el('li', null, types[t][0]);
    li.style.background = types[t][1];
    li.style.borderColor = types[t][2];
    li.append(el('span', 'n', fmt(c)));
    li.title = 'Find every ' + types[t][0];
    li.addEventListener('click', () => { search.value = types[t][0]; runSearch(); });
    legend.append(li);
  }

  // Open the first levels, as far as about sixty rows go.
  for (const r of roots) expanded[r] = 1;
  let budget = 60;
  let queue = roots.flatMap((r) => Array.from(kids.subarray(first[r], first[r] + nkids[r])));
  budget -= queue.length;
  while (queue.length) {
    const nextQueue = [];
    for (const i of queue) {
      if (nkids[i] && nkids[i] <= budget) {
        expanded[i] = 1;
        budget -= nkids[i];
        for (let k = 0; k < nkids[i]; k++) nextQueue.push(kids[first[i] + k]);
      }
    }
    queue = nextQueue;
  }
  render();
})();
