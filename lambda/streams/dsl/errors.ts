import { SluiceError } from '../../../api/errors';

/**
 * A topology that cannot run as written: thrown while it is built (the DSL call that breaks a rule,
 * or `build()`), never while records flow, so a bad topology fails at deploy time, not in production.
 */
export class TopologyError extends SluiceError {
  override readonly code = 'InvalidTopology';
  override readonly status = 400;
}

/**
 * A record an operation cannot process (e.g. a windowed operation given a negative timestamp, a
 * callback returning `undefined`). Thrown while processing, so the runtime dead-letters the record.
 */
export class StreamRecordError extends SluiceError {
  override readonly code = 'InvalidStreamRecord';
  override readonly status = 400;
}
