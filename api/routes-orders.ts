import type { Hono } from 'hono';
import type { EngineEvent, OrderStatus, OrderView } from '../engine/index.ts';
import { parseJsonObject, requireJsonType } from './body.ts';
import type { SubmitResult } from '../sequencer/index.ts';
import type { ApiDeps, AppEnv } from './context.ts';
import { ApiError } from './errors.ts';
import { storedOrder } from './history-reads.ts';
import { intQuery } from './routes-market.ts';
import { amendBodySchema, orderBodySchema, toNewQuantity, toPlaceOrder, zodToApiError } from './order-input.ts';
import type { Views } from './views.ts';

const ORDER_ID = /^[1-9]\d{0,15}$/;
const OPEN: ReadonlySet<OrderStatus> = new Set(['Pending', 'PartiallyFilled', 'Untriggered']);

/** The order's status after its own command, read from that command's events (no view copy). */
export function statusFromEvents(orderId: number, events: readonly EngineEvent[]): OrderStatus | undefined {
  let status: OrderStatus | undefined;
  for (const event of events) {
    switch (event.type) {
      case 'OrderAccepted':
      case 'OrderCancelled':
      case 'OrderExpired':
      case 'OrderTriggered':
      case 'OrderAmended':
        if (event.order.orderId === orderId) status = event.order.status;
        break;
      case 'Trade':
        if (event.taker.orderId === orderId) status = event.taker.status;
        else if (event.maker.orderId === orderId) status = event.maker.status;
        break;
      case 'OrderRejected':
        if (event.orderId === orderId) status = 'Rejected';
        break;
      default:
        break;
    }
  }
  return status;
}

export function parseOrderId(text: string): number {
  if (!ORDER_ID.test(text) || !Number.isSafeInteger(Number(text))) throw new ApiError('INVALID_ORDER_ID');
  return Number(text);
}

/**
 * POST /v1/order after authentication: shared by the Hono route and the fast path
 * (api/order-fast-path.ts). Resolves with the answer's JSON object (always 200); refusals throw.
 */
const orderIdOf = (result: SubmitResult): number => result.orderId ?? result.seq;

/** The order a place was refused as the retry of (the engine's DUPLICATE_CLIENT_ORDER_ID), if it was. */
function duplicateOf(result: SubmitResult): number | undefined {
  for (const event of result.events)
    if (event.type === 'OrderRejected' && event.duplicateOfOrderId !== undefined) return event.duplicateOfOrderId;
  return undefined;
}

/** The order a place's client_order_id names: its own, or the one it was refused as a retry of. */
const originalOf = (result: SubmitResult): number => duplicateOf(result) ?? orderIdOf(result);

export type PlaceOrder = (userId: number, contentType: string | undefined, body: string) => Promise<Record<string, unknown>>;

export function orderPlacer(deps: ApiDeps): PlaceOrder {
  const { sequencer, feed, metrics } = deps;
  /** `${userId}:${clientOrderId}` → the submit of a place still waiting for its ack. */
  const inFlight = new Map<string, Promise<SubmitResult>>();

  const statusOf = (orderId: number): OrderStatus | 'Rejected' | undefined =>
    sequencer.queries.getOrder(orderId)?.status ?? (feed.rejection(orderId) ? 'Rejected' : undefined);

  const acknowledgement = (orderId: number, events: readonly EngineEvent[]) => ({
    order_id: String(orderId),
    status: 'ACCEPTED',
    message: 'order accepted',
    order_status: statusFromEvents(orderId, events) ?? statusOf(orderId) ?? null,
  });

  const duplicateAnswer = (orderId: number) => ({
    order_id: String(orderId),
    status: 'ACCEPTED',
    message: 'duplicate client_order_id: this is the original order, no new order was placed',
    order_status: statusOf(orderId) ?? null,
    duplicate: true,
  });

  return async (userId, contentType, body) => {
    if (deps.ready && !deps.ready()) throw new ApiError('NOT_READY');
    requireJsonType(contentType);
    const input = parseJsonObject(body);
    const parsed = orderBodySchema.safeParse(input);
    if (!parsed.success) throw zodToApiError(parsed.error, input);
    const command = toPlaceOrder(parsed.data, userId, deps.engineConfig);
    const clientOrderId = command.clientOrderId;
    if (clientOrderId !== undefined) {
      // Idempotent retry: the same client_order_id from the same user answers with the original order.
      const key = `${userId}:${clientOrderId}`;
      // Both lookups happen before any await, so two concurrent requests cannot both submit. The
      // engine owns which ids are taken (open orders and the finished ones it remembers, restored
      // with it after a restart) and refuses a duplicate itself: this read only saves the journal.
      const pending = inFlight.get(key);
      const known = sequencer.queries.orderForClientOrderId(userId, clientOrderId);
      const existing = known ?? (pending ? originalOf(await pending) : undefined);
      if (existing !== undefined) return duplicateAnswer(existing);
      const started = performance.now();
      const submitting = sequencer.submit(command);
      inFlight.set(key, submitting);
      let result: SubmitResult;
      try {
        result = await submitting;
      } finally {
        inFlight.delete(key);
      }
      metrics.ackSeconds.observe((performance.now() - started) / 1000);
      // Refused by the engine as a retry this read did not see: the same answer as above.
      const original = duplicateOf(result);
      if (original !== undefined) return duplicateAnswer(original);
      return acknowledgement(result.orderId ?? result.seq, result.events);
    }
    const started = performance.now();
    const result = await sequencer.submit(command);
    metrics.ackSeconds.observe((performance.now() - started) / 1000);
    return acknowledgement(result.orderId ?? result.seq, result.events);
  };
}

const MAX_ORDERS_PER_PAGE = 1_000;

/** POST/GET/PATCH/DELETE /v1/order, GET/DELETE /v1/orders, GET /v1/balances — all signed, all the caller's own. */
export function orderRoutes(app: Hono<AppEnv>, deps: ApiDeps, views: Views, placeOrder: PlaceOrder): void {
  const { sequencer, feed, metrics } = deps;

  const statusOf = (orderId: number): OrderStatus | 'Rejected' | undefined =>
    sequencer.queries.getOrder(orderId)?.status ?? (feed.rejection(orderId) ? 'Rejected' : undefined);

  app.post('/v1/order', async (c) => c.json(await placeOrder(c.get('userId'), c.req.header('content-type'), c.get('body'))));

  /** The caller's own order, or 404 — another user's order is indistinguishable from none. */
  const ownOrder = (userId: number, orderId: number): OrderView | undefined => {
    const view = sequencer.queries.getOrder(orderId);
    return view && view.userId === userId ? view : undefined;
  };

  app.get('/v1/order/:id', async (c) => {
    const orderId = parseOrderId(c.req.param('id'));
    const userId = c.get('userId');
    const view = ownOrder(userId, orderId);
    if (view) return c.json(views.order(view, feed.rejection(orderId)));
    const rejection = feed.rejection(orderId);
    if (rejection && rejection.userId === userId) return c.json(views.rejectedOrder(orderId, rejection));
    // Neither open nor in the engine's recent memory: PostgreSQL has it, if the persister wrote it.
    const stored = await storedOrder(deps, userId, orderId);
    if (stored) return c.json(stored);
    throw new ApiError('ORDER_NOT_FOUND');
  });

  app.delete('/v1/order/:id', async (c) => {
    const orderId = parseOrderId(c.req.param('id'));
    const userId = c.get('userId');
    const view = ownOrder(userId, orderId);
    if (!view) throw new ApiError('ORDER_NOT_FOUND');
    if (!OPEN.has(view.status)) throw new ApiError('ORDER_NOT_OPEN', `the order is already ${view.status}`);
    const started = performance.now();
    await sequencer.submit({ type: 'CancelOrder', orderId, userId });
    metrics.ackSeconds.observe((performance.now() - started) / 1000);
    return c.json({ order_id: String(orderId), status: 'ACCEPTED', message: 'cancel accepted', order_status: statusOf(orderId) ?? null });
  });

  /**
   * Amend: reduce an open order's quantity (the new total, filled part included), keeping its
   * place in the queue. Everything the engine would refuse is answered 400/404 here without being
   * journaled; an amend the engine still refuses (the order filled or was cancelled in between)
   * was journaled and changed nothing: 409 with the engine's reason, like an admin transfer.
   */
  app.patch('/v1/order/:id', async (c) => {
    const orderId = parseOrderId(c.req.param('id'));
    const userId = c.get('userId');
    requireJsonType(c.req.header('content-type'));
    const input = parseJsonObject(c.get('body'));
    const parsed = amendBodySchema.safeParse(input);
    if (!parsed.success) throw zodToApiError(parsed.error, input);
    const view = ownOrder(userId, orderId);
    if (!view) throw new ApiError('ORDER_NOT_FOUND');
    if (!OPEN.has(view.status)) throw new ApiError('ORDER_NOT_OPEN', `the order is already ${view.status}`);
    const newQuantity = toNewQuantity(parsed.data, view, deps.engineConfig);
    const started = performance.now();
    const result = await sequencer.submit({ type: 'AmendOrder', orderId, userId, newQuantity });
    metrics.ackSeconds.observe((performance.now() - started) / 1000);
    const rejected = result.events.find((event) => event.type === 'OrderRejected');
    if (rejected?.type === 'OrderRejected') {
      return c.json(
        {
          error: rejected.reason,
          message: `amend rejected by the engine: ${rejected.reason} (journaled as request ${result.seq}; the order is unchanged)`,
          order_id: String(orderId),
          status: 'REJECTED',
          reject_reason: rejected.reason,
          order_status: statusOf(orderId) ?? null,
        },
        409,
      );
    }
    const amended = sequencer.queries.getOrder(orderId);
    const shown = amended ? views.order(amended) : undefined;
    return c.json({
      order_id: String(orderId),
      status: 'ACCEPTED',
      message: 'amend accepted',
      order_status: statusFromEvents(orderId, result.events) ?? statusOf(orderId) ?? null,
      quantity: shown?.quantity ?? null,
      remaining_quantity: shown?.remaining_quantity ?? null,
    });
  });

  /**
   * Cancel every open order of the caller in one market: one CancelOrder per order, submitted
   * together so they share group commits; answered once all are durable and applied. At most
   * maxOpenOrdersPerUserMarket orders (the engine's cap), so the answer is bounded. Orders that
   * finished in between (filled while the cancels queued) are simply not in `cancelled`.
   */
  app.delete('/v1/orders', async (c) => {
    const symbol = c.req.query('symbol');
    if (symbol === undefined || symbol === '') throw new ApiError('INVALID_QUERY', 'symbol is required: DELETE /v1/orders?symbol=SYMBOL');
    if (!views.market(symbol)) throw new ApiError('UNKNOWN_SYMBOL', `no market '${symbol}'`);
    const userId = c.get('userId');
    const open = sequencer.queries.openOrdersPage(userId, symbol, 0, deps.engineConfig.maxOpenOrdersPerUserMarket).orders;
    const started = performance.now();
    const results = await Promise.allSettled(
      open.map((order) => sequencer.submit({ type: 'CancelOrder', orderId: order.orderId, userId })),
    );
    metrics.ackSeconds.observe((performance.now() - started) / 1000);
    const failure = results.find((result) => result.status === 'rejected');
    // overloaded or not ready part-way: the client retries, and the retry lists what is still open
    if (failure?.status === 'rejected') throw failure.reason;
    const cancelled: string[] = [];
    results.forEach((result, index) => {
      const orderId = open[index]!.orderId;
      if (
        result.status === 'fulfilled' &&
        result.value.events.some((event) => event.type === 'OrderCancelled' && event.order.orderId === orderId)
      )
        cancelled.push(String(orderId));
    });
    return c.json({
      symbol,
      status: 'ACCEPTED',
      message: `${cancelled.length} cancel${cancelled.length === 1 ? '' : 's'} accepted`,
      cancelled,
    });
  });

  /**
   * Oldest first, at most `limit` (1–1,000, default 1,000) per answer; `next_after_order_id` pages on
   * (the answer size is bounded whatever the number of open orders — ops/security.int.test.ts).
   */
  app.get('/v1/orders', (c) => {
    const symbol = c.req.query('symbol');
    if (symbol !== undefined && !views.market(symbol)) throw new ApiError('UNKNOWN_SYMBOL', `no market '${symbol}'`);
    const limit = intQuery(c.req.query('limit'), 'limit', MAX_ORDERS_PER_PAGE, MAX_ORDERS_PER_PAGE);
    const afterText = c.req.query('after_order_id');
    if (afterText !== undefined && !/^\d{1,16}$/.test(afterText)) throw new ApiError('INVALID_QUERY', 'after_order_id must be an order id');
    const after = afterText === undefined ? 0 : Number(afterText);
    // Only the page's views are built (the engine caps open orders per user and market).
    const page = sequencer.queries.openOrdersPage(c.get('userId'), symbol, after, limit);
    const next = page.more ? String(page.orders[page.orders.length - 1]!.orderId) : null;
    return c.json({ orders: page.orders.map((order) => views.order(order)), next_after_order_id: next });
  });

  app.get('/v1/balances', (c) => {
    return c.json({ balances: views.balances(sequencer.queries.balances(c.get('userId'))) });
  });
}
