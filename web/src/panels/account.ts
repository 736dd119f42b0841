/**
 * The trader's own orders, in tabs: open orders (cancel, amend the quantity), order history, fills,
 * and every execution report as it arrives, with the status it leaves the order in.
 */
import { group } from '../decimal.ts';
import { describeError, describeExpiry } from '../error-words.ts';
import { byId, el, time } from '../dom.ts';
import type { Actions } from '../actions.ts';
import type { Store } from '../store.ts';
import type { Order } from '../types.ts';

const TABS = [
  ['open', 'Open orders'],
  ['history', 'Order history'],
  ['fills', 'Fills'],
  ['executions', 'Executions'],
] as const;
type Tab = (typeof TABS)[number][0];

export function mountAccount(store: Store, actions: Actions): void {
  const tabs = byId('tabs');
  const body = byId('tab-body');
  let current: Tab = 'open';
  let amending: string | undefined;
  const result = el('p', { class: 'result', 'data-testid': 'account-result', role: 'status' });
  const show = (text: string, kind: 'ok' | 'error') => {
    result.textContent = text;
    result.className = `result ${kind}`;
  };
  const settle = (promise: Promise<string>) =>
    promise.then(
      (text) => show(text, 'ok'),
      (error: unknown) => show(error instanceof Error ? error.message : String(error), 'error'),
    );

  tabs.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-tab]');
    if (!button) return;
    current = button.dataset.tab as Tab;
    render();
  });

  body.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-action]');
    if (!button) return;
    const orderId = button.dataset.order!;
    switch (button.dataset.action) {
      case 'cancel':
        settle(actions.cancel(orderId));
        break;
      case 'amend':
        amending = orderId;
        render();
        body.querySelector<HTMLInputElement>('input.amend-quantity')?.focus();
        break;
      case 'amend-save': {
        const value = body.querySelector<HTMLInputElement>('input.amend-quantity')?.value.trim() ?? '';
        amending = undefined;
        settle(actions.amend(orderId, value));
        render();
        break;
      }
      case 'amend-close':
        amending = undefined;
        render();
        break;
    }
  });

  const price = (order: Order) => (order.price ? group(order.price) : order.order_type.includes('Market') ? 'market' : '—');
  const status = (order: Order) => {
    const reason = order.reject_reason
      ? `: ${describeError(order.reject_reason)}`
      : order.expire_reason
        ? `: ${describeExpiry(order.expire_reason)}`
        : '';
    return `${order.status}${reason}`;
  };
  const table = (head: string[], rows: HTMLElement[], empty: string) =>
    rows.length === 0
      ? el('p', { class: 'empty' }, empty)
      : el('table', {}, el('thead', {}, el('tr', {}, ...head.map((cell) => el('th', {}, cell)))), el('tbody', {}, ...rows));

  function openOrders(): HTMLElement {
    const rows = store.state.openOrders.map((order) => {
      const editing = amending === order.order_id;
      const quantityCell = editing
        ? el(
            'td',
            { class: 'num' },
            el('input', {
              class: 'amend-quantity',
              value: order.quantity,
              inputmode: 'decimal',
              'aria-label': 'new quantity',
              'data-testid': 'amend-quantity',
            }),
            el(
              'button',
              { type: 'button', 'data-action': 'amend-save', 'data-order': order.order_id, 'data-testid': 'amend-save' },
              'Save',
            ),
            el('button', { type: 'button', 'data-action': 'amend-close', 'data-order': order.order_id, class: 'link' }, '×'),
          )
        : el('td', { class: 'num' }, `${order.filled_quantity} / ${order.quantity}`);
      return el(
        'tr',
        { 'data-testid': 'open-order', 'data-order': order.order_id },
        el('td', { class: 'muted' }, time(order.created_at)),
        el('td', {}, order.symbol),
        el('td', { class: order.side === 'Buy' ? 'up' : 'down' }, order.side),
        el('td', {}, order.order_type + (order.stop_price ? ` @${group(order.stop_price)}` : '')),
        el('td', { class: 'num' }, price(order)),
        quantityCell,
        el('td', { 'data-testid': 'open-order-status' }, order.status),
        el(
          'td',
          { class: 'actions' },
          el('button', { type: 'button', 'data-action': 'amend', 'data-order': order.order_id, 'data-testid': 'amend' }, 'Amend'),
          el('button', { type: 'button', 'data-action': 'cancel', 'data-order': order.order_id, 'data-testid': 'cancel' }, 'Cancel'),
        ),
      );
    });
    return table(['Time', 'Market', 'Side', 'Type', 'Price', 'Filled / Qty', 'Status', ''], rows, 'No open orders.');
  }

  function history(): HTMLElement {
    const rows = store.state.history.map((order) =>
      el(
        'tr',
        { 'data-testid': 'history-order', 'data-order': order.order_id },
        el('td', { class: 'muted' }, time(order.updated_at)),
        el('td', {}, order.symbol),
        el('td', { class: order.side === 'Buy' ? 'up' : 'down' }, order.side),
        el('td', {}, order.order_type),
        el('td', { class: 'num' }, price(order)),
        el('td', { class: 'num' }, `${order.filled_quantity} / ${order.quantity}`),
        el('td', { class: 'num' }, order.avg_price ? group(order.avg_price) : '—'),
        el('td', {}, status(order)),
      ),
    );
    return table(['Time', 'Market', 'Side', 'Type', 'Price', 'Filled / Qty', 'Avg price', 'Status'], rows, 'No finished orders yet.');
  }

  function fills(): HTMLElement {
    const rows = store.state.fills.map((fill) =>
      el(
        'tr',
        { 'data-testid': 'fill', 'data-order': fill.order_id },
        el('td', { class: 'muted' }, time(fill.timestamp)),
        el('td', {}, fill.symbol),
        el('td', { class: fill.side === 'Buy' ? 'up' : 'down' }, fill.side),
        el('td', { class: 'num' }, group(fill.price)),
        el('td', { class: 'num' }, fill.quantity),
        el('td', { class: 'num' }, `${group(fill.fee)} ${fill.fee_asset}`),
        el('td', {}, fill.is_maker ? 'maker' : 'taker'),
      ),
    );
    return table(['Time', 'Market', 'Side', 'Price', 'Quantity', 'Fee', 'Role'], rows, 'No fills yet.');
  }

  function executions(): HTMLElement {
    const rows = store.state.executions.map(({ seq, timestamp, order_status, execution_report: report }) => {
      const detail =
        report.exec_type === 'Trade'
          ? `${report.quantity} @ ${group(report.price ?? '')}`
          : report.exec_type === 'Rejected'
            ? describeError(report.reject_reason ?? undefined)
            : report.exec_type === 'Expired'
              ? describeExpiry(report.expire_reason)
              : `${report.order_quantity}${report.order_price ? ` @ ${group(report.order_price)}` : ''}`;
      return el(
        'tr',
        { 'data-testid': 'execution', 'data-order': report.order_id, 'data-seq': String(seq) },
        el('td', { class: 'muted' }, time(timestamp)),
        el('td', {}, report.order_id),
        el('td', {}, report.symbol),
        el('td', { class: report.side === 'Buy' ? 'up' : 'down' }, report.side),
        el('td', {}, report.exec_type),
        el('td', { class: `status ${order_status}`, 'data-testid': 'execution-status' }, order_status),
        el('td', { class: 'detail' }, detail),
      );
    });
    return table(['Time', 'Order', 'Market', 'Side', 'Report', 'Status', 'Detail'], rows, 'Execution reports appear here as they arrive.');
  }

  function render(): void {
    const counts: Record<Tab, number> = {
      open: store.state.openOrders.length,
      history: store.state.history.length,
      fills: store.state.fills.length,
      executions: store.state.executions.length,
    };
    tabs.replaceChildren(
      ...TABS.map(([tab, label]) =>
        el(
          'button',
          {
            type: 'button',
            role: 'tab',
            'data-tab': tab,
            'data-testid': `tab-${tab}`,
            class: tab === current ? 'on' : '',
            'aria-selected': String(tab === current),
          },
          `${label} (${counts[tab]})`,
        ),
      ),
    );
    if (!store.state.session) return body.replaceChildren(el('p', { class: 'empty' }, 'Log in to see your orders.'));
    const view = current === 'open' ? openOrders() : current === 'history' ? history() : current === 'fills' ? fills() : executions();
    body.replaceChildren(result, el('div', { class: 'scroll' }, view));
  }

  store.watch(['openOrders', 'history', 'fills', 'executions', 'session'], () => {
    // an amend in progress keeps its input while the rest refreshes
    if (amending && !store.state.openOrders.some((order) => order.order_id === amending)) amending = undefined;
    if (amending && document.activeElement?.classList.contains('amend-quantity')) return;
    render();
  });
}
