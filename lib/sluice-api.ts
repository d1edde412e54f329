/**
 * The public HTTPS API: every route of ROUTES to its function, everything else to the fallback
 * function (JSON 404/405), every request behind IAM (SigV4) auth. Two modes, same routes, same
 * handlers (which accept both Lambda payload formats):
 * - `'http'` (default), lib/sluice-http-api.ts: an HTTP API. $1.00 instead of $3.50 per million
 *   requests, lower latency, and Sluice needs none of what only REST APIs offer (request
 *   validation and mapping happen in the Lambda handlers, against the same zod schemas the local
 *   platform uses).
 * - `'rest'`, lib/sluice-rest-api.ts: a REST API, the only kind LocalStack's free plan emulates.
 */
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionName } from '../definitions/functions';
import { buildHttpApi } from './sluice-http-api';
import { buildRestApi } from './sluice-rest-api';
import { logRetentionRules, validateProps } from './validation';

/** API Gateway's own account-level ceilings (per Region): 10,000 requests/s, bursts of 5,000. */
const MAX_RATE = 10_000;
const MAX_BURST = 5_000;

/** Which API Gateway API fronts Sluice: an HTTP API (v2) or a REST API (v1). */
export type SluiceApiType = 'http' | 'rest';

export interface SluiceApiProps {
  /**
   * `'http'`: an API Gateway HTTP API ($1.00 per million requests, payload format 2.0).
   * `'rest'`: a REST API ($3.50 per million, payload format 1.0), which LocalStack's free plan emulates.
   *
   * @default 'http'
   */
  readonly type?: SluiceApiType;

  /** The function behind each route, by logical name: every function ROUTES and FALLBACK_FUNCTION name. */
  readonly functions: Readonly<Record<FunctionName, lambda.IFunction>>;

  /**
   * Steady-state and burst request limits of the stage, for all routes together.
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

/** The Sluice API (an HTTP API or a REST API) and its stage. */
export class SluiceApi extends Construct {
  /** Which kind of API this is. */
  readonly type: SluiceApiType;
  /** The HTTP API (`type: 'http'`). Its own `url` is undefined: the stage is created separately, use `SluiceApi.url`. */
  readonly httpApi?: apigwv2.HttpApi;
  /** The REST API (`type: 'rest'`). */
  readonly restApi?: apigateway.RestApi;
  /**
   * The stage, with access logging and throttling: the HTTP API's auto-deployed `$default` stage,
   * or the REST API's `prod` stage.
   */
  readonly stage: apigwv2.HttpStage | apigateway.Stage;
  /** Access logs of the stage, one JSON object per request. */
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SluiceApiProps) {
    super(scope, id);
    const type = props.type ?? 'http';
    const throttle = props.throttle ?? { rateLimit: 1000, burstLimit: 2000 };
    const accessLogRetention = props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH;
    const rate = throttle.rateLimit;
    const burst = throttle.burstLimit;
    validateProps(this, [
      {
        condition: type !== 'http' && type !== 'rest',
        message: `type must be 'http' or 'rest'; got ${JSON.stringify(type)}`,
      },
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

    this.type = type;
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: accessLogRetention });
    const options = { functions: props.functions, throttle, accessLogs: this.accessLogs };
    if (type === 'rest') {
      const { api, stage } = buildRestApi(this, options);
      this.restApi = api;
      this.stage = stage;
    } else {
      const { api, stage } = buildHttpApi(this, options);
      this.httpApi = api;
      this.stage = stage;
    }
  }

  /** The URL of the stage, ending in `/`: `https://{id}.execute-api.{region}.amazonaws.com/` (HTTP) or `…/prod/` (REST). */
  get url(): string {
    return this.restApi ? this.restApi.url : (this.stage as apigwv2.HttpStage).url;
  }
}
