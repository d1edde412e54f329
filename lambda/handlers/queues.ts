/**
 * Lambda entry point for message queues: create, list, describe, delete, send, receive, ack, nack,
 * extend, redrive and purge, under /queues.
 */
import {
  ackRequestSchema,
  createQueueRequestSchema,
  extendRequestSchema,
  nackRequestSchema,
  purgeRequestSchema,
  queuePathSchema,
  receiveMessagesRequestSchema,
  redriveRequestSchema,
  sendMessagesRequestSchema,
} from '../../api/queues';
import { Authorizer } from '../core/acls/authorizer';
import type { Logger } from '../core/logger';
import type { QueueService } from '../core/queues/queue-service';
import { httpHandler } from '../middleware/http-handler';
import { eventsResponse, jsonResponse, noContent } from '../middleware/responses';
import { validate } from '../middleware/validate';
import { visibleTo } from './authorization';
import { authorizerFromEnv, queueServiceFromEnv } from './environment';
import { lazy, loggerFor } from './runtime';

export function createQueuesHandler(service: QueueService, logger: Logger, authorizer = Authorizer.off()) {
  const named = (params: unknown) => validate(queuePathSchema, params, 'path').queue;
  return httpHandler(
    'queues',
    {
      'POST /queues': async (event) => jsonResponse(201, await service.create(validate(createQueueRequestSchema, event.body, 'body'))),
      'GET /queues': async (event) =>
        jsonResponse(200, { queues: await visibleTo(authorizer, event, await service.list(), (q) => q.name) }),
      'GET /queues/{queue}': async (event) => jsonResponse(200, await service.describe(named(event.pathParameters))),
      'DELETE /queues/{queue}': async (event) => {
        await service.delete(named(event.pathParameters));
        return noContent();
      },
      'POST /queues/{queue}/messages': async (event) => {
        const queue = named(event.pathParameters);
        return jsonResponse(200, await service.send(queue, validate(sendMessagesRequestSchema, event.body, 'body')));
      },
      'POST /queues/{queue}/receive': async (event) => {
        const queue = named(event.pathParameters);
        return eventsResponse(200, await service.receive(queue, validate(receiveMessagesRequestSchema, event.body, 'body')));
      },
      'POST /queues/{queue}/ack': async (event) => {
        const queue = named(event.pathParameters);
        return jsonResponse(200, await service.ack(queue, validate(ackRequestSchema, event.body, 'body')));
      },
      'POST /queues/{queue}/nack': async (event) => {
        const queue = named(event.pathParameters);
        return jsonResponse(200, await service.nack(queue, validate(nackRequestSchema, event.body, 'body')));
      },
      'POST /queues/{queue}/extend': async (event) => {
        const queue = named(event.pathParameters);
        return jsonResponse(200, await service.extend(queue, validate(extendRequestSchema, event.body, 'body')));
      },
      'POST /queues/{queue}/redrive': async (event) => {
        const queue = named(event.pathParameters);
        return jsonResponse(200, await service.redrive(queue, validate(redriveRequestSchema, event.body, 'body')));
      },
      'POST /queues/{queue}/purge': async (event) => {
        const queue = named(event.pathParameters);
        return jsonResponse(200, await service.purge(queue, validate(purgeRequestSchema, event.body, 'body')));
      },
    },
    logger,
    { authorizer },
  );
}

export const handler = lazy((env) => createQueuesHandler(queueServiceFromEnv(env), loggerFor('queues'), authorizerFromEnv(env)));
