// esl designer: plain JavaScript, no build step, no libraries. Served by `esl serve` at `/`.
//
// The page reads the API token from `?token=` once, keeps it in sessionStorage (this tab only),
// removes it from the address bar, and sends it as `Authorization: Bearer` on every /v1 call.
'use strict';

const TOKEN_KEY = 'esl-designer-token';
const DEBOUNCE_MS = 150;
const ALGORITHMS = ['threshold', 'floyd-steinberg', 'atkinson', 'jarvis-judice-ninke', 'stucki',
  'burkes', 'sierra', 'sierra-lite', 'bayer2', 'bayer4', 'bayer8', 'blue-noise'];
const ALIASES = { fs: 'floyd-steinberg', jjn: 'jarvis-judice-ninke' };

const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

// ---------------------------------------------------------------------------------------------
// A strict JSON parser that records where every value sits in the text, by JSON path in the
// loader's notation (`elements[0].box.w`), so that errors and elements can be found again.

function parseJson(text) {
  let i = 0;
  const map = new Map();
  const fail = (message, at = i) => {
    const e = new Error(message);
    e.pos = at;
    throw e;
  };
  const describe = (c) => (c === undefined ? 'end of text' : c === '\n' ? 'line break' : `'${c}'`);
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const string = () => {
    const start = i;
    i++;
    for (;;) {
      const c = text[i];
      if (c === undefined || c === '\n') fail('unterminated string', start);
      if (c === '"') break;
      if (c === '\\') i++;
      else if (c < ' ') fail('control character in a string (write it as an escape)', i);
      i++;
    }
    i++;
    try {
      return JSON.parse(text.slice(start, i));
    } catch (_) {
      return fail('bad escape in a string', start);
    }
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const number = () => {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) fail(`unexpected ${describe(text[i])}, expected a value`);
    i += m[0].length;
    return Number(m[0]);
  };
  const word = (w, v) => {
    if (!text.startsWith(w, i)) fail(`unexpected ${describe(text[i])}, expected a value`);
    i += w.length;
    return v;
  };
  const value = (path) => {
    ws();
    const start = i;
    const c = text[i];
    let v;
    if (c === '{') v = object(path);
    else if (c === '[') v = array(path);
    else if (c === '"') v = string();
    else if (c === '-' || (c >= '0' && c <= '9')) v = number();
    else if (c === 't') v = word('true', true);
    else if (c === 'f') v = word('false', false);
    else if (c === 'n') v = word('null', null);
    else fail(`unexpected ${describe(c)}, expected a value`);
    const entry = map.get(path) || {};
    entry.start = start;
    entry.end = i;
    map.set(path, entry);
    return v;
  };
  const object = (path) => {
    i++;
    const o = {};
    ws();
    if (text[i] === '}') {
      i++;
      return o;
    }
    for (;;) {
      ws();
      if (text[i] !== '"') {
        fail(text[i] === '}' ? "a ',' before '}' (trailing comma)" : `unexpected ${describe(text[i])}, expected a "key"`);
      }
      const keyStart = i;
      const k = string();
      if (Object.prototype.hasOwnProperty.call(o, k)) fail(`duplicate key "${k}"`, keyStart);
      const child = path ? `${path}.${k}` : k;
      map.set(child, { keyStart, keyEnd: i });
      ws();
      if (text[i] !== ':') fail(`expected ':' after "${k}"`);
      i++;
      Object.defineProperty(o, k, { value: value(child), enumerable: true, writable: true, configurable: true });
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return o;
      }
      fail(`unexpected ${describe(text[i])} after the value of "${k}", expected ',' or '}'`);
    }
  };
  const array = (path) => {
    i++;
    const a = [];
    ws();
    if (text[i] === ']') {
      i++;
      return a;
    }
    for (;;) {
      ws();
      if (text[i] === ']') fail("a ',' before ']' (trailing comma)");
      a.push(value(`${path}[${a.length}]`));
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return a;
      }
      fail(`unexpected ${describe(text[i])} after item ${a.length - 1}, expected ',' or ']'`);
    }
  };
  try {
    const v = value('');
    ws();
    if (i < text.length) fail(`unexpected ${describe(text[i])} after the end of the JSON value`);
    return { value: v, map, error: null };
  } catch (e) {
    if (typeof e.pos !== 'number') throw e;
    return { value: null, map, error: { message: e.message, pos: e.pos } };
  }
}

const parentPath = (p) => {
  const q = p.replace(/(?:\.[^.[\]]+|\[\d+\])$/, '');
  return q === p ? '' : q;
};

function lineCol(text, pos) {
  let line = 1;
  let last = -1;
  for (let k = 0; k < pos && k < text.length; k++) {
    if (text.charCodeAt(k) === 10) {
      line++;
      last = k;
    }
  }
  return { line, col: pos - last };
}

// The text range of a JSON path (or of its nearest ancestor in the text), narrowed to the key
// or value the message names when it names one the text has.
function rangeOf(parsed, text, path, message) {
  let p = path;
  for (;;) {
    const e = parsed.map.get(p);
    if (e && e.start !== undefined) {
      const unknown = /unknown (field|variant) `([^`]+)`/.exec(message || '');
      if (unknown && unknown[1] === 'field') {
        const k = parsed.map.get(p ? `${p}.${unknown[2]}` : unknown[2]);
        if (k && k.keyStart !== undefined) return { start: k.keyStart, end: k.keyEnd };
      } else if (unknown) {
        // An unknown variant is a string value inside the element: the first one spelled so.
        const quoted = JSON.stringify(unknown[2]);
        const at = text.indexOf(quoted, e.start);
        if (at >= 0 && at < e.end) return { start: at, end: at + quoted.length };
      }
      const bad = /invalid (?:type|value): [a-z ]+? ("(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*)/.exec(message || '');
      if (bad) {
        const at = text.indexOf(bad[1], e.start);
        if (at >= 0 && at < e.end) return { start: at, end: at + bad[1].length };
      }
      return { start: e.start, end: e.end };
    }
    if (!p) return null;
    p = parentPath(p);
  }
}

// ---------------------------------------------------------------------------------------------
// An editor: line numbers, a highlight backdrop, a textarea.

class Editor {
  constructor(root, textarea, onInput) {
    this.ta = textarea;
    this.gutter = root.querySelector('.gutter');
    this.backdrop = root.querySelector('.backdrop');
    this.marks = { err: null, sel: null };
    this.badLine = 0;
    this.lines = 0;
    this.ta.addEventListener('input', () => {
      this.marks.sel = null;
      this.paint();
      onInput();
    });
    this.ta.addEventListener('scroll', () => this.sync());
    this.ta.addEventListener('keydown', (ev) => {
      if (ev.key === 'Tab' && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
        ev.preventDefault();
        document.execCommand('insertText', false, '  ');
      }
    });
  }
  get text() {
    return this.ta.value;
  }
  set text(t) {
    this.ta.value = t;
    this.marks = { err: null, sel: null };
    this.paint();
  }
  // Replaces the text as one undoable edit where the browser allows it.
  replace(t) {
    const top = this.ta.scrollTop;
    this.ta.focus();
    this.ta.select();
    if (!document.execCommand('insertText', false, t)) this.ta.value = t;
    this.ta.setSelectionRange(0, 0);
    this.ta.scrollTop = top;
    this.marks = { err: null, sel: null };
    this.paint();
  }
  mark(kind, range) {
    this.marks[kind] = range;
    this.paint();
  }
  paint() {
    const t = this.ta.value;
    const n = t.split('\n').length;
    const err = this.marks.err;
    const bad = err ? lineCol(t, err.start).line : 0;
    if (n !== this.lines || bad !== this.badLine) {
      this.gutter.replaceChildren();
      for (let k = 1; k <= n; k++) {
        const s = el('span', k === bad ? 'bad' : '', String(k));
        this.gutter.append(s, '\n');
      }
      this.lines = n;
      this.badLine = bad;
    }
    const ranges = [];
    if (this.marks.sel) ranges.push({ ...this.marks.sel, cls: 'sel' });
    if (err) ranges.push({ start: err.start, end: Math.max(err.end, err.start + 1), cls: 'err' });
    ranges.sort((a, b) => a.start - b.start);
    const parts = [];
    let at = 0;
    for (const r of ranges) {
      const s = Math.max(r.start, at);
      const e = Math.min(Math.max(r.end, s), t.length + 1);
      if (s > at) parts.push(document.createTextNode(t.slice(at, s)));
      // A mark past the last character (an error at the end) still shows as one cell.
      parts.push(el('mark', r.cls, t.slice(s, e) || ' '));
      at = Math.max(at, e);
    }
    parts.push(document.createTextNode(t.slice(at) + '\n'));
    this.backdrop.replaceChildren(...parts);
    this.sync();
  }
  sync() {
    this.gutter.scrollTop = this.ta.scrollTop;
    this.backdrop.scrollTop = this.ta.scrollTop;
    this.backdrop.scrollLeft = this.ta.scrollLeft;
  }
  // Selects a range, scrolls it into view (about a third from the top) and focuses.
  select(range, kind = 'sel') {
    const t = this.ta.value;
    this.ta.focus();
    this.ta.setSelectionRange(range.start, kind === 'sel' ? range.end : range.start);
    const line = lineCol(t, range.start).line;
    const lh = parseFloat(getComputedStyle(this.ta).lineHeight) || 18;
    this.ta.scrollTop = Math.max(0, (line - 1) * lh - this.ta.clientHeight / 3);
    if (kind === 'sel') this.mark('sel', range);
    this.sync();
  }
}

// ---------------------------------------------------------------------------------------------
// State and API.

const state = {
  token: '',
  models: new Map(), // name -> {width, height, inks}
  samples: [],
  template: { text: '', parsed: null },
  product: { text: '', parsed: null },
  reports: [], // [{model, report, url}]
  controller: null,
  timer: 0,
  seq: 0,
  selected: '',
  savedText: null,
  errors: { template: null, product: null },
};

function takeToken() {
  const url = new URL(location.href);
  const given = url.searchParams.get('token');
  if (given) {
    sessionStorage.setItem(TOKEN_KEY, given);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

// A message above the page; with `ask`, a field to give the token (kept in this tab only).
function banner(text, ask = false) {
  const b = $('banner');
  b.replaceChildren(text || '');
  b.hidden = !text;
  if (!ask) return;
  const input = el('input');
  input.type = 'password';
  input.placeholder = 'token';
  input.id = 'token-input';
  input.autocomplete = 'off';
  const go = el('button', 'primary', 'Use token');
  go.type = 'button';
  const use = () => {
    const t = input.value.trim();
    if (!t) return;
    sessionStorage.setItem(TOKEN_KEY, t);
    location.reload();
  };
  go.addEventListener('click', use);
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') use();
  });
  b.append(' ', input, ' ', go);
}

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  headers.set('Authorization', `Bearer ${state.token}`);
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    banner('The service refused the token. Open the address `esl serve` printed (it ends in ?token=…), or give the token:', true);
  }
  return response;
}

async function errorOf(response) {
  try {
    const body = await response.json();
    return { message: body.error || `HTTP ${response.status}`, path: body.path || null };
  } catch (_) {
    return { message: `HTTP ${response.status} ${response.statusText}`, path: null };
  }
}

function status(text, cls = '') {
  const s = $('status');
  s.textContent = text;
  s.title = text;
  s.className = `status ${cls}`;
}

// ---------------------------------------------------------------------------------------------
// Errors shown under an editor, at their path.

function showError(which, err) {
  state.errors[which] = err;
  const box = $(`${which}-error`);
  const editor = editors[which];
  if (!err) {
    box.hidden = true;
    box.replaceChildren();
    editor.mark('err', null);
    templateState();
    return;
  }
  box.hidden = false;
  box.replaceChildren();
  if (err.where) {
    box.append(el('code', '', err.where), ' ');
  }
  box.append(err.message);
  editor.mark('err', err.range || null);
  templateState();
}

// The loader's message without what the page shows apart: the template's name and the path
// (shown beside it), serde's repeated position; a render's line and column too, which count in
// the request body the page sent, not in the editor.
function cleanMessage(message, fromRender) {
  return message
    .replace(/ at line \d+ column \d+$/, '')
    .replace(/^template [^:]*: at [^:(]+?(?: \((line \d+, column \d+)\))?: /, (_, pos) => (fromRender || !pos ? '' : `${pos}: `));
}

// Maps an error of the service (path relative to the request body) onto the editors.
function serviceError(err, fromRender = true) {
  let which = 'template';
  let path = err.path;
  if (path === 'product' || (path && path.startsWith('product.'))) {
    which = 'product';
    path = path === 'product' ? '' : path.slice('product.'.length);
  } else if (path === 'template') {
    path = '';
  } else if (path && path.startsWith('template.')) {
    path = path.slice('template.'.length);
  } else if (path === 'model') {
    path = 'models';
  } else if (path === '(body)' || path === '(top level)') {
    path = '';
  }
  const doc = state[which];
  const range = path !== null && doc.parsed ? rangeOf(doc.parsed, doc.text, path, err.message) : null;
  showError(which, { message: cleanMessage(err.message, fromRender), where: err.path ? path || '(top level)' : '', range });
  const other = which === 'template' ? 'product' : 'template';
  if (state.errors[other] && state.errors[other].service) showError(other, null);
  state.errors[which].service = true;
}

// ---------------------------------------------------------------------------------------------
// Rendering.

// The pill above the template: does it load, and does it differ from what is saved?
function templateState() {
  const pill = $('template-state');
  const bad = Boolean(state.errors.template);
  const modified = editors.template.text !== state.savedText;
  pill.textContent = bad ? 'error' : modified ? 'modified' : 'saved';
  pill.className = `pill ${bad ? 'bad' : modified ? 'warn' : 'ok'}`;
}

function schedule() {
  clearTimeout(state.timer);
  state.timer = setTimeout(update, DEBOUNCE_MS);
}

function parseEditor(which) {
  const doc = state[which];
  doc.text = editors[which].text;
  doc.parsed = parseJson(doc.text);
  const e = doc.parsed.error;
  if (e) {
    const { line, col } = lineCol(doc.text, e.pos);
    showError(which, { message: `JSON: ${e.message}`, where: `line ${line}, column ${col}`, range: { start: e.pos, end: e.pos + 1 } });
    return false;
  }
  // A syntax error of this editor is gone; the service's errors stay until the next answer.
  if (state.errors[which] && !state.errors[which].service) showError(which, null);
  return true;
}

function templateModels(t) {
  const list = t && Array.isArray(t.models) ? t.models.filter((m) => typeof m === 'string') : [];
  if (list.length) return [...new Set(list)];
  return state.models.size ? [state.models.keys().next().value] : ['SL121'];
}

async function update() {
  clearTimeout(state.timer);
  const okT = parseEditor('template');
  const okP = parseEditor('product');
  refreshPictures();
  if (!okT || !okP) {
    // A render still on its way must not replace the error with an older text's result.
    if (state.controller) state.controller.abort();
    state.seq++;
    markStale(true);
    document.body.dataset.state = 'error';
    return;
  }
  if (state.controller) state.controller.abort();
  const controller = new AbortController();
  state.controller = controller;
  const seq = ++state.seq;
  document.body.dataset.state = 'busy';
  const models = templateModels(state.template.parsed.value);
  const started = performance.now();
  try {
    const results = await Promise.all(models.map((model) => renderOne(model, controller.signal)));
    if (seq !== state.seq) {
      for (const r of results) if (r.url) URL.revokeObjectURL(r.url);
      return;
    }
    const failed = results.find((r) => r.error);
    if (failed) {
      serviceError(failed.error);
      markStale(true);
      document.body.dataset.state = 'error';
      $('timing').textContent = '';
      return;
    }
    showError('template', null);
    showError('product', null);
    for (const r of state.reports) URL.revokeObjectURL(r.url);
    state.reports = results;
    drawCards();
    drawWarnings();
    const ms = Math.round(performance.now() - started);
    $('timing').textContent = `${models.length} model${models.length > 1 ? 's' : ''} rendered in ${ms} ms`;
    document.body.dataset.renders = String(Number(document.body.dataset.renders || 0) + 1);
    document.body.dataset.state = 'idle';
  } catch (e) {
    if (e.name === 'AbortError') return;
    if (seq !== state.seq) return;
    showError('template', { message: `Cannot reach the service: ${e.message}`, where: '' });
    document.body.dataset.state = 'error';
  }
}

async function renderOne(model, signal) {
  const body = `{"template": ${state.template.text}, "product": ${state.product.text}, "model": ${JSON.stringify(model)}}`;
  const post = (query) => api(`/v1/render${query}`, {
    method: 'POST', body, signal, headers: { 'Content-Type': 'application/json' },
  });
  const [jr, pr] = await Promise.all([post('?format=json'), post('')]);
  if (!jr.ok) return { model, error: await errorOf(jr) };
  if (!pr.ok) return { model, error: await errorOf(pr) };
  const report = await jr.json();
  const blob = await pr.blob();
  return { model, report, url: URL.createObjectURL(blob), bytes: blob.size };
}

function markStale(stale) {
  for (const card of document.querySelectorAll('.model')) card.classList.toggle('stale', stale);
}

// The zoom of a label shown `width` × `height` pixels: the one chosen, or with "fit" the
// largest whole zoom (2 to 8) at which it fits the preview column's width and 70% of the
// window's height.
function zoom(width, height) {
  const chosen = Number($('zoom').value);
  if (chosen) return chosen;
  const room = $('models').clientWidth - 28;
  const byWidth = Math.floor(room / Math.max(1, width));
  const byHeight = Math.floor((window.innerHeight * 0.7) / Math.max(1, height));
  return Math.max(2, Math.min(8, byWidth, byHeight));
}

// Quarter turns that show a rotated template's label upright (as read on the shelf), or 0.
function uprightTurns() {
  const t = state.template.parsed && state.template.parsed.value;
  if (!$('upright').checked || !t || typeof t.rotation !== 'number') return 0;
  return (((Math.round(t.rotation / 90)) % 4) + 4) % 4;
}

// `node` (w × h pixels) turned back by `turns` quarter turns, in a holder of the turned size.
function turned(node, w, h, turns) {
  if (!turns) return node;
  const [hw, hh] = turns % 2 ? [h, w] : [w, h];
  const holder = el('div', 'turned');
  holder.style.width = `${hw}px`;
  holder.style.height = `${hh}px`;
  node.style.position = 'absolute';
  node.style.left = `${(hw - w) / 2}px`;
  node.style.top = `${(hh - h) / 2}px`;
  node.style.transform = `rotate(${-90 * turns}deg)`;
  return holder.appendChild(node) && holder;
}

// What the renderer chose for an element, for its box's tooltip.
function describeContent(c) {
  if (!c) return '';
  switch (c.type) {
    case 'text':
      return `\ntext at size ${c.size}, ${c.lines.length} line${c.lines.length === 1 ? '' : 's'}${c.truncated ? ', cut to fit' : ''}`;
    case 'price':
      return `\nprice: ${c.parts.map((p) => `${p.text} (${p.size})`).join(' ')}${c.strike ? ', struck' : ''}`;
    case 'barcode':
      return `\n${c.symbology} ${c.value}: ${c.modules} modules of ${c.module_px} px`;
    case 'qr':
      return `\nQR ${c.modules}×${c.modules} modules of ${c.module_px} px`;
    case 'picture':
      return `\npicture ${c.area.w}×${c.area.h} px`;
    default:
      return '';
  }
}

function warnedPaths(report) {
  return new Set((report.warning_details || []).map((w) => w.element));
}

function drawCards() {
  const root = $('models');
  root.classList.toggle('show-boxes', $('boxes').checked);
  root.replaceChildren();
  if (!state.reports.length) {
    root.append(el('div', 'placeholder', 'No preview yet.'));
    return;
  }
  for (const { model, report, url, bytes } of state.reports) {
    const turns = uprightTurns();
    const z = turns % 2 ? zoom(report.height, report.width) : zoom(report.width, report.height);
    const grid = $('grid').checked && z >= 4;
    const card = el('div', 'model');
    card.dataset.model = model;
    const head = el('div', 'model-head');
    const info = state.models.get(model);
    head.append(el('strong', '', report.model || model));
    head.append(el('span', 'hint', `${report.width} × ${report.height} px${info ? ` · ${info.inks.join(', ')}` : ''}`));
    const png = el('a', 'hint took', `${bytes.toLocaleString()} bytes PNG`);
    png.href = url;
    png.download = `${$('save-name').value.trim() || 'label'}-${model}.png`;
    png.title = 'Download this PNG';
    head.append(png);
    const body = el('div', 'model-body');
    const one = el('div', 'one');
    const img1 = el('img', 'one-img');
    img1.src = url;
    img1.alt = `${model} at 1×`;
    img1.width = report.width;
    img1.height = report.height;
    one.append(turned(img1, report.width, report.height, turns), el('span', 'hint', turns ? '1×, upright' : '1×'));
    const col = el('div', 'zoom-col');
    const scroll = el('div', 'zoom-scroll');
    const zoomed = el('div', 'zoomed');
    zoomed.style.width = `${report.width * z}px`;
    zoomed.style.height = `${report.height * z}px`;
    const img = el('img', 'zoom-img');
    img.src = url;
    img.alt = `${model} at ${z}×`;
    img.width = report.width * z;
    img.height = report.height * z;
    zoomed.append(img);
    if (grid) {
      const g = el('div', 'grid-overlay');
      const line = 'rgba(17, 24, 39, 0.16)';
      g.style.backgroundImage = `linear-gradient(to right, ${line} 1px, transparent 1px), linear-gradient(to bottom, ${line} 1px, transparent 1px)`;
      g.style.backgroundSize = `${z}px ${z}px`;
      zoomed.append(g);
    }
    const boxes = el('div', 'boxes');
    const warned = warnedPaths(report);
    for (const e of report.elements || []) {
      const b = e.panel_box || e.box;
      if (!b || b.w <= 0 || b.h <= 0) continue;
      const d = el('div', 'box');
      d.dataset.path = e.path;
      if (warned.has(e.path)) d.classList.add('warned');
      if (e.path === state.selected) d.classList.add('selected');
      if (b.y * z < 18) d.classList.add('low');
      d.style.left = `${b.x * z}px`;
      d.style.top = `${b.y * z}px`;
      d.style.width = `${b.w * z}px`;
      d.style.height = `${b.h * z}px`;
      d.title = `${e.id ? `${e.id} · ` : ''}${e.path} · ${b.w}×${b.h} at ${b.x},${b.y}${describeContent(e.content)}`;
      d.append(el('span', 'tag', e.id || e.path));
      d.addEventListener('click', (ev) => {
        ev.stopPropagation();
        selectPath(e.path);
      });
      boxes.append(d);
    }
    zoomed.append(boxes);
    scroll.append(turned(zoomed, report.width * z, report.height * z, turns));
    col.append(scroll, el('span', 'hint', `${z}×${grid ? ', pixel grid' : ''} · click a box to find its JSON`));
    body.append(one, col);
    card.append(head, body);
    root.append(card);
  }
}

function drawWarnings() {
  const list = $('warnings');
  list.replaceChildren();
  const groups = new Map();
  const ids = new Map();
  for (const { report } of state.reports) {
    for (const e of report.elements || []) if (e.id) ids.set(e.path, e.id);
  }
  for (const { model, report } of state.reports) {
    for (const w of report.warning_details || []) {
      const key = `${w.element}\u0000${w.message}`;
      const g = groups.get(key) || { ...w, models: [] };
      g.models.push(model);
      groups.set(key, g);
    }
  }
  const count = $('warning-count');
  count.textContent = groups.size ? String(groups.size) : 'none';
  count.className = `pill ${groups.size ? 'warn' : 'ok'}`;
  if (!groups.size) {
    list.append(el('li', 'none', 'No warnings on any model.'));
    return;
  }
  for (const w of groups.values()) {
    const li = el('li');
    li.dataset.path = w.element;
    li.append(el('span', 'kind', w.kind.replace(/_/g, ' ')));
    li.append(el('span', 'model-name', w.models.join(', ')));
    const msg = el('span', 'msg');
    const text = w.message.startsWith(`${w.element}: `) ? w.message.slice(w.element.length + 2) : w.message;
    const id = ids.get(w.element);
    // Line breaks of the text shown are escaped in the message; show them as ⏎.
    msg.append(el('code', '', id ? `${id} · ${w.element}` : w.element), ' ', text.replace(/\\n/g, ' ⏎ '));
    li.append(msg);
    li.addEventListener('click', () => selectPath(w.element));
    list.append(li);
  }
}

function selectPath(path) {
  state.selected = path;
  for (const b of document.querySelectorAll('.box')) b.classList.toggle('selected', b.dataset.path === path);
  const doc = state.template;
  if (!doc.parsed || doc.parsed.error) return;
  const e = doc.parsed.map.get(path);
  if (e && e.start !== undefined) editors.template.select({ start: e.start, end: e.end });
}

// The element whose JSON holds the caret (the innermost one the preview shows).
function caretElement() {
  const doc = state.template;
  if (!doc.parsed || doc.parsed.error || !state.reports.length) return;
  const at = editors.template.ta.selectionStart;
  let best = null;
  for (const e of state.reports[0].report.elements || []) {
    const r = doc.parsed.map.get(e.path);
    if (r && r.start <= at && at <= r.end && (!best || r.end - r.start < best.len)) {
      best = { path: e.path, len: r.end - r.start };
    }
  }
  state.selected = best ? best.path : '';
  for (const b of document.querySelectorAll('.box')) b.classList.toggle('selected', b.dataset.path === state.selected);
}

// ---------------------------------------------------------------------------------------------
// Dithering controls: one row per image element, editing its `dither` in the JSON text.

function imageElements(v, path, out) {
  if (Array.isArray(v)) {
    v.forEach((x, k) => imageElements(x, `${path}[${k}]`, out));
  } else if (v && typeof v === 'object') {
    if (v.type === 'image') out.push({ path, el: v });
    for (const k of Object.keys(v)) imageElements(v[k], path ? `${path}.${k}` : k, out);
  }
  return out;
}

let picturesKey = '';

function refreshPictures() {
  const doc = state.template;
  if (!doc.parsed || doc.parsed.error) return;
  const images = imageElements(doc.parsed.value, '', []);
  const key = JSON.stringify(images);
  if (key === picturesKey) return;
  picturesKey = key;
  const root = $('pictures');
  $('pictures-panel').hidden = images.length === 0;
  root.replaceChildren();
  for (const { path, el: image } of images) {
    const row = el('div', 'picture-row');
    row.dataset.path = path;
    const label = el('code', '', image.id ? `${image.id} (${path})` : path);
    label.addEventListener('click', () => selectPath(path));
    const dither = image.dither && typeof image.dither === 'object' ? image.dither : null;
    const current = dither ? ALIASES[dither.algorithm] || dither.algorithm || 'sierra' : image.threshold !== undefined ? 'threshold' : '';
    const pick = el('select', 'dither-pick');
    pick.append(new Option('default (sierra)', ''));
    for (const a of ALGORITHMS) pick.append(new Option(a, a));
    pick.value = current;
    pick.addEventListener('change', () => setDither(path, pick.value));
    row.append(label, el('span', 'hint', 'dither'), pick);
    if (dither) {
      for (const [name, min, max, step, dflt] of [['brightness', -1, 1, 0.05, 0], ['contrast', 0, 3, 0.05, 1]]) {
        const input = el('input');
        input.type = 'range';
        input.min = String(min);
        input.max = String(max);
        input.step = String(step);
        input.value = String(typeof dither[name] === 'number' ? dither[name] : dflt);
        input.className = `dither-${name}`;
        const val = el('span', 'val', Number(input.value).toFixed(2));
        input.addEventListener('input', () => {
          val.textContent = Number(input.value).toFixed(2);
        });
        input.addEventListener('change', () => setMember(`${path}.dither`, name, String(Number(input.value))));
        row.append(el('span', 'hint', name), input, val);
      }
    }
    root.append(row);
  }
}

// Sets `key` of the object at `objPath` to the JSON text `json`, touching only that member.
function setMember(objPath, key, json) {
  const doc = state.template;
  const text = editors.template.text;
  const parsed = parseJson(text);
  if (parsed.error) return;
  const member = parsed.map.get(`${objPath}.${key}`);
  let next;
  if (member && member.start !== undefined) {
    next = text.slice(0, member.start) + json + text.slice(member.end);
  } else {
    const obj = parsed.map.get(objPath);
    if (!obj || text[obj.end - 1] !== '}') return;
    let k = obj.end - 2;
    while (k > obj.start && /\s/.test(text[k])) k--;
    const insert = text[k] === '{' ? `"${key}": ${json}` : `, "${key}": ${json}`;
    next = text.slice(0, k + 1) + insert + text.slice(k + 1);
  }
  doc.text = next;
  editors.template.replace(next);
  update();
}

// Removes `key` from the object at `objPath`, with its comma.
function removeMember(objPath, key) {
  const text = editors.template.text;
  const parsed = parseJson(text);
  if (parsed.error) return;
  const m = parsed.map.get(`${objPath}.${key}`);
  if (!m || m.keyStart === undefined) return;
  let from = m.keyStart;
  let to = m.end;
  let k = from - 1;
  while (k >= 0 && /\s/.test(text[k])) k--;
  if (text[k] === ',') {
    from = k;
  } else {
    let j = to;
    while (j < text.length && /\s/.test(text[j])) j++;
    if (text[j] === ',') {
      j++;
      while (j < text.length && text[j] === ' ') j++;
      to = j;
    }
  }
  const next = text.slice(0, from) + text.slice(to);
  editors.template.replace(next);
  update();
}

function setDither(path, algorithm) {
  const image = imageElements(state.template.parsed.value, '', []).find((x) => x.path === path);
  if (!image) return;
  if (!algorithm) {
    removeMember(path, 'dither');
  } else if (image.el.dither && typeof image.el.dither === 'object') {
    setMember(`${path}.dither`, 'algorithm', JSON.stringify(algorithm));
  } else {
    setMember(path, 'dither', `{"algorithm": ${JSON.stringify(algorithm)}}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Templates, samples, save.

async function loadTemplateList(select) {
  const r = await api('/v1/templates');
  if (!r.ok) {
    status(`Templates: ${(await errorOf(r)).message}`, 'bad');
    return [];
  }
  const names = await r.json();
  const pick = $('template-pick');
  pick.replaceChildren(new Option('(unsaved)', ''));
  for (const n of names) pick.append(new Option(n, n));
  pick.value = names.includes(select) ? select : '';
  return names;
}

async function loadTemplate(name) {
  const r = await api(`/v1/templates/${encodeURIComponent(name)}`);
  if (!r.ok) {
    status(`Template ${name}: ${(await errorOf(r)).message}`, 'bad');
    return;
  }
  editors.template.text = await r.text();
  state.savedText = editors.template.text;
  editors.template.ta.scrollTop = 0;
  $('save-name').value = name;
  state.selected = '';
  status(`Loaded ${name}`);
  await update();
}

async function loadSamples() {
  const r = await api('/v1/samples/products');
  if (!r.ok) return;
  state.samples = await r.json();
  const pick = $('product-pick');
  for (const s of state.samples) pick.append(new Option(s.name, s.name));
}

function useSample(name) {
  const s = state.samples.find((x) => x.name === name);
  if (!s) return;
  editors.product.text = s.text || `${JSON.stringify(s.product, null, 2)}\n`;
  $('product-pick').value = name;
}

async function save() {
  const name = $('save-name').value.trim();
  if (!name) {
    status('Give the template a name to save it under.', 'bad');
    $('save-name').focus();
    return;
  }
  if (!parseEditor('template')) {
    status('Not saved: the template is not valid JSON.', 'bad');
    return;
  }
  $('save').disabled = true;
  try {
    const r = await api(`/v1/templates/${encodeURIComponent(name)}`, {
      method: 'PUT', body: editors.template.text, headers: { 'Content-Type': 'application/json' },
    });
    if (r.ok) {
      state.savedText = editors.template.text;
      templateState();
      status(`Saved ${name}.json at ${new Date().toLocaleTimeString()}`, 'ok');
      document.body.dataset.saved = name;
      await loadTemplateList(name);
    } else {
      const err = await errorOf(r);
      serviceError(err, false);
      status(`Not saved: ${err.path ? `${err.path}: ` : ''}${cleanMessage(err.message, false)}`, 'bad');
    }
  } catch (e) {
    status(`Not saved: ${e.message}`, 'bad');
  } finally {
    $('save').disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------

let editors;

async function main() {
  state.token = takeToken();
  editors = {
    template: new Editor($('template-editor'), $('template'), schedule),
    product: new Editor($('product-editor'), $('product'), () => {
      $('product-pick').value = '';
      schedule();
    }),
  };
  for (const which of ['template', 'product']) {
    $(`${which}-error`).addEventListener('click', () => {
      const err = state.errors[which];
      if (err && err.range) editors[which].select(err.range, 'caret');
    });
  }
  editors.template.ta.addEventListener('click', caretElement);
  editors.template.ta.addEventListener('keyup', caretElement);
  // Unsaved edits are not dropped without asking (another template, closing the tab).
  const modified = () => state.savedText !== null && editors.template.text !== state.savedText;
  let shown = '';
  $('template-pick').addEventListener('focus', (ev) => {
    shown = ev.target.value;
  });
  $('template-pick').addEventListener('change', (ev) => {
    const name = ev.target.value;
    if (!name) return;
    if (modified() && !window.confirm(`Discard the unsaved changes and load ${name}?`)) {
      ev.target.value = shown;
      return;
    }
    shown = name;
    loadTemplate(name);
  });
  window.addEventListener('beforeunload', (ev) => {
    if (modified()) ev.preventDefault();
  });
  $('product-pick').addEventListener('change', (ev) => {
    if (ev.target.value) {
      useSample(ev.target.value);
      update();
    }
  });
  $('save').addEventListener('click', save);
  $('save-name').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') save();
  });
  document.addEventListener('keydown', (ev) => {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === 's') {
      ev.preventDefault();
      save();
    }
  });
  for (const id of ['zoom', 'grid', 'boxes', 'upright']) $(id).addEventListener('change', drawCards);
  let width = 0;
  new ResizeObserver(() => {
    const w = $('models').clientWidth;
    if (w !== width && state.reports.length && !Number($('zoom').value)) drawCards();
    width = w;
  }).observe($('models'));

  if (!state.token) {
    banner('No API token: open the address `esl serve` printed (it ends in ?token=…), or give the token:', true);
    return;
  }
  const mr = await api('/v1/models');
  if (mr.ok) {
    for (const m of await mr.json()) state.models.set(m.name, m);
  }
  await loadSamples();
  const wanted = new URL(location.href).searchParams.get('template');
  const names = await loadTemplateList(wanted);
  const sample = new URL(location.href).searchParams.get('product');
  useSample(state.samples.some((s) => s.name === sample) ? sample : 'cola');
  const first = names.includes(wanted) ? wanted : names[0];
  if (first) {
    $('template-pick').value = first;
    await loadTemplate(first);
  } else {
    editors.template.text = '{\n  "version": 2,\n  "models": ["SL121"],\n  "elements": []\n}\n';
    await update();
  }
}

main();
