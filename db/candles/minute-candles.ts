/**
 * Trades → 1-minute candles, pure. A batch of trades (any symbols, each symbol's in seq order as
 * Kafka delivers them) is folded into one candle per (symbol, UTC minute); a trade whose seq is not
 * above the symbol's last applied seq is a duplicate (a resend, a re-read after a restart) and is
 * skipped. The candles of a batch are partial: the store merges each into the minute's row
 * (high/low by comparison, volumes and counts added, open kept, close replaced), which is right
 * because every trade applied later has a higher seq than every trade already in the row.
 */
import { addExact, compareExact, formatExact, parseExact, type Exact } from '../../contract/decimal-text.ts';

export const MINUTE_MS = 60_000;

/** The fields of a Trade envelope (contract/envelopes.ts) that candles use. */
export interface CandleTrade {
  readonly seq: number;
  readonly timestamp: number;
  readonly symbol: string;
  readonly trade_id: string;
  readonly price: string;
  readonly quantity: string;
  readonly quote_quantity: string;
}

export interface MinuteCandle {
  readonly symbol: string;
  /** ms, a multiple of 60,000 */
  readonly openTime: number;
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  readonly volume: string;
  readonly quoteVolume: string;
  readonly tradeCount: number;
  readonly firstTradeId: string;
  readonly lastTradeId: string;
}

export interface SymbolProgress {
  readonly lastSeq: number;
  readonly lastTradeId: string;
}

export interface MinuteAggregate {
  /** one per (symbol, minute), in the order first touched */
  readonly candles: MinuteCandle[];
  /** symbols that got at least one trade: their new last applied seq and trade id */
  readonly progress: Map<string, SymbolProgress>;
  readonly applied: number;
  readonly duplicates: number;
}

interface Building {
  symbol: string;
  openTime: number;
  open: string;
  high: Exact;
  highText: string;
  low: Exact;
  lowText: string;
  close: string;
  volume: Exact;
  quoteVolume: Exact;
  tradeCount: number;
  firstTradeId: string;
  lastTradeId: string;
}

export function minuteOf(timestamp: number): number {
  return timestamp - (((timestamp % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
}

/**
 * Folds `trades` into minute candles. `appliedSeq(symbol)` is the last seq already in the store
 * for that symbol (0 when none).
 */
export function aggregateMinutes(trades: Iterable<CandleTrade>, appliedSeq: (symbol: string) => number): MinuteAggregate {
  const building = new Map<string, Building>();
  const lastSeq = new Map<string, number>();
  const progress = new Map<string, SymbolProgress>();
  let applied = 0;
  let duplicates = 0;
  for (const trade of trades) {
    let last = lastSeq.get(trade.symbol);
    if (last === undefined) lastSeq.set(trade.symbol, (last = appliedSeq(trade.symbol)));
    if (trade.seq <= last) {
      duplicates++;
      continue;
    }
    lastSeq.set(trade.symbol, trade.seq);
    progress.set(trade.symbol, { lastSeq: trade.seq, lastTradeId: trade.trade_id });
    applied++;
    const openTime = minuteOf(trade.timestamp);
    const key = `${trade.symbol}\u0000${openTime}`;
    const price = parseExact(trade.price);
    const quantity = parseExact(trade.quantity);
    const quote = parseExact(trade.quote_quantity);
    const candle = building.get(key);
    if (!candle) {
      building.set(key, {
        symbol: trade.symbol,
        openTime,
        open: trade.price,
        high: price,
        highText: trade.price,
        low: price,
        lowText: trade.price,
        close: trade.price,
        volume: quantity,
        quoteVolume: quote,
        tradeCount: 1,
        firstTradeId: trade.trade_id,
        lastTradeId: trade.trade_id,
      });
      continue;
    }
    if (compareExact(price, candle.high) > 0) {
      candle.high = price;
      candle.highText = trade.price;
    }
    if (compareExact(price, candle.low) < 0) {
      candle.low = price;
      candle.lowText = trade.price;
    }
    candle.close = trade.price;
    candle.volume = addExact(candle.volume, quantity);
    candle.quoteVolume = addExact(candle.quoteVolume, quote);
    candle.tradeCount++;
    candle.lastTradeId = trade.trade_id;
  }
  const candles = [...building.values()].map((candle) => ({
    symbol: candle.symbol,
    openTime: candle.openTime,
    open: candle.open,
    high: candle.highText,
    low: candle.lowText,
    close: candle.close,
    volume: formatExact(candle.volume),
    quoteVolume: formatExact(candle.quoteVolume),
    tradeCount: candle.tradeCount,
    firstTradeId: candle.firstTradeId,
    lastTradeId: candle.lastTradeId,
  }));
  return { candles, progress, applied, duplicates };
}
