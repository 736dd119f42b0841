/**
 * Candles from GET /v1/candles (history), the last bar moved by live trades, an interval switch.
 * Lightweight Charts™ wants UTC seconds; bars are drawn from Number() of the decimal strings.
 */
import { CandlestickSeries, createChart, type CandlestickData, type ISeriesApi, type UTCTimestamp } from 'lightweight-charts';
import { decimalsOf, group } from '../decimal.ts';
import { byId, el } from '../dom.ts';
import type { Actions } from '../actions.ts';
import type { Store } from '../store.ts';
import type { Candle, Trade } from '../types.ts';

export const INTERVALS: Readonly<Record<string, number>> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '4h': 14_400_000,
  '1d': 86_400_000,
};

export interface ChartPanel {
  /** replaces the bars (after a market or interval change) */
  setCandles(candles: readonly Candle[]): void;
  /** folds live trades into the last bar, or opens the next one */
  addTrades(trades: readonly Trade[]): void;
}

export function mountChart(store: Store, actions: Actions): ChartPanel {
  const box = byId('chart');
  const chart = createChart(box, {
    autoSize: true,
    // the logo is drawn with an inline <style>, which the page's CSP refuses; the attribution is a link under the chart instead
    layout: { attributionLogo: false, background: { color: '#0f141b' }, textColor: '#aab4c0', fontSize: 11 },
    grid: { vertLines: { color: '#1c2530' }, horzLines: { color: '#1c2530' } },
    timeScale: { timeVisible: true, secondsVisible: false, borderColor: '#2a3542' },
    rightPriceScale: { borderColor: '#2a3542' },
    localization: {
      priceFormatter: (price: number) =>
        group(price.toFixed(decimalsOf(store.state.markets.find((market) => market.symbol === store.state.symbol)?.tick_size ?? '1'))),
    },
  });
  const series: ISeriesApi<'Candlestick'> = chart.addSeries(CandlestickSeries, {
    upColor: '#26a69a',
    downColor: '#ef5350',
    wickUpColor: '#26a69a',
    wickDownColor: '#ef5350',
    borderVisible: false,
    priceFormat: { type: 'price', precision: 0, minMove: 1 },
  });
  let last: CandlestickData<UTCTimestamp> | undefined;
  let count = 0;

  const intervals = byId('intervals');
  intervals.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-interval]');
    if (button?.dataset.interval) actions.selectInterval(button.dataset.interval);
  });
  store.watch(['interval'], () => {
    intervals.replaceChildren(
      ...Object.keys(INTERVALS).map((interval) =>
        el(
          'button',
          {
            type: 'button',
            'data-interval': interval,
            class: interval === store.state.interval ? 'on' : '',
            'aria-pressed': String(interval === store.state.interval),
          },
          interval,
        ),
      ),
    );
  });

  const publishCount = () => {
    box.dataset.candles = String(count);
  };

  return {
    setCandles(candles) {
      const bars = candles.map((candle) => ({
        time: Math.floor(candle.open_time / 1000) as UTCTimestamp,
        open: Number(candle.open),
        high: Number(candle.high),
        low: Number(candle.low),
        close: Number(candle.close),
      }));
      series.setData(bars);
      last = bars[bars.length - 1];
      count = bars.length;
      chart.timeScale().fitContent();
      publishCount();
    },
    addTrades(trades) {
      const width = INTERVALS[store.state.interval] ?? 60_000;
      // oldest first, so the last bar ends on the newest price
      for (const trade of [...trades].sort((a, b) => a.timestamp - b.timestamp)) {
        const time = (Math.floor(trade.timestamp / width) * width) / 1000;
        const price = Number(trade.price);
        if (last && time < last.time) continue; // older than the bar shown: already in the history
        if (last && time === last.time) last = { ...last, high: Math.max(last.high, price), low: Math.min(last.low, price), close: price };
        else {
          last = { time: time as UTCTimestamp, open: price, high: price, low: price, close: price };
          count++;
        }
        series.update(last);
      }
      publishCount();
    },
  };
}
