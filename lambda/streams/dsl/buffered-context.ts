/**
 * A ProcessorContext whose effects (state writes, emits, counts) are held back until commit(), so a
 * step that throws halfway can be undone. The runtime does this per input record; the DSL needs it
 * for punctuations, where one failing emission must not undo or block the others.
 */
import type { ProcessorContext, StateAccess, StreamRecord } from '../topology';
import { compareKeys } from './keys';

type Write = { readonly value: unknown; readonly options: { readonly expiresAt?: number } | undefined } | null;

export class BufferedContext implements ProcessorContext {
  private readonly writes = new Map<string, Map<string, Write>>();
  private readonly emits: [string, StreamRecord, number | undefined][] = [];
  private readonly counts: [string, number | undefined][] = [];
  readonly state: StateAccess;

  constructor(private readonly base: ProcessorContext) {
    const writes = this.writes;
    const written = (store: string) => writes.get(store) ?? writes.set(store, new Map()).get(store)!;
    this.state = {
      get: async <T>(store: string, key: string): Promise<T | undefined> => {
        const w = writes.get(store)?.get(key);
        if (w !== undefined) return w === null ? undefined : (structuredClone(w.value) as T);
        return base.state.get<T>(store, key);
      },
      put: (store, key, value, options) => {
        written(store).set(key, { value: structuredClone(value), options });
      },
      delete: (store, key) => {
        written(store).set(key, null);
      },
      range: async <T>(store: string, prefix: string, from?: string, to?: string) => {
        const own = writes.get(store);
        const entries = new Map((await base.state.range<T>(store, prefix, from, to)).map((e) => [e.key, e.value]));
        for (const [key, w] of own ?? []) {
          if (!key.startsWith(prefix) || (from !== undefined && compareKeys(key, from) < 0) || (to !== undefined && compareKeys(key, to) > 0)) continue;
          if (w === null) entries.delete(key);
          else entries.set(key, structuredClone(w.value) as T);
        }
        return [...entries].sort(([a], [b]) => compareKeys(a, b)).map(([key, value]) => ({ key, value }));
      },
    };
  }

  get streamTime(): number {
    return this.base.streamTime;
  }

  emit(topic: string, record: StreamRecord, partition?: number): void {
    this.emits.push([topic, record, partition]);
  }

  count(metric: string, n?: number): void {
    this.counts.push([metric, n]);
  }

  /** Applies the held-back effects to the underlying context, in the order they happened per kind. */
  commit(): void {
    for (const [store, writes] of this.writes) {
      for (const [key, w] of writes) {
        if (w === null) this.base.state.delete(store, key);
        else this.base.state.put(store, key, w.value, w.options);
      }
    }
    for (const [topic, record, partition] of this.emits) this.base.emit(topic, record, partition);
    for (const [metric, n] of this.counts) this.base.count(metric, n);
  }
}
