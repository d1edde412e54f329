/** Lambda entry point for consumer groups: membership, records, offsets, seek, describe. */
import { z } from 'zod';
import {
  commitRequestSchema,
  groupNameSchema,
  heartbeatRequestSchema,
  joinGroupRequestSchema,
  memberIdSchema,
  recordsQuerySchema,
  seekRequestSchema,
} from '../../api/groups';
import type { GroupService } from '../core/groups/group-service';
import type { Logger } from '../core/logger';
import { httpHandler } from '../middleware/http-handler';
import { jsonResponse, noContent } from '../middleware/responses';
import { validate } from '../middleware/validate';
import { groupServiceFromEnv } from './environment';
import { lazy, loggerFor } from './runtime';

const groupPath = z.strictObject({ group: groupNameSchema });
const memberPath = z.strictObject({ group: groupNameSchema, memberId: memberIdSchema });

export function createGroupsHandler(service: GroupService, logger: Logger) {
  return httpHandler(
    {
      'GET /groups': async () => jsonResponse(200, { groups: await service.listGroups() }),
      'GET /groups/{group}': async (event) => {
        const { group } = validate(groupPath, event.pathParameters, 'path');
        return jsonResponse(200, await service.describe(group));
      },
      'POST /groups/{group}/members': async (event) => {
        const { group } = validate(groupPath, event.pathParameters, 'path');
        return jsonResponse(200, await service.join(group, validate(joinGroupRequestSchema, event.body, 'body')));
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
        const query = validate(recordsQuerySchema, event.queryStringParameters, 'query');
        return jsonResponse(200, await service.records(group, memberId, query));
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
  );
}

export const handler = lazy(() => createGroupsHandler(groupServiceFromEnv(), loggerFor('groups')));
