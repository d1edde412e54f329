// The delivery side of the console: push subscriptions (per topic), message queues and stream
// processors. Position, lag, failures and dead letters, with redrive and purge behind a confirmation.
import { useEffect } from 'preact/hooks';
import { call, ConfirmButton, duration, enc, ErrorLine, html, JsonView, usePoll, when } from './common.js';

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

// ---- Subscriptions: #/subscriptions/TOPIC, #/subscriptions/TOPIC/NAME ---------------------------

function targetText(target) {
  const where = Object.entries(target).filter(([k]) => k !== 'type').map(([, v]) => String(v)).join(' ');
  return `${target.type}${where ? `: ${where}` : ''}`;
}

export function SubscriptionsPage({ topic }) {
  const [topics, topicsError] = usePoll(() => call('GET', '/topics'), [], 0);
  // No topic in the address: the first one, so the page shows something at once.
  useEffect(() => {
    if (!topic && topics?.topics.length) location.replace(`#/subscriptions/${enc(topics.topics[0].name)}`);
  }, [topic, topics]);
  const [data, error] = usePoll(() => (topic ? call('GET', `/topics/${enc(topic)}/subscriptions`) : Promise.resolve(undefined)), [topic], 3000);
  return html`<h2>Subscriptions</h2>
    <div class="row">
      <label>Topic <select value=${topic ?? ''} onChange=${(e) => (location.hash = `#/subscriptions/${enc(e.target.value)}`)}>
        <option value="" disabled>Choose a topic</option>
        ${(topics?.topics ?? []).map((t) => html`<option value=${t.name}>${t.name}</option>`)}</select></label>
    </div>
    <${ErrorLine} error=${topicsError ?? error} />
    ${topics && topics.topics.length === 0 ? html`<p>No topics yet, so no subscriptions.</p>` : null}
    ${!topic || !data ? null : data.subscriptions.length === 0 ? html`<p>No subscriptions on ${topic}. Create one with <code>sluice subscriptions create</code> or in CDK.</p>` : html`
      <table>
        <caption class="muted">${plural(data.subscriptions.length, 'subscription')} on ${topic}, refreshed every 3 s</caption>
        <thead><tr><th scope="col">Subscription</th><th scope="col">Target</th><th scope="col">Declared in</th><th scope="col" class="num">Lag</th>
          <th scope="col" class="num">Failing partitions</th><th scope="col" class="num">Dead letters</th><th scope="col" class="num">Max attempts</th></tr></thead>
        <tbody>${data.subscriptions.map((s) => html`<tr>
          <td><a href="#/subscriptions/${enc(topic)}/${enc(s.name)}">${s.name}</a></td>
          <td><code>${targetText(s.target)}</code></td><td>${s.source}</td>
          <td class="num">${s.lag}</td><td class=${`num${s.failing ? ' error' : ''}`}>${s.failing}</td>
          <td class=${`num${s.deadLetters ? ' error' : ''}`}>${s.deadLetters}</td><td class="num">${s.maxAttempts}</td></tr>`)}</tbody>
      </table>`}`;
}

export function SubscriptionPage({ topic, name }) {
  const path = `/topics/${enc(topic)}/subscriptions/${enc(name)}`;
  const [sub, error, reload] = usePoll(() => call('GET', path), [path], 2000);
  const [dead, deadError, reloadDead] = usePoll(() => call('GET', `${path}/dead-letters?limit=50`), [path], 2000);
  const redrive = async () => {
    const answer = await call('POST', `${path}/dead-letters/redrive`, {});
    reload();
    reloadDead();
    return answer.partitions.length === 0
      ? 'Nothing to redrive.'
      : `Redrive started for ${plural(answer.deadLetters, 'dead letter')} of partition${answer.partitions.length === 1 ? '' : 's'} ${answer.partitions.join(', ')}.`;
  };
  return html`<p><a href=${`#/subscriptions/${enc(topic)}`}>← Subscriptions of ${topic}</a></p>
    <h2>Subscription ${name}</h2>
    <${ErrorLine} error=${error} />
    ${!sub ? html`<p>Loading…</p>` : html`
      <p>Topic <strong>${topic}</strong> · target <code>${targetText(sub.target)}</code> · declared in ${sub.source} · at most ${plural(sub.maxAttempts, 'attempt')} ·
        lag <strong data-testid="subscription-lag">${sub.lag}</strong> · failing partitions <strong>${sub.failing}</strong> · dead letters <strong data-testid="dead-letter-count">${sub.deadLetters}</strong></p>
      ${sub.filter ? html`<details class="panel"><summary>Filter</summary><pre class="value"><${JsonView} value=${sub.filter} /></pre></details>` : null}
      <section class="panel" aria-labelledby="positions"><h3 id="positions">Positions</h3>
        <table><thead><tr><th scope="col" class="num">Partition</th><th scope="col" class="num">Position</th><th scope="col" class="num">High watermark</th>
          <th scope="col" class="num">Lag</th><th scope="col" class="num">Failed attempts</th><th scope="col">Last error</th><th scope="col">Last delivered</th></tr></thead>
          <tbody>${sub.partitions.map((p) => html`<tr><td class="num">${p.partition}</td><td class="num">${p.position ?? '-'}</td><td class="num">${p.highWatermark}</td>
            <td class="num">${p.lag}</td><td class=${`num${p.failedAttempts ? ' error' : ''}`}>${p.failedAttempts}</td><td>${p.lastError ?? ''}</td><td>${p.lastDeliveredAt ?? '-'}</td></tr>`)}</tbody></table>
      </section>`}
    <section class="panel" aria-labelledby="dlq"><h3 id="dlq">Dead letters</h3>
      <${ErrorLine} error=${deadError} />
      ${!dead ? html`<p>Loading…</p>` : html`
        <div class="row">
          <span>${dead.total === 0 ? 'No dead letters.' : `${plural(dead.total, 'dead letter')}${dead.total > dead.deadLetters.length ? `, the oldest ${dead.deadLetters.length} shown` : ''}.`}</span>
          <${ConfirmButton} label="Redrive dead letters…" disabled=${dead.total === 0}
            question=${`Deliver the ${plural(dead.total, 'dead letter')} of ${name} again, then delete them?`} confirmLabel="Confirm redrive" run=${redrive} />
        </div>
        <ul class="events" aria-label="Dead letters">${dead.deadLetters.map((d) => html`<li data-offset=${d.offset} data-partition=${d.partition}>
          <div class="meta"><span>partition <strong>${d.partition}</strong></span><span>offset <strong>${d.offset}</strong></span>
            <span>key <code>${d.event.key ?? '(none)'}</code></span><span>${plural(d.attempts, 'attempt')}</span><span>failed at ${d.failedAt}</span></div>
          <p class="error-text">${d.error}</p>
          <details><summary>Event</summary><pre class="value"><${JsonView} value=${d.event.value ?? d.event.valueBase64 ?? null} /></pre></details>
        </li>`)}</ul>`}
    </section>`;
}

// ---- Queues: #/queues -------------------------------------------------------------------------

export function QueuesPage() {
  const [data, error, reload] = usePoll(() => call('GET', '/queues'), [], 2000);
  const act = (queue, action, body, done) => async () => {
    const answer = await call('POST', `/queues/${enc(queue)}/${action}`, body);
    reload();
    return done(answer);
  };
  return html`<h2>Queues</h2>
    <${ErrorLine} error=${error} />
    ${!data ? html`<p>Loading…</p>` : data.queues.length === 0 ? html`<p>No queues yet. Create one with <code>sluice queues create</code> or in CDK.</p>` : html`
      <table>
        <caption class="muted">${plural(data.queues.length, 'queue')}, SQS's approximate counts, refreshed every 2 s</caption>
        <thead><tr><th scope="col">Queue</th><th scope="col">Declared in</th><th scope="col" class="num">Visible</th><th scope="col" class="num">In flight</th>
          <th scope="col" class="num">Delayed</th><th scope="col" class="num">Dead letters</th><th scope="col">Oldest message</th><th scope="col">Visibility timeout · max receives</th><th scope="col">Actions</th></tr></thead>
        <tbody>${data.queues.map((q) => html`<tr data-queue=${q.name}>
          <th scope="row">${q.name}</th><td>${q.origin}</td>
          <td class="num" data-testid="visible">${q.messages.visible}</td><td class="num">${q.messages.inFlight}</td><td class="num">${q.messages.delayed}</td>
          <td class=${`num${q.deadLetters.visible ? ' error' : ''}`} data-testid="dead-letters">${q.deadLetters.visible}</td>
          <td>${q.oldestMessageAgeMs === null ? '-' : `${Math.round(q.oldestMessageAgeMs / 1000)} s old`}</td>
          <td>${duration(q.visibilityTimeoutMs)} · ${q.maxReceiveCount}</td>
          <td class="actions">
            <${ConfirmButton} label="Redrive…" ariaLabel=${`Redrive the dead letters of ${q.name}`} disabled=${q.deadLetters.visible === 0}
              question=${`Move about ${plural(q.deadLetters.visible, 'dead letter')} back to ${q.name}?`} confirmLabel="Confirm redrive"
              run=${act(q.name, 'redrive', {}, (a) => `Moved ${plural(a.moved, 'dead letter')} back; about ${a.remaining} left.`)} />
            <${ConfirmButton} label="Purge…" danger ariaLabel=${`Purge queue ${q.name}`}
              question=${`Delete every message of ${q.name} (about ${q.messages.visible + q.messages.inFlight + q.messages.delayed})? This cannot be undone.`} confirmLabel="Confirm purge"
              run=${act(q.name, 'purge', { target: 'queue' }, () => `Purged ${q.name}.`)} />
            <${ConfirmButton} label="Purge dead letters…" danger ariaLabel=${`Purge the dead letters of ${q.name}`} disabled=${q.deadLetters.visible === 0}
              question=${`Delete the ${plural(q.deadLetters.visible, 'dead letter')} of ${q.name}? This cannot be undone.`} confirmLabel="Confirm purge"
              run=${act(q.name, 'purge', { target: 'dead-letters' }, () => `Purged the dead letters of ${q.name}.`)} />
          </td></tr>`)}</tbody>
      </table>`}`;
}

// ---- Processors: #/processors, #/processors/NAME ------------------------------------------------

const bytes = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);
const counters = (c) => Object.entries(c).map(([k, v]) => `${k} ${v}`).join(' · ');

function status(p) {
  if (p.updatedAt === null) return p.lag > 0 ? 'not started' : 'idle';
  return p.lag === 0 ? 'caught up' : 'processing';
}

export function ProcessorsPage() {
  const [data, error] = usePoll(() => call('GET', '/processors'), [], 3000);
  return html`<h2>Processors</h2>
    <${ErrorLine} error=${error} />
    ${!data ? html`<p>Loading…</p>` : data.processors.length === 0 ? html`<p>No stream processors in this stack. Declare one with <code>new StreamProcessor(…)</code> (docs/streams.md).</p>` : html`
      <table>
        <caption class="muted">${plural(data.processors.length, 'processor')}, refreshed every 3 s</caption>
        <thead><tr><th scope="col">Processor</th><th scope="col">Status</th><th scope="col">Inputs</th><th scope="col" class="num">Lag</th>
          <th scope="col">Counters</th><th scope="col">State</th><th scope="col">Last commit</th></tr></thead>
        <tbody>${data.processors.map((p) => html`<tr>
          <td><a href="#/processors/${enc(p.name)}">${p.name}</a></td><td>${status(p)}</td><td>${p.inputs.join(', ')}</td>
          <td class="num">${p.lag}</td><td>${counters(p.counters)}</td><td>${plural(p.state.items, 'entry', 'entries')}, ${bytes(p.state.bytes)}</td><td>${when(p.updatedAt)}</td></tr>`)}</tbody>
      </table>`}`;
}

export function ProcessorPage({ name }) {
  const [p, error] = usePoll(() => call('GET', `/processors/${enc(name)}`), [name], 2000);
  return html`<p><a href="#/processors">← Processors</a></p><h2>Processor ${name}</h2>
    <${ErrorLine} error=${error} />
    ${!p ? html`<p>Loading…</p>` : html`
      <p>Status <strong>${status(p)}</strong> · lag <strong data-testid="processor-lag">${p.lag}</strong> · ${counters(p.counters)} · state ${plural(p.state.items, 'entry', 'entries')}, ${bytes(p.state.bytes)} ·
        dead-letter topic <a href="#/messages/${enc(p.deadLetterTopic)}/0">${p.deadLetterTopic}</a></p>
      <section class="panel" aria-labelledby="proc-partitions"><h3 id="proc-partitions">Partitions</h3>
        <table><thead><tr><th scope="col" class="num">Partition</th><th scope="col">Input positions (position / high watermark)</th><th scope="col" class="num">Lag</th>
          <th scope="col">Stream time</th><th scope="col">Counters</th><th scope="col">State</th><th scope="col">Last commit</th></tr></thead>
          <tbody>${p.partitions.map((q) => html`<tr><td class="num">${q.partition}</td>
            <td>${q.inputs.map((i) => html`<div><code>${i.topic}</code> ${i.position ?? '-'} / ${i.highWatermark}${i.lag ? ` (lag ${i.lag})` : ''}</div>`)}</td>
            <td class="num">${q.lag}</td><td>${when(q.streamTime)}</td><td>${counters(q.counters)}</td><td>${plural(q.state.items, 'entry', 'entries')}, ${bytes(q.state.bytes)}</td><td>${when(q.updatedAt)}</td></tr>`)}</tbody></table>
      </section>`}`;
}
