/** Lambda entry point for ACL administration: POST, GET and DELETE /acls. */
import { aclFilterSchema, createAclsRequestSchema, deleteAclsQuerySchema } from '../../api/acls';
import type { AclService } from '../core/acls/acl-service';
import { Authorizer } from '../core/acls/authorizer';
import type { Logger } from '../core/logger';
import { httpHandler } from '../middleware/http-handler';
import { jsonResponse } from '../middleware/responses';
import { validate } from '../middleware/validate';
import { aclServiceFromEnv } from './environment';
import { lazy, loggerFor } from './runtime';

export function createAclsHandler(service: AclService, logger: Logger, authorizer = Authorizer.off()) {
  return httpHandler(
    'acls',
    {
      'POST /acls': async (event) => {
        const { acls } = validate(createAclsRequestSchema, event.body, 'body');
        return jsonResponse(201, { acls: await service.create(acls) });
      },
      'GET /acls': async (event) => jsonResponse(200, { acls: await service.list(validate(aclFilterSchema, event.query, 'query')) }),
      'DELETE /acls': async (event) =>
        jsonResponse(200, { deleted: await service.delete(validate(deleteAclsQuerySchema, event.query, 'query')) }),
    },
    logger,
    { authorizer },
  );
}

export const handler = lazy((env) => {
  const { service, authorizer } = aclServiceFromEnv(env);
  return createAclsHandler(service, loggerFor('acls'), authorizer);
});
