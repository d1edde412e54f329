/**
 * cdk-nag (3.x) for Sluice apps: the AWS Solutions rule pack, run by CDK's policy validation at
 * synth time, and the findings Sluice deliberately accepts, each with its reason. The CDK app
 * (bin/sluice-app.ts) and the infrastructure tests share this, so what passes in tests passes in
 * `cdk synth`.
 *
 * Unacknowledged errors fail synthesis (warnings do not); unacknowledged findings are written to
 * `validation-report.json` in the cloud assembly. Acknowledged findings are left out of it: their
 * reasons live here, under code review, instead.
 */
import { Stack, Token, Validations, type Stage } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { FUNCTIONS, type FunctionDefinition, type FunctionName } from '../definitions/functions';
import { SluiceApi } from './sluice-api';
import { SluiceFunctions } from './sluice-functions';

export interface NagOptions {
  /** Add each rule's explanation to its findings. @default false */
  readonly verbose?: boolean;
}

/**
 * Register the AWS Solutions checks on an app (or stage) and acknowledge Sluice's accepted
 * findings on every Sluice construct in it. Call it after the stacks are built.
 */
export function applyNagChecks(app: Stage, options: NagOptions = {}): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: options.verbose ?? false }));
  acknowledgeSluiceFindings(app);
}

/** Acknowledge the findings Sluice accepts, each on the narrowest construct it applies to. */
export function acknowledgeSluiceFindings(scope: IConstruct): void {
  const functionSets = scope.node.findAll().filter((c): c is SluiceFunctions => c instanceof SluiceFunctions);
  for (const fn of functionSets.flatMap((set) => Object.values(set.functions))) {
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is pinned on purpose: it is the LTS line the handlers and their bundled dependencies ' +
        '(middy 6, AWS SDK v3) are built and tested for, and Lambda supports it until 2027. Moving to the ' +
        'newest runtime is a deliberate, tested change through the runtime prop, not a side effect of ' +
        'upgrading aws-cdk-lib.',
    });
  }
  for (const set of functionSets) acknowledgeMessageQueueGrants(set);
  const apis = scope.node.findAll().filter((c): c is SluiceApi => c instanceof SluiceApi);
  for (const api of apis) if (api.restApi) acknowledgeRestApiFindings(api.restApi);
}

/**
 * The message-queue grants (definitions/functions.ts `messageQueues`, lib/sluice-queues.ts
 * `grantMessageQueues`): queues are created and deleted at run time, so they cannot be named in
 * the policy; they are named from the installation's prefix instead, and granted as `<prefix>*`.
 */
function acknowledgeMessageQueueGrants(set: SluiceFunctions): void {
  for (const [name, fn] of Object.entries(set.functions) as [FunctionName, (typeof set.functions)[FunctionName]][]) {
    const actions = (FUNCTIONS[name] as FunctionDefinition).messageQueues ?? [];
    const policy = fn.role?.node.tryFindChild('DefaultPolicy');
    if (actions.length === 0 || !policy) continue;
    if (actions.some((a) => a !== 'ListQueues')) {
      // cdk-nag names the ARN as synthesized: a stack with a concrete account or Region (the CDK
      // CLI's default Region, say) has them literally in it.
      const stack = Stack.of(set);
      const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
      const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sqs:${region}:${account}:${set.messageQueuePrefix}*]`,
        reason:
          'Message queues are created and deleted at run time (POST /queues, DELETE /queues/{queue}), so the policy ' +
          "cannot list them. Every one is named from this installation's prefix (<prefix>q-<name>.fifo, its " +
          'dead-letter queue <prefix>d-<name>.fifo), and the grant is exactly the SQS actions the function calls ' +
          '(definitions/functions.ts) on queues with that prefix, in this account and Region only: no other queue.',
      });
    }
    if (actions.includes('ListQueues')) {
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'sqs:ListQueues has no resource-level permission in IAM (the Service Authorization Reference lists no ' +
          'resource type for it), so it can only be granted on "*". It is granted alone in its statement; the ' +
          'function lists with QueueNamePrefix <prefix>q- and only learns queue URLs, never messages or attributes.',
      });
    }
  }
}

/** REST mode (lib/sluice-rest-api.ts). The HTTP API mode has no finding to acknowledge. */
function acknowledgeRestApiFindings(restApi: apigateway.RestApi): void {
  Validations.of(restApi.node.defaultChild!).acknowledge({
    id: 'AwsSolutions-APIG2',
    reason:
      'Every request is validated by its Lambda handler against the zod schemas in api/ (the same ones the ' +
      'local platform and the HTTP API mode use), and answered with a 400 InvalidRequest that lists every ' +
      'issue. API Gateway request validators would duplicate those rules in a second language, drift from ' +
      'them, and answer in a different error format.',
  });
  // Every method of the API, the routes' and the fallback ANY methods alike.
  for (const method of restApi.methods) {
    Validations.of(method).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Every method uses IAM (SigV4) authorization instead of a Cognito user pool: Sluice is called by ' +
        'services and Lambda functions with IAM credentials, and access is granted per route and per ' +
        'topic path with execute-api:Invoke policies.',
    });
  }
  const stage = restApi.deploymentStage;
  Validations.of(stage).acknowledge({
    id: 'AwsSolutions-APIG6',
    reason:
      'The stage writes an access log line for every request (status, error message, integration error ' +
      'and latency, caller identity) to a log group with retention, and the functions log each request ' +
      'with its outcome. Execution logs would go to a log group API Gateway creates outside the stack, ' +
      'kept forever, and at INFO level would copy request bodies (event payloads) into it.',
  });
  Validations.of(stage).acknowledge({
    id: 'AwsSolutions-APIG3',
    reason:
      'No WAF web ACL by default: every request must carry a valid SigV4 signature of an IAM principal, ' +
      'which API Gateway checks before anything runs, and the stage is throttled. Operators who want WAF ' +
      'rules (rate limits per IP, IP allow lists) can associate a web ACL with the stage; the HTTP API ' +
      'mode cannot have one at all.',
  });
  const cloudWatchRole = restApi.node.tryFindChild('CloudWatchRole');
  if (cloudWatchRole) {
    Validations.of(cloudWatchRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        "API Gateway's account-level CloudWatch Logs role, which REST API access logging requires, uses " +
        "AWS's managed policy AmazonAPIGatewayPushToCloudWatchLogs, made for exactly this: API Gateway " +
        'writes the logs of every REST API in the account and Region with it, so it cannot be scoped to ' +
        "Sluice's log group. Only apigateway.amazonaws.com can assume the role.",
    });
  }
}
