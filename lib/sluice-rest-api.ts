/**
 * The REST API (API Gateway v1) mode of `SluiceApi`, for LocalStack's free plan (which emulates REST
 * APIs but not HTTP APIs) and for anyone who needs a REST API feature. Same routes, same functions,
 * IAM (SigV4) auth on every method; Lambda proxy integrations send payload format 1.0, which the
 * handlers accept as well as 2.0 (lambda/middleware/request.ts).
 *
 * Only AWS::ApiGateway::* resources (RestApi, Resource, Method, Deployment, Stage, Account), an IAM
 * role, a log group and Lambda permissions: all in LocalStack's free plan.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { FALLBACK_FUNCTION, ROUTES, type FunctionName, type RouteDefinition } from '../definitions/functions';

/** The stage the REST API is deployed to: its URL is `https://{api}.execute-api.{region}.amazonaws.com/prod/`. */
export const REST_STAGE_NAME = 'prod';

export interface RestApiOptions {
  readonly functions: Readonly<Record<FunctionName, lambda.IFunction>>;
  readonly throttle: { readonly rateLimit?: number; readonly burstLimit?: number };
  readonly accessLogs: logs.ILogGroup;
}

/**
 * The HTTP API's access log fields, in REST's context variables where they differ (REST has no
 * `routeKey`: `resourcePath` plus `method` say the same; its integration error is
 * `integration.error`). The identity fields say which IAM principal made the call.
 */
export const REST_ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTime',
  resourcePath: '$context.resourcePath',
  method: '$context.httpMethod',
  path: '$context.path',
  stage: '$context.stage',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integration.error',
  error: '$context.error.message',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  accountId: '$context.identity.accountId',
  caller: '$context.identity.caller',
  userArn: '$context.identity.userArn',
} as const;

const IAM = { authorizationType: apigateway.AuthorizationType.IAM } as const;

export function buildRestApi(scope: Construct, options: RestApiOptions): { api: apigateway.RestApi; stage: apigateway.Stage } {
  const api = new apigateway.RestApi(scope, 'RestApi', {
    description: 'Sluice: topics, events and consumer groups over HTTPS (SigV4-signed requests only)',
    // Regional: clients call from AWS Regions; an edge endpoint would add a CloudFront hop.
    endpointTypes: [apigateway.EndpointType.REGIONAL],
    // Every method, fallbacks included, requires a SigV4 signature from an IAM principal allowed
    // execute-api:Invoke on it; grants can then be scoped per method and per topic path.
    defaultMethodOptions: IAM,
    // Access logging of a REST API stage needs API Gateway's account-level CloudWatch Logs role
    // (AWS::ApiGateway::Account, one per account and Region): without it the stage fails to deploy
    // ("CloudWatch Logs role ARN must be set in account settings"). HTTP APIs need no such role.
    // REST mode exists for fresh accounts (LocalStack's among them), where nothing has set it yet,
    // so Sluice sets it: a role API Gateway assumes with AWS's managed policy
    // AmazonAPIGatewayPushToCloudWatchLogs. It is retained when the stack goes, because every REST
    // API in the account and Region that logs depends on the same setting.
    cloudWatchRole: true,
    cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
    deployOptions: {
      stageName: REST_STAGE_NAME,
      accessLogDestination: new apigateway.LogGroupLogDestination(options.accessLogs),
      accessLogFormat: apigateway.AccessLogFormat.custom(JSON.stringify(REST_ACCESS_LOG_FIELDS)),
      // Stage-wide default for every method, like the HTTP API's default route settings.
      throttlingRateLimit: options.throttle.rateLimit,
      throttlingBurstLimit: options.throttle.burstLimit,
    },
  });
  // RestApi adds an `Endpoint` output to the stack it is in; Sluice's users have `SluiceApi.url`
  // (and SluiceStack its own `ApiUrl` output), so it would only be noise in their stacks.
  api.node.tryRemoveChild('Endpoint');

  // One integration per function. Permissions are scoped to this API (any stage, method and path)
  // rather than one per method: the fallback alone serves ~30 methods, and two statements per
  // method (invoke + test invoke) would approach Lambda's 20 KB resource-policy limit.
  const integrations = new Map<FunctionName, apigateway.LambdaIntegration>();
  const integrationFor = (name: FunctionName): apigateway.LambdaIntegration => {
    let integration = integrations.get(name);
    if (!integration) {
      integration = new apigateway.LambdaIntegration(options.functions[name], { proxy: true, scopePermissionToMethod: false });
      integrations.set(name, integration);
    }
    return integration;
  };

  // The resource tree of ROUTES, one method per route.
  const resources = new Map<string, apigateway.IResource>([['/', api.root]]);
  const routes: readonly RouteDefinition[] = ROUTES;
  for (const route of routes) {
    const resource = api.root.resourceForPath(route.path);
    resources.set(resource.path, resource);
    for (let parent = resource.parentResource; parent; parent = parent.parentResource) resources.set(parent.path, parent);
    resource.addMethod(route.method, integrationFor(route.function), IAM);
  }

  // JSON 404/405 for everything else, from the fallback function. A REST API answers a path no
  // resource matches with its own 403 "Missing Authentication Token", and a method a resource lacks
  // the same way, so nothing may be left unmatched:
  // - `ANY` on every resource of the tree (root included): API Gateway prefers an explicit method
  //   over `ANY` on the same resource, so routed methods still reach their functions, and any other
  //   method reaches the fallback (405 with `Allow`);
  // - a greedy `{proxy+}` child with `ANY` on every resource that has no variable child: API Gateway
  //   allows one variable child per resource, and where there is one (e.g. `/topics/{topic}`) it
  //   already matches any next segment, whose own resource then has its fallbacks. Static children
  //   win over `{proxy+}`, so deeper routes keep matching (e.g. `/topics/{topic}/events`).
  // The fallback decides 404 or 405 from the method and path, not from which resource caught it.
  const fallback = integrationFor(FALLBACK_FUNCTION);
  const treePaths = [...resources.keys()];
  for (const path of treePaths) {
    const resource = resources.get(path)!;
    resource.addMethod('ANY', fallback, IAM);
    const prefix = path === '/' ? '/' : `${path}/`;
    const hasVariableChild = treePaths.some((p) => p.startsWith(prefix) && /^\{[^/]+\}$/.test(p.slice(prefix.length)));
    if (!hasVariableChild) resource.addResource('{proxy+}').addMethod('ANY', fallback, IAM);
  }

  return { api, stage: api.deploymentStage };
}
