/**
 * Tries the example: writes some changes to the "orders" table (creates, updates, a delete), waits
 * until the replica has caught up, and prints both. Against the local platform (`npm start --
 * --assembly examples/datastore-sync/cdk.out` prints the endpoint and the table names):
 *
 *   npx tsx examples/datastore-sync/scripts/demo.ts --endpoint http://127.0.0.1:<port> \
 *     --orders <OrdersTableName> --replica <ReplicaTableName>
 *
 * Against a deployment, leave out --endpoint (the AWS SDK's usual credentials and Region).
 */
import { parseArgs } from 'node:util';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { compareTables } from './compare';

// Lambda runs Node 22+; the AWS SDK's warning about an older local Node.js is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { values } = parseArgs({ options: { endpoint: { type: 'string' }, orders: { type: 'string' }, replica: { type: 'string' } } });
if (!values.orders || !values.replica) {
  process.stderr.write('Usage: demo.ts [--endpoint <DynamoDB endpoint>] --orders <table> --replica <table>\n');
  process.exit(2);
}
const client = new DynamoDBClient(
  values.endpoint ? { endpoint: values.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'sluicelocal', secretAccessKey: 'sluicelocal' } } : {},
);
const run = `demo-${Date.now().toString(36)}`;
const key = (n: number) => ({ orderId: { S: `${run}-${n}` } });
for (let n = 1; n <= 3; n++) {
  await client.send(new PutItemCommand({ TableName: values.orders, Item: { ...key(n), status: { S: 'created' }, total: { N: String(10 * n) } } }));
}
await client.send(
  new UpdateItemCommand({ TableName: values.orders, Key: key(1), UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': { S: 'paid' } } }),
);
await client.send(new DeleteItemCommand({ TableName: values.orders, Key: key(2) }));
process.stdout.write(`Wrote 5 changes to ${values.orders} (orders ${run}-1..3); waiting for ${values.replica}...\n`);

const deadline = Date.now() + 60_000;
for (;;) {
  const report = await compareTables(client, values.orders, values.replica);
  if (report.inSync) {
    process.stdout.write(`In sync: ${report.orders} orders, ${report.replicaLive} live replica items, ${report.tombstones} tombstones\n`);
    for (const [id, item] of report.replica) if (id.startsWith(run)) process.stdout.write(`  ${id}: ${item.deleted ? '(deleted)' : item.content} changes=${item.changes} version=${item.version}\n`);
    break;
  }
  if (Date.now() > deadline) {
    process.stderr.write(`Not in sync after 60 s: missing ${report.missing.join(', ') || '-'}, extra ${report.extra.join(', ') || '-'}, different ${report.different.join(', ') || '-'}\n`);
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
}
client.destroy();
