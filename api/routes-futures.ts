/**
 * The futures routes of ARCHITECTURE.md "Perpetual futures": wallet transfers, position mode,
 * leverage, margin type and isolated margin (signed, per user), the account and position reads,
 * and the admin oracle feed.
 *
 * A futures setting is acknowledged like an order: journaled, fsynced, applied, then answered
 * `200 {request_id, status: "ACCEPTED", outcome, reject_reason, …}` — `outcome` is what the engine
 * did with it ("Applied", or "Rejected" with the engine's reason; a rejected one changed nothing).
 * What the read side can tell for sure before journaling — bad shape, unknown or spot market, a
 * leverage above the tier's maximum, a position or order in the way, an amount the balance cannot
 * cover — is answered 400 instead, never journaled. The admin feed is acknowledged like a deposit:
 * 200 APPLIED or 409 REJECTED.
 */
import type { Hono } from 'hono';
import type { z } from 'zod';
import { findAsset, type EngineEvent, type PositionSide, type PositionView } from '../engine/index.ts';
import { initialMarginKrw, isolatedMarginRemovableKrw, maxLeverageForNotional, notionalKrw } from '../engine/perp/index.ts';
import { findTradedMarket, isPerpetual } from '../contract/markets.ts';
import type { CommandInput, SubmitResult } from '../sequencer/index.ts';
import { parseJsonObject, requireJsonType } from './body.ts';
import type { ApiDeps, AppEnv } from './context.ts';
import { ApiError } from './errors.ts';
import {
  FUTURES_FIELD_WORDS,
  futuresTransferBody,
  indexPricesBody,
  isolatedMarginBody,
  leverageBody,
  marginTypeBody,
  perpMarketOf,
  positionModeBody,
  toAdjustIsolatedMargin,
  toFuturesTransfer,
  toIndexPrices,
  toSetLeverage,
  toSetMarginType,
  toSetPositionMode,
} from './futures-input.ts';
import { FuturesViews, signedAmount } from './futures-views.ts';
import { zodToApiError } from './order-input.ts';

/** The settlement asset the account read shows when none is asked for. */
const DEFAULT_SETTLEMENT_ASSET = 'KRW';

function rejectionOf(events: readonly EngineEvent[]): string | undefined {
  for (const event of events) if (event.type === 'OrderRejected') return event.reason;
  return undefined;
}

/** Signed futures routes (under /v1/futures, signed by app.ts) and POST /admin/index-prices (admin bearer). */
export function futuresRoutes(app: Hono<AppEnv>, deps: ApiDeps): void {
  const { sequencer, metrics, engineConfig: config } = deps;
  const futuresViews = new FuturesViews(config);

  const bodyOf = <T>(schema: z.ZodType<T>, contentType: string | undefined, text: string): T => {
    if (deps.ready && !deps.ready()) throw new ApiError('NOT_READY');
    requireJsonType(contentType);
    const input = parseJsonObject(text);
    const parsed = schema.safeParse(input);
    if (!parsed.success) throw zodToApiError(parsed.error, input, FUTURES_FIELD_WORDS);
    return parsed.data;
  };

  const submit = async (command: CommandInput): Promise<SubmitResult> => {
    const started = performance.now();
    const result = await sequencer.submit(command);
    metrics.ackSeconds.observe((performance.now() - started) / 1000);
    return result;
  };

  /** The acknowledgement every signed futures command gets (then its own figures after the command). */
  const acknowledgement = (result: SubmitResult, what: string) => {
    const reason = rejectionOf(result.events);
    return {
      request_id: String(result.seq),
      status: 'ACCEPTED',
      message: reason === undefined ? `${what} applied` : `${what} rejected by the engine: ${reason} (nothing changed)`,
      outcome: reason === undefined ? 'Applied' : 'Rejected',
      reject_reason: reason ?? null,
    };
  };

  const positionsOf = (userId: number, symbol?: string): PositionView[] => sequencer.queries.futuresPositions(userId, symbol);
  const isPerpetualSymbol = (symbol: string): boolean => {
    const market = findTradedMarket(config, symbol);
    return market !== undefined && isPerpetual(market);
  };
  const hasOpenOrders = (userId: number, symbol?: string): boolean =>
    sequencer.queries.openOrders(userId, symbol).some((order) => isPerpetualSymbol(order.symbol));
  const markOf = (position: PositionView): number | undefined =>
    position.markPrice ?? sequencer.queries.markPrice(position.symbol)?.markPrice ?? position.entryPrice;

  app.post('/v1/futures/transfer', async (c) => {
    const userId = c.get('userId');
    const command = toFuturesTransfer(bodyOf(futuresTransferBody, c.req.header('content-type'), c.get('body')), userId, config);
    if (command.direction === 'SpotToFutures') {
      const spot = sequencer.queries.balances(userId).find((balance) => balance.asset === command.asset);
      if ((spot?.available ?? 0) < command.amount)
        throw new ApiError('INSUFFICIENT_AVAILABLE', `the spot ${command.asset} available balance is below the amount`);
    } else {
      const account = sequencer.queries.futuresAccount(userId, command.asset);
      const movable =
        account === undefined
          ? 0n
          : account.availableBalanceKrw < account.walletBalanceKrw
            ? account.availableBalanceKrw
            : account.walletBalanceKrw;
      if (movable < BigInt(command.amount))
        throw new ApiError(
          'INSUFFICIENT_MARGIN',
          `at most the available futures balance (${movable < 0n ? '0' : movable.toString()}) can leave the futures wallet`,
        );
    }
    const result = await submit(command);
    const account = sequencer.queries.futuresAccount(userId, command.asset);
    const spot = sequencer.queries.balances(userId).find((balance) => balance.asset === command.asset);
    const asset = { decimals: config.assets.find((spec) => spec.code === command.asset)?.decimals ?? 0 };
    return c.json({
      ...acknowledgement(result, 'transfer'),
      asset: command.asset,
      wallet_balance: account ? signedAmount(asset, account.walletBalanceKrw) : '0',
      available_balance: account ? signedAmount(asset, account.availableBalanceKrw) : '0',
      spot_available: signedAmount(asset, BigInt(spot?.available ?? 0)),
    });
  });

  app.post('/v1/futures/position-mode', async (c) => {
    const userId = c.get('userId');
    const command = toSetPositionMode(bodyOf(positionModeBody, c.req.header('content-type'), c.get('body')), userId);
    if (positionsOf(userId).length > 0 || hasOpenOrders(userId))
      throw new ApiError(
        'POSITION_OR_ORDERS_OPEN',
        'the position mode changes only with no position and no open order in any perpetual market',
      );
    const result = await submit(command);
    return c.json({
      ...acknowledgement(result, 'position mode'),
      position_mode: sequencer.queries.futuresAccount(userId, DEFAULT_SETTLEMENT_ASSET)?.positionMode ?? null,
    });
  });

  app.post('/v1/futures/leverage', async (c) => {
    const userId = c.get('userId');
    const command = toSetLeverage(bodyOf(leverageBody, c.req.header('content-type'), c.get('body')), userId, config);
    const market = perpMarketOf(config, command.symbol);
    // the tier of the largest current position leg in this market, at the mark (no position: tier 1)
    let notional = 0n;
    for (const position of positionsOf(userId, market.symbol)) {
      const mark = markOf(position);
      const legNotional = mark === undefined ? 0n : notionalKrw(position.size, mark, market);
      if (legNotional > notional) notional = legNotional;
    }
    const maxLeverage = maxLeverageForNotional(notional, market);
    if (command.leverage > maxLeverage) {
      throw new ApiError(
        'LEVERAGE_ABOVE_TIER_MAX',
        `${market.symbol}: at most ${maxLeverage}× for a position notional of ${notional.toString()} ${market.settlementAsset}`,
      );
    }
    const result = await submit(command);
    const setting = sequencer.queries.leverageSettings(userId, market.symbol);
    return c.json({
      ...acknowledgement(result, 'leverage'),
      symbol: market.symbol,
      leverage: setting.leverage,
      margin_type: setting.marginType,
      max_leverage: maxLeverage,
    });
  });

  app.post('/v1/futures/margin-type', async (c) => {
    const userId = c.get('userId');
    const command = toSetMarginType(bodyOf(marginTypeBody, c.req.header('content-type'), c.get('body')), userId, config);
    if (positionsOf(userId, command.symbol).length > 0 || hasOpenOrders(userId, command.symbol)) {
      throw new ApiError(
        'POSITION_OR_ORDERS_OPEN',
        `the margin type of ${command.symbol} changes only with no position and no open order there`,
      );
    }
    const result = await submit(command);
    const setting = sequencer.queries.leverageSettings(userId, command.symbol);
    return c.json({
      ...acknowledgement(result, 'margin type'),
      symbol: command.symbol,
      leverage: setting.leverage,
      margin_type: setting.marginType,
    });
  });

  app.post('/v1/futures/isolated-margin', async (c) => {
    const userId = c.get('userId');
    const command = toAdjustIsolatedMargin(bodyOf(isolatedMarginBody, c.req.header('content-type'), c.get('body')), userId, config);
    const market = perpMarketOf(config, command.symbol);
    const account = sequencer.queries.futuresAccount(userId, market.settlementAsset);
    const hedge = account?.positionMode === 'HEDGE';
    if (hedge === (command.positionSide === 'BOTH')) {
      throw new ApiError('POSITION_SIDE_MISMATCH', hedge ? 'hedge mode: position_side LONG or SHORT' : 'one-way mode: position_side BOTH');
    }
    const position = positionOf(positionsOf(userId, market.symbol), command.positionSide);
    if (!position) throw new ApiError('NO_POSITION', `no ${command.positionSide} position in ${market.symbol}`);
    if (position.marginType !== 'ISOLATED') throw new ApiError('NOT_ISOLATED', `the ${market.symbol} position is CROSS`);
    const amount = BigInt(command.amount);
    if (command.action === 'Add' && (account?.availableBalanceKrw ?? 0n) < amount)
      throw new ApiError('INSUFFICIENT_MARGIN', 'the available futures balance is below the amount');
    if (command.action === 'Remove') {
      const mark = markOf(position);
      const initial = mark === undefined ? 0n : initialMarginKrw(notionalKrw(position.size, mark, market), position.leverage);
      const removable = isolatedMarginRemovableKrw(position.isolatedMarginKrw, position.unrealizedPnlKrw, initial);
      if (removable < amount)
        throw new ApiError(
          'INSUFFICIENT_MARGIN',
          `at most ${removable.toString()} ${market.settlementAsset} can be removed (the position keeps its initial margin at the mark)`,
        );
    }
    const result = await submit(command);
    const after = positionOf(positionsOf(userId, market.symbol), command.positionSide);
    return c.json({ ...acknowledgement(result, 'isolated margin'), position: after ? futuresViews.position(after) : null });
  });

  app.get('/v1/futures/account', (c) => {
    const asset = c.req.query('asset') ?? DEFAULT_SETTLEMENT_ASSET;
    const account = sequencer.queries.futuresAccount(c.get('userId'), asset);
    if (!account) throw new ApiError('NOT_A_SETTLEMENT_ASSET', `no perpetual market settles in '${asset}'`);
    return c.json(futuresViews.account(account));
  });

  app.get('/v1/futures/positions', (c) => {
    const symbol = c.req.query('symbol');
    if (symbol !== undefined) perpMarketOf(config, symbol);
    return c.json(positionsOf(c.get('userId'), symbol).map((position) => futuresViews.position(position)));
  });

  // public (app.ts exempts it from signing): the fund that takes liquidation surpluses and pays shortfalls
  app.get('/v1/futures/insurance-fund', (c) => {
    const asset = c.req.query('asset') ?? DEFAULT_SETTLEMENT_ASSET;
    const balance = sequencer.queries.insuranceFund(asset);
    if (balance === undefined) throw new ApiError('NOT_A_SETTLEMENT_ASSET', `no perpetual market settles in '${asset}'`);
    return c.json({ asset, balance: signedAmount(findAsset(config, asset) ?? { decimals: 0 }, balance) });
  });

  app.post('/admin/index-prices', async (c) => {
    const prices = toIndexPrices(bodyOf(indexPricesBody, c.req.header('content-type'), await c.req.text()), config);
    const result = await submit({ type: 'SetIndexPrices', prices });
    const reason = rejectionOf(result.events);
    const symbols = [...new Set(prices.map((entry) => entry.symbol))];
    const marks = symbols.map((symbol) => {
      const market = perpMarketOf(config, symbol);
      const mark = sequencer.queries.markPrice(symbol);
      const price = (ticks: number | undefined) => (ticks === undefined ? null : futuresViews.price(market, ticks));
      return { symbol, mark_price: price(mark?.markPrice), index_price: price(mark?.indexPrice) };
    });
    const body = {
      request_id: String(result.seq),
      status: reason === undefined ? 'APPLIED' : 'REJECTED',
      message:
        reason === undefined
          ? 'index prices applied'
          : `index prices rejected by the engine: ${reason} (journaled as request ${result.seq}; nothing changed)`,
      outcome: reason === undefined ? 'Applied' : 'Rejected',
      reject_reason: reason ?? null,
      marks,
    };
    return reason === undefined ? c.json(body) : c.json({ error: reason, ...body }, 409);
  });
}

function positionOf(positions: readonly PositionView[], side: PositionSide): PositionView | undefined {
  return positions.find((position) => position.positionSide === side);
}
