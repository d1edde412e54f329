/**
 * Read-process-write in one atomic step (Kafka's transactional producer with
 * sendOffsetsToTransaction): the outputs are appended and the consumer's input offsets committed in
 * one DynamoDB transaction. A fenced member's transaction changes nothing; a retried one appends
 * nothing new (message IDs dedupe) and commits the same offsets again.
 */
import type { ProduceResult } from '../../../api/events';
import type { TransactionRequest } from '../../../api/groups';
import type { GroupService } from '../groups/group-service';
import type { GroupStore } from '../groups/group-store';
import type { JoinedWrite, LogService } from '../log/log-service';

export interface TransactionResult {
  readonly produced: readonly { readonly topic: string; readonly results: readonly ProduceResult[] }[];
  readonly committed: boolean;
}

export class TransactionService {
  constructor(
    private readonly log: LogService,
    private readonly groups: GroupService,
    private readonly groupStore: GroupStore,
  ) {}

  async run(request: TransactionRequest): Promise<TransactionResult> {
    let fencedCommit: JoinedWrite | undefined;
    if (request.commit) {
      const { group, ...commit } = request.commit;
      const { fence, offsets } = await this.groups.prepareCommit(group, commit);
      fencedCommit = {
        addTo: (tx) => this.groupStore.addFencedCommit(tx, fence, offsets),
        // The only condition of a fenced commit is its fence (CommitFenced).
        onFailed: () => this.groups.fenceError(group, commit),
      };
    }
    const { outcomes } = await this.log.produceAll(request.produce, fencedCommit);
    return {
      produced: request.produce.map((p, i) => ({ topic: p.topic, results: outcomes[i]! })),
      committed: request.commit !== undefined,
    };
  }
}
