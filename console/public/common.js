// What every page of the console shares: the API call, polling, a confirmation step, and the
// collapsible JSON view. Event data is rendered as text children or attribute values only, which
// Preact escapes; nothing here sets innerHTML.
import { h } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';

export const html = htm.bind(h);
const CSRF = document.querySelector('meta[name="sluice-csrf"]').content;
const BASE = new URL('.', import.meta.url).pathname.replace(/\/$/, '');
export const enc = encodeURIComponent;

/** One call to the console's JSON API; mutating calls carry the page's CSRF token. */
export async function call(method, path, body) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers['x-sluice-csrf'] = CSRF;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${BASE}/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new Error(json?.error ? `${json.error.code}: ${json.error.message}` : `HTTP ${res.status}`);
  return json;
}

/** Polls `load` every `everyMs` (0: once); returns [data, error, reload]. */
export function usePoll(load, deps, everyMs = 0) {
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

export function duration(ms) {
  if (ms === -1) return 'forever';
  if (ms === 0) return 'off';
  const units = [['d', 86400000], ['h', 3600000], ['min', 60000], ['s', 1000]];
  const [u, n] = units.find(([, n]) => ms >= n && ms % n === 0) ?? ['ms', 1];
  return `${ms / n} ${u}`;
}

let uPlot;
/**
 * uPlot and its stylesheet, on the first chart: neither blocks the first paint (a stylesheet
 * linked in the page's head would).
 */
export function loadUPlot() {
  if (!uPlot) {
    const link = Object.assign(document.createElement('link'), { rel: 'stylesheet', href: `${BASE}/vendor/uplot.css` });
    document.head.append(link);
    uPlot = import('uplot').then((m) => m.default);
  }
  return uPlot;
}

export const when = (ms) => (ms === null || ms === undefined ? '-' : new Date(ms).toISOString());

export const ErrorLine = ({ error }) => (error ? html`<p class="error" role="alert">${error}</p>` : null);

/**
 * A button that asks before it acts: the question, then Confirm (focused) or Cancel. `run`
 * answers the text of the status line shown after, or throws (shown as an alert).
 */
export function ConfirmButton({ label, ariaLabel, question, confirmLabel, run, danger, disabled }) {
  const [asking, setAsking] = useState(false);
  const [outcome, setOutcome] = useState();
  const go = async () => {
    setAsking(false);
    try {
      setOutcome({ ok: await run() });
    } catch (err) {
      setOutcome({ error: err.message });
    }
  };
  const trigger = useRef();
  const cancel = () => {
    setAsking(false);
    setTimeout(() => trigger.current?.focus()); // back where the keyboard was, once re-enabled
  };
  return html`<span class="action">
    <button ref=${trigger} class=${danger ? 'danger' : ''} disabled=${disabled || asking} aria-label=${ariaLabel} onClick=${() => { setOutcome(undefined); setAsking(true); }}>${label}</button>
    ${asking ? html`<div class="confirm" role="alertdialog" aria-label=${`Confirm: ${ariaLabel ?? label}`} onKeyDown=${(e) => e.key === 'Escape' && cancel()}>
      <span>${question}</span>
      <button class=${danger ? 'danger' : ''} onClick=${go} ref=${(el) => el?.focus()}>${confirmLabel}</button>
      <button class="secondary" onClick=${cancel}>Cancel</button></div>` : null}
    ${outcome?.ok ? html`<span class="ok" role="status">${outcome.ok}</span>` : null}
    ${outcome?.error ? html`<span class="error" role="alert">${outcome.error}</span>` : null}
  </span>`;
}

// ---- JSON, pretty-printed and collapsible ----------------------------------------------------

const OPEN_UP_TO = 200; // containers with more entries start folded

/**
 * A JSON value as JSON.stringify(value, null, 2) prints it, where each object's and array's
 * opening bracket is a button (keyboard: Tab, Enter/Space) that folds or unfolds it. Unfolded,
 * the text is exactly the pretty-printed JSON.
 */
export function JsonView({ value }) {
  return html`<${JsonNode} value=${value} depth=${0} />`;
}

function JsonNode({ value, depth }) {
  const container = value !== null && typeof value === 'object';
  const entries = container ? (Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value)) : [];
  const [open, setOpen] = useState(entries.length <= OPEN_UP_TO);
  if (!container) return JSON.stringify(value) ?? 'null';
  const array = Array.isArray(value);
  const [l, r] = array ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return `${l}${r}`;
  const what = array ? `array of ${entries.length} item${entries.length === 1 ? '' : 's'}` : `object with ${entries.length} key${entries.length === 1 ? '' : 's'}`;
  const pad = '  '.repeat(depth + 1);
  return html`<button type="button" class="fold" aria-expanded=${open ? 'true' : 'false'} aria-label=${`${open ? 'Fold' : 'Unfold'} ${what}`}
      onClick=${() => setOpen(!open)}>${l}</button>${open
    ? html`${'\n'}${entries.map(([k, v], i) => html`${pad}${array ? '' : `${JSON.stringify(k)}: `}<${JsonNode} value=${v} depth=${depth + 1} />${i < entries.length - 1 ? ',' : ''}${'\n'}`)}${'  '.repeat(depth)}${r}`
    : html`<span class="folded"> … ${what.replace(/^\w+ (with|of) /, '')} </span>${r}`}`;
}
