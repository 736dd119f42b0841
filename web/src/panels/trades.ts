/** Recent trades of the market, newest first; the taker's side colours the price. */
import { group } from '../decimal.ts';
import { byId, el, time } from '../dom.ts';
import type { Store } from '../store.ts';

export function mountTrades(store: Store): void {
  const root = byId('trades');
  store.watch(['trades'], () => {
    const trades = store.state.trades.slice(0, 40);
    if (trades.length === 0) return root.replaceChildren(el('p', { class: 'empty' }, 'No trades yet.'));
    root.replaceChildren(
      el('div', { class: 'row head' }, el('span', {}, 'Price'), el('span', {}, 'Size'), el('span', {}, 'Time')),
      ...trades.map((trade) =>
        el(
          'div',
          { class: `row ${trade.taker_side === 'Buy' ? 'up' : 'down'}`, 'data-testid': 'trade-row' },
          el('span', { class: 'price' }, group(trade.price)),
          el('span', {}, trade.quantity),
          el('span', { class: 'muted' }, time(trade.timestamp)),
        ),
      ),
    );
  });
}
