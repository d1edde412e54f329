/**
 * Lambda entry point for push subscriptions: create, list, describe (config and status), delete,
 * seek, dead letters and redrive, under /topics/{topic}/subscriptions.
 */
import {
  createSubscriptionRequestSchema,
  deadLettersQuerySchema,
  redriveRequestSchema,
  subscriptionNamePathSchema,
  subscriptionPathSchema,
  subscriptionSeekRequestSchema,
} from '../../api/subscriptions';
import { Authorizer } from '../core/acls/authorizer';
import type { Logger } from '../core/logger';
import type { SubscriptionService } from '../core/subscriptions/subscription-service';
import { httpHandler } from '../middleware/http-handler';
import { jsonResponse, noContent } from '../middleware/responses';
import { validate } from '../middleware/validate';
import { authorizerFromEnv, subscriptionServiceFromEnv } from './environment';
import { lazy, loggerFor } from './runtime';

export function createSubscriptionsHandler(service: SubscriptionService, logger: Logger, authorizer = Authorizer.off()) {
  const named = (params: unknown) => validate(subscriptionNamePathSchema, params, 'path');
  return httpHandler(
    'subscriptions',
    {
      'POST /topics/{topic}/subscriptions': async (event) => {
        const { topic } = validate(subscriptionPathSchema, event.pathParameters, 'path');
        return jsonResponse(201, await service.create(topic, validate(createSubscriptionRequestSchema, event.body, 'body')));
      },
      'GET /topics/{topic}/subscriptions': async (event) => {
        const { topic } = validate(subscriptionPathSchema, event.pathParameters, 'path');
        return jsonResponse(200, { subscriptions: await service.list(topic) });
      },
      'GET /topics/{topic}/subscriptions/{name}': async (event) => {
        const { topic, name } = named(event.pathParameters);
        return jsonResponse(200, await service.describe(topic, name));
      },
      'DELETE /topics/{topic}/subscriptions/{name}': async (event) => {
        const { topic, name } = named(event.pathParameters);
        await service.delete(topic, name);
        return noContent();
      },
      'POST /topics/{topic}/subscriptions/{name}/seek': async (event) => {
        const { topic, name } = named(event.pathParameters);
        return jsonResponse(200, await service.seek(topic, name, validate(subscriptionSeekRequestSchema, event.body, 'body')));
      },
      'GET /topics/{topic}/subscriptions/{name}/dead-letters': async (event) => {
        const { topic, name } = named(event.pathParameters);
        return jsonResponse(200, await service.deadLetters(topic, name, validate(deadLettersQuerySchema, event.query, 'query')));
      },
      'POST /topics/{topic}/subscriptions/{name}/dead-letters/redrive': async (event) => {
        const { topic, name } = named(event.pathParameters);
        return jsonResponse(200, await service.redrive(topic, name, validate(redriveRequestSchema, event.body, 'body')));
      },
    },
    logger,
    { authorizer },
  );
}

export const handler = lazy((env) =>
  createSubscriptionsHandler(subscriptionServiceFromEnv(env), loggerFor('subscriptions'), authorizerFromEnv(env)),
);
