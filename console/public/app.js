// The Sluice console's front end: Preact + htm, no build step (see docs/architecture.md).
// Event data is only ever rendered as text children or attribute values, which Preact escapes;
// nothing here sets innerHTML.
import { h, render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import htm from 'htm';

const html = htm.bind(h);
const CSRF = document.querySelector('meta[name="sluice-csrf"]').content;
const ENDPOINT = document.querySelector('meta[name="sluice-endpoint"]').content;
const BASE = new URL('.', import.meta.url).pathname.replace(/\/$/, '');

// ---- API -------------------------------------------------------------------------------------

async function call(method, path, body) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers['x-sluice-csrf'] = CSRF;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${BASE}/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new Error(json?.error ? `${json.error.code}: ${json.error.message}` : `HTTP ${res.status}`);
  return json;
}
const enc = encodeURIComponent;

/** Polls `load` every `everyMs` (0: once); returns [data, error, reload]. */
function usePoll(load, deps, everyMs = 0) {
  const [state, setState] = useState({ data: undefined, error: undefined });
  const run = useCallback(() => load().then((data) => setState({ data, error: undefined }), (e) => setState((s) => ({ data: s.data, error: e.message }))), deps);
  useEffect(() => {
    run();
    if (!everyMs) return undefined;
    const t = setInterval(run, everyMs);
    return () => clearInterval(t);
  }, [run, everyMs]);
  return [state.data, state.error, run];
}

// ---- Routing: #/topics, #/topics/NAME, #/messages/TOPIC/PARTITION, #/groups, #/groups/NAME -----

function useRoute() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return (hash.replace(/^#\/?/, '') || 'topics').split('/').map(decodeURIComponent);
}

const PAGES = [
  ['topics', 'Topics'],
  ['messages', 'Messages'],
  ['groups', 'Consumer groups'],
  ['subscriptions', 'Subscriptions'],
  ['queues', 'Queues'],
  ['processors', 'Processors'],
];

function App() {
  const route = useRoute();
  const page = route[0];
  useEffect(() => {
    const title = PAGES.find(([id]) => id === page)?.[1] ?? 'Not found';
    document.title = `${title} · Sluice console`;
    document.getElementById('main')?.focus();
  }, [page]);
  return html`
    <header>
      <h1>Sluice console</h1>
      <nav aria-label="Pages">
        ${PAGES.map(([id, label]) => html`<a href="#/${id}" aria-current=${page === id ? 'page' : undefined}>${label}</a>`)}
      </nav>
      <span class="endpoint">Endpoint: <code>${ENDPOINT}</code></span>
    </header>
    <main id="main" tabindex="-1">
      ${page === 'topics' && !route[1] ? html`<${TopicsPage} />` : null}
      ${page === 'topics' && route[1] ? html`<${TopicPage} name=${route[1]} />` : null}
      ${page === 'messages' ? html`<${MessagesPage} topic=${route[1]} partition=${route[2]} />` : null}
      ${page === 'groups' && !route[1] ? html`<${GroupsPage} />` : null}
      ${page === 'groups' && route[1] ? html`<${GroupPage} name=${route[1]} />` : null}
      ${['subscriptions', 'queues', 'processors'].includes(page) ? html`<${Placeholder} page=${page} />` : null}
    </main>`;
}

// ---- Topics ----------------------------------------------------------------------------------

function duration(ms) {
  if (ms === -1) return 'forever';
  if (ms === 0) return 'off';
  const units = [['d', 86400000], ['h', 3600000], ['min', 60000], ['s', 1000]];
  const [u, n] = units.find(([, n]) => ms >= n && ms % n === 0) ?? ['ms', 1];
  return `${ms / n} ${u}`;
}

const RATE_WINDOW_S = 5 * 60;

function TopicsPage() {
  // Each topic's appended total (sum of high watermarks) over time: its produce rate.
  const rates = useRef(new Map());
  const [data, error, reload] = usePoll(async () => {
    const answer = await call('GET', '/topics');
    const now = Date.now() / 1000;
    for (const t of answer.topics) {
      const total = t.partitionOffsets.reduce((s, p) => s + p.highWatermark, 0);
      const points = (rates.current.get(t.topicId) ?? []).filter(([at]) => at > now - RATE_WINDOW_S);
      const last = points[points.length - 1];
      points.push([now, total, last ? Math.max(0, (total - last[1]) / (now - last[0])) : 0]);
      rates.current.set(t.topicId, points);
    }
    return answer;
  }, [], 2000);
  return html`
    <h2>Topics</h2>
    <${CreateTopic} onCreated=${reload} />
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${!data ? html`<p>Loading…</p>` : data.topics.length === 0 ? html`<p>No topics yet.</p>` : html`
      <table>
        <caption class="muted">${data.topics.length} topic(s), refreshed every 2 s</caption>
        <thead><tr><th scope="col">Topic</th><th scope="col" class="num">Partitions</th><th scope="col">Retention</th>
          <th scope="col">Dedupe window</th><th scope="col" class="num">Events</th><th scope="col">Produce rate (events/s, 5 min)</th><th scope="col">Partitions (log start → high watermark)</th><th scope="col">Actions</th></tr></thead>
        <tbody>${data.topics.map((t) => html`<${TopicRow} key=${t.topicId} topic=${t} rate=${rates.current.get(t.topicId) ?? []} onDeleted=${reload} />`)}</tbody>
      </table>`}`;
}

function TopicRow({ topic, rate, onDeleted }) {
  return html`<tr>
    <td><a href="#/topics/${enc(topic.name)}">${topic.name}</a></td>
    <td class="num">${topic.partitions}</td>
    <td>${duration(topic.retentionMs)}</td>
    <td>${duration(topic.dedupeWindowMs)}</td>
    <td class="num">${topic.events}</td>
    <td><${Sparkline} points=${rate} label=${`${topic.name} produce rate`} /></td>
    <td><${PartitionBars} offsets=${topic.partitionOffsets} compact /></td>
    <td><a href="#/messages/${enc(topic.name)}/0">Messages</a> <${DeleteTopic} name=${topic.name} onDeleted=${onDeleted} /></td>
  </tr>`;
}

/** Each partition's retained range on one scale: a hot partition is the long bar. */
function PartitionBars({ offsets, compact }) {
  const max = Math.max(1, ...offsets.map((p) => p.highWatermark));
  return html`<ul class="events" aria-label="Partition offsets">${offsets.map((p) => html`
    <li style=${compact ? { border: 0, padding: '1px 0', margin: 0 } : undefined}>
      <div class="row" style=${{ margin: 0, alignItems: 'center' }}>
        <span style=${{ width: compact ? '2rem' : '5.5rem' }}>p${p.partition}</span>
        <div class="bar" role="img" aria-label=${`partition ${p.partition}: offsets ${p.logStartOffset} to ${p.highWatermark}`} style=${{ flex: 1 }}>
          <span style=${{ left: `${(100 * p.logStartOffset) / max}%`, width: `${(100 * (p.highWatermark - p.logStartOffset)) / max}%` }}></span>
        </div>
        <span class="muted">${p.logStartOffset} → ${p.highWatermark}</span>
      </div>
    </li>`)}</ul>`;
}

function CreateTopic({ onCreated }) {
  const [error, setError] = useState();
  const [pending, setPending] = useState();
  const submit = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const body = { name: f.get('name'), partitions: Number(f.get('partitions')) };
    if (f.get('retentionHours')) body.retentionMs = Number(f.get('retentionHours')) * 3600000;
    setPending(body);
  };
  const confirm = async () => {
    try {
      await call('POST', '/topics', pending);
      setError(undefined);
      onCreated();
    } catch (err) {
      setError(err.message);
    }
    setPending(undefined);
  };
  return html`<section class="panel" aria-labelledby="create-topic"><h3 id="create-topic">Create a topic</h3>
    <form class="inline" onSubmit=${submit}>
      <label>Name <input name="name" required pattern="[A-Za-z0-9._\\-]+" /></label>
      <label>Partitions <input name="partitions" type="number" min="1" value="3" required /></label>
      <label>Retention (hours, empty: default) <input name="retentionHours" type="number" min="1" /></label>
      <button type="submit">Create…</button>
    </form>
    ${pending ? html`<div class="confirm" role="alertdialog" aria-label="Confirm topic creation">
      <span>Create topic <strong>${pending.name}</strong> with ${pending.partitions} partition(s)?</span>
      <button onClick=${confirm} ref=${(el) => el?.focus()}>Confirm create</button>
      <button class="secondary" onClick=${() => setPending(undefined)}>Cancel</button></div>` : null}
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}</section>`;
}

function DeleteTopic({ name, onDeleted }) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState();
  if (!asking) return html`<button class="danger" onClick=${() => setAsking(true)} aria-label=${`Delete topic ${name}`}>Delete…</button>`;
  const go = async () => {
    try {
      await call('DELETE', `/topics/${enc(name)}`);
      onDeleted();
    } catch (err) {
      setError(err.message);
    }
    setAsking(false);
  };
  return html`<div class="confirm" role="alertdialog" aria-label=${`Confirm deleting ${name}`}>
    <span>Delete <strong>${name}</strong> and all its events?</span>
    <button class="danger" onClick=${go} ref=${(el) => el?.focus()}>Confirm delete</button>
    <button class="secondary" onClick=${() => setAsking(false)}>Cancel</button>
    ${error ? html`<span class="error">${error}</span>` : null}</div>`;
}

function TopicPage({ name }) {
  const [topic, error] = usePoll(() => call('GET', `/topics/${enc(name)}`), [name], 3000);
  return html`<p><a href="#/topics">← Topics</a></p><h2>Topic ${name}</h2>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${topic ? html`<p>${topic.partitions} partition(s) · retention ${duration(topic.retentionMs)} · dedupe window ${duration(topic.dedupeWindowMs)} · created ${topic.createdAt}</p>
      <section class="panel"><h3>Partitions: log start and high watermark</h3><${PartitionBars} offsets=${topic.partitionOffsets} /></section>
      <p>${topic.partitionOffsets.map((p) => html`<a href="#/messages/${enc(name)}/${p.partition}">Messages of partition ${p.partition}</a>${' · '}`)}</p>` : html`<p>Loading…</p>`}`;
}

/** A small line chart (uPlot, no axes): points are [time s, _, value]. */
function Sparkline({ points, label }) {
  const el = useRef();
  const plot = useRef();
  const latest = points.length ? points[points.length - 1][2] : 0;
  useEffect(() => {
    let cancelled = false;
    import('uplot').then(({ default: UPlot }) => {
      if (cancelled || !el.current) return;
      const data = [points.map((p) => p[0]), points.map((p) => p[2])];
      if (!plot.current) {
        plot.current = new UPlot({
          width: 120, height: 28, legend: { show: false }, cursor: { show: false },
          axes: [{ show: false }, { show: false }], scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
          series: [{}, { stroke: '#2563eb', width: 1.5, fill: 'rgba(37, 99, 235, 0.15)', points: { show: false } }],
        }, data, el.current);
      } else plot.current.setData(data);
    });
    return () => { cancelled = true; };
  }, [points, points.length]);
  useEffect(() => () => plot.current?.destroy(), []);
  return html`<div class="row" style=${{ margin: 0, alignItems: 'center' }}>
    <div ref=${el} role="img" aria-label=${`${label}: ${latest.toFixed(1)} events per second now`}></div>
    <span class="muted">${latest.toFixed(1)}/s</span></div>`;
}

// ---- Messages --------------------------------------------------------------------------------

function MessagesPage({ topic, partition }) {
  const [topics] = usePoll(() => call('GET', '/topics'), [], 0);
  const [tail, setTail] = useState(true);
  const [before, setBefore] = useState();
  const [search, setSearch] = useState('');
  const p = partition === undefined ? 0 : Number(partition);
  useEffect(() => setBefore(undefined), [topic, partition]);
  const [page, error, reload] = usePoll(
    () => (topic ? call('GET', `/topics/${enc(topic)}/partitions/${p}?limit=50${before === undefined ? '' : `&before=${before}`}`) : Promise.resolve(undefined)),
    [topic, p, before],
    tail && before === undefined ? 1000 : 0,
  );
  const selected = topics?.topics.find((t) => t.name === topic);
  const go = (t, q) => (location.hash = `#/messages/${enc(t)}/${q}`);
  const shown = useMemo(() => {
    const events = page?.events ?? [];
    if (!search) return events;
    const needle = search.toLowerCase();
    return events.filter((e) => JSON.stringify(e).toLowerCase().includes(needle));
  }, [page, search]);
  return html`<h2>Messages</h2>
    <div class="row">
      <label>Topic <select onChange=${(e) => go(e.target.value, 0)} value=${topic ?? ''}>
        <option value="" disabled>Choose a topic</option>
        ${(topics?.topics ?? []).map((t) => html`<option value=${t.name}>${t.name}</option>`)}</select></label>
      ${selected ? html`<label>Partition <select value=${String(p)} onChange=${(e) => go(topic, e.target.value)}>
        ${Array.from({ length: selected.partitions }, (_, i) => html`<option value=${String(i)}>${i}</option>`)}</select></label>` : null}
      <label class="check"><input type="checkbox" checked=${tail} onChange=${(e) => { setTail(e.target.checked); setBefore(undefined); }} /> Live tail</label>
      <label>Search this page <input type="search" value=${search} onInput=${(e) => setSearch(e.target.value)} /></label>
    </div>
    ${topic ? html`<${ProduceForm} topic=${topic} partitions=${selected?.partitions} onProduced=${reload} />` : html`<p>Choose a topic to browse its events.</p>`}
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${page ? html`
      <p class="muted" aria-live="polite">Partition ${p}: offsets ${page.logStartOffset} to ${page.highWatermark}; showing ${page.from} to ${page.before - 1 < page.from ? page.from : page.before - 1}, newest first${search ? `, ${shown.length} matching` : ''}.</p>
      <div class="row">
        <button class="secondary" disabled=${page.from <= page.logStartOffset} onClick=${() => { setTail(false); setBefore(page.from); }}>Older</button>
        <button class="secondary" disabled=${before === undefined} onClick=${() => setBefore(undefined)}>Newest</button>
        <label>Go to offset <input type="number" min="0" onChange=${(e) => { setTail(false); setBefore(Number(e.target.value) + 1); }} /></label>
      </div>
      <ul class="events" aria-label="Events">${shown.map((e) => html`<${EventItem} key=${e.offset} event=${e} />`)}</ul>` : null}`;
}

function EventItem({ event }) {
  const value = event.value !== undefined ? JSON.stringify(event.value, null, 2) : event.valueBase64 !== undefined ? `(bytes, base64) ${event.valueBase64}` : '(no value)';
  const headers = Object.entries(event.headers ?? {});
  return html`<li data-offset=${event.offset}>
    <div class="meta">
      <span>offset <strong>${event.offset}</strong></span>
      <span>key <code>${event.key ?? '(none)'}</code></span>
      <span>time <time datetime=${new Date(event.timestamp).toISOString()}>${new Date(event.timestamp).toISOString()}</time></span>
      <span>message ID <code>${event.messageId}</code></span>
    </div>
    ${headers.length ? html`<div class="meta">headers: ${headers.map(([k, v]) => html`<code>${k}=${v}</code> `)}</div>` : null}
    <details open><summary>Value</summary><pre class="value">${value}</pre></details>
  </li>`;
}

function ProduceForm({ topic, onProduced }) {
  const [status, setStatus] = useState();
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const raw = String(f.get('value'));
    let value;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw; // not JSON: sent as a JSON string
    }
    const headers = {};
    for (const line of String(f.get('headers')).split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) headers[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    try {
      const { results } = await call('POST', `/topics/${enc(topic)}/events`, { key: f.get('key') || undefined, value, headers });
      setStatus({ ok: `Produced to partition ${results[0].partition} at offset ${results[0].offset}` });
      onProduced();
    } catch (err) {
      setStatus({ error: err.message });
    }
  };
  return html`<section class="panel" aria-labelledby="produce"><h3 id="produce">Produce to ${topic}</h3>
    <form class="inline" onSubmit=${submit}>
      <label>Key (optional) <input name="key" /></label>
      <label>Value (JSON, or text) <textarea name="value" required></textarea></label>
      <label>Headers (one name=value a line) <textarea name="headers"></textarea></label>
      <button type="submit">Produce</button>
    </form>
    ${status?.ok ? html`<p class="ok" role="status">${status.ok}</p>` : null}
    ${status?.error ? html`<p class="error" role="alert">${status.error}</p>` : null}</section>`;
}

// ---- Consumer groups -------------------------------------------------------------------------

function GroupsPage() {
  const [data, error] = usePoll(() => call('GET', '/groups'), [], 3000);
  return html`<h2>Consumer groups</h2>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${!data ? html`<p>Loading…</p>` : data.groups.length === 0 ? html`<p>No groups yet.</p>` : html`
      <ul>${data.groups.map((g) => html`<li><a href="#/groups/${enc(g)}">${g}</a></li>`)}</ul>`}`;
}

const LAG_WINDOW_MS = 5 * 60 * 1000;

function GroupPage({ name }) {
  const history = useRef([]);
  const [group, error] = usePoll(async () => {
    const g = await call('GET', `/groups/${enc(name)}`);
    const now = Date.now() / 1000;
    history.current = [...history.current.filter(([t]) => t > now - LAG_WINDOW_MS / 1000), [now, g.partitions.reduce((s, p) => s + p.lag, 0)]];
    return g;
  }, [name], 1000);
  const totalLag = group ? group.partitions.reduce((s, p) => s + p.lag, 0) : undefined;
  return html`<p><a href="#/groups">← Consumer groups</a></p><h2>Group ${name}</h2>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${!group ? html`<p>Loading…</p>` : html`
      <p>Generation ${group.generation} · ${group.members.length} member(s) · total lag <strong data-testid="total-lag">${totalLag}</strong></p>
      <section class="panel"><h3>Members</h3>
        ${group.members.length === 0 ? html`<p>No members.</p>` : html`<table>
          <thead><tr><th scope="col">Member</th><th scope="col">Topics</th><th scope="col">Assigned partitions</th><th scope="col">Last heartbeat</th></tr></thead>
          <tbody>${group.members.map((m) => html`<tr><td><code>${m.memberId}</code></td><td>${m.topics.join(', ')}</td>
            <td>${m.assignments.map((a) => `${a.topic}/${a.partition}`).join(', ') || '(none)'}</td><td>${m.lastHeartbeat}</td></tr>`)}</tbody></table>`}
      </section>
      <section class="panel"><h3>Offsets and lag</h3>
        <table><thead><tr><th scope="col">Topic</th><th scope="col" class="num">Partition</th><th scope="col">Owner</th><th scope="col" class="num">Committed</th><th scope="col" class="num">High watermark</th><th scope="col" class="num">Lag</th></tr></thead>
          <tbody>${group.partitions.map((p) => html`<tr><td>${p.topic}</td><td class="num">${p.partition}</td><td><code>${p.owner ?? '-'}</code></td>
            <td class="num">${p.committedOffset ?? '-'}</td><td class="num">${p.highWatermark}</td><td class="num">${p.lag}</td></tr>`)}</tbody></table>
        <${LagChart} history=${history.current} />
      </section>
      <${ResetOffsets} group=${name} topics=${[...new Set(group.partitions.map((p) => p.topic))]} />`}`;
}

/** Total lag over the last minutes, drawn by uPlot (loaded on this page only). */
function LagChart({ history }) {
  const el = useRef();
  const plot = useRef();
  useEffect(() => {
    let cancelled = false;
    import('uplot').then(({ default: UPlot }) => {
      if (cancelled || !el.current) return;
      const data = [history.map(([t]) => t), history.map(([, v]) => v)];
      if (!plot.current) {
        plot.current = new UPlot({ width: Math.min(900, el.current.clientWidth || 600), height: 200, series: [{}, { label: 'Total lag', stroke: '#2563eb', width: 2 }], scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } } }, data, el.current);
      } else plot.current.setData(data);
    });
    return () => { cancelled = true; };
  }, [history]);
  useEffect(() => () => plot.current?.destroy(), []);
  return html`<figure><div ref=${el} role="img" aria-label="Total lag over the last five minutes"></div><figcaption class="muted">Total lag, last 5 minutes</figcaption></figure>`;
}

function ResetOffsets({ group, topics }) {
  const [form, setForm] = useState({ topic: topics[0] ?? '', to: 'earliest', offset: '', partition: '' });
  const [plan, setPlan] = useState();
  const [result, setResult] = useState();
  const [error, setError] = useState();
  const body = (execute) => ({
    topic: form.topic,
    to: form.to === 'offset' ? { offset: Number(form.offset) } : form.to,
    ...(form.partition === '' ? {} : { partition: Number(form.partition) }),
    execute,
  });
  const change = (k) => (e) => { setForm({ ...form, [k]: e.target.value }); setPlan(undefined); };
  const run = async (execute) => {
    try {
      const answer = await call('POST', `/groups/${enc(group)}/reset`, body(execute));
      setError(undefined);
      if (execute) { setResult(answer.offsets); setPlan(undefined); } else { setPlan(answer.offsets); setResult(undefined); }
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<section class="panel" aria-labelledby="reset"><h3 id="reset">Reset offsets</h3>
    <form class="inline" onSubmit=${(e) => { e.preventDefault(); run(false); }}>
      <label>Topic <input name="topic" value=${form.topic} onInput=${change('topic')} required /></label>
      <label>Reset to <select name="to" value=${form.to} onChange=${change('to')}>
        <option value="earliest">earliest</option><option value="latest">latest</option><option value="offset">offset</option></select></label>
      ${form.to === 'offset' ? html`<label>Offset <input name="offset" type="number" min="0" value=${form.offset} onInput=${change('offset')} required /></label>` : null}
      <label>Partition (empty: all) <input name="partition" type="number" min="0" value=${form.partition} onInput=${change('partition')} /></label>
      <button type="submit">Preview (dry run)</button>
    </form>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${plan ? html`<div aria-label="Reset preview"><p>Dry run: nothing changed yet.</p>
      <table><thead><tr><th scope="col">Partition</th><th scope="col" class="num">Current offset</th><th scope="col" class="num">New offset</th></tr></thead>
        <tbody>${plan.map((p) => html`<tr><td>${p.topic}/${p.partition}</td><td class="num">${p.currentOffset ?? '-'}</td><td class="num">${p.offset}</td></tr>`)}</tbody></table>
      <button class="danger" onClick=${() => run(true)}>Execute reset</button></div>` : null}
    ${result ? html`<p class="ok" role="status">Offsets reset: ${result.map((o) => `${o.topic}/${o.partition} → ${o.offset}`).join(', ')}</p>` : null}
  </section>`;
}

// ---- Places for what comes next -------------------------------------------------------------

function Placeholder({ page }) {
  const cli = { subscriptions: 'sluice subscriptions list TOPIC', queues: 'sluice queues list', processors: 'sluice processors list' }[page];
  return html`<h2>${PAGES.find(([id]) => id === page)[1]}</h2>
    <p>Not in the console yet: this page will show position, lag, failures and dead letters, with redrive buttons.</p>
    <p>Meanwhile, the CLI has them: <code>${cli}</code> (see docs/cli.md).</p>`;
}

const root = document.getElementById('app');
root.textContent = ''; // the static "Loading…" line, painted before the modules arrive
render(html`<${App} />`, root);
