/** Lambda entry point for POST /transactions: produce and commit offsets atomically. */
import { transactionRequestSchema } from '../../api/groups';
import { Authorizer } from '../core/acls/authorizer';
import type { Logger } from '../core/logger';
import type { TransactionService } from '../core/transactions/transaction-service';
import { httpHandler } from '../middleware/http-handler';
import { jsonResponse } from '../middleware/responses';
import { validate } from '../middleware/validate';
import { authorizerFromEnv, transactionServiceFromEnv } from './environment';
import { lazy, loggerFor } from './runtime';

export function createTransactionsHandler(service: TransactionService, logger: Logger, authorizer = Authorizer.off()) {
  return httpHandler(
    'transactions',
    {
      'POST /transactions': async (event) =>
        jsonResponse(200, await service.run(validate(transactionRequestSchema, event.body, 'body'))),
    },
    logger,
    { authorizer },
  );
}

export const handler = lazy((env) => createTransactionsHandler(transactionServiceFromEnv(env), loggerFor('transactions'), authorizerFromEnv(env)));
