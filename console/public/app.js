// The Sluice console's front end: Preact + htm, no build step (see docs/architecture.md).
// Event data is only ever rendered as text children or attribute values, which Preact escapes;
// nothing here sets innerHTML.
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { call, duration, enc, ErrorLine, html, JsonView, loadUPlot, usePoll } from './common.js';
import { ProcessorPage, ProcessorsPage, QueuesPage, SubscriptionPage, SubscriptionsPage } from './ops.js';

const ENDPOINT = document.querySelector('meta[name="sluice-endpoint"]').content;

// ---- Routing: #/topics[/NAME], #/messages/TOPIC/PARTITION, #/groups[/NAME], #/subscriptions[/TOPIC[/NAME]], #/queues, #/processors[/NAME]

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
  const navigated = useRef(false);
  useEffect(() => {
    const title = PAGES.find(([id]) => id === page)?.[1] ?? 'Not found';
    document.title = `${title} · Sluice console`;
    // After a navigation, keyboard and screen-reader users continue in the new page; on the first
    // load, Tab starts at the top (the page list), as on any page.
    if (navigated.current) document.getElementById('main')?.focus();
    navigated.current = true;
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
      ${page === 'subscriptions' && !route[2] ? html`<${SubscriptionsPage} topic=${route[1]} />` : null}
      ${page === 'subscriptions' && route[2] ? html`<${SubscriptionPage} topic=${route[1]} name=${route[2]} />` : null}
      ${page === 'queues' ? html`<${QueuesPage} />` : null}
      ${page === 'processors' && !route[1] ? html`<${ProcessorsPage} />` : null}
      ${page === 'processors' && route[1] ? html`<${ProcessorPage} name=${route[1]} />` : null}
      ${!PAGES.some(([id]) => id === page) ? html`<h2>Not found</h2><p><a href="#/topics">Topics</a></p>` : null}
    </main>`;
}

// ---- Topics ----------------------------------------------------------------------------------

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
      <label>Partitions <input name="partitions" type="number" min="1" defaultValue="3" required /></label>
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
  const [topic, error, reload] = usePoll(() => call('GET', `/topics/${enc(name)}`), [name], 3000);
  return html`<p><a href="#/topics">← Topics</a></p><h2>Topic ${name}</h2>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${topic ? html`<p>${topic.partitions} partition(s) · retention ${duration(topic.retentionMs)} · dedupe window ${duration(topic.dedupeWindowMs)} · created ${topic.createdAt}</p>
      <section class="panel"><h3>Partitions: log start and high watermark</h3><${PartitionBars} offsets=${topic.partitionOffsets} /></section>
      <p>${topic.partitionOffsets.map((p) => html`<a href="#/messages/${enc(name)}/${p.partition}">Messages of partition ${p.partition}</a>${' · '}`)}
        <a href="#/subscriptions/${enc(name)}">Subscriptions</a></p>
      <${AlterTopic} topic=${topic} onAltered=${reload} />` : html`<p>Loading…</p>`}`;
}

const HOUR = 3600000;
const MINUTE = 60000;

/**
 * Retention (hours, -1: forever), dedupe window (minutes, 0: off) and partitions (only more); only
 * the fields changed are sent.
 */
function AlterTopic({ topic, onAltered }) {
  const [pending, setPending] = useState();
  const [status, setStatus] = useState();
  const submit = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const changes = {};
    const hours = Number(f.get('retentionHours'));
    const retentionMs = hours === -1 ? -1 : Math.round(hours * HOUR);
    if (f.get('retentionHours') !== '' && retentionMs !== topic.retentionMs) changes.retentionMs = retentionMs;
    const dedupeWindowMs = Math.round(Number(f.get('dedupeMinutes')) * MINUTE);
    if (f.get('dedupeMinutes') !== '' && dedupeWindowMs !== topic.dedupeWindowMs) changes.dedupeWindowMs = dedupeWindowMs;
    const partitions = Number(f.get('partitions'));
    if (f.get('partitions') !== '' && partitions !== topic.partitions) changes.partitions = partitions;
    setStatus(Object.keys(changes).length ? undefined : { error: 'Nothing to change: the values are the current ones.' });
    setPending(Object.keys(changes).length ? changes : undefined);
  };
  const confirm = async () => {
    try {
      const updated = await call('PATCH', `/topics/${enc(topic.name)}`, pending);
      setStatus({ ok: `Altered ${topic.name}: retention ${duration(updated.retentionMs)}, dedupe window ${duration(updated.dedupeWindowMs)}, ${updated.partitions} partition(s).` });
      onAltered();
    } catch (err) {
      setStatus({ error: err.message });
    }
    setPending(undefined);
  };
  const change = (label, from, to) => html`<li>${label}: ${duration(from)} → <strong>${duration(to)}</strong></li>`;
  return html`<section class="panel" aria-labelledby="alter-topic"><h3 id="alter-topic">Alter ${topic.name}</h3>
    <form class="inline" onSubmit=${submit}>
      <label>Retention (hours; -1: forever) <input name="retentionHours" type="number" step="any" min="-1" defaultValue=${topic.retentionMs === -1 ? -1 : topic.retentionMs / HOUR} required /></label>
      <label>Dedupe window (minutes; 0: off) <input name="dedupeMinutes" type="number" step="any" min="0" max="10080" defaultValue=${topic.dedupeWindowMs / MINUTE} required /></label>
      <label>Partitions (only more) <input name="partitions" type="number" min=${topic.partitions} max="1000" defaultValue=${topic.partitions} required /></label>
      <button type="submit">Alter…</button>
    </form>
    ${pending ? html`<div class="confirm" role="alertdialog" aria-label="Confirm altering the topic">
      <span>Alter <strong>${topic.name}</strong>?</span>
      <ul>${pending.retentionMs !== undefined ? change('retention', topic.retentionMs, pending.retentionMs) : null}
        ${pending.dedupeWindowMs !== undefined ? change('dedupe window', topic.dedupeWindowMs, pending.dedupeWindowMs) : null}
        ${pending.partitions !== undefined ? html`<li>partitions: ${topic.partitions} → <strong>${pending.partitions}</strong>${' '}
          (cannot be undone; keys then map to partitions by the new count, so most keys move)</li>` : null}</ul>
      <button onClick=${confirm} ref=${(el) => el?.focus()}>Confirm alter</button>
      <button class="secondary" onClick=${() => setPending(undefined)}>Cancel</button></div>` : null}
    ${status?.ok ? html`<p class="ok" role="status">${status.ok}</p>` : null}
    <${ErrorLine} error=${status?.error} /></section>`;
}

/** A small line chart (uPlot, no axes): points are [time s, _, value]. */
function Sparkline({ points, label }) {
  const el = useRef();
  const plot = useRef();
  const latest = points.length ? points[points.length - 1][2] : 0;
  useEffect(() => {
    let cancelled = false;
    loadUPlot().then((UPlot) => {
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

/** A datetime-local input's value for epoch ms, in the browser's time zone, to the second. */
function localInput(ms) {
  const d = new Date(ms);
  return new Date(ms - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
}

/**
 * Where the page is: the newest events (live tail), a page ending before an offset (newest
 * first), or a page starting at an offset or at a time (oldest first).
 */
function pageQuery(cursor) {
  if (!cursor) return '';
  if (cursor.before !== undefined) return `&before=${cursor.before}`;
  if (cursor.from !== undefined) return `&from=${cursor.from}`;
  return `&timestamp=${cursor.timestamp}`;
}

function MessagesPage({ topic, partition }) {
  const [topics] = usePoll(() => call('GET', '/topics'), [], 0);
  const [tail, setTail] = useState(true);
  const [cursor, setCursor] = useState();
  const [search, setSearch] = useState('');
  const [defaultTime] = useState(() => localInput(Date.now() - 3600000));
  const p = partition === undefined ? 0 : Number(partition);
  useEffect(() => setCursor(undefined), [topic, partition]);
  const [page, error, reload] = usePoll(
    () => (topic ? call('GET', `/topics/${enc(topic)}/partitions/${p}?limit=50${pageQuery(cursor)}`) : Promise.resolve(undefined)),
    [topic, p, cursor],
    tail && cursor === undefined ? 1000 : 0,
  );
  const selected = topics?.topics.find((t) => t.name === topic);
  const go = (t, q) => (location.hash = `#/messages/${enc(t)}/${q}`);
  const jump = (c) => { setTail(false); setCursor(c); };
  const shown = useMemo(() => {
    const events = page?.events ?? [];
    if (!search) return events;
    const needle = search.toLowerCase();
    return events.filter((e) => JSON.stringify(e).toLowerCase().includes(needle));
  }, [page, search]);
  const forward = page?.order === 'oldest-first';
  const last = page && (forward ? page.nextOffset - 1 : page.before - 1);
  return html`<h2>Messages</h2>
    <div class="row">
      <label>Topic <select onChange=${(e) => go(e.target.value, 0)} value=${topic ?? ''}>
        <option value="" disabled>Choose a topic</option>
        ${(topics?.topics ?? []).map((t) => html`<option value=${t.name}>${t.name}</option>`)}</select></label>
      ${selected ? html`<label>Partition <select value=${String(p)} onChange=${(e) => go(topic, e.target.value)}>
        ${Array.from({ length: selected.partitions }, (_, i) => html`<option value=${String(i)}>${i}</option>`)}</select></label>` : null}
      <label class="check"><input type="checkbox" checked=${tail} onChange=${(e) => { setTail(e.target.checked); setCursor(undefined); }} /> Live tail</label>
      <label>Search this page <input type="search" value=${search} onInput=${(e) => setSearch(e.target.value)} /></label>
    </div>
    ${topic ? html`<${ProduceForm} topic=${topic} partitions=${selected?.partitions} onProduced=${reload} />` : html`<p>Choose a topic to browse its events.</p>`}
    <${ErrorLine} error=${error} />
    ${page ? html`
      <p class="muted" aria-live="polite" data-testid="page-summary">Partition ${p}: offsets ${page.logStartOffset} to ${page.highWatermark}; ${
        shown.length === 0 && !search ? 'no events here' : `showing ${page.from} to ${Math.max(page.from, last)}, ${forward ? 'oldest' : 'newest'} first`}${search ? `, ${shown.length} matching` : ''}.</p>
      <div class="row">
        ${forward
          ? html`<button class="secondary" disabled=${page.nextOffset >= page.highWatermark} onClick=${() => jump({ from: page.nextOffset })}>Newer</button>`
          : html`<button class="secondary" disabled=${page.from <= page.logStartOffset} onClick=${() => jump({ before: page.from })}>Older</button>`}
        <button class="secondary" disabled=${cursor === undefined} onClick=${() => setCursor(undefined)}>Newest</button>
        <form class="inline" onSubmit=${(e) => { e.preventDefault(); const v = new FormData(e.target).get('offset'); if (v !== '') jump({ from: Number(v) }); }}>
          <label>From offset <input name="offset" type="number" min="0" /></label><button type="submit" class="secondary" aria-label="Go to offset">Go</button></form>
        <form class="inline" onSubmit=${(e) => { e.preventDefault(); const v = new FormData(e.target).get('time'); if (v) jump({ timestamp: new Date(v).getTime() }); }}>
          <label>From time (local) <input name="time" type="datetime-local" step="1" defaultValue=${defaultTime} /></label><button type="submit" class="secondary" aria-label="Go to time">Go</button></form>
      </div>
      <ul class="events" aria-label="Events">${shown.map((e) => html`<${EventItem} key=${e.offset} event=${e} />`)}</ul>` : null}`;
}

function EventItem({ event }) {
  const headers = Object.entries(event.headers ?? {});
  return html`<li data-offset=${event.offset}>
    <div class="meta">
      <span>offset <strong>${event.offset}</strong></span>
      <span>key <code>${event.key ?? '(none)'}</code></span>
      <span>time <time datetime=${new Date(event.timestamp).toISOString()}>${new Date(event.timestamp).toISOString()}</time></span>
      <span>message ID <code>${event.messageId}</code></span>
    </div>
    ${headers.length ? html`<div class="meta">headers: ${headers.map(([k, v]) => html`<code>${k}=${v}</code> `)}</div>` : null}
    <details open><summary>Value</summary><pre class="value">${
      event.value !== undefined ? html`<${JsonView} value=${event.value} />` : event.valueBase64 !== undefined ? `(bytes, base64) ${event.valueBase64}` : '(no value)'}</pre></details>
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
    loadUPlot().then((UPlot) => {
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

const root = document.getElementById('app');
root.textContent = ''; // the static "Loading…" line, painted before the modules arrive
render(html`<${App} />`, root);
