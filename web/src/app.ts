/**
 * The page's wiring: REST for history and commands, the WebSocket for everything live, one store,
 * panels that render from it. It speaks only the public contract (REST, WebSocket, decimals as strings).
 */
import { ApiClient, ApiRequestError, createSigner } from './api.ts';
import type { Actions, Outcome } from './actions.ts';
import type { OrderBook } from './book.ts';
import { describeError, describeExpiry } from './error-words.ts';
import { mountAccount } from './panels/account.ts';
import { mountBalances } from './panels/balances.ts';
import { INTERVALS, mountChart } from './panels/chart.ts';
import { mountHeader } from './panels/header.ts';
import { mountLogin } from './panels/login.ts';
import { mountOrderBook } from './panels/order-book.ts';
import { mountOrderEntry } from './panels/order-entry.ts';
import { mountTrades } from './panels/trades.ts';
import { Store } from './store.ts';
import type { Ack, Balance, Candle, ExecutionFrame, Fill, Market, Order, Ticker, Trade } from './types.ts';
import { FeedFreshness } from './freshness.ts';
import { WsFeed } from './ws-feed.ts';

const KEEP_TRADES = 100;
/** how often the live book is compared with REST's (a stalled server is left after one to two of these) */
const FRESHNESS_CHECK_MS = 5_000;
const KEEP_EXECUTIONS = 300;
const KEEP_ROWS = 200;
const DAY_MS = 86_400_000;

interface PageConfig {
  ws_urls: string[];
}

export async function startPage(): Promise<void> {
  const api = new ApiClient();
  const [config, marketList] = await Promise.all([
    api.get('/web/config.json') as Promise<PageConfig>,
    api.get('/v1/markets') as Promise<{ markets: Market[] }>,
  ]);
  const markets = marketList.markets;
  const fromHash = decodeURIComponent(location.hash.slice(1));
  const store = new Store({
    markets,
    symbol: markets.some((market) => market.symbol === fromHash) ? fromHash : (markets[0]?.symbol ?? ''),
    interval: '1m',
    ticker: undefined,
    book: undefined,
    trades: [],
    session: undefined,
    connection: 'connecting',
    wsUrl: '',
    authenticated: false,
    balances: [],
    openOrders: [],
    history: [],
    fills: [],
    executions: [],
    notice: undefined,
  });

  const later = (wait: number, work: () => Promise<void>) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        void work().catch(() => {});
      }, wait);
    };
  };

  // ---- account reads (signed)
  const loadBalances = async () => store.set({ balances: ((await api.signed('GET', '/v1/balances')) as { balances: Balance[] }).balances });
  const loadOpenOrders = async () =>
    store.set({ openOrders: ((await api.signed('GET', '/v1/orders')) as { orders: Order[] }).orders.slice().reverse() });
  const loadHistory = async () => {
    // finished orders of the last day, from PostgreSQL (the persister writes them within about a second)
    let orders: Order[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const query: string = `/v1/orders/history?start=${Date.now() - DAY_MS}&limit=1000${after ? `&after_order_id=${after}` : ''}`;
      const answer = (await api.signed('GET', query)) as { orders: Order[]; next_after_order_id: string | null };
      orders = orders.concat(answer.orders);
      after = answer.next_after_order_id;
      if (!after) break;
    }
    store.set({ history: orders.sort((a, b) => b.updated_at - a.updated_at).slice(0, KEEP_ROWS) });
  };
  const loadFills = async () => {
    const answer = (await api.signed('GET', `/v1/fills?start=${Date.now() - DAY_MS}&limit=1000`)) as { fills: Fill[] };
    mergeFills(answer.fills);
  };
  const mergeFills = (fills: readonly Fill[]) => {
    const bySeq = new Map(store.state.fills.map((fill) => [fill.seq, fill]));
    for (const fill of fills) bySeq.set(Number(fill.seq), { ...fill, seq: Number(fill.seq) });
    store.set({ fills: [...bySeq.values()].sort((a, b) => b.seq - a.seq).slice(0, KEEP_ROWS) });
  };
  const refreshLive = later(100, async () => {
    if (store.state.session) await Promise.all([loadBalances(), loadOpenOrders()]);
  });
  const refreshHistory = later(1_500, async () => {
    if (store.state.session) await Promise.all([loadHistory(), loadFills()]);
  });
  const refreshAll = () => {
    refreshLive();
    refreshHistory();
  };

  // ---- market data
  let candleRequest = 0;
  const loadCandles = async () => {
    const request = ++candleRequest;
    const { symbol, interval } = store.state;
    const answer = (await api.get(`/v1/candles/${encodeURIComponent(symbol)}?interval=${interval}&limit=500`)) as { candles: Candle[] };
    if (request !== candleRequest) return; // a newer market or interval was asked for meanwhile
    chart.setCandles(answer.candles);
  };
  const loadMarket = async () => {
    const symbol = store.state.symbol;
    const [ticker, trades] = await Promise.all([
      api.get(`/v1/ticker/${encodeURIComponent(symbol)}`) as Promise<Ticker>,
      api.get(`/v1/trades/${encodeURIComponent(symbol)}?limit=${KEEP_TRADES}`) as Promise<{ trades: Trade[] }>,
    ]);
    if (symbol !== store.state.symbol) return;
    store.set({ ticker: { ...ticker, symbol }, trades: trades.trades });
    await loadCandles().catch(() => chart.setCandles([]));
  };

  // ---- the WebSocket
  const feed = new WsFeed(config.ws_urls, {
    onConnection: (connection, wsUrl) => store.set({ connection, wsUrl, ...(connection !== 'live' ? { authenticated: false } : {}) }),
    onBook: (book: OrderBook, verified, resyncs) => {
      if (book.symbol !== store.state.symbol) return;
      store.set({
        book: {
          symbol: book.symbol,
          bids: book.levels('bids', 20),
          asks: book.levels('asks', 20),
          verified,
          resyncs,
          symbolSeq: book.symbolSeq,
        },
      });
    },
    onTrades: (symbol, trades) => {
      if (symbol !== store.state.symbol) return;
      const known = new Set(store.state.trades.map((trade) => trade.trade_id));
      const fresh = trades.filter((trade) => !known.has(trade.trade_id)).sort((a, b) => b.timestamp - a.timestamp);
      if (fresh.length === 0) return;
      // the header's last price follows every trade (Ticker frames come at most once a second)
      const ticker = store.state.ticker;
      store.set({
        trades: [...fresh, ...store.state.trades].slice(0, KEEP_TRADES),
        ...(ticker ? { ticker: { ...ticker, last_price: fresh[0]!.price } } : {}),
      });
      chart.addTrades(fresh);
    },
    onTicker: (ticker) => {
      if (ticker.symbol === store.state.symbol) store.set({ ticker });
    },
    onExecution: (frame: ExecutionFrame) => {
      store.set({ executions: [frame, ...store.state.executions].slice(0, KEEP_EXECUTIONS) });
      const report = frame.execution_report;
      if (report.exec_type === 'Trade' && report.price !== null && report.trade_id !== null) {
        // the fill shows at once; GET /v1/fills (PostgreSQL) confirms it a moment later under the same seq
        mergeFills([
          {
            seq: frame.seq,
            order_id: report.order_id,
            trade_id: report.trade_id,
            symbol: report.symbol,
            side: report.side,
            price: report.price,
            quantity: report.quantity,
            fee: report.fee,
            fee_asset: report.fee_asset,
            is_maker: report.is_maker ?? false,
            timestamp: frame.timestamp,
          },
        ]);
      }
      refreshAll();
    },
    onAuth: (ok, code, message) => {
      store.set({ authenticated: ok });
      if (!ok) toast(`Live updates of your orders are off: ${describeError(code, message)}`, 'error');
    },
    onResync: refreshAll,
  });

  const toastBox = document.getElementById('toast')!;
  let toastTimer: ReturnType<typeof setTimeout> | undefined;
  const toast = (text: string, kind: 'ok' | 'error' | 'info') => {
    toastBox.textContent = text;
    toastBox.className = `toast show ${kind}`;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (toastBox.className = 'toast'), 5_000);
  };

  const explain = async (orderId: string, status: string | null): Promise<Outcome> => {
    if (status === 'Rejected' || status === 'Expired') {
      const order = (await api.signed('GET', `/v1/order/${orderId}`).catch(() => undefined)) as Order | undefined;
      if (status === 'Rejected')
        return { ok: false, text: `Order ${orderId} rejected: ${describeError(order?.reject_reason ?? undefined)}` };
      return { ok: false, text: `Order ${orderId} expired: ${describeExpiry(order?.expire_reason) || 'not filled'}.` };
    }
    if (status === 'Filled') return { ok: true, text: `Order ${orderId} filled.` };
    if (status === 'PartiallyFilled') return { ok: true, text: `Order ${orderId} accepted and partly filled; the rest rests on the book.` };
    if (status === 'Untriggered') return { ok: true, text: `Stop order ${orderId} accepted; it waits for its stop price.` };
    return { ok: true, text: `Order ${orderId} accepted (${status ?? 'Pending'}).` };
  };

  const failure = (what: string, error: unknown): never => {
    throw new Error(`${what}: ${error instanceof ApiRequestError ? error.message : 'the exchange did not answer.'}`, { cause: error });
  };

  const mounted: { orderEntry?: ReturnType<typeof mountOrderEntry> } = {};
  const actions: Actions = {
    async login(apiKey, apiSecret) {
      if (!apiKey || !apiSecret) throw new Error('Enter your API key and secret.');
      const signer = await createSigner(apiKey, apiSecret);
      const previous = api.signer;
      api.signer = signer;
      try {
        await api.signed('GET', '/v1/balances');
      } catch (error) {
        api.signer = previous;
        throw new Error(error instanceof ApiRequestError ? error.message : 'The exchange did not answer.', { cause: error });
      }
      store.set({ session: { apiKey }, executions: [], fills: [], history: [] });
      feed.setSigner(signer);
      await Promise.all([loadBalances(), loadOpenOrders(), loadHistory().catch(() => {}), loadFills().catch(() => {})]);
    },
    logout() {
      api.signer = undefined;
      feed.setSigner(undefined);
      store.set({ session: undefined, balances: [], openOrders: [], history: [], fills: [], executions: [], authenticated: false });
    },
    selectMarket(symbol) {
      if (symbol === store.state.symbol) return;
      history.replaceState(null, '', `#${encodeURIComponent(symbol)}`);
      store.set({ symbol, book: undefined, trades: [], ticker: undefined });
      feed.setSymbol(symbol);
      void loadMarket().catch(() => {});
    },
    selectInterval(interval) {
      if (!(interval in INTERVALS) || interval === store.state.interval) return;
      store.set({ interval });
      void loadCandles().catch(() => {});
    },
    pickPrice(price) {
      mounted.orderEntry?.setPrice(price);
    },
    async placeOrder(body) {
      let ack: Ack;
      try {
        ack = (await api.signed('POST', '/v1/order', body)) as Ack;
      } catch (error) {
        refreshLive();
        return {
          ok: false,
          text: `Order not placed: ${error instanceof ApiRequestError ? error.message : 'the exchange did not answer.'}`,
        };
      }
      refreshAll();
      return explain(ack.order_id, ack.order_status);
    },
    async cancel(orderId) {
      try {
        await api.signed('DELETE', `/v1/order/${orderId}`);
      } catch (error) {
        return failure(`Order ${orderId} not cancelled`, error);
      } finally {
        refreshAll();
      }
      return `Order ${orderId} cancelled.`;
    },
    async amend(orderId, quantity) {
      try {
        const answer = (await api.signed('PATCH', `/v1/order/${orderId}`, { quantity })) as {
          quantity: string | null;
          remaining_quantity: string | null;
        };
        return `Order ${orderId} amended to ${answer.quantity ?? quantity} (${answer.remaining_quantity ?? '?'} open); it keeps its place in the queue.`;
      } catch (error) {
        return failure(`Order ${orderId} not amended`, error);
      } finally {
        refreshAll();
      }
    },
    async cancelAll() {
      const symbol = store.state.symbol;
      try {
        const answer = (await api.signed('DELETE', `/v1/orders?symbol=${encodeURIComponent(symbol)}`)) as { cancelled: string[] };
        return `${answer.cancelled.length} order${answer.cancelled.length === 1 ? '' : 's'} cancelled in ${symbol}.`;
      } catch (error) {
        return failure('Orders not cancelled', error);
      } finally {
        refreshAll();
      }
    },
  };

  mountHeader(store, actions);
  mountOrderBook(store, actions);
  mountTrades(store);
  const chart = mountChart(store, actions);
  mountLogin(store, actions);
  mounted.orderEntry = mountOrderEntry(store, actions);
  mountBalances(store);
  mountAccount(store, actions);

  feed.setSymbol(store.state.symbol);
  feed.start();
  // a server whose own feed stalled still looks connected: compare its book with REST's now and then
  const freshness = new FeedFreshness();
  let freshSymbol = store.state.symbol;
  let lastStaleToast = 0;
  let lastSwitch = 0;
  setInterval(() => {
    const symbol = store.state.symbol;
    if (symbol !== freshSymbol || store.state.connection !== 'live') {
      freshSymbol = symbol;
      freshness.reset();
      return;
    }
    void (api.get(`/v1/orderbook/${encodeURIComponent(symbol)}?depth=1`) as Promise<{ symbol_seq: number }>).then(
      (rest) => {
        if (symbol !== store.state.symbol || store.state.connection !== 'live') return;
        if (!freshness.check(rest.symbol_seq, feed.bookSeq)) return;
        freshness.reset();
        // one switch per minute at most: when every server is behind (RabbitMQ or its publisher
        // catching up), hopping between them only adds reconnects
        if (Date.now() - lastSwitch < 60_000) {
          if (Date.now() - lastStaleToast > 60_000) {
            lastStaleToast = Date.now();
            toast('The live feed is behind the exchange on every server; it catches up by itself.', 'error');
          }
          return;
        }
        lastSwitch = Date.now();
        lastStaleToast = lastSwitch;
        toast('The live feed fell behind the exchange; switching to another server.', 'error');
        feed.switchServer();
      },
      () => {},
    );
  }, FRESHNESS_CHECK_MS);
  await loadMarket().catch(() => toast('Market data could not be loaded; retrying with the live feed.', 'error'));
  document.body.dataset.ready = 'true';
}
