/**
 * A seeded run of the real engine whose events become the Redis stream's envelopes, as the Redis
 * publisher writes them (contract/envelope-encoder.ts EnvelopeEncoder, only what routesOf sends to Redis, prev_seq
 * chained) — for the persister's tests and benchmark. The command mix reaches every execution type:
 * fills, partial fills, cancels, amends, IOC/FOK expiries, post-only and funds rejections, stops
 * triggered, market orders without liquidity.
 */
import type { Redis } from 'ioredis';
import {
  DEFAULT_ENGINE_CONFIG,
  Engine,
  type Command,
  type EngineConfig,
  type OrderType,
  type PlaceOrderCommand,
  type Side,
  type TimeInForce,
} from '../../engine/index.ts';
import { EnvelopeEncoder } from '../../contract/envelope-encoder.ts';
import type { Envelope } from '../../contract/envelopes.ts';
import { routesOf } from '../../contract/broker-routes.ts';
import { seededRandom } from '../../sequencer/testing/command-mix.ts';

export interface EngineRun {
  readonly config: EngineConfig;
  readonly engine: Engine;
  /** the stream's envelopes in seq order */
  readonly envelopes: Envelope[];
  readonly orderIds: number[];
  /** every user that holds or held a balance, fee account included */
  readonly userIds: number[];
  /** ms of the first command */
  readonly startedAt: number;
}

export interface EngineRunOptions {
  readonly commands: number;
  readonly seed?: number;
  /** funded traders (default 8); one more, nearly broke, gets INSUFFICIENT_FUNDS rejections */
  readonly users?: number;
  /** first order id / command seq (default 1); lets a run's ids stay clear of another engine's */
  readonly firstSeq?: number;
  /** first user id (default 1) */
  readonly firstUserId?: number;
  /** ms of the first command (default 1,700,000,000,000) */
  readonly startAt?: number;
  readonly config?: EngineConfig;
}

export function engineRun(options: EngineRunOptions): EngineRun {
  const config = options.config ?? DEFAULT_ENGINE_CONFIG;
  const engine = new Engine(config);
  const encoder = new EnvelopeEncoder(config);
  const rand = seededRandom(options.seed ?? 7);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const traders = options.users ?? 8;
  const firstUser = options.firstUserId ?? 1;
  const poorUser = firstUser + traders;
  const startedAt = options.startAt ?? 1_700_000_000_000;
  let seq = (options.firstSeq ?? 1) - 1;
  let time = startedAt;
  const envelopes: Envelope[] = [];
  const orderIds: number[] = [];
  const resting: { orderId: number; userId: number }[] = [];

  const apply = (command: Command) => {
    for (const envelope of encoder.encodeAll(engine.apply(command))) if (routesOf(envelope).redis) envelopes.push(envelope);
  };
  const stamp = () => {
    seq++;
    time += int(0, 3);
    return { seq, timestamp: time };
  };
  for (let user = firstUser; user < firstUser + traders; user++) {
    for (const [asset, amount] of [
      ['KRW', 10_000_000_000],
      ['BTC', 10_000_000_000],
      ['ETH', 100_000_000_000],
    ] as const) {
      apply({ type: 'Deposit', userId: user, asset, amount, timestamp: stamp().timestamp });
    }
  }
  apply({ type: 'Deposit', userId: poorUser, asset: 'KRW', amount: 10_000, timestamp: stamp().timestamp });

  const markets = [
    { symbol: 'BTC-KRW', mid: 100_000 },
    { symbol: 'ETH-KRW', mid: 5_000 },
  ];
  const place = (
    fields: Partial<PlaceOrderCommand> & { symbol: string; side: Side; orderType: OrderType; userId: number; timeInForce?: TimeInForce },
  ) => {
    const { seq: orderId, timestamp } = stamp();
    const command: PlaceOrderCommand = {
      type: 'PlaceOrder',
      orderId,
      timestamp,
      postOnly: false,
      stp: 'ExpireTaker',
      timeInForce: fields.orderType === 'Market' || fields.orderType === 'StopMarket' ? 'IOC' : 'GTC',
      ...fields,
    } as PlaceOrderCommand;
    orderIds.push(orderId);
    apply(command);
    const view = engine.getOrder(orderId);
    if (view && (view.status === 'Pending' || view.status === 'PartiallyFilled' || view.status === 'Untriggered'))
      resting.push({ orderId, userId: fields.userId });
  };

  for (let index = 0; index < options.commands; index++) {
    const market = markets[rand() < 0.6 ? 0 : 1]!;
    if (rand() < 0.02) market.mid = Math.max(100, market.mid + int(-2, 2) * Math.ceil(market.mid / 1_000));
    const userId = int(firstUser, firstUser + traders - 1);
    const side: Side = rand() < 0.5 ? 'Buy' : 'Sell';
    const step = Math.max(1, Math.ceil(market.mid / 2_000));
    const away = int(1, 8) * step;
    const crossing = rand() < 0.3;
    const limitPrice = side === 'Buy' ? market.mid + (crossing ? away : -away) : market.mid + (crossing ? -away : away);
    const quantity = int(1, 40);
    const clientOrderId = rand() < 0.3 ? `c-${seq + 1}` : undefined;
    const roll = rand();
    if (roll < 0.45) {
      place({ userId, symbol: market.symbol, side, orderType: 'Limit', price: limitPrice, quantity, clientOrderId });
    } else if (roll < 0.55) {
      place({ userId, symbol: market.symbol, side, orderType: 'Market', quantity });
    } else if (roll < 0.6) {
      place({
        userId,
        symbol: market.symbol,
        side,
        orderType: 'Limit',
        price: limitPrice,
        quantity: quantity * 3,
        timeInForce: pick(['IOC', 'FOK'] as const),
      });
    } else if (roll < 0.64) {
      place({ userId, symbol: market.symbol, side, orderType: 'Limit', price: limitPrice, quantity, postOnly: true });
    } else if (roll < 0.69) {
      const stopPrice = side === 'Buy' ? market.mid + int(1, 3) * step : market.mid - int(1, 3) * step;
      if (rand() < 0.5) place({ userId, symbol: market.symbol, side, orderType: 'StopLimit', stopPrice, price: stopPrice, quantity });
      else place({ userId, symbol: market.symbol, side, orderType: 'StopMarket', stopPrice, quantity });
    } else if (roll < 0.84 && resting.length > 0) {
      const victim = resting.splice(int(0, resting.length - 1), 1)[0]!;
      apply({ type: 'CancelOrder', orderId: victim.orderId, userId: victim.userId, timestamp: stamp().timestamp });
    } else if (roll < 0.9 && resting.length > 0) {
      const target = resting[int(0, resting.length - 1)]!;
      const view = engine.getOrder(target.orderId);
      if (view && view.quantity - view.filledQuantity > 1) {
        apply({
          type: 'AmendOrder',
          orderId: target.orderId,
          userId: target.userId,
          newQuantity: view.quantity - 1,
          timestamp: stamp().timestamp,
        });
      }
    } else if (roll < 0.95) {
      place({ userId: poorUser, symbol: market.symbol, side: 'Buy', orderType: 'Limit', price: market.mid, quantity: 50 });
    } else if (roll < 0.97) {
      apply({ type: 'Withdraw', userId, asset: 'KRW', amount: int(1, 1_000), timestamp: stamp().timestamp });
    } else {
      place({ userId, symbol: market.symbol, side, orderType: 'Market', quantity: 100_000 });
    }
  }
  let previous = 0;
  for (const envelope of envelopes) {
    envelope.prev_seq = previous;
    previous = envelope.seq;
  }
  const userIds = [config.feeAccountId, ...Array.from({ length: traders + 1 }, (_, index) => firstUser + index)];
  return { config, engine, envelopes, orderIds, userIds, startedAt };
}

/** XADD each envelope as the Redis publisher does: id `{seq}-0` (or `idOf`), one field `envelope`. */
export async function addToStream(
  redis: Redis,
  stream: string,
  envelopes: readonly Envelope[],
  idOf: (envelope: Envelope) => string = (envelope) => `${envelope.seq}-0`,
): Promise<void> {
  for (let start = 0; start < envelopes.length; start += 1_000) {
    const pipeline = redis.pipeline();
    for (const envelope of envelopes.slice(start, start + 1_000))
      pipeline.xadd(stream, idOf(envelope), 'envelope', JSON.stringify(envelope));
    const results = await pipeline.exec();
    for (const [error] of results ?? []) if (error) throw error;
  }
}
