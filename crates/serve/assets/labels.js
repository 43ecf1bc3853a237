// esl labels: the registry's labels of `esl serve --db`, the second view of the designer page
// (address `#labels`). Plain JavaScript, no build step; it uses designer.js's `$`, `el`, `api`,
// `errorOf` and `state.token` (both files are classic scripts of the same page).
//
// Every picture is fetched as a blob with the bearer header (an <img src> cannot send it), and
// only when its card comes near the visible part of the list. Reprice runs are read as a
// server-sent-events stream with fetch() and a stream reader: EventSource cannot send the
// Authorization header.
'use strict';

const LABELS_PER_PAGE = 60;
const SHOP_DEBOUNCE_MS = 300;

const labelsView = {
  started: false,
  status: 'pending',
  shop: '',
  next: null,
  shown: 0,
  seq: 0,
  urls: [],
  observer: null,
  platform: null,
  shelf: null, // Map esl_id -> {esl_id, shop_id, model, push_count, request_seq}, when "Shelf" is on
  running: false,
};

const isLabelsView = () => location.hash === '#labels';

function showView() {
  const on = isLabelsView();
  document.body.classList.toggle('view-labels', on);
  $('labels-view').hidden = !on;
  $('designer-view').hidden = on;
  $('nav-labels').classList.toggle('active', on);
  $('nav-designer').classList.toggle('active', !on);
  document.title = on ? 'esl labels' : 'esl designer';
  if (on && !labelsView.started && state.token) {
    labelsView.started = true;
    startLabels();
  }
}

// Unix seconds as local "YYYY-MM-DD hh:mm:ss".
function when(seconds) {
  const d = new Date(seconds * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function labelsOff(text) {
  const v = $('labels-view');
  v.classList.add('off');
  const n = $('labels-off');
  n.textContent = text;
  n.hidden = false;
}

async function startLabels() {
  const r = await api('/v1/labels?limit=1');
  if (r.status === 404) {
    labelsOff('This service has no label registry. Start it with `esl serve --db FILE` to list the pending and failed labels, run reprices and import files here.');
    return;
  }
  if (!r.ok) {
    labelsOff(`The labels cannot be listed: ${(await errorOf(r)).message}`);
    return;
  }
  await loadPlatform();
  await loadLabels(true);
}

async function loadPlatform() {
  const r = await api('/v1/platform');
  if (!r.ok) return;
  const p = await r.json();
  labelsView.platform = p;
  $('platform').textContent = p.push
    ? `${p.simulator ? 'simulator' : 'platform'} ${p.base_url}`
    : 'no platform: runs push nothing';
  $('platform').title = p.push ? `Runs push to ${p.base_url} as app ${p.app_id}` : 'Start the service with --base-url, --app-id and ESL_SECRET to push';
  $('shelf-toggle').hidden = !p.simulator;
}

async function loadShelf() {
  labelsView.shelf = null;
  if (!$('labels-shelf').checked) return;
  const r = await api('/v1/shelf');
  if (!r.ok) {
    $('labels-count').textContent = `shelf: ${(await errorOf(r)).message}`;
    return;
  }
  const shelf = await r.json();
  labelsView.shelf = new Map(shelf.esls.map((e) => [e.esl_id, e]));
}

function clearCards() {
  for (const u of labelsView.urls) URL.revokeObjectURL(u);
  labelsView.urls = [];
  if (labelsView.observer) labelsView.observer.disconnect();
  labelsView.observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      labelsView.observer.unobserve(e.target);
      const load = e.target.loadPictures;
      if (load) load();
    }
  }, { root: $('labels-main'), rootMargin: '400px 0px' });
  $('label-cards').replaceChildren();
  labelsView.shown = 0;
  labelsView.next = null;
}

async function loadLabels(reset) {
  const seq = ++labelsView.seq;
  if (reset) {
    await loadShelf();
    if (seq !== labelsView.seq) return;
    clearCards();
    $('label-cards').classList.toggle('shelf', labelsView.shelf !== null);
  }
  const q = new URLSearchParams({ status: labelsView.status, limit: String(LABELS_PER_PAGE) });
  if (labelsView.shop) q.set('shop', labelsView.shop);
  if (!reset && labelsView.next) q.set('after', labelsView.next);
  const r = await api(`/v1/labels?${q}`);
  if (seq !== labelsView.seq) return;
  const cards = $('label-cards');
  if (!r.ok) {
    cards.replaceChildren(el('div', 'placeholder', `The labels cannot be listed: ${(await errorOf(r)).message}`));
    return;
  }
  const page = await r.json();
  if (seq !== labelsView.seq) return;
  for (const l of page.labels) {
    const c = labelCard(l);
    cards.append(c);
    labelsView.observer.observe(c);
  }
  labelsView.shown += page.labels.length;
  labelsView.next = page.next;
  $('labels-more').hidden = !page.next;
  const what = { pending: 'pending', failed: 'failed', all: '' }[labelsView.status];
  const n = labelsView.shown;
  $('labels-count').textContent = `${n}${page.next ? '+' : ''} ${what ? `${what} ` : ''}label${n === 1 ? '' : 's'}${labelsView.shop ? ` in shop ${labelsView.shop}` : ''}`;
  if (n === 0) {
    cards.replaceChildren(el('div', 'placeholder', what ? `No ${what} labels.` : 'No labels: import bindings (labels CSV) first.'));
  }
}

function labelCard(l) {
  const c = el('article', `label${l.failure ? ' failed' : ''}`);
  c.dataset.esl = l.esl_id;
  const head = el('div', 'label-head');
  head.append(el('strong', '', l.esl_id));
  const shelfOn = labelsView.shelf !== null;
  let match = null;
  if (shelfOn) {
    match = el('span', 'match none', '…');
    match.dataset.match = 'loading';
    head.append(match);
  }
  const badge = l.failure
    ? el('span', 'pill bad', 'failed')
    : l.pending ? el('span', 'pill warn', 'pending') : el('span', 'pill ok', 'shown');
  head.append(badge);
  const meta = el('dl', 'label-meta');
  const row = (k, v) => {
    const d = el('dd', '', v);
    d.title = v;
    meta.append(el('dt', '', k), d);
  };
  row('shop', l.shop_id);
  row('model', l.model);
  // The template's source is `builtin:NAME` or its file: the file's name, the path on hover.
  const template = l.template.split(/[/\\]/).pop();
  row('template', template);
  meta.lastChild.title = l.template;
  row('product', l.product_id);
  if (l.acked_at != null) row('shown since', when(l.acked_at));
  c.append(head, meta);
  if (l.failure) {
    const reason = el('div', 'reason');
    reason.dataset.role = 'failure';
    reason.append(el('strong', '', `Failed${l.failed_at != null ? ` ${when(l.failed_at)}` : ''}`), el('span', '', l.failure));
    c.append(reason);
  }
  const pics = el('div', 'pics');
  const preview = picture(shelfOn ? 'should show' : 'preview');
  pics.append(preview.box);
  let shelf = null;
  if (shelfOn) {
    shelf = picture('shows now');
    pics.append(shelf.box);
  }
  c.append(pics);
  c.loadPictures = () => loadPictures(l, preview, shelf, match);
  return c;
}

function picture(caption) {
  const box = el('div', 'pic');
  box.append(el('span', 'hint', caption));
  const slot = el('div', 'empty', 'loading…');
  box.append(slot);
  return { box, slot };
}

// Fetches a PNG with the bearer header; puts it into the picture's slot. Returns the blob, or
// null with the reason shown.
async function fetchPicture(path, pic, role, missing) {
  const r = await api(path);
  if (!r.ok) {
    const msg = r.status === 404 && missing ? missing : (await errorOf(r)).message;
    const e = el('div', 'empty bad', msg);
    e.dataset.role = `${role}-missing`;
    e.title = msg;
    pic.slot.replaceWith(e);
    pic.slot = e;
    return null;
  }
  const blob = await r.blob();
  const url = URL.createObjectURL(blob);
  labelsView.urls.push(url);
  const img = el('img');
  img.dataset.role = role;
  img.alt = role;
  img.addEventListener('load', () => {
    // A whole zoom (1× or 2×) that fits the card, so that every pixel stays a square of
    // pixels; a label wider than the card is scaled down to fit.
    const room = img.parentElement ? img.parentElement.clientWidth : img.naturalWidth;
    const zoom = Math.max(1, Math.min(2, Math.floor(room / img.naturalWidth)));
    img.style.width = `${img.naturalWidth * zoom}px`;
  }, { once: true });
  img.src = url;
  pic.slot.replaceWith(img);
  pic.slot = img;
  return blob;
}

async function loadPictures(l, preview, shelf, match) {
  const id = encodeURIComponent(l.esl_id);
  const want = await fetchPicture(`/v1/labels/${id}/preview.png`, preview, 'preview', null);
  if (!shelf) return;
  const known = labelsView.shelf && labelsView.shelf.has(l.esl_id);
  const missing = known ? 'shows no picture yet' : 'not on the simulator’s shelf (unknown ESL)';
  const shown = await fetchPicture(`/v1/shelf/${id}/image.png`, shelf, 'shelf', missing);
  if (!want || !shown) {
    setMatch(match, 'none', shown ? 'no preview' : 'nothing shown');
    return;
  }
  const differing = await pixelDifference(want, shown);
  if (differing === 0) setMatch(match, 'same', 'same pixels');
  else if (differing === null) setMatch(match, 'differs', 'other size');
  else setMatch(match, 'differs', `differs: ${differing} px`);
}

function setMatch(match, kind, text) {
  match.className = `match ${kind}`;
  match.dataset.match = kind;
  match.textContent = text;
}

async function pixels(blob) {
  const bitmap = await createImageBitmap(blob);
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}

// How many pixels of the two pictures differ once decoded; null when their sizes differ.
async function pixelDifference(a, b) {
  const [pa, pb] = await Promise.all([pixels(a), pixels(b)]);
  if (pa.width !== pb.width || pa.height !== pb.height) return null;
  let n = 0;
  const da = pa.data;
  const db = pb.data;
  for (let i = 0; i < da.length; i += 4) {
    if (da[i] !== db[i] || da[i + 1] !== db[i + 1] || da[i + 2] !== db[i + 2] || da[i + 3] !== db[i + 3]) n++;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Reprice runs.

function runState(kind, text, count = '') {
  $('run').className = `run ${kind}`;
  $('run').dataset.state = kind;
  $('run-state').textContent = text;
  $('run-count').textContent = count;
}

// Reads a text/event-stream body to its end, calling `on(name, data)` per event.
async function readEvents(body, on) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const block = (text) => {
    let name = 'message';
    const data = [];
    for (const line of text.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length) on(name, JSON.parse(data.join('\n')));
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
    let end;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      block(buf.slice(0, end));
      buf = buf.slice(end + 2);
    }
  }
  if (buf.trim()) block(buf);
}

function summarise(report) {
  const dl = $('run-summary');
  dl.replaceChildren();
  const items = report.dry_run
    ? [['would render', report.to_render], ['planned', report.planned], ['pending', report.pending]]
    : [['rendered', report.rendered], ['pushed', report.pushed], ['identical', report.identical],
      ['failed', report.failed], ['pending after', report.pending], ['took', `${report.elapsed_ms} ms`]];
  if (!report.dry_run && report.not_pushed) items.push(['not pushed', report.not_pushed]);
  if (report.deferred) items.push(['deferred', report.deferred]);
  for (const [k, v] of items) {
    const dd = el('dd', k === 'failed' && v ? 'bad' : '', String(v));
    dd.dataset.key = k;
    dl.append(el('dt', '', k), dd);
  }
  dl.hidden = false;
}

function onRunEvent(name, data) {
  const bar = $('run-bar');
  switch (name) {
    case 'waiting':
      runState('busy', 'Waiting for another run', `held by ${data.holder}`);
      break;
    case 'planned':
      bar.max = Math.max(data.labels, 1);
      bar.value = 0;
      runState('busy', 'Running', `0 / ${data.labels}`);
      break;
    case 'progress':
      bar.max = Math.max(data.planned, 1);
      bar.value = data.settled;
      runState('busy', 'Running', `${data.settled} / ${data.planned}${data.failed ? ` · ${data.failed} failed` : ''}`);
      break;
    case 'failed': {
      const li = el('li');
      li.append(el('code', '', data.esl_id), ' ', data.reason);
      li.dataset.esl = data.esl_id;
      $('run-failures').append(li);
      break;
    }
    case 'done':
      bar.max = Math.max(data.planned, 1);
      bar.value = bar.max;
      runState('done', data.dry_run ? 'Dry run done' : 'Done', `${data.planned} planned`);
      summarise(data);
      break;
    case 'error':
      runState('bad', 'The run stopped', data.error);
      break;
    default:
      break;
  }
}

async function reprice() {
  if (labelsView.running) return;
  labelsView.running = true;
  $('reprice').disabled = true;
  $('run').hidden = false;
  $('run-failures').replaceChildren();
  $('run-summary').hidden = true;
  $('run-bar').removeAttribute('value');
  runState('busy', 'Starting');
  try {
    const r = await api('/v1/reprice', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ dry_run: $('reprice-dry').checked }),
    });
    if (r.status === 409) {
      const s = await api('/v1/reprice');
      const st = s.ok ? await s.json() : null;
      runState('bad', 'A run is going on', st ? `${st.settled} / ${st.planned}` : '');
      $('run-bar').value = 0;
    } else if (!r.ok) {
      runState('bad', 'Not started', (await errorOf(r)).message);
      $('run-bar').value = 0;
    } else {
      await readEvents(r.body, onRunEvent);
      if ($('run').dataset.state === 'busy') {
        runState('bad', 'The stream ended before the run did', 'GET /v1/reprice tells its progress');
      }
    }
  } catch (e) {
    runState('bad', 'The run’s stream broke', e.message);
  } finally {
    labelsView.running = false;
    $('reprice').disabled = false;
  }
  await loadLabels(true);
}

// ---------------------------------------------------------------------------------------------
// Imports.

async function importFile() {
  const kind = $('import-kind').value;
  const text = $('import-text').value;
  const out = $('import-report');
  if (!text.trim()) {
    out.replaceChildren(el('div', 'counts bad', 'Nothing to import: paste a file or pick one.'));
    return;
  }
  const json = /^\s*[[{]/.test(text);
  $('import-go').disabled = true;
  try {
    const r = await api(`/v1/import/${kind}`, {
      method: 'POST',
      headers: { 'Content-Type': json ? 'application/json' : 'text/csv' },
      body: text,
    });
    if (!r.ok) {
      out.replaceChildren(el('div', 'counts bad', `Refused: ${(await errorOf(r)).message}`));
      return;
    }
    const rep = await r.json();
    const bad = rep.bad_rows || [];
    const counts = el('div', `counts${bad.length ? ' bad' : ''}`,
      `${rep.rows} row${rep.rows === 1 ? '' : 's'} (${rep.format}): ${rep.created} created, ${rep.updated} updated, ${rep.unchanged} unchanged, ${rep.deleted} deleted, ${rep.skipped} skipped; ${rep.labels_marked} label${rep.labels_marked === 1 ? '' : 's'} marked pending; ${bad.length} bad row${bad.length === 1 ? '' : 's'}`);
    counts.dataset.role = 'import-counts';
    const list = el('ul');
    for (const b of bad) {
      const li = el('li');
      const where = b.at.line != null ? `line ${b.at.line}` : `item ${b.at.item}`;
      li.append(el('code', '', where), ' ', b.reason);
      li.dataset.role = 'bad-row';
      list.append(li);
    }
    for (const n of rep.notes || []) list.append(el('li', 'note', n));
    out.replaceChildren(counts, list);
  } finally {
    $('import-go').disabled = false;
  }
  await loadLabels(true);
}

// ---------------------------------------------------------------------------------------------

function labelsMain() {
  for (const b of document.querySelectorAll('.tabs [data-status]')) {
    b.addEventListener('click', () => {
      for (const o of document.querySelectorAll('.tabs [data-status]')) o.setAttribute('aria-selected', String(o === b));
      labelsView.status = b.dataset.status;
      loadLabels(true);
    });
  }
  let timer = 0;
  $('labels-shop').addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      labelsView.shop = $('labels-shop').value.trim();
      loadLabels(true);
    }, SHOP_DEBOUNCE_MS);
  });
  $('labels-shelf').addEventListener('change', () => loadLabels(true));
  $('labels-refresh').addEventListener('click', () => loadLabels(true));
  $('labels-more').addEventListener('click', () => loadLabels(false));
  $('reprice').addEventListener('click', reprice);
  $('import-go').addEventListener('click', importFile);
  $('import-file').addEventListener('change', async (ev) => {
    const f = ev.target.files[0];
    if (!f) return;
    $('import-text').value = await f.text();
    const name = f.name.toLowerCase();
    if (name.includes('label') || name.includes('binding')) $('import-kind').value = 'labels';
    else if (name.includes('price')) $('import-kind').value = 'prices';
    else if (name.includes('product') || name.includes('catalog')) $('import-kind').value = 'products';
  });
  window.addEventListener('hashchange', showView);
  showView();
}

labelsMain();
