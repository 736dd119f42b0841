/** The order book: asks above, bids below, the spread between, depth bars by cumulative size. */
import { group } from '../decimal.ts';
import { byId, el } from '../dom.ts';
import type { Actions } from '../actions.ts';
import type { Store } from '../store.ts';

const LEVELS = 10;

export function mountOrderBook(store: Store, actions: Actions): void {
  const root = byId('book');
  const status = byId('book-status');
  root.addEventListener('click', (event) => {
    const row = (event.target as HTMLElement).closest<HTMLElement>('[data-price]');
    if (row?.dataset.price) actions.pickPrice(row.dataset.price);
  });
  store.watch(['book'], () => {
    const book = store.state.book;
    if (!book) {
      status.textContent = 'waiting for snapshot';
      return root.replaceChildren(el('p', { class: 'empty' }, 'Loading…'));
    }
    status.textContent = book.verified
      ? `checksum ✓ · seq ${book.symbolSeq}${book.resyncs ? ` · resynced ${book.resyncs}×` : ''}`
      : 'resyncing…';
    status.className = `book-status ${book.verified ? 'ok' : 'bad'}`;
    const asks = book.asks.slice(0, LEVELS);
    const bids = book.bids.slice(0, LEVELS);
    const cumulative = (levels: typeof asks) => {
      let sum = 0;
      return levels.map(([, quantity]) => (sum += Number(quantity)));
    };
    const askSums = cumulative(asks);
    const bidSums = cumulative(bids);
    const max = Math.max(askSums[askSums.length - 1] ?? 0, bidSums[bidSums.length - 1] ?? 0) || 1;
    const row = (side: 'ask' | 'bid', [price, quantity]: readonly [string, string], sum: number) => {
      const bar = el('span', { class: 'depth' });
      bar.style.width = `${((sum / max) * 100).toFixed(1)}%`;
      return el(
        'div',
        { class: `level ${side}`, 'data-price': price, 'data-testid': `${side}-level` },
        bar,
        el('span', { class: 'price' }, group(price)),
        el('span', { class: 'qty' }, quantity),
      );
    };
    const spread = asks[0] && bids[0] ? group(String(Number(asks[0][0]) - Number(bids[0][0]))) : '—';
    root.replaceChildren(
      el('div', { class: 'level head' }, el('span', { class: 'price' }, 'Price'), el('span', { class: 'qty' }, 'Size')),
      el('div', { class: 'asks' }, ...asks.map((level, index) => row('ask', level, askSums[index]!)).reverse()),
      el('div', { class: 'spread' }, `spread ${spread}`),
      el('div', { class: 'bids' }, ...bids.map((level, index) => row('bid', level, bidSums[index]!))),
    );
  });
}
