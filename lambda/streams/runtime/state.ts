/**
 * StateAccess for one step (one record, or one punctuation) of a batch, in three layers:
 * - the table as of the batch's start (TableView: strongly consistent reads, cached for the attempt;
 *   commits of this attempt are applied to the cache as they succeed);
 * - the writes of the batch's earlier steps, not committed yet (the overlay);
 * - the step's own writes: kept apart until the step succeeds, so a record that throws leaves no
 *   trace (the per-record savepoint).
 * Values are stored as JSON text and parsed on every read, so no read shares objects with the store
 * or with another read (as with DynamoDB itself).
 */
import { StreamRecordError } from '../dsl/errors';
import type { StateAccess } from '../topology';
import { stateSk, type ProcessorStateStore, type StateEntry } from './state-store';
import { compareKeys } from '../dsl/keys';

/** Writes by store, then key; null deletes. */
export type Writes = Map<string, Map<string, StateEntry | null>>;

/** DynamoDB's limit on a sort key, in bytes. */
const MAX_SORT_KEY_BYTES = 1024;
/** A state value's JSON text, in bytes: an item holds 400 KB with its keys and attributes. */
export const MAX_STATE_VALUE_BYTES = 380_000;

export function setWrite(writes: Writes, store: string, key: string, entry: StateEntry | null): void {
  let byKey = writes.get(store);
  if (!byKey) writes.set(store, (byKey = new Map()));
  byKey.set(key, entry);
}

export function mergeWrites(into: Writes, from: Writes): void {
  for (const [store, byKey] of from) for (const [key, entry] of byKey) setWrite(into, store, key, entry);
}

/** Entries known for a partition at one version: a value, or null (known absent). Keyed by sort key. */
export type KnownEntries = ReadonlyMap<string, StateEntry | null>;

/**
 * The table as the attempt saw it (plus what it committed since): what it read, on top of `base`,
 * entries known from this process's earlier commits of the partition at the very version the
 * attempt started from (so the table cannot hold anything else for them).
 */
export class TableView {
  private readonly own = new Map<string, StateEntry | null>();

  constructor(
    private readonly store: ProcessorStateStore,
    readonly pk: string,
    private readonly base: KnownEntries = new Map(),
  ) {}

  private known(sk: string): StateEntry | null | undefined {
    const own = this.own.get(sk);
    return own !== undefined ? own : this.base.get(sk);
  }

  async get(store: string, key: string): Promise<StateEntry | null> {
    const sk = stateSk(store, key);
    const known = this.known(sk);
    if (known !== undefined) return known;
    const entry = (await this.store.get(this.pk, store, key)) ?? null;
    this.own.set(sk, entry);
    return entry;
  }

  async range(store: string, prefix: string, from?: string, to?: string): Promise<Map<string, StateEntry>> {
    const found = await this.store.range(this.pk, store, prefix, from, to);
    for (const [key, entry] of found) this.own.set(stateSk(store, key), entry);
    return new Map(found);
  }

  /** After a commit: the table now holds these writes. */
  applyCommitted(writes: Writes): void {
    for (const [store, byKey] of writes) for (const [key, entry] of byKey) this.own.set(stateSk(store, key), entry);
  }

  /**
   * What the table holds as of the last commit, as far as this view knows: for the next attempt on
   * the partition, if nothing else commits before it. At most `maxBytes` of values: past that, only
   * what this attempt read and wrote.
   */
  snapshot(maxBytes: number): { entries: KnownEntries; bytes: number } {
    const entries = new Map<string, StateEntry | null>();
    let bytes = 0;
    const add = (sk: string, entry: StateEntry | null) => {
      entries.set(sk, entry);
      bytes += sk.length + (entry?.json.length ?? 0) + 64;
    };
    for (const [sk, entry] of this.own) add(sk, entry);
    if (bytes > maxBytes) return { entries: new Map(), bytes: 0 };
    for (const [sk, entry] of this.base) {
      if (bytes > maxBytes) break;
      if (!this.own.has(sk)) add(sk, entry);
    }
    return { entries, bytes };
  }
}

/** The StateAccess a step's user code gets. */
export class StepState implements StateAccess {
  readonly writes: Writes = new Map();
  /**
   * An error reading the table (throttling, a network fault): thrown again by the runtime after the
   * step, so an infrastructure failure fails the delivery instead of dead-lettering the record.
   */
  infraError: unknown;

  constructor(
    private readonly view: TableView,
    private readonly overlay: Writes,
  ) {}

  private written(store: string, key: string): StateEntry | null | undefined {
    const own = this.writes.get(store)?.get(key);
    if (own !== undefined) return own;
    return this.overlay.get(store)?.get(key);
  }

  async get<T>(store: string, key: string): Promise<T | undefined> {
    checkKey(store, key);
    let entry = this.written(store, key);
    if (entry === undefined) entry = await this.read(() => this.view.get(store, key));
    return entry === null ? undefined : (JSON.parse(entry.json) as T);
  }

  put(store: string, key: string, value: unknown, options: { readonly expiresAt?: number } = {}): void {
    checkKey(store, key);
    const json = JSON.stringify(value);
    if (json === undefined) throw new StreamRecordError(`state value for ${store}/${key} is not JSON`);
    if (Buffer.byteLength(json) > MAX_STATE_VALUE_BYTES) {
      throw new StreamRecordError(`state value for ${store}/${key} is ${Buffer.byteLength(json)} bytes of JSON; at most ${MAX_STATE_VALUE_BYTES}`);
    }
    const { expiresAt } = options;
    if (expiresAt !== undefined && !Number.isFinite(expiresAt)) throw new StreamRecordError(`expiresAt ${expiresAt} is not a number`);
    setWrite(this.writes, store, key, { json, ...(expiresAt === undefined ? {} : { expiresAt }) });
  }

  delete(store: string, key: string): void {
    checkKey(store, key);
    setWrite(this.writes, store, key, null);
  }

  async range<T>(store: string, prefix: string, from?: string, to?: string): Promise<{ key: string; value: T }[]> {
    const inRange = (k: string) =>
      k.startsWith(prefix) && (from === undefined || compareKeys(k, from) >= 0) && (to === undefined || compareKeys(k, to) <= 0);
    const merged = new Map<string, StateEntry | null>(await this.read(() => this.view.range(store, prefix, from, to)));
    for (const layer of [this.overlay.get(store), this.writes.get(store)]) {
      for (const [key, entry] of layer ?? []) if (inRange(key)) merged.set(key, entry);
    }
    return [...merged]
      .filter((e): e is [string, StateEntry] => e[1] !== null)
      .sort(([a], [b]) => compareKeys(a, b))
      .map(([key, entry]) => ({ key, value: JSON.parse(entry.json) as T }));
  }

  private async read<R>(load: () => Promise<R>): Promise<R> {
    try {
      return await load();
    } catch (err) {
      this.infraError ??= err;
      throw err;
    }
  }
}

/** Store names and keys must make a valid, unambiguous sort key `s#<store>#<key>`. */
function checkKey(store: string, key: string): void {
  if (typeof key !== 'string') throw new StreamRecordError(`state key for store ${store} must be a string`);
  if (Buffer.byteLength(stateSk(store, key)) > MAX_SORT_KEY_BYTES) {
    throw new StreamRecordError(`state key for store ${store} is too long: "s#<store>#<key>" may take at most ${MAX_SORT_KEY_BYTES} bytes`);
  }
}
