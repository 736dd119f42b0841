/**
 * A tiny deterministic state machine behind the MatchingEngine interface, for sequencer tests that
 * must not depend on the real engine: balances move on deposits/withdrawals, orders are recorded
 * and cancelled, every command yields events with a gap-free seq.
 */
import type {
  BalanceView,
  BookDepth,
  BookLevel,
  Command,
  EngineEvent,
  EngineSnapshot,
  FuturesAccountView,
  LeverageSettingView,
  MarketSpec,
  MarkPriceView,
  PositionView,
  MatchingEngine,
  OrderView,
  TickerFigures,
} from '../../engine/types.ts';

interface ToyState {
  eventSeq: number;
  balances: Record<string, number>; // `${userId}:${asset}` → amount
  orders: Record<string, OrderView>;
  applied: number;
}

export class ToyEngine implements MatchingEngine {
  private state: ToyState = { eventSeq: 0, balances: {}, orders: {}, applied: 0 };

  static restore(snapshot: EngineSnapshot): ToyEngine {
    if (snapshot.version !== 1 || typeof snapshot.state !== 'object') throw new Error('not a toy engine snapshot');
    const engine = new ToyEngine();
    engine.state = structuredClone(snapshot.state as ToyState);
    return engine;
  }

  apply(command: Command): EngineEvent[] {
    const state = this.state;
    state.applied++;
    const base = () => ({ seq: ++state.eventSeq, timestamp: command.timestamp });
    switch (command.type) {
      case 'Deposit':
      case 'Withdraw': {
        const key = `${command.userId}:${command.asset}`;
        const current = state.balances[key] ?? 0;
        const next = command.type === 'Deposit' ? current + command.amount : current - command.amount;
        if (next < 0) {
          return [
            {
              ...base(),
              type: 'OrderRejected',
              code: 2001,
              reason: 'INSUFFICIENT_FUNDS',
              commandType: command.type,
              userId: command.userId,
            },
          ];
        }
        state.balances[key] = next;
        return [{ ...base(), type: 'BalanceChanged', userId: command.userId, asset: command.asset, available: next, locked: 0 }];
      }
      case 'PlaceOrder': {
        const order: OrderView = {
          orderId: command.orderId,
          userId: command.userId,
          symbol: command.symbol,
          side: command.side,
          orderType: command.orderType,
          timeInForce: command.timeInForce,
          postOnly: command.postOnly,
          ...(command.price !== undefined ? { price: command.price } : {}),
          ...(command.clientOrderId !== undefined ? { clientOrderId: command.clientOrderId } : {}),
          quantity: command.quantity ?? 0,
          filledQuantity: 0,
          remainingQuantity: command.quantity ?? 0,
          filledQuote: 0,
          feesPaid: 0,
          status: 'Pending',
          createdAt: command.timestamp,
          updatedAt: command.timestamp,
        };
        state.orders[command.orderId] = order;
        return [{ ...base(), type: 'OrderAccepted', order }];
      }
      case 'CancelOrder':
      case 'AmendOrder': {
        const order = state.orders[command.orderId];
        if (!order || order.userId !== command.userId || order.status !== 'Pending') {
          return [
            {
              ...base(),
              type: 'OrderRejected',
              code: 3001,
              reason: 'UNKNOWN_ORDER',
              commandType: command.type,
              userId: command.userId,
              orderId: command.orderId,
            },
          ];
        }
        if (command.type === 'AmendOrder') {
          const amended: OrderView = {
            ...order,
            quantity: command.newQuantity,
            remainingQuantity: command.newQuantity,
            updatedAt: command.timestamp,
          };
          state.orders[command.orderId] = amended;
          return [{ ...base(), type: 'OrderAmended', order: amended }];
        }
        const cancelled: OrderView = { ...order, status: 'Cancelled', updatedAt: command.timestamp };
        state.orders[command.orderId] = cancelled;
        return [{ ...base(), type: 'OrderCancelled', order: cancelled }];
      }
      case 'Tick':
        return []; // the toy has no tickers
      default:
        return []; // the toy has no futures
    }
  }

  snapshot(): EngineSnapshot {
    return { version: 1, state: structuredClone(this.state) };
  }

  /** FNV-1a over the canonical JSON of the state (key order is insertion order, itself deterministic). */
  stateHash(): string {
    const text = JSON.stringify(this.state);
    let hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
    return (hash >>> 0).toString(16).padStart(8, '0') + ':' + this.state.applied;
  }

  lastEventSeq(): number {
    return this.state.eventSeq;
  }

  pendingTickers(): number {
    return 0;
  }

  ticker(): TickerFigures | undefined {
    return undefined;
  }

  get applied(): number {
    return this.state.applied;
  }

  getOrder(orderId: number): OrderView | undefined {
    return this.state.orders[orderId];
  }

  orderForClientOrderId(userId: number, clientOrderId: string): number | undefined {
    return Object.values(this.state.orders).find((o) => o.userId === userId && o.clientOrderId === clientOrderId)?.orderId;
  }

  finishedOrders(): OrderView[] {
    return Object.values(this.state.orders).filter((o) => o.status !== 'Pending');
  }

  openOrders(userId: number, symbol?: string): OrderView[] {
    return Object.values(this.state.orders).filter(
      (o) => o.userId === userId && o.status === 'Pending' && (symbol === undefined || o.symbol === symbol),
    );
  }

  openOrdersPage(userId: number, symbol: string | undefined, afterOrderId: number, limit: number): { orders: OrderView[]; more: boolean } {
    const open = this.openOrders(userId, symbol)
      .filter((o) => o.orderId > afterOrderId)
      .sort((a, b) => a.orderId - b.orderId);
    return { orders: open.slice(0, limit), more: open.length > limit };
  }

  depth(symbol: string): BookDepth {
    return { symbol, symbolSeq: 0, bids: [], asks: [] };
  }

  bestBidAsk(): { bid?: BookLevel; ask?: BookLevel } {
    return {};
  }

  balances(userId: number): BalanceView[] {
    const prefix = `${userId}:`;
    return Object.entries(this.state.balances)
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, available]) => ({ asset: key.slice(prefix.length), available, locked: 0 }));
  }

  lastTradePrice(): number | undefined {
    return undefined;
  }

  markets(): readonly MarketSpec[] {
    return [];
  }

  futuresAccount(): FuturesAccountView | undefined {
    return undefined;
  }

  futuresPositions(): PositionView[] {
    return [];
  }

  leverageSettings(): LeverageSettingView {
    return { leverage: 20, marginType: 'CROSS' };
  }

  markPrice(): MarkPriceView | undefined {
    return undefined;
  }

  insuranceFund(): bigint | undefined {
    return undefined;
  }
}

export const toyFactory = {
  createEngine: (): ToyEngine => new ToyEngine(),
  restoreEngine: (snapshot: EngineSnapshot): ToyEngine => ToyEngine.restore(snapshot),
};
