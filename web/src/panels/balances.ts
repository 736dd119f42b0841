/** Available and locked per asset (the caller's own). */
import { group } from '../decimal.ts';
import { byId, el } from '../dom.ts';
import type { Store } from '../store.ts';

export function mountBalances(store: Store): void {
  const root = byId('balances');
  store.watch(['balances', 'session'], () => {
    if (!store.state.session) return root.replaceChildren(el('p', { class: 'empty' }, 'Log in to see your balances.'));
    const balances = store.state.balances;
    root.replaceChildren(
      el(
        'table',
        {},
        el('thead', {}, el('tr', {}, el('th', {}, 'Asset'), el('th', {}, 'Available'), el('th', {}, 'Locked'))),
        el(
          'tbody',
          {},
          ...balances.map((balance) =>
            el(
              'tr',
              { 'data-testid': `balance-${balance.asset}` },
              el('td', {}, balance.asset),
              el('td', { class: 'num available' }, group(balance.available)),
              el('td', { class: 'num locked' }, group(balance.locked)),
            ),
          ),
        ),
      ),
    );
  });
}
