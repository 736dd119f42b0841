/**
 * Test driver for perpetual scenarios: the engine Driver (../../test-support.ts, default spot and
 * perpetual markets) plus the futures commands, and short readers of positions and wallets.
 */
import { Driver } from '../../test-support.ts';
import type { EngineEvent, MarginType, PlaceOrderCommand, PositionChangedEvent, PositionSide, WalletChangedEvent } from '../../types.ts';

export const PERP = 'BTC-KRW-PERP';

export interface PerpOrderOptions {
  symbol?: string;
  type?: PlaceOrderCommand['orderType'];
  stopPrice?: number;
  tif?: PlaceOrderCommand['timeInForce'];
  postOnly?: boolean;
  stp?: PlaceOrderCommand['stp'];
  reduceOnly?: boolean;
  positionSide?: PositionSide;
  workingType?: PlaceOrderCommand['workingType'];
  closePosition?: boolean;
}

export class PerpDriver extends Driver {
  private stampNext(): number {
    this.time += 1;
    this.commandSeq += 1;
    return this.time;
  }

  /** deposit to spot, then move `futures` of it to the futures wallet */
  fund(userId: number, futures: number, spot = futures): void {
    this.deposit(userId, 'KRW', spot);
    if (futures > 0) this.transfer(userId, futures);
  }

  transfer(userId: number, amount: number, direction: 'SpotToFutures' | 'FuturesToSpot' = 'SpotToFutures'): EngineEvent[] {
    return this.apply({ type: 'FuturesTransfer', userId, asset: 'KRW', amount, direction, timestamp: this.stampNext() });
  }

  index(price: number, symbol = PERP, source = 'test'): EngineEvent[] {
    return this.apply({ type: 'SetIndexPrices', prices: [{ symbol, source, price }], timestamp: this.stampNext() });
  }

  /** a journaled price tick at `timestamp` (default: the next ms); time moves there */
  priceTick(timestamp = this.time + 1): EngineEvent[] {
    this.time = timestamp - 1;
    return this.apply({ type: 'PriceTick', timestamp: this.stampNext() });
  }

  leverage(userId: number, leverage: number, symbol = PERP): EngineEvent[] {
    return this.apply({ type: 'SetLeverage', userId, symbol, leverage, timestamp: this.stampNext() });
  }

  marginType(userId: number, marginType: MarginType, symbol = PERP): EngineEvent[] {
    return this.apply({ type: 'SetMarginType', userId, symbol, marginType, timestamp: this.stampNext() });
  }

  hedge(userId: number, hedge: boolean): EngineEvent[] {
    return this.apply({ type: 'SetPositionMode', userId, hedge, timestamp: this.stampNext() });
  }

  isolated(userId: number, action: 'Add' | 'Remove', amount: number, positionSide: PositionSide = 'BOTH', symbol = PERP): EngineEvent[] {
    return this.apply({ type: 'AdjustIsolatedMargin', userId, symbol, positionSide, amount, action, timestamp: this.stampNext() });
  }

  /** A perpetual order (limit when a price is given, else market IOC); returns its id. */
  perp(userId: number, side: 'Buy' | 'Sell', quantity: number | undefined, price?: number, options: PerpOrderOptions = {}): number {
    const timestamp = this.stampNext();
    const orderId = this.commandSeq;
    const type = options.type ?? (price === undefined ? 'Market' : 'Limit');
    const command: PlaceOrderCommand = {
      type: 'PlaceOrder',
      orderId,
      userId,
      symbol: options.symbol ?? PERP,
      side,
      orderType: type,
      price,
      stopPrice: options.stopPrice,
      quantity,
      timeInForce: options.tif ?? (type === 'Market' || type === 'StopMarket' || type === 'TakeProfitMarket' ? 'IOC' : 'GTC'),
      postOnly: options.postOnly ?? false,
      stp: options.stp ?? 'ExpireTaker',
      reduceOnly: options.reduceOnly,
      positionSide: options.positionSide,
      ...(options.workingType !== undefined && { workingType: options.workingType }),
      ...(options.closePosition !== undefined && { closePosition: options.closePosition }),
      timestamp,
    };
    this.apply(command);
    return orderId;
  }

  position(userId: number, side: PositionSide = 'BOTH', symbol = PERP) {
    return this.engine.futuresPositions(userId, symbol).find((view) => view.positionSide === side);
  }

  wallet(userId: number): bigint {
    return this.engine.futuresAccount(userId)!.walletBalanceKrw;
  }

  walletEvents(events: EngineEvent[] = this.events): WalletChangedEvent[] {
    return events.filter((event): event is WalletChangedEvent => event.type === 'WalletChanged');
  }

  positionEvents(events: EngineEvent[] = this.events): PositionChangedEvent[] {
    return events.filter((event): event is PositionChangedEvent => event.type === 'PositionChanged');
  }
}
