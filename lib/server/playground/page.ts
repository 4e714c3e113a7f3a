/**
 * The browser playground of `emosteer serve --ui` (GET /ui): one self-contained HTML page, its
 * style and script inline, no remote resource (it works offline, and its Content-Security-Policy
 * lets it talk to its own server only). It uses the server's public API, as any client would:
 * GET /v1/models and /v1/steering to learn the model and the vector sets, then POST
 * /v1/chat/completions with `stream: true`, `meter: <set>` and the `steering` field built from
 * the sliders. The conversation lives in the page (it is sent whole with each message).
 *
 * Parts a test drives (stable ids and data attributes): `#key` (the API key, sent as
 * `Authorization: Bearer <key>`), `#set`, `input[type=range][data-emotion]` (one slider per
 * emotion), `input[data-auto]` ("auto": `strength: 'auto'`, shown where the set lists a
 * calibrated strength), `#prompt`, `#send`, `#stop`, `#compare` (the same message with and
 * without steering, two streams in parallel with one seed), `.reply[data-side=main|plain]`
 * with its `.text`, and `svg.meter path.trace[data-emotion][data-points]` (the meter plot: one
 * line per shown emotion over the reply's tokens).
 *
 * @module
 */

/** The page's script: plain browser JavaScript, no dependencies (its hash goes into the page's CSP). */
export const PLAYGROUND_SCRIPT = String.raw`'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

  /** An HTML element with attributes (text: its text content) and children. */
  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') e.textContent = String(v);
      else if (k === 'class') e.className = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }
  function s(tag, attrs) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    return e;
  }

  const state = {
    key: '',
    sets: [],
    strengths: new Map(),
    auto: new Set(),
    turns: [],
    running: null,
  };

  function setStatus(text, kind) {
    const el = $('status');
    el.textContent = text || '';
    el.dataset.kind = kind || '';
  }
  function headers(json) {
    const out = {};
    if (json) out['content-type'] = 'application/json';
    if (state.key) out.authorization = 'Bearer ' + state.key;
    return out;
  }
  function errorText(status, body) {
    const m = body && body.error && body.error.message;
    if (status === 401) return 'this server needs its API key (it was started with --api-key): type it in the key field above';
    return 'HTTP ' + status + (m ? ': ' + m : '');
  }
  async function getJson(path) {
    const r = await fetch(path, { headers: headers(false) });
    let body = null;
    try { body = await r.json(); } catch { body = null; }
    if (!r.ok) {
      const e = new Error(errorText(r.status, body));
      e.status = r.status;
      throw e;
    }
    return body;
  }

  // ---- server, vector sets, sliders ----

  async function connect() {
    state.key = $('key').value.trim();
    setStatus('connecting...', '');
    try {
      const [models, steering] = await Promise.all([getJson('v1/models'), getJson('v1/steering')]);
      const m = models && Array.isArray(models.data) && models.data[0];
      $('model').textContent = m ? m.id + (m.meta && m.meta.description ? ' (' + m.meta.description + ')' : '') : '';
      state.sets = steering && Array.isArray(steering.sets) ? steering.sets : [];
      $('keybox').classList.remove('need');
      renderSets();
      document.body.dataset.ready = '1';
      if (state.sets.length === 0) setStatus('this server has no vector set (start it with --vectors <dir>): chat works; steering and the meter need a set', 'warn');
      else setStatus('', '');
    } catch (e) {
      if (e.status === 401) {
        $('keybox').classList.add('need');
        $('key').focus();
      }
      setStatus(e.message, 'error');
    }
  }

  function currentSet() {
    const name = $('set').value;
    return state.sets.find((x) => x.name === name) || state.sets[0] || null;
  }

  function renderSets() {
    const select = $('set');
    const before = select.value;
    select.replaceChildren(...state.sets.map((x) => h('option', { value: x.name, text: x.name + ' (' + x.emotions.length + ' emotions, ' + x.method + ')' })));
    if (state.sets.some((x) => x.name === before)) select.value = before;
    select.disabled = state.sets.length < 2;
    renderSliders();
  }

  /** Slider range: norm-scaled sets take fractions of the residual norm; raw sets raw multiples. */
  function sliderRange(set) {
    return set && set.scaling === 'norm' ? { max: 0.25, step: 0.005, digits: 3 } : { max: 4, step: 0.05, digits: 2 };
  }
  function colorOf(set, name) {
    const i = set ? set.emotions.indexOf(name) : -1;
    if (i >= 0 && i < PALETTE.length) return PALETTE[i];
    return 'hsl(' + Math.round(((i < 0 ? 0 : i) * 137.508) % 360) + ', 60%, 45%)';
  }
  function signed(v, digits) {
    return (v > 0 ? '+' : '') + v.toFixed(digits);
  }

  function renderSliders() {
    const set = currentSet();
    const list = $('sliders');
    list.replaceChildren();
    state.strengths.clear();
    state.auto.clear();
    if (!set) {
      updateWire();
      return;
    }
    const { max, step, digits } = sliderRange(set);
    const cal = set.calibrated && typeof set.calibrated === 'object' ? set.calibrated : null;
    const range = Array.isArray(set.steerable_layers) ? set.steerable_layers : null;
    $('layerFrom').placeholder = range ? String(range[0]) : '';
    $('layerTo').placeholder = range ? String(range[1]) : '';
    $('scaleNote').textContent = set.scaling === 'norm'
      ? 'strength x the block\'s mean residual norm (0.05 is gentle, 0.15 strong)'
      : 'raw vectors: strength multiplies the vector';
    for (const name of set.emotions) {
      const slider = h('input', { type: 'range', min: -max, max, step, value: 0, 'data-emotion': name, 'aria-label': name + ' strength' });
      const out = h('output', { text: '0' });
      const swatch = h('span', { class: 'swatch' });
      swatch.style.background = colorOf(set, name);
      const row = h('div', { class: 'emo', 'data-emotion': name }, swatch, h('span', { class: 'name', text: name }), slider, out);
      const refresh = () => {
        const auto = state.auto.has(name);
        const v = Number(slider.value);
        out.textContent = auto ? 'auto' : v === 0 ? '0' : signed(v, digits);
        row.classList.toggle('on', auto || v !== 0);
        updateWire();
      };
      slider.addEventListener('input', () => {
        const v = Number(slider.value);
        if (v === 0) state.strengths.delete(name);
        else state.strengths.set(name, v);
        refresh();
      });
      slider.addEventListener('dblclick', () => {
        slider.value = '0';
        state.strengths.delete(name);
        refresh();
      });
      if (cal && typeof cal[name] === 'number' && Number.isFinite(cal[name])) {
        const box = h('input', { type: 'checkbox', 'data-auto': name, 'aria-label': name + ': calibrated strength' });
        box.addEventListener('change', () => {
          if (box.checked) state.auto.add(name);
          else state.auto.delete(name);
          slider.disabled = box.checked;
          refresh();
        });
        row.append(h('label', { class: 'auto', title: 'send strength "auto": the set\'s calibrated strength, ' + cal[name].toFixed(digits) }, box, 'auto'));
      }
      list.append(row);
    }
    updateWire();
  }

  /** The request's steering field, from the sliders and the "where" options. */
  function steering() {
    const set = currentSet();
    if (!set) return [];
    const positions = $('positions').value;
    const from = $('layerFrom').value.trim();
    const to = $('layerTo').value.trim();
    const items = [];
    for (const name of set.emotions) {
      let strength;
      if (state.auto.has(name)) strength = 'auto';
      else if (state.strengths.has(name)) strength = state.strengths.get(name);
      else continue;
      const item = { emotion: name, strength };
      if (state.sets.length > 1) item.set = set.name;
      if (from !== '' && to !== '') item.layers = [Number(from), Number(to)];
      if (positions !== 'all') item.positions = positions;
      items.push(item);
    }
    return items;
  }
  function updateWire() {
    const st = steering();
    $('wire').textContent = st.length ? '"steering": ' + JSON.stringify(st) : 'no steering (every slider at 0)';
  }

  // ---- the conversation ----

  /** The messages sent for one side: the system prompt, then each earlier turn's user message and this side's reply. */
  function messagesFor(side, upto) {
    const msgs = [];
    const sys = $('system').value.trim();
    if (sys) msgs.push({ role: 'system', content: sys });
    for (const t of state.turns) {
      if (t === upto) {
        msgs.push({ role: 'user', content: t.user });
        break;
      }
      const reply = t.replies[side] !== undefined ? t.replies[side] : t.replies.main !== undefined ? t.replies.main : t.replies.plain;
      if (reply === undefined) continue; // a failed turn is left out
      msgs.push({ role: 'user', content: t.user }, { role: 'assistant', content: reply });
    }
    return msgs;
  }

  function describeSteering(items) {
    if (!items.length) return 'no steering';
    return items.map((i) => i.emotion + ' ' + (i.strength === 'auto' ? 'auto' : signed(i.strength, 3).replace(/0+$/, '').replace(/\.$/, ''))).join(', ');
  }

  function renderTurn(turn, sides) {
    const replies = h('div', { class: 'replies' });
    for (const side of sides) {
      const label = side === 'plain' ? 'without steering' : turn.steering.length ? 'steered: ' + describeSteering(turn.steering) : 'no steering';
      const text = h('div', { class: 'text' });
      const info = h('div', { class: 'info' });
      const svg = s('svg', { class: 'meter', viewBox: '0 0 560 170', role: 'img', 'aria-label': 'emotion meter over the reply\'s tokens' });
      const legend = h('div', { class: 'legend' });
      const caption = h('div', { class: 'caption' });
      const plot = h('figure', { class: 'plot', hidden: true }, svg, legend, caption);
      const root = h('div', { class: 'reply', 'data-side': side, 'data-state': 'waiting' }, h('div', { class: 'label', text: label }), text, info, plot);
      turn.views[side] = { root, text, info, svg, legend, caption, plot, readings: [], tokens: 0 };
      svg.addEventListener('mousemove', (ev) => hover(turn, side, ev));
      svg.addEventListener('mouseleave', () => { caption.textContent = ''; drawTurn(turn); });
      replies.append(root);
    }
    const el = h('div', { class: 'turn' }, h('div', { class: 'user', text: turn.user }), replies);
    $('log').append(el);
    el.scrollIntoView({ block: 'end' });
  }

  function setBusy(busy) {
    $('send').disabled = busy;
    $('stop').disabled = !busy;
  }

  async function send() {
    if (state.running) return;
    const text = $('prompt').value.trim();
    if (!text) return;
    const set = currentSet();
    const items = steering();
    const compare = $('compare').checked;
    const seedText = $('seed').value.trim();
    const seed = seedText === '' ? Math.floor(Math.random() * 2147483647) : Number(seedText);
    const turn = { user: text, replies: {}, steering: items, seed, set, views: {}, frame: 0 };
    const sides = compare ? ['main', 'plain'] : ['main'];
    state.turns.push(turn);
    $('prompt').value = '';
    renderTurn(turn, sides);
    const ctrl = new AbortController();
    state.running = ctrl;
    setBusy(true);
    setStatus('', '');
    try {
      await Promise.all(sides.map((side) => runSide(turn, side, side === 'main' ? items : [], ctrl.signal)));
    } finally {
      state.running = null;
      setBusy(false);
      $('prompt').focus();
    }
  }

  async function runSide(turn, side, items, signal) {
    const view = turn.views[side];
    const body = {
      messages: messagesFor(side, turn),
      stream: true,
      max_tokens: Math.max(1, Number($('maxTokens').value) || 64),
      temperature: Math.max(0, Number($('temperature').value) || 0),
      seed: turn.seed,
    };
    if (turn.set) body.meter = turn.set.name;
    if (items.length) body.steering = items;
    let text = '';
    let finish = null;
    const started = performance.now();
    view.root.dataset.state = 'streaming';
    try {
      await streamChat(body, signal, {
        token(delta) {
          view.tokens++;
          if (delta) {
            text += delta;
            view.text.textContent = text;
          }
        },
        meter(m, delta) {
          view.readings.push({ text: delta, emotions: m.emotions, top: m.top });
          scheduleDraw(turn);
        },
        finish(reason) { finish = reason; },
      });
      view.root.dataset.state = 'done';
      turn.replies[side] = text;
    } catch (e) {
      if (signal.aborted) {
        view.root.dataset.state = 'stopped';
        if (text) turn.replies[side] = text;
      } else {
        view.root.dataset.state = 'error';
        view.root.append(h('div', { class: 'error', text: e.message }));
        setStatus(e.message, 'error');
      }
    }
    const secs = (performance.now() - started) / 1000;
    const last = view.readings[view.readings.length - 1];
    view.info.textContent = view.tokens + ' tokens, ' + secs.toFixed(1) + ' s' + (finish ? ', finish: ' + finish : '') + (last ? ', last token\'s top emotion: ' + last.top : '');
    drawTurn(turn);
  }

  /** POSTs a streamed chat completion and calls back per token, per meter reading and at the finish. */
  async function streamChat(body, signal, on) {
    const r = await fetch('v1/chat/completions', { method: 'POST', headers: headers(true), body: JSON.stringify(body), signal });
    if (!r.ok) {
      let b = null;
      try { b = await r.json(); } catch { b = null; }
      throw new Error(errorText(r.status, b));
    }
    const reader = r.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const event = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        for (const line of event.split('\n')) {
          if (!line.startsWith('data: ')) continue;
          const data = line.slice(6);
          if (data === '[DONE]') return;
          const o = JSON.parse(data);
          if (o.error) throw new Error(o.error.message || 'the server reported an error');
          const c = o.choices && o.choices[0];
          const delta = c && c.delta ? c.delta : null;
          // The first chunk only announces the role; every other content chunk is one token.
          if (delta && typeof delta.content === 'string' && !('role' in delta)) on.token(delta.content);
          if (o.meter && o.meter.emotions) on.meter(o.meter, delta && typeof delta.content === 'string' ? delta.content : '');
          if (c && c.finish_reason) on.finish(c.finish_reason);
        }
      }
    }
  }

  // ---- the meter plot ----

  function scheduleDraw(turn) {
    if (turn.frame) return;
    turn.frame = requestAnimationFrame(() => {
      turn.frame = 0;
      drawTurn(turn);
    });
  }

  /** The emotions a turn's plots show: the steered ones, then the highest mean readings (as many as chosen). */
  function shownEmotions(turn) {
    const views = Object.values(turn.views);
    const names = turn.set ? turn.set.emotions : [];
    const n = $('lines').value === 'all' ? names.length : Number($('lines').value);
    const mean = new Map(names.map((e) => [e, 0]));
    let count = 0;
    for (const v of views) {
      for (const r of v.readings) {
        count++;
        for (const e of names) mean.set(e, mean.get(e) + (r.emotions[e] || 0));
      }
    }
    const ranked = [...names].sort((a, b) => mean.get(b) - mean.get(a));
    const out = [];
    for (const i of turn.steering) if (!out.includes(i.emotion) && names.includes(i.emotion)) out.push(i.emotion);
    for (const e of ranked) {
      if (out.length >= Math.max(n, turn.steering.length)) break;
      if (!out.includes(e)) out.push(e);
    }
    return { shown: out, count };
  }

  const W = 560, H = 170, L = 44, R = 10, T = 8, B = 22;

  /**
   * Draws every plot of a turn on one y scale (0 included), so that the steered and unsteered
   * replies compare; cursor marks one token of one side.
   */
  function drawTurn(turn, cursor) {
    const { shown, count } = shownEmotions(turn);
    if (count === 0) return shown;
    let lo = 0, hi = 0;
    for (const v of Object.values(turn.views)) {
      for (const r of v.readings) {
        for (const e of shown) {
          const x = r.emotions[e] || 0;
          if (x < lo) lo = x;
          if (x > hi) hi = x;
        }
      }
    }
    const pad = (hi - lo) * 0.08 || 0.05;
    for (const [side, v] of Object.entries(turn.views)) drawPlot(turn, v, shown, lo - pad, hi + pad, cursor && cursor.side === side ? cursor.index : undefined);
    return shown;
  }

  function drawPlot(turn, view, shown, lo, hi, cursor) {
    const rs = view.readings;
    if (rs.length === 0) return;
    view.plot.hidden = false;
    const svg = view.svg;
    svg.replaceChildren();
    const x = (i) => L + (rs.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (rs.length - 1));
    const y = (v) => T + ((hi - v) * (H - T - B)) / (hi - lo);
    svg.append(
      s('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }),
      s('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }),
      s('line', { x1: L, y1: y(0), x2: W - R, y2: y(0), class: 'zero' }),
    );
    const label = (tx, ty, text, anchor) => {
      const t = s('text', { x: tx, y: ty, 'text-anchor': anchor || 'end', class: 'tick' });
      t.textContent = text;
      svg.append(t);
    };
    label(L - 4, T + 8, hi.toFixed(2));
    label(L - 4, y(0) + 3, '0');
    label(L - 4, H - B, lo.toFixed(2));
    label(L, H - 6, '1', 'middle');
    label(W - R, H - 6, String(rs.length), 'middle');
    label((L + W - R) / 2, H - 6, 'token', 'middle');
    for (const e of shown) {
      const pts = rs.map((r, i) => x(i).toFixed(1) + ',' + y(r.emotions[e] || 0).toFixed(1));
      const color = colorOf(turn.set, e);
      svg.append(s('path', { d: 'M' + pts.join('L'), class: 'trace', stroke: color, 'data-emotion': e, 'data-points': pts.length }));
      if (pts.length === 1) {
        const [cx, cy] = pts[0].split(',');
        svg.append(s('circle', { cx, cy, r: 2.5, fill: color }));
      }
    }
    if (cursor !== undefined) svg.append(s('line', { x1: x(cursor), y1: T, x2: x(cursor), y2: H - B, class: 'cursor' }));
    const items = shown.map((e) => {
      const sw = h('span', { class: 'swatch' });
      sw.style.background = colorOf(turn.set, e);
      const mean = rs.reduce((a, r) => a + (r.emotions[e] || 0), 0) / rs.length;
      return h('span', { class: 'item', 'data-emotion': e }, sw, e + ' ' + mean.toFixed(3));
    });
    view.legend.replaceChildren(h('span', { class: 'what', text: 'mean over the reply:' }), ...items);
  }

  function hover(turn, side, ev) {
    const view = turn.views[side];
    const rs = view.readings;
    if (rs.length === 0) return;
    const box = view.svg.getBoundingClientRect();
    const px = ((ev.clientX - box.left) / box.width) * W;
    const i = rs.length === 1 ? 0 : Math.min(rs.length - 1, Math.max(0, Math.round(((px - L) / (W - L - R)) * (rs.length - 1))));
    const shown = drawTurn(turn, { side, index: i });
    const r = rs[i];
    view.caption.textContent = 'token ' + (i + 1) + ' ' + JSON.stringify(r.text) + ': top ' + r.top + '; ' + shown.map((e) => e + ' ' + (r.emotions[e] || 0).toFixed(3)).join(', ');
  }

  // ---- wiring ----

  $('connect').addEventListener('click', connect);
  $('key').addEventListener('keydown', (ev) => { if (ev.key === 'Enter') connect(); });
  $('set').addEventListener('change', renderSliders);
  $('positions').addEventListener('change', updateWire);
  $('layerFrom').addEventListener('input', updateWire);
  $('layerTo').addEventListener('input', updateWire);
  $('lines').addEventListener('change', () => { for (const t of state.turns) drawTurn(t); });
  $('reset').addEventListener('click', renderSliders);
  $('composer').addEventListener('submit', (ev) => { ev.preventDefault(); send(); });
  $('prompt').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey) {
      ev.preventDefault();
      send();
    }
  });
  $('stop').addEventListener('click', () => { if (state.running) state.running.abort(); });
  $('clear').addEventListener('click', () => {
    if (state.running) state.running.abort();
    state.turns = [];
    $('log').replaceChildren();
  });
  setBusy(false);
  connect();
})();
`;

/** The page's style. */
const STYLE = `
:root { color-scheme: light dark; --bg: #fafafa; --fg: #1d1d1f; --muted: #6b6b70; --line: #d8d8dc; --card: #fff; --accent: #2f6fde; --user: #e8effc; --err: #b3261e; }
@media (prefers-color-scheme: dark) { :root { --bg: #17181a; --fg: #e8e8ea; --muted: #9a9aa0; --line: #34353a; --card: #202124; --accent: #7aa7ff; --user: #23304a; --err: #ff8a80; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 12px; padding: 10px 16px; border-bottom: 1px solid var(--line); background: var(--card); }
h1 { font-size: 17px; margin: 0; } h1 span { font-weight: 400; color: var(--muted); }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 8px; }
#model { color: var(--muted); flex: 1; }
#keybox.need input { outline: 2px solid var(--err); }
#status { padding: 0 16px; min-height: 0; }
#status:not(:empty) { padding: 6px 16px; border-bottom: 1px solid var(--line); }
#status[data-kind=error] { color: var(--err); } #status[data-kind=warn] { color: #a15c00; }
.layout { display: grid; grid-template-columns: minmax(300px, 360px) 1fr; min-height: calc(100vh - 52px); }
aside { border-right: 1px solid var(--line); padding: 12px 14px; overflow-y: auto; max-height: calc(100vh - 52px); position: sticky; top: 0; }
aside section { margin-bottom: 18px; }
label { color: var(--fg); }
.emo { display: grid; grid-template-columns: 10px 6.5em 1fr 3.6em auto; align-items: center; gap: 6px; padding: 1px 0; }
.emo .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.emo.on .name { font-weight: 600; }
.emo output { font-variant-numeric: tabular-nums; text-align: right; color: var(--muted); }
.emo.on output { color: var(--fg); }
.emo input[type=range] { width: 100%; }
.emo .auto { font-size: 12px; color: var(--muted); white-space: nowrap; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; }
.note { font-size: 12px; color: var(--muted); margin: 4px 0 8px; }
.grid2 { display: grid; grid-template-columns: auto 1fr; gap: 6px 8px; align-items: center; }
.grid2 input, .grid2 select, textarea { font: inherit; }
.grid2 label { white-space: nowrap; }
#wire { font: 12px/1.4 ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; background: var(--card); border: 1px solid var(--line); padding: 6px; border-radius: 4px; margin: 8px 0 0; }
main { display: flex; flex-direction: column; min-width: 0; }
#log { flex: 1; padding: 14px 18px; overflow-y: auto; }
.turn { margin-bottom: 18px; }
.user { background: var(--user); padding: 8px 12px; border-radius: 8px; margin: 0 0 8px auto; max-width: 75%; width: fit-content; white-space: pre-wrap; }
.replies { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 12px; }
.reply { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; min-width: 0; }
.reply[data-side=plain] { border-style: dashed; }
.reply .label { font-size: 12px; color: var(--muted); margin-bottom: 4px; }
.reply .text { white-space: pre-wrap; min-height: 1.4em; }
.reply[data-state=done] .text:empty::before { content: "(empty reply: the model ended at once)"; color: var(--muted); font-style: italic; }
.reply[data-state=streaming] .text::after { content: "\\258D"; color: var(--accent); }
.reply .info { font-size: 12px; color: var(--muted); margin-top: 4px; }
.reply .error { color: var(--err); margin-top: 4px; }
figure.plot { margin: 8px 0 0; }
svg.meter { width: 100%; height: auto; display: block; }
svg.meter .axis { stroke: var(--muted); stroke-width: 1; }
svg.meter .zero { stroke: var(--muted); stroke-dasharray: 3 3; stroke-width: 1; }
svg.meter .cursor { stroke: var(--fg); stroke-width: 1; opacity: .5; }
svg.meter .trace { fill: none; stroke-width: 1.8; stroke-linejoin: round; }
svg.meter .tick { font-size: 10px; fill: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 12px; font-size: 12px; }
.legend .what { color: var(--muted); }
.legend .item { display: inline-flex; align-items: center; gap: 4px; font-variant-numeric: tabular-nums; }
.caption { font-size: 12px; color: var(--muted); min-height: 1.4em; }
#composer { border-top: 1px solid var(--line); padding: 10px 18px; display: flex; gap: 8px; align-items: flex-end; flex-wrap: wrap; background: var(--card); }
#prompt { flex: 1 1 320px; resize: vertical; padding: 6px 8px; }
button { font: inherit; padding: 5px 12px; }
button#send { background: var(--accent); color: #fff; border: 0; border-radius: 4px; }
button:disabled { opacity: .5; }
@media (max-width: 760px) { .layout { grid-template-columns: 1fr; } aside { position: static; max-height: none; border-right: 0; border-bottom: 1px solid var(--line); } }
`;

/** The whole page served at GET /ui (self-contained: inline style and script, no remote resource). */
export const PLAYGROUND_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>emosteer playground</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>emosteer <span>playground</span></h1>
  <span id="model"></span>
  <label id="keybox">API key <input id="key" type="password" autocomplete="off" size="22" placeholder="if started with --api-key"></label>
  <button id="connect" type="button">connect</button>
</header>
<div id="status" role="status" aria-live="polite"></div>
<div class="layout">
  <aside>
    <section>
      <h2>Steering</h2>
      <div class="grid2"><label for="set">vector set</label><select id="set"></select></div>
      <p class="note" id="scaleNote"></p>
      <div id="sliders"></div>
      <p class="note">Double-click a slider to zero it.</p>
      <button id="reset" type="button">all to 0</button>
      <details>
        <summary>where to steer</summary>
        <div class="grid2">
          <label for="positions">positions</label>
          <select id="positions"><option value="all">all tokens</option><option value="prompt">prompt only</option><option value="generated">generated only</option></select>
          <label for="layerFrom">blocks</label>
          <span><input id="layerFrom" type="number" min="1" step="1" style="width:5em"> to <input id="layerTo" type="number" min="1" step="1" style="width:5em"></span>
        </div>
        <p class="note">Empty blocks: the set's steerable range.</p>
      </details>
      <pre id="wire"></pre>
    </section>
    <section>
      <h2>Generation</h2>
      <div class="grid2">
        <label for="maxTokens">max tokens</label><input id="maxTokens" type="number" min="1" value="64">
        <label for="temperature">temperature</label><input id="temperature" type="number" min="0" max="2" step="0.1" value="0.7">
        <label for="seed">seed</label><input id="seed" type="number" min="0" placeholder="random (one per message)">
        <label for="lines">meter lines</label>
        <select id="lines"><option value="3">top 3</option><option value="5" selected>top 5</option><option value="8">top 8</option><option value="all">all</option></select>
      </div>
      <p class="note">The meter reads each generated token's activation at the set's middle block (cosine with each emotion's direction). Steered emotions are always plotted.</p>
      <label for="system">system prompt</label>
      <textarea id="system" rows="2" style="width:100%"></textarea>
    </section>
  </aside>
  <main>
    <div id="log"></div>
    <form id="composer">
      <textarea id="prompt" rows="2" placeholder="Message (Enter sends, Shift+Enter adds a line)"></textarea>
      <label title="send the message twice in parallel, with and without the steering, with one seed"><input id="compare" type="checkbox"> compare with unsteered</label>
      <button id="send" type="submit">Send</button>
      <button id="stop" type="button">Stop</button>
      <button id="clear" type="button">Clear</button>
    </form>
  </main>
</div>
<script>${PLAYGROUND_SCRIPT}</script>
</body>
</html>
`;
