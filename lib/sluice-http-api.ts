/**
 * The HTTP API (API Gateway v2) mode of `SluiceApi`: one route per entry of ROUTES and a `$default`
 * route to the fallback function, every one of them behind IAM (SigV4) auth; payload format 2.0.
 *
 * Its constructs are created directly in the `SluiceApi` scope (not in a construct of their own), so
 * their logical IDs are those of the stacks deployed before REST mode existed.
 */
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { FALLBACK_FUNCTION, ROUTES, type FunctionName, type RouteDefinition } from '../definitions/functions';
import { pascalCase } from './names';

export interface HttpApiOptions {
  readonly functions: Readonly<Record<FunctionName, lambda.IFunction>>;
  readonly throttle: apigwv2.ThrottleSettings;
  readonly accessLogs: logs.ILogGroup;
}

/**
 * One JSON object per request. The identity fields are set because every route uses IAM auth:
 * they say which principal made the call.
 */
export const HTTP_ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  method: '$context.httpMethod',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  accountId: '$context.identity.accountId',
  caller: '$context.identity.caller',
  userArn: '$context.identity.userArn',
} as const;

export function buildHttpApi(scope: Construct, options: HttpApiOptions): { api: apigwv2.HttpApi; stage: apigwv2.HttpStage } {
  // One integration per function, shared by all of its routes.
  const integrations = new Map<FunctionName, HttpLambdaIntegration>();
  const integrationFor = (name: FunctionName): HttpLambdaIntegration => {
    let integration = integrations.get(name);
    if (!integration) {
      integration = new HttpLambdaIntegration(`${pascalCase(name)}Integration`, options.functions[name]);
      integrations.set(name, integration);
    }
    return integration;
  };

  const api = new apigwv2.HttpApi(scope, 'HttpApi', {
    description: 'Sluice: topics, events and consumer groups over HTTPS (SigV4-signed requests only)',
    // Every route, $default included, requires a SigV4 signature from an IAM principal allowed
    // execute-api:Invoke on it; grants can then be scoped per route and per topic path.
    defaultAuthorizer: new HttpIamAuthorizer(),
    defaultIntegration: integrationFor(FALLBACK_FUNCTION),
    createDefaultStage: false,
  });
  const routes: readonly RouteDefinition[] = ROUTES;
  for (const route of routes) {
    api.addRoutes({
      path: route.path,
      methods: [apigwv2.HttpMethod[route.method]],
      integration: integrationFor(route.function),
    });
  }

  const stage = new apigwv2.HttpStage(scope, 'DefaultStage', {
    httpApi: api,
    stageName: '$default',
    autoDeploy: true,
    throttle: options.throttle,
    accessLogSettings: {
      destination: new apigwv2.LogGroupLogDestination(options.accessLogs),
      format: apigateway.AccessLogFormat.custom(JSON.stringify(HTTP_ACCESS_LOG_FIELDS)),
    },
  });
  return { api, stage };
}
