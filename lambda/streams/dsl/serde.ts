/**
 * How a topic's JSON values become typed values and back. Without one, values are used as the JSON
 * they are (typed only by the generic parameter). A null value (a tombstone) is never passed to a serde.
 */
export interface Serde<T> {
  deserialize(json: unknown): T;
  serialize(value: T): unknown;
}
