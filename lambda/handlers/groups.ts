/** Lambda entry point for consumer groups: membership, records, offsets, seek, describe, delete. */
import { z } from 'zod';
import {
  commitRequestSchema,
  groupNameSchema,
  heartbeatRequestSchema,
  joinGroupRequestSchema,
  memberIdSchema,
  recordsQuerySchema,
  seekRequestSchema,
  type GroupDescription,
} from '../../api/groups';
import { Authorizer } from '../core/acls/authorizer';
import type { GroupService } from '../core/groups/group-service';
import type { Logger } from '../core/logger';
import { httpHandler } from '../middleware/http-handler';
import { eventsResponse, jsonResponse, noContent } from '../middleware/responses';
import { validate } from '../middleware/validate';
import { inServiceCheck, visibleTo } from './authorization';
import { authorizerFromEnv, groupServiceFromEnv } from './environment';
import { lazy, loggerFor } from './runtime';

const groupPath = z.strictObject({ group: groupNameSchema });
const memberPath = z.strictObject({ group: groupNameSchema, memberId: memberIdSchema });

export function createGroupsHandler(service: GroupService, logger: Logger, authorizer = Authorizer.off()) {
  return httpHandler(
    'groups',
    {
      'GET /groups': async (event) =>
        jsonResponse(200, { groups: await visibleTo(authorizer, event, await service.listGroups(), (g) => g) }),
      'GET /groups/{group}': async (event) => {
        const { group } = validate(groupPath, event.pathParameters, 'path');
        const description = await service.describe(group);
        if (!authorizer.enabled) return jsonResponse(200, description);
        // Only the topics the caller may describe: a group must not reveal the others.
        const shown = new Set(await visibleTo(authorizer, event, topicsOf(description), (t) => t));
        return jsonResponse(200, {
          ...description,
          members: description.members.map((m) => ({
            ...m,
            topics: m.topics.filter((t) => shown.has(t)),
            assignments: m.assignments.filter((a) => shown.has(a.topic)),
          })),
          partitions: description.partitions.filter((p) => shown.has(p.topic)),
        });
      },
      'DELETE /groups/{group}': async (event) => {
        const { group } = validate(groupPath, event.pathParameters, 'path');
        await service.deleteGroup(group);
        return noContent();
      },
      'POST /groups/{group}/members': async (event) => {
        const { group } = validate(groupPath, event.pathParameters, 'path');
        const request = validate(joinGroupRequestSchema, event.body, 'body');
        // The member's host, as Kafka's describe shows it: the caller's IP as API Gateway saw it.
        const host = event.identity.sourceIp;
        return jsonResponse(200, await service.join(group, request, host === undefined ? {} : { host }));
      },
      'POST /groups/{group}/members/{memberId}/heartbeat': async (event) => {
        const { group, memberId } = validate(memberPath, event.pathParameters, 'path');
        const { generation } = validate(heartbeatRequestSchema, event.body, 'body');
        return jsonResponse(200, await service.heartbeat(group, memberId, generation));
      },
      'DELETE /groups/{group}/members/{memberId}': async (event) => {
        const { group, memberId } = validate(memberPath, event.pathParameters, 'path');
        await service.leave(group, memberId);
        return noContent();
      },
      'GET /groups/{group}/members/{memberId}/records': async (event) => {
        const { group, memberId } = validate(memberPath, event.pathParameters, 'path');
        const query = validate(recordsQuerySchema, event.query, 'query');
        const authorizeTopics = authorizer.enabled ? inServiceCheck(authorizer, event) : undefined;
        return eventsResponse(200, await service.records(group, memberId, authorizeTopics ? { ...query, authorizeTopics } : query));
      },
      'POST /groups/{group}/offsets': async (event) => {
        const { group } = validate(groupPath, event.pathParameters, 'path');
        await service.commit(group, validate(commitRequestSchema, event.body, 'body'));
        return noContent();
      },
      'POST /groups/{group}/seek': async (event) => {
        const { group } = validate(groupPath, event.pathParameters, 'path');
        return jsonResponse(200, { offsets: await service.seek(group, validate(seekRequestSchema, event.body, 'body')) });
      },
    },
    logger,
    { authorizer },
  );
}

function topicsOf(group: GroupDescription): string[] {
  return [...new Set([...group.members.flatMap((m) => m.topics), ...group.partitions.map((p) => p.topic)])];
}

export const handler = lazy((env) => createGroupsHandler(groupServiceFromEnv(env), loggerFor('groups'), authorizerFromEnv(env)));
