/**
 * The OpenAPI 3.1 description served at /openapi.json, assembled from its parts: the introduction
 * (openapi-description.ts), the components (openapi-components.ts) and the paths by concern
 * (openapi-*-paths.ts), in the document's order.
 */
import type { EngineConfig } from '../engine/index.ts';
import { errorCatalogue } from './errors.ts';
import { accountPaths } from './openapi-account-paths.ts';
import { adminPaths } from './openapi-admin-paths.ts';
import { apiComponents } from './openapi-components.ts';
import { apiDescription } from './openapi-description.ts';
import { orderPaths } from './openapi-order-paths.ts';
import { publicPaths } from './openapi-public-paths.ts';
import { pathContext } from './openapi-shared.ts';

/** The OpenAPI 3.1 description served at /openapi.json: every route, error word and order status. */
export function buildOpenApi(config: EngineConfig): Record<string, unknown> {
  const catalogue = errorCatalogue();
  const context = pathContext(config);
  return {
    openapi: '3.1.0',
    info: {
      title: 'xtrader HTTP API',
      version: '1.0.0',
      description: apiDescription(catalogue),
    },
    servers: [{ url: '/' }],
    components: apiComponents(catalogue, context.symbols),
    paths: {
      ...orderPaths(context),
      ...accountPaths(context),
      ...publicPaths(context),
      ...adminPaths(),
    },
  };
}
