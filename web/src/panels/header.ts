/** Market selector, ticker figures, connection state and who is logged in. */
import { group } from '../decimal.ts';
import { byId, el } from '../dom.ts';
import type { Actions } from '../actions.ts';
import type { Store } from '../store.ts';

export function mountHeader(store: Store, actions: Actions): void {
  const select = byId<HTMLSelectElement>('market');
  select.addEventListener('change', () => actions.selectMarket(select.value));
  store.watch(['markets', 'symbol'], () => {
    const { markets, symbol } = store.state;
    if (select.options.length !== markets.length)
      select.replaceChildren(...markets.map((market) => el('option', { value: market.symbol }, market.symbol)));
    select.value = symbol;
  });

  const ticker = byId('ticker');
  store.watch(['ticker', 'symbol', 'markets'], () => {
    const { ticker: figures, symbol } = store.state;
    const market = store.state.markets.find((entry) => entry.symbol === symbol);
    if (!figures || figures.symbol !== symbol) return ticker.replaceChildren();
    const last = figures.last_price;
    const open = figures.open_24h;
    let change = '—';
    let direction = '';
    if (last && open && Number(open) > 0) {
      const percent = ((Number(last) - Number(open)) / Number(open)) * 100;
      change = `${percent >= 0 ? '+' : ''}${percent.toFixed(2)}%`;
      direction = percent > 0 ? 'up' : percent < 0 ? 'down' : '';
    }
    const figure = (label: string, value: string, extra = '') =>
      el('div', { class: `figure ${extra}` }, el('span', { class: 'label' }, label), el('span', { class: 'value' }, value));
    ticker.replaceChildren(
      el('div', { class: `last ${direction}`, 'data-testid': 'last-price' }, last ? group(last) : '—'),
      figure('24h change', change, direction),
      figure('24h high', figures.high_24h ? group(figures.high_24h) : '—'),
      figure('24h low', figures.low_24h ? group(figures.low_24h) : '—'),
      figure(`24h volume (${market?.base ?? ''})`, group(figures.volume_24h)),
    );
  });

  const connection = byId('conn');
  store.watch(['connection', 'wsUrl', 'authenticated'], () => {
    const { connection: state, wsUrl, authenticated } = store.state;
    connection.textContent = state === 'live' ? (authenticated ? 'live · private' : 'live') : state;
    connection.className = `conn ${state}`;
    connection.title = wsUrl;
  });

  const who = byId('who');
  const logout = byId<HTMLButtonElement>('logout');
  logout.addEventListener('click', () => actions.logout());
  store.watch(['session'], () => {
    const session = store.state.session;
    who.textContent = session ? `key ${session.apiKey.slice(0, 10)}…` : '';
    logout.hidden = !session;
  });
}
