/**
 * The OpenAPI 3.1 description served at /openapi.json, assembled from its parts: the introduction
 * (openapi-description.ts), the components (openapi-components.ts) and the paths by concern
 * (openapi-*-paths.ts), in the document's order.
 */
import type { EngineConfig } from '../engine/index.ts';
import { perpetualMarkets } from '../contract/markets.ts';
import { errorCatalogue } from './errors.ts';
import { accountPaths } from './openapi-account-paths.ts';
import { adminPaths } from './openapi-admin-paths.ts';
import { apiComponents } from './openapi-components.ts';
import { apiDescription } from './openapi-description.ts';
import { futuresHistoryPaths } from './openapi-futures-history-paths.ts';
import { futuresPaths, futuresSchemas } from './openapi-futures-paths.ts';
import { premiumIndexPaths } from './openapi-premium-index.ts';
import { orderPaths } from './openapi-order-paths.ts';
import { publicPaths } from './openapi-public-paths.ts';
import { pathContext } from './openapi-shared.ts';

/** The OpenAPI 3.1 description served at /openapi.json: every route, error word and order status. */
export function buildOpenApi(config: EngineConfig): Record<string, unknown> {
  const catalogue = errorCatalogue();
  const context = pathContext(config);
  const perpSymbols = perpetualMarkets(config).map((market) => market.symbol);
  const components = apiComponents(catalogue, context.symbols);
  return {
    openapi: '3.1.0',
    info: {
      title: 'xtrader HTTP API',
      version: '1.0.0',
      description: apiDescription(catalogue),
    },
    servers: [{ url: '/' }],
    components: { ...components, schemas: { ...(components.schemas as Record<string, unknown>), ...futuresSchemas(perpSymbols) } },
    paths: {
      ...orderPaths(context),
      ...accountPaths(context),
      ...futuresPaths(context, perpSymbols),
      ...futuresHistoryPaths(context, perpSymbols),
      ...premiumIndexPaths(perpSymbols),
      ...publicPaths(context),
      ...adminPaths(),
    },
  };
}
