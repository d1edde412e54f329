/**
 * The stream runtime (layer 2 of issue 11): runs a topology exactly-once on Sluice, fed by push
 * subscriptions. `sluiceProcessor(app)` is the Lambda handler; ProcessorRuntime is its core.
 */
export { sluiceProcessor, handleProcessorEvent, type SluiceProcessorOptions, type ProcessorHandler, type ProcessorBatchResponse } from './handler';
export { ProcessorRuntime, PROCESSED_METRIC, PUNCTUATE_FAILED_METRIC, type ProcessorRuntimeOptions, type DeliveryOutcome } from './runtime';
export { processorRuntimeFromEnv, PROCESSOR_ENV, type ProcessorEnv } from './environment';
export { ProcessorStateStore, partitionKey, positionSk, stateSk, META_SK, POSITION_PREFIX, STATE_PREFIX } from './state-store';
