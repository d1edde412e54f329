/**
 * The stream-processing example: a Sluice installation and three stream processors, each a Lambda
 * function fed by push subscriptions to the topics it reads, its state in Sluice's `processors` table.
 *
 *   clicks ──▶ clicks-per-minute ──▶ clicks-per-minute        (tumbling one-minute count per page)
 *   orders ─┬▶ order-payments ─────▶ paid-orders              (orders ⋈ payments within 5 minutes)
 *   payments┘
 *   orders ─┬▶ order-enrichment ───▶ enriched-orders          (orders ⋈ customers table)
 *   customers┘
 *
 * Each processor's module (processors/) exports `handler = sluiceProcessor(app)`; the construct
 * reads the topology from it at synth time to subscribe the function to each topic it reads.
 */
import { fileURLToPath } from 'node:url';
import { CfnOutput, RemovalPolicy, Stack, type Duration, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
// In your own app: `import { Sluice, StreamProcessor, type SluiceProps } from 'sluice';`
import { Sluice, StreamProcessor, type SluiceProps } from '../../../lib';

export interface StreamsExampleStackProps extends StackProps {
  /** Props of the Sluice installation. @default { api: 'http', removalPolicy: RemovalPolicy.DESTROY } */
  readonly sluice?: SluiceProps;
  /** Each processor function's timeout (a crashed delivery comes back after 6 times it). @default Duration.seconds(30) */
  readonly processorTimeout?: Duration;
}

export class StreamsExampleStack extends Stack {
  readonly sluice: Sluice;
  readonly clicksPerMinute: StreamProcessor;
  readonly orderPayments: StreamProcessor;
  readonly orderEnrichment: StreamProcessor;

  constructor(scope: Construct, id: string, props: StreamsExampleStackProps = {}) {
    super(scope, id, props);
    // An example: `cdk destroy` removes its tables. Keep the default (RETAIN) for your own.
    this.sluice = new Sluice(this, 'Sluice', { api: 'http', removalPolicy: RemovalPolicy.DESTROY, ...props.sluice });

    const processor = (id: string, file: string) =>
      new StreamProcessor(this, id, {
        sluice: this.sluice,
        entry: fileURLToPath(new URL(`../processors/${file}`, import.meta.url)),
        ...(props.processorTimeout ? { timeout: props.processorTimeout } : {}),
      });
    this.clicksPerMinute = processor('ClicksPerMinute', 'clicks-per-minute.ts');
    this.orderPayments = processor('OrderPayments', 'order-payments.ts');
    this.orderEnrichment = processor('OrderEnrichment', 'order-enrichment.ts');

    new CfnOutput(this, 'SluiceUrl', { value: this.sluice.url });
    new CfnOutput(this, 'Processors', {
      value: [this.clicksPerMinute, this.orderPayments, this.orderEnrichment].map((p) => p.name).join(','),
      description: 'The stream processors (sluice processors list)',
    });
  }
}
