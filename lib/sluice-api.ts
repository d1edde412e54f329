/**
 * The public HTTPS API: an API Gateway HTTP API with one route per entry of ROUTES and a
 * `$default` route to the fallback function, every one of them behind IAM (SigV4) auth.
 *
 * An HTTP API rather than a REST API: $1.00 instead of $3.50 per million requests, lower latency,
 * and Sluice needs none of what only REST APIs offer (request validation and mapping happen in the
 * Lambda handlers, against the same zod schemas the local platform uses).
 */
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FALLBACK_FUNCTION, ROUTES, type FunctionName, type RouteDefinition } from '../definitions/functions';
import { pascalCase } from './names';
import { logRetentionRules, validateProps } from './validation';

/** API Gateway's own account-level ceilings (per Region): 10,000 requests/s, bursts of 5,000. */
const MAX_RATE = 10_000;
const MAX_BURST = 5_000;

export interface SluiceApiProps {
  /** The function behind each route, by logical name: every function ROUTES and FALLBACK_FUNCTION name. */
  readonly functions: Readonly<Record<FunctionName, lambda.IFunction>>;

  /**
   * Steady-state and burst request limits of the default stage, for all routes together.
   * `rateLimit` is requests per second (up to 10,000), `burstLimit` a whole number up to 5,000.
   *
   * @default { rateLimit: 1000, burstLimit: 2000 }
   */
  readonly throttle?: apigwv2.ThrottleSettings;

  /**
   * How long CloudWatch keeps the stage's access logs; one of `logs.RetentionDays`.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly accessLogRetention?: logs.RetentionDays;
}

/** The Sluice HTTP API and its default stage. */
export class SluiceApi extends Construct {
  /** The HTTP API. Its own `url` is undefined: the stage is created separately, use `SluiceApi.url`. */
  readonly httpApi: apigwv2.HttpApi;
  /** The `$default` stage, auto-deployed, with access logging. */
  readonly stage: apigwv2.HttpStage;
  /** Access logs of the default stage, one JSON object per request. */
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SluiceApiProps) {
    super(scope, id);
    const throttle = props.throttle ?? { rateLimit: 1000, burstLimit: 2000 };
    const accessLogRetention = props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH;
    const rate = throttle.rateLimit;
    const burst = throttle.burstLimit;
    validateProps(this, [
      {
        condition: rate !== undefined && !(rate > 0 && rate <= MAX_RATE),
        message: `throttle.rateLimit must be more than 0 and at most ${MAX_RATE} requests per second; got ${rate}`,
      },
      {
        condition: burst !== undefined && !(Number.isInteger(burst) && burst > 0 && burst <= MAX_BURST),
        message: `throttle.burstLimit must be a whole number from 1 to ${MAX_BURST}; got ${burst}`,
      },
      ...logRetentionRules('accessLogRetention', accessLogRetention),
    ]);

    // One integration per function, shared by all of its routes.
    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    const integrationFor = (name: FunctionName): HttpLambdaIntegration => {
      let integration = integrations.get(name);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${pascalCase(name)}Integration`, props.functions[name]);
        integrations.set(name, integration);
      }
      return integration;
    };

    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'Sluice: topics, events and consumer groups over HTTPS (SigV4-signed requests only)',
      // Every route, $default included, requires a SigV4 signature from an IAM principal allowed
      // execute-api:Invoke on it; grants can then be scoped per route and per topic path.
      defaultAuthorizer: new HttpIamAuthorizer(),
      defaultIntegration: integrationFor(FALLBACK_FUNCTION),
      createDefaultStage: false,
    });
    const routes: readonly RouteDefinition[] = ROUTES;
    for (const route of routes) {
      this.httpApi.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration: integrationFor(route.function),
      });
    }

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: accessLogRetention });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: apigateway.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
  }

  /** The URL of the default stage, ending in `/`. */
  get url(): string {
    return this.stage.url;
  }
}

/**
 * One JSON object per request. The identity fields are set because every route uses IAM auth:
 * they say which principal made the call.
 */
const ACCESS_LOG_FIELDS = {
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
