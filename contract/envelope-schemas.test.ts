/**
 * The envelope schemas (served in /asyncapi.json) against what EnvelopeEncoder makes of a real
 * engine run: a few hundred commands on the default markets that reach every exec_type and every
 * envelope type; then the same envelopes laid out as the publishers will (prev_seq chained per
 * routing key, batches), checked with the helpers broker tests use; then hand-made bad envelopes.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ENGINE_CONFIG,
  Engine,
  type Command,
  type EngineEvent,
  type FuturesCommand,
  type OrderType,
  type PlaceOrderCommand,
  type Side,
  type TimeInForce,
} from '../engine/index.ts';
import { EnvelopeEncoder } from './envelope-encoder.ts';
import {
  envelopeSymbol,
  type Envelope,
  type EnvelopeType,
  type ExecType,
  type ExecutionEnvelope,
  type PositionChangedEnvelope,
  type WalletChangedEnvelope,
} from './envelopes.ts';
import { routesOf } from './broker-routes.ts';
import { DECIMAL_PATTERN } from './decimal-text.ts';
import { ENVELOPE_SCHEMAS, EXEC_TYPES } from './envelope-schemas.ts';
import { validateBody, validateEnvelope, validateRedisEntry } from './envelope-schemas.test-support.ts';

const BTC = 'BTC-KRW';
const ETH = 'ETH-KRW';
const SAT_PER_BTC = 100_000_000;

type PlaceOptions = {
  price?: number;
  stopPrice?: number;
  quantity?: number;
  quoteAmount?: number;
  tif?: TimeInForce;
  clientOrderId?: string;
  type?: OrderType;
  workingType?: PlaceOrderCommand['workingType'];
  closePosition?: boolean;
};

/** Stamps commands as the sequencer does (a PlaceOrder's id is its command number) and keeps every event. */
class Run {
  readonly engine = new Engine(DEFAULT_ENGINE_CONFIG);
  readonly events: EngineEvent[] = [];
  time = 1_700_000_000_000;
  commands = 0;
  /** orders that may still be open: [orderId, userId] */
  readonly open: Array<[number, number]> = [];

  apply(command: Command): EngineEvent[] {
    const events = this.engine.apply(command);
    this.events.push(...events);
    return events;
  }

  #stamp(stepMs: number): number {
    this.commands++;
    this.time += stepMs;
    return this.time;
  }

  deposit(userId: number, asset: string, amount: number): EngineEvent[] {
    return this.apply({ type: 'Deposit', userId, asset, amount, timestamp: this.#stamp(1) });
  }

  withdraw(userId: number, asset: string, amount: number): EngineEvent[] {
    return this.apply({ type: 'Withdraw', userId, asset, amount, timestamp: this.#stamp(1) });
  }

  place(userId: number, symbol: string, side: Side, options: PlaceOptions, stepMs = 97): number {
    const timestamp = this.#stamp(stepMs);
    const orderType = options.type ?? (options.price === undefined ? 'Market' : 'Limit');
    let command: PlaceOrderCommand = {
      type: 'PlaceOrder',
      orderId: this.commands,
      userId,
      symbol,
      side,
      orderType,
      price: options.price,
      stopPrice: options.stopPrice,
      quantity: options.quantity,
      quoteAmount: options.quoteAmount,
      timeInForce: options.tif ?? (orderType === 'Market' || orderType === 'StopMarket' ? 'IOC' : 'GTC'),
      postOnly: false,
      stp: 'ExpireTaker',
      clientOrderId: options.clientOrderId,
      timestamp,
    };
    if (options.workingType !== undefined) command = { ...command, workingType: options.workingType };
    if (options.closePosition !== undefined) command = { ...command, closePosition: options.closePosition };
    this.apply(command);
    this.open.push([command.orderId, userId]);
    return command.orderId;
  }

  cancel(userId: number, orderId: number): EngineEvent[] {
    return this.apply({ type: 'CancelOrder', userId, orderId, timestamp: this.#stamp(97) });
  }

  amend(userId: number, orderId: number, newQuantity: number): EngineEvent[] {
    return this.apply({ type: 'AmendOrder', userId, orderId, newQuantity, timestamp: this.#stamp(97) });
  }

  tick(stepMs: number): EngineEvent[] {
    return this.apply({ type: 'Tick', timestamp: this.#stamp(stepMs) });
  }

  priceTick(stepMs: number): EngineEvent[] {
    return this.apply({ type: 'PriceTick', timestamp: this.#stamp(stepMs) });
  }

  /** A futures command (transfer, settings, index prices), stamped. */
  futures(command: FuturesInput): EngineEvent[] {
    return this.apply({ ...command, timestamp: this.#stamp(1) } as Command);
  }
}

type FuturesInput = FuturesCommand extends infer C ? (C extends FuturesCommand ? Omit<C, 'timestamp'> : never) : never;
const PERP = 'BTC-KRW-PERP';

/** Scripted scenes for each exec_type and expire reason, then 320 commands of a deterministic mix. */
function engineRun(): Run {
  const run = new Run();
  for (const user of [1, 2, 3, 4, 5, 6]) {
    run.deposit(user, 'KRW', 100_000_000_000);
    run.deposit(user, 'BTC', 100 * SAT_PER_BTC);
    run.deposit(user, 'ETH', 1_000 * SAT_PER_BTC);
  }
  run.deposit(9, 'KRW', 1_000); // too poor for any order

  // New, Trade (partial, then full), Expired (IOC).
  run.place(1, BTC, 'Sell', { price: 50_000, quantity: 5, clientOrderId: 'ask-1' });
  run.place(2, BTC, 'Buy', { price: 50_000, quantity: 2, clientOrderId: 'bid-1' });
  run.place(2, BTC, 'Buy', { price: 50_000, quantity: 10, tif: 'IOC' });
  // Rejected: INSUFFICIENT_FUNDS.
  run.place(9, BTC, 'Buy', { price: 50_000, quantity: 1, clientOrderId: 'poor' });
  // Triggered: a stop buy at 50,100 fires on a trade at 50,100 and fills against the rest of the ask.
  run.place(4, BTC, 'Buy', { type: 'StopLimit', stopPrice: 50_100, price: 50_200, quantity: 1, clientOrderId: 'stop-1' });
  run.place(5, BTC, 'Sell', { type: 'StopMarket', stopPrice: 40_000, quantity: 1 });
  run.place(1, BTC, 'Sell', { price: 50_100, quantity: 2 });
  run.place(5, BTC, 'Buy', { price: 50_100, quantity: 1 });
  // Amended, Cancelled.
  const resting = run.place(1, BTC, 'Sell', { price: 51_000, quantity: 10 });
  run.amend(1, resting, 5);
  run.cancel(1, resting);
  // Market buys by quote amount (the second cannot afford a lot: QuoteAmountExhausted), market sell without bids (MarketNoLiquidity), FOK, self-trade.
  run.place(1, BTC, 'Sell', { price: 50_500, quantity: 3 });
  run.place(3, BTC, 'Buy', { quoteAmount: 120_000 });
  run.place(3, BTC, 'Buy', { quoteAmount: 40_000 }); // less than one lot costs
  run.place(3, ETH, 'Sell', { quantity: 1 });
  run.place(3, BTC, 'Buy', { price: 50_500, quantity: 50, tif: 'FOK' });
  run.place(6, BTC, 'Sell', { price: 49_900, quantity: 1 });
  run.place(6, BTC, 'Buy', { price: 49_900, quantity: 1 });
  // Withdrawals: one done, one refused (an OrderRejected with no execution report).
  run.withdraw(2, 'KRW', 1_000_000);
  run.withdraw(2, 'KRW', 10 ** 15);
  run.cancel(1, 999_999);
  // Futures: transfers, settings, an index price, a long opened 10× isolated and half closed at a
  // loss against a cross short (PositionChanged, WalletChanged; signed sizes and PnL).
  for (const user of [1, 2])
    run.futures({ type: 'FuturesTransfer', userId: user, asset: 'KRW', amount: 10_000_000, direction: 'SpotToFutures' });
  run.futures({ type: 'SetMarginType', userId: 1, symbol: PERP, marginType: 'ISOLATED' });
  run.futures({ type: 'SetLeverage', userId: 1, symbol: PERP, leverage: 10 });
  run.futures({ type: 'SetIndexPrices', prices: [{ symbol: PERP, source: 'oracle-a', price: 50_000 }] });
  run.place(2, PERP, 'Sell', { price: 50_000, quantity: 20 });
  run.place(1, PERP, 'Buy', { price: 50_000, quantity: 20 });
  run.place(2, PERP, 'Buy', { price: 49_000, quantity: 10 });
  run.place(1, PERP, 'Sell', { price: 49_000, quantity: 10 });
  run.tick(1_500);
  // Price ticks (MarkPrice), the second at the next 8 h funding time (FundingPaid, rate and amounts signed).
  run.priceTick(1_000);
  run.priceTick(8 * 3_600_000);
  // Liquidation: two oracles put the mark at 45,000 (median of 45,000, 45,000 and the spot source's
  // 50,500), past user 1's liquidation price; no bid, an empty insurance fund: auto-deleveraged
  // against user 2's short at the bankruptcy price (exec_type ADL, a Trade with liquidation: true, a
  // Liquidation envelope).
  run.futures({
    type: 'SetIndexPrices',
    prices: [
      { symbol: PERP, source: 'oracle-a', price: 45_000 },
      { symbol: PERP, source: 'oracle-b', price: 45_000 },
    ],
  });

  // The mix: limit orders crossing a mid on both markets, market, IOC, FOK and stop orders, cancels,
  // amends and ticks, chosen by the command's index (no randomness needed for coverage).
  for (let index = 0; index < 320; index++) {
    const symbol = index % 3 === 2 ? ETH : BTC;
    const mid = symbol === BTC ? 50_000 : 2_500;
    const user = 1 + ((index * 7) % 6);
    const side: Side = (index * 5) % 4 < 2 ? 'Buy' : 'Sell';
    const offset = ((index * 37) % 21) - 10; // -10 … 10 ticks: about half cross
    const price = side === 'Buy' ? mid + offset : mid - offset;
    const quantity = 1 + ((index * 13) % 5);
    if (index % 19 === 18) run.tick(1_100);
    else if (index % 11 === 10 && run.open.length > 0) {
      const [orderId, owner] = run.open.splice((index * 3) % run.open.length, 1)[0]!;
      run.cancel(owner, orderId);
    } else if (index % 17 === 16) {
      const order = run.open
        .map(([orderId]) => run.engine.getOrder(orderId))
        .find(
          (view) => view !== undefined && view.remainingQuantity > 1 && (view.status === 'Pending' || view.status === 'PartiallyFilled'),
        );
      if (order) run.amend(order.userId, order.orderId, order.quantity - 1);
      else run.tick(10);
    } else if (index % 23 === 22) run.place(user, symbol, side, { quantity });
    else if (index % 29 === 28) run.place(user, symbol, side, { price, quantity, tif: 'IOC' });
    else if (index % 31 === 30) run.place(user, symbol, side, { price, quantity: 40, tif: 'FOK' });
    else if (index % 13 === 12) {
      const stopPrice = side === 'Buy' ? mid + 3 : mid - 3;
      run.place(user, symbol, side, { type: 'StopLimit', stopPrice, price: stopPrice, quantity, clientOrderId: `stop.${index}` });
    } else run.place(user, symbol, side, { price, quantity, clientOrderId: index % 4 === 0 ? `mix-${index}` : undefined });
  }
  run.tick(2_000);
  return run;
}

const run = engineRun();
const encoder = new EnvelopeEncoder(DEFAULT_ENGINE_CONFIG);
const envelopes = encoder.encodeAll(run.events);
const executions = envelopes.filter((envelope): envelope is ExecutionEnvelope => envelope.type === 'Execution');

/** The envelopes of one routing key with prev_seq chained as a publisher sets it. */
function chained(list: readonly Envelope[]): Envelope[] {
  let previous = 0;
  return list.map((envelope) => {
    const copy = structuredClone(envelope);
    copy.prev_seq = previous;
    previous = envelope.seq;
    return copy;
  });
}

function groupBy(list: readonly Envelope[], keyOf: (envelope: Envelope) => string | undefined): Map<string, Envelope[]> {
  const groups = new Map<string, Envelope[]>();
  for (const envelope of list) {
    const key = keyOf(envelope);
    if (key === undefined) continue;
    const group = groups.get(key) ?? [];
    group.push(envelope);
    groups.set(key, group);
  }
  return groups;
}

/** Consecutive runs of 1, 2, 3, 4, 5, 1, 2, … envelopes: single messages and arrays of several sizes. */
function batches<T>(list: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let start = 0, size = 1; start < list.length; start += size, size = (size % 5) + 1) out.push(list.slice(start, start + size));
  return out;
}

describe('envelope schemas against a real engine run', () => {
  it('the run is the size the task asks for and reaches every exec_type and envelope type', () => {
    expect(run.commands).toBeGreaterThan(300);
    const execTypes = new Set(executions.map((envelope) => envelope.execution_report.exec_type));
    expect([...execTypes].sort()).toEqual((Object.keys(EXEC_TYPES) as ExecType[]).sort());
    const types = new Set(envelopes.map((envelope) => envelope.type));
    expect([...types].sort()).toEqual((Object.keys(ENVELOPE_SCHEMAS) as EnvelopeType[]).sort());
    const reports = executions.map((envelope) => envelope.execution_report);
    expect(reports.some((report) => report.exec_type === 'Rejected' && report.reject_reason === 'INSUFFICIENT_FUNDS')).toBe(true);
    const expired = new Set(reports.map((report) => report.expire_reason).filter((reason) => reason !== null));
    expect([...expired].sort()).toEqual(['FOK', 'IOC', 'MarketNoLiquidity', 'QuoteAmountExhausted', 'SelfTradePrevention']);
    expect(reports.some((report) => report.client_order_id !== null)).toBe(true);
    expect(reports.some((report) => report.order_type === 'StopLimit' && report.exec_type === 'Triggered')).toBe(true);
  });

  it('a perpetual fill makes WalletChanged then PositionChanged envelopes with signed decimals', () => {
    // before the liquidation scene
    const liquidation = envelopes.find((envelope) => envelope.type === 'Liquidation')!;
    const positions = envelopes.filter(
      (envelope): envelope is PositionChangedEnvelope => envelope.type === 'PositionChanged' && envelope.seq < liquidation.seq,
    );
    // after the half close at 49,000,000: the long 0.01 isolated 10×, the short −0.01 cross 20×, each −10,000 realized
    const last = (userId: string) => positions.filter((envelope) => envelope.user_id === userId).at(-1);
    expect(last('2')).toMatchObject({
      user_id: '2',
      symbol: PERP,
      position_side: 'BOTH',
      size: '-0.01',
      entry_price: '50000000',
      realized_pnl: '10000',
      margin_type: 'CROSS',
      isolated_margin: '0',
      leverage: 20,
    });
    expect(last('1')).toMatchObject({
      user_id: '1',
      symbol: PERP,
      position_side: 'BOTH',
      size: '0.01',
      entry_price: '50000000',
      realized_pnl: '-10000',
      margin_type: 'ISOLATED',
      isolated_margin: '49949', // 50,000 less the funding it paid at the 8 h tick (below)
      leverage: 10,
    });
    const wallets = envelopes.filter(
      (envelope): envelope is WalletChangedEnvelope => envelope.type === 'WalletChanged' && envelope.seq < liquidation.seq,
    );
    expect(wallets.slice(0, 2).map((envelope) => [envelope.user_id, envelope.wallet_balance, envelope.reason])).toEqual([
      ['1', '10000000', 'Transfer'],
      ['2', '10000000', 'Transfer'],
    ]);
    // long: 10,000,000 − 500 (open) − 10,000 (realized) − floor(490,000 × 500 ppm) = 245 → 9,989,255
    expect(wallets.filter((envelope) => envelope.user_id === '1' && envelope.reason === 'Trade').at(-1)).toMatchObject({
      wallet_balance: '9989255',
    });
  });

  it('a funding settlement makes a FundingPaid per position, then the WalletChanged with reason Funding', () => {
    // F = I = 0.01 % (the perpetual book is empty: samples of 0); the mark is the spot source then,
    // 50,500 ticks (50,500,000 KRW): 10 lots × 50,500 × 1 KRW × 0.0001 = 50.5 → the long pays 51 (up),
    // the short gets 50 (down), the insurance fund the 1 KRW between
    const funding = envelopes.filter((envelope) => envelope.type === 'FundingPaid');
    expect(funding.map((envelope) => [envelope.user_id, envelope.size, envelope.mark_price, envelope.rate, envelope.amount])).toEqual([
      ['1', '0.01', '50500000', '0.00010000', '-51'],
      ['2', '-0.01', '50500000', '0.00010000', '50'],
    ]);
    const after = envelopes.filter(
      (envelope): envelope is WalletChangedEnvelope => envelope.seq > funding.at(-1)!.seq && envelope.type === 'WalletChanged',
    );
    expect(after.slice(0, 2).map((envelope) => [envelope.user_id, envelope.reason])).toEqual([
      ['1', 'Funding'],
      ['2', 'Funding'],
    ]);
    const marks = envelopes.filter((envelope) => envelope.type === 'MarkPrice');
    expect(marks.at(-1)).toMatchObject({
      symbol: PERP,
      mark_price: '50500000',
      index_price: '50500000',
      estimated_funding_rate: '0.00010000',
    });
  });

  it('a liquidation makes a Liquidation envelope, a Trade with liquidation: true and ADL execution reports', () => {
    // user 1's long 0.01 (cost 500,000, isolated margin 50,000 − 51 of funding = 49,949): bankruptcy
    // ceil((500,000 − 49,949) / 10 lots) = ceil(45,005.1) = 45,006 ticks (up for a long, decision 5)
    const liquidation = envelopes.find((envelope) => envelope.type === 'Liquidation');
    expect(liquidation).toMatchObject({ symbol: PERP, side: 'Sell', price: '45006000', quantity: '0.01', stage: 'adl' });
    const trade = envelopes.find((envelope) => envelope.type === 'Trade' && envelope.liquidation === true);
    expect(trade).toMatchObject({ symbol: PERP, price: '45006000', quantity: '0.01', taker_side: 'Sell' });
    expect(
      executions.filter((envelope) => envelope.execution_report.exec_type === 'ADL').map((envelope) => envelope.execution_report),
    ).toMatchObject([
      { user_id: '2', side: 'Buy', order_type: 'Market', fee: '0', is_maker: true },
      { user_id: '1', side: 'Sell', order_type: 'Liquidation', fee: '0', is_maker: false },
    ]);
  });

  it('every envelope EnvelopeEncoder makes validates against the schema of its type', () => {
    const failures = envelopes
      .map((envelope) => ({ seq: envelope.seq, type: envelope.type, problems: validateEnvelope(envelope) }))
      .filter((result) => result.problems.length > 0);
    expect(failures.slice(0, 5)).toEqual([]);
    // And after a JSON round trip, as a consumer reads them.
    expect(envelopes.filter((envelope) => validateEnvelope(JSON.parse(JSON.stringify(envelope))).length > 0)).toEqual([]);
  });

  it("a Trade with seq S is followed by its maker's Execution (S + 1) and its taker's (S + 2)", () => {
    const bySeq = new Map(envelopes.map((envelope) => [envelope.seq, envelope]));
    const trades = envelopes.filter((envelope) => envelope.type === 'Trade');
    expect(trades.length).toBeGreaterThan(50);
    for (const trade of trades) {
      const maker = bySeq.get(trade.seq + 1);
      const taker = bySeq.get(trade.seq + 2);
      expect(maker?.type).toBe('Execution');
      expect(taker?.type).toBe('Execution');
      if (maker?.type !== 'Execution' || taker?.type !== 'Execution') continue;
      for (const [report, isMaker] of [
        [maker.execution_report, true],
        [taker.execution_report, false],
      ] as const) {
        expect(report).toMatchObject({
          // an auto-deleveraging fill (a liquidation Trade) reports ADL; every other fill Trade
          exec_type: trade.liquidation === true && report.exec_type === 'ADL' ? 'ADL' : 'Trade',
          trade_id: trade.trade_id,
          price: trade.price,
          quantity: trade.quantity,
          symbol: trade.symbol,
          is_maker: isMaker,
        });
      }
      expect(taker.execution_report.side).toBe(trade.taker_side);
      expect(maker.execution_report.side).not.toBe(trade.taker_side);
    }
  });

  it('seqs only go up, one envelope per seq; the gaps are refused commands that are not orders', () => {
    const seqs = envelopes.map((envelope) => envelope.seq);
    expect(seqs.every((seq, index) => index === 0 || seq > seqs[index - 1]!)).toBe(true);
    const missing = new Set<number>();
    for (let seq = 1; seq <= seqs[seqs.length - 1]!; seq++) missing.add(seq);
    for (const seq of seqs) missing.delete(seq);
    const refused = run.events
      .filter((event) => event.type === 'OrderRejected' && event.commandType !== 'PlaceOrder')
      .map((event) => event.seq);
    expect([...missing]).toEqual(refused);
    expect(refused.length).toBeGreaterThanOrEqual(2); // the refused withdrawal and the cancel of an unknown order
  });

  it('laid out per broker with prev_seq chained, every Kafka record, RabbitMQ body and Redis entry passes the broker checks', () => {
    const problems: string[] = [];
    const kafka = groupBy(envelopes, (envelope) =>
      routesOf(envelope).kafkaTopic ? `${routesOf(envelope).kafkaTopic}|${routesOf(envelope).kafkaKey}` : undefined,
    );
    // the perpetual's fills, positions and (keyed by their asset) wallets beside the spot markets
    expect([...kafka.keys()].sort()).toEqual([
      'executions|BTC-KRW',
      'executions|BTC-KRW-PERP',
      'executions|ETH-KRW',
      'executions|KRW',
      'market-data|BTC-KRW',
      'market-data|BTC-KRW-PERP',
      'market-data|ETH-KRW',
    ]);
    for (const [route, list] of kafka) {
      const [topic = '', key = ''] = route.split('|');
      for (const batch of batches(chained(list))) {
        const value = Buffer.from(JSON.stringify(batch.length === 1 ? batch[0] : batch));
        problems.push(...validateBody(value, { broker: 'kafka', topic, key }).map((problem) => `${route}: ${problem}`));
      }
    }
    const rabbit = groupBy(envelopes, (envelope) => routesOf(envelope).rabbitRoutingKey);
    // execution, orderbook, trade, ticker × 3 symbols, and position., markprice. and liquidation.BTC-KRW-PERP
    expect([...rabbit.keys()].filter((key) => key.endsWith('-PERP')).sort()).toEqual([
      'execution.BTC-KRW-PERP',
      'liquidation.BTC-KRW-PERP',
      'markprice.BTC-KRW-PERP',
      'orderbook.BTC-KRW-PERP',
      'position.BTC-KRW-PERP',
      'ticker.BTC-KRW-PERP',
      'trade.BTC-KRW-PERP',
    ]);
    expect(rabbit.size).toBe(15);
    for (const [routingKey, list] of rabbit) {
      for (const batch of batches(chained(list))) {
        problems.push(
          ...validateBody(JSON.stringify(batch.length === 1 ? batch[0] : batch), { broker: 'rabbitmq', routingKey }).map(
            (problem) => `${routingKey}: ${problem}`,
          ),
        );
      }
    }
    const stream = chained(envelopes.filter((envelope) => routesOf(envelope).redis));
    expect(new Set(stream.map((envelope) => envelope.type))).toEqual(
      new Set(['Execution', 'Trade', 'BalanceChanged', 'PositionChanged', 'WalletChanged', 'FundingPaid', 'MarkPrice', 'Liquidation']),
    );
    for (const envelope of stream) problems.push(...validateRedisEntry(`${envelope.seq}-0`, ['envelope', JSON.stringify(envelope)]));
    expect(problems.slice(0, 5)).toEqual([]);
  });
});

describe('envelope schemas refuse what the contract forbids', () => {
  const trade = envelopes.find((envelope) => envelope.type === 'Trade')!;
  const fill = executions.find((envelope) => envelope.execution_report.exec_type === 'Trade')!;
  const accepted = executions.find((envelope) => envelope.execution_report.exec_type === 'New')!;
  const delta = envelopes.find((envelope) => envelope.type === 'BookDelta')!;
  const edit = (envelope: Envelope, change: (copy: Record<string, unknown>) => void): Record<string, unknown> => {
    const copy = structuredClone(envelope) as unknown as Record<string, unknown>;
    change(copy);
    return copy;
  };
  const report = (copy: Record<string, unknown>) => copy.execution_report as Record<string, unknown>;

  it('the originals are valid', () => {
    for (const envelope of [trade, fill, accepted, delta]) expect(validateEnvelope(envelope)).toEqual([]);
  });

  it.each([
    ['an extra field', () => edit(trade, (copy) => (copy.user_id = '1')), '/: unexpected field user_id'],
    ['an extra field in the report', () => edit(fill, (copy) => (report(copy).note = 'x')), '/execution_report: unexpected field note'],
    ['a missing field', () => edit(trade, (copy) => delete copy.quote_quantity), "/: must have required property 'quote_quantity'"],
    ['a numeric price', () => edit(trade, (copy) => (copy.price = 50_000_000)), '/price: must be string'],
    [
      'an exponent',
      () => edit(trade, (copy) => (copy.price = '5e7')),
      `/price: must match pattern "${'^([1-9][0-9]*(\\.[0-9]*[1-9])?|0\\.[0-9]*[1-9])$'}"`,
    ],
    ['a trailing zero', () => edit(trade, (copy) => (copy.quantity = '0.0020')), '/quantity: must match pattern'],
    ['a trailing dot', () => edit(delta, (copy) => (copy.quantity = '1.')), '/quantity: must match pattern'],
    ['a leading zero', () => edit(delta, (copy) => (copy.quantity = '01')), '/quantity: must match pattern'],
    ['a sign', () => edit(delta, (copy) => (copy.quantity = '-1')), '/quantity: must match pattern'],
    ['a zero price', () => edit(delta, (copy) => (copy.price = '0')), '/price: must match pattern'],
    ['a fractional seq', () => edit(delta, (copy) => (copy.seq = 1.5)), '/seq: must be integer'],
    ['a seq as a string', () => edit(delta, (copy) => (copy.seq = String(delta.seq))), '/seq: must be integer'],
    ['a negative prev_seq', () => edit(delta, (copy) => (copy.prev_seq = -1)), '/prev_seq: must be >= 0'],
    ['a string symbol_seq', () => edit(delta, (copy) => (copy.symbol_seq = '3')), '/symbol_seq: must be integer'],
    ['an unknown side', () => edit(delta, (copy) => (copy.side = 'buy')), '/side: must be one of ["Buy","Sell"]'],
    ['an unknown symbol', () => edit(delta, (copy) => (copy.symbol = 'DOGE-KRW')), '/symbol: must be one of'],
    ['version 2', () => edit(delta, (copy) => (copy.v = 2)), '/v: must be equal to constant'],
    ['an unknown exec_type', () => edit(fill, (copy) => (report(copy).exec_type = 'Fill')), '/execution_report/exec_type: must be one of'],
    ['an unknown order_status', () => edit(fill, (copy) => (copy.order_status = 'Open')), '/order_status: must be one of'],
    [
      'an unknown order_type',
      () => edit(fill, (copy) => (report(copy).order_type = 'Stop')),
      '/execution_report/order_type: must be one of',
    ],
    [
      'a Trade report without its price',
      () => edit(fill, (copy) => (report(copy).price = null)),
      '/execution_report/price: must be string',
    ],
    [
      'a New report with a fee',
      () => edit(accepted, (copy) => (report(copy).fee = '1')),
      '/execution_report/fee: must be equal to constant',
    ],
    [
      'a New report with a quantity',
      () => edit(accepted, (copy) => (report(copy).quantity = '1')),
      '/execution_report/quantity: must be equal to constant',
    ],
    [
      'a New report that is Filled',
      () => edit(accepted, (copy) => (copy.order_status = 'Filled')),
      '/order_status: must be one of ["Pending","Untriggered"]',
    ],
    [
      'a reject reason on a New report',
      () => edit(accepted, (copy) => (report(copy).reject_reason = 'INSUFFICIENT_FUNDS')),
      '/execution_report/reject_reason: must be null',
    ],
    ['a numeric user id', () => edit(fill, (copy) => (report(copy).user_id = 2)), '/execution_report/user_id: must be string'],
    ['an unknown type', () => ({ ...trade, type: 'Fill' }), '/type: must be one of'],
  ])('refuses %s', (_name, make, expected) => {
    const problems = validateEnvelope(make());
    expect(
      problems.some((problem) => problem.startsWith(expected)),
      problems.join('\n'),
    ).toBe(true);
  });

  it('the decimal pattern is the canonical form of the REST API', () => {
    const canonical = new RegExp(DECIMAL_PATTERN);
    for (const good of ['0', '1', '50000000', '0.002', '10.5', '0.00000001']) expect(canonical.test(good), good).toBe(true);
    for (const bad of ['', '00', '01', '1.', '.5', '1.50', '0.0', '-1', '+1', '1e3', '1E-3', ' 1', '1,5', 'NaN', 'Infinity'])
      expect(canonical.test(bad), bad).toBe(false);
  });

  it('broker checks refuse a wrong key, a wrong routing key, a broken prev_seq chain, a batch out of order and a bad Redis entry', () => {
    const market = chained(
      envelopes.filter((envelope) => routesOf(envelope).kafkaTopic === 'market-data' && envelopeSymbol(envelope) === BTC),
    ).slice(0, 3);
    expect(validateBody(market, { broker: 'kafka', topic: 'market-data', key: BTC })).toEqual([]);
    expect(validateBody(market, { broker: 'kafka', topic: 'market-data', key: ETH })).toHaveLength(3);
    expect(validateBody(market, { broker: 'kafka', topic: 'executions', key: BTC })[0]).toMatch(
      /does not belong on Kafka topic executions/,
    );
    expect(validateBody([market[0], market[2]], { broker: 'kafka', topic: 'market-data', key: BTC })).toEqual([
      `/1/prev_seq: ${market[1]!.seq}, but the envelope before it in the array has seq ${market[0]!.seq}`,
    ]);
    expect(validateBody([market[1], market[0]], { broker: 'kafka', topic: 'market-data', key: BTC }).join('\n')).toMatch(
      /\/1\/seq: .* is not after/,
    );
    expect(validateBody([], { broker: 'kafka', topic: 'market-data', key: BTC })).toEqual(['/: an empty array']);
    expect(validateBody('{"v":1', { broker: 'rabbitmq', routingKey: 'trade.BTC-KRW' })[0]).toMatch(/^not JSON/);
    expect(validateBody(chained([trade]), { broker: 'rabbitmq', routingKey: `orderbook.${trade.symbol}` })[0]).toMatch(/goes to trade\./);
    const bad = edit(trade, (copy) => (copy.price = 1));
    expect(validateBody([bad], { broker: 'rabbitmq', routingKey: `trade.${trade.symbol}` })).toEqual(['/0/price: must be string']);

    const entry = JSON.stringify(chained([fill])[0]);
    expect(validateRedisEntry(`${fill.seq}-0`, ['envelope', entry])).toEqual([]);
    expect(validateRedisEntry(`${fill.seq}-1`, ['envelope', entry])).toEqual([`entry ${fill.seq}-1: id must be {seq}-0 = ${fill.seq}-0`]);
    expect(validateRedisEntry(`${fill.seq}-0`, ['envelope', entry, 'extra', '1'])[0]).toMatch(/fields must be exactly/);
    expect(validateRedisEntry(`${delta.seq}-0`, ['envelope', JSON.stringify(delta)])).toEqual([
      `entry ${delta.seq}-0: a BookDelta does not belong on the Redis stream`,
    ]);
  });
});

describe('TP/SL execution reports (issue 19)', () => {
  it('carry working_type and close_position on the reports of a perpetual stop, and validate', () => {
    const tpsl = new Run();
    for (const user of [1, 2]) {
      tpsl.deposit(user, 'KRW', 100_000_000);
      tpsl.futures({ type: 'FuturesTransfer', userId: user, asset: 'KRW', amount: 10_000_000, direction: 'SpotToFutures' });
    }
    tpsl.futures({ type: 'SetIndexPrices', prices: [{ symbol: PERP, source: 'oracle-a', price: 50_000 }] });
    tpsl.place(2, PERP, 'Sell', { price: 50_000, quantity: 10 });
    tpsl.place(1, PERP, 'Buy', { price: 50_000, quantity: 10 });
    const stop = tpsl.place(1, PERP, 'Sell', { type: 'StopMarket', stopPrice: 48_000, workingType: 'MARK_PRICE', closePosition: true });
    const takeProfit = tpsl.place(1, PERP, 'Sell', {
      type: 'TakeProfitLimit',
      stopPrice: 55_000,
      price: 55_000,
      quantity: 5,
      workingType: 'LAST_PRICE',
    });
    tpsl.place(2, PERP, 'Buy', { price: 47_000, quantity: 10 });
    tpsl.futures({ type: 'SetIndexPrices', prices: [{ symbol: PERP, source: 'oracle-a', price: 48_000 }] });
    const all = new EnvelopeEncoder(DEFAULT_ENGINE_CONFIG).encodeAll(tpsl.events);
    expect(all.filter((envelope) => validateEnvelope(JSON.parse(JSON.stringify(envelope))).length > 0)).toEqual([]);
    const reports = all.filter((envelope): envelope is ExecutionEnvelope => envelope.type === 'Execution').map((e) => e.execution_report);
    const of = (orderId: number) => reports.filter((report) => report.order_id === String(orderId));
    expect(
      of(stop).map((report) => [report.exec_type, report.order_type, report.working_type, report.close_position, report.order_quantity]),
    ).toEqual([
      ['New', 'StopMarket', 'MARK_PRICE', true, '0'],
      ['Triggered', 'StopMarket', 'MARK_PRICE', true, '0'],
      ['Trade', 'StopMarket', undefined, undefined, '0.01'],
    ]);
    expect(of(takeProfit).map((report) => [report.exec_type, report.order_type, report.working_type, report.close_position])).toEqual([
      ['New', 'TakeProfitLimit', 'LAST_PRICE', false],
    ]);
    // a spot or plain perpetual order's reports have neither field
    expect(reports.filter((report) => report.order_type === 'Limit').every((report) => !('working_type' in report))).toBe(true);
  });
});
