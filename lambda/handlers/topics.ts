/** Lambda entry point for topic administration: POST/GET /topics, GET/PATCH/DELETE /topics/{topic}. */
import { createTopicRequestSchema, topicPathSchema, updateTopicRequestSchema } from '../../api/topics';
import { Authorizer } from '../core/acls/authorizer';
import type { Logger } from '../core/logger';
import type { TopicService } from '../core/topics/topic-service';
import { httpHandler } from '../middleware/http-handler';
import { jsonResponse, noContent } from '../middleware/responses';
import { validate } from '../middleware/validate';
import { visibleTo } from './authorization';
import { authorizerFromEnv, topicServiceFromEnv } from './environment';
import { lazy, loggerFor } from './runtime';

export function createTopicsHandler(service: TopicService, logger: Logger, authorizer = Authorizer.off()) {
  return httpHandler(
    'topics',
    {
      'POST /topics': async (event) =>
        jsonResponse(201, await service.createTopic(validate(createTopicRequestSchema, event.body, 'body'))),
      'GET /topics': async (event) =>
        jsonResponse(200, { topics: await visibleTo(authorizer, event, await service.listTopics(), (t) => t.name) }),
      'GET /topics/{topic}': async (event) => {
        const { topic } = validate(topicPathSchema, event.pathParameters, 'path');
        return jsonResponse(200, await service.describeTopic(topic));
      },
      'PATCH /topics/{topic}': async (event) => {
        const { topic } = validate(topicPathSchema, event.pathParameters, 'path');
        return jsonResponse(200, await service.updateTopic(topic, validate(updateTopicRequestSchema, event.body, 'body')));
      },
      'DELETE /topics/{topic}': async (event) => {
        const { topic } = validate(topicPathSchema, event.pathParameters, 'path');
        await service.deleteTopic(topic);
        return noContent();
      },
    },
    logger,
    { authorizer },
  );
}

export const handler = lazy((env) => createTopicsHandler(topicServiceFromEnv(env), loggerFor('topics'), authorizerFromEnv(env)));
