/**
 * Order entry: Limit, Market (by quantity, or a buy by amount to spend), Stop-limit, Stop-market;
 * Buy/Sell; time in force; post-only. Inputs know the market's tick and lot: step buttons move by
 * one, and a price off the tick or a quantity off the lot is said before anything is sent.
 */
import { addSteps, compareDecimal, group, isMultipleOf, isPlainDecimal, multiply } from '../decimal.ts';
import { byId, el } from '../dom.ts';
import type { Actions } from '../actions.ts';
import type { Store } from '../store.ts';
import type { Market } from '../types.ts';

type OrderType = 'Limit' | 'Market' | 'StopLimit' | 'StopMarket';
const TYPE_LABELS: Record<OrderType, string> = { Limit: 'Limit', Market: 'Market', StopLimit: 'Stop-limit', StopMarket: 'Stop-market' };

export interface OrderEntry {
  setPrice(price: string): void;
}

export function mountOrderEntry(store: Store, actions: Actions): OrderEntry {
  const root = byId('order-entry');
  let side: 'Buy' | 'Sell' = 'Buy';
  let type: OrderType = 'Limit';
  let byAmount = false;

  const sideButtons = (['Buy', 'Sell'] as const).map((value) =>
    el('button', { type: 'button', class: `side ${value.toLowerCase()}`, 'data-side': value, 'data-testid': `side-${value}` }, value),
  );
  const typeButtons = (Object.keys(TYPE_LABELS) as OrderType[]).map((value) =>
    el('button', { type: 'button', 'data-type': value, 'data-testid': `type-${value}` }, TYPE_LABELS[value]),
  );
  const input = (id: string, placeholder: string) =>
    el('input', { id, name: id, inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false', placeholder, 'data-testid': id });
  const price = input('price', 'price');
  const stopPrice = input('stop-price', 'stop price');
  const quantity = input('quantity', 'quantity');
  const amount = input('quote-amount', 'amount to spend');
  const stepper = (target: HTMLInputElement, step: () => string) => {
    const down = el('button', { type: 'button', class: 'step', 'aria-label': 'one step down' }, '−');
    const up = el('button', { type: 'button', class: 'step', 'aria-label': 'one step up' }, '+');
    down.addEventListener('click', () => ((target.value = addSteps(target.value, step(), -1)), render()));
    up.addEventListener('click', () => ((target.value = addSteps(target.value, step(), 1)), render()));
    return el('div', { class: 'stepper' }, down, target, up);
  };
  const market = (): Market | undefined => store.state.markets.find((entry) => entry.symbol === store.state.symbol);
  const priceRow = el(
    'div',
    { class: 'field' },
    el('label', { for: 'price' }, 'Price'),
    stepper(price, () => market()?.tick_size ?? '1'),
  );
  const stopRow = el(
    'div',
    { class: 'field' },
    el('label', { for: 'stop-price' }, 'Stop price'),
    stepper(stopPrice, () => market()?.tick_size ?? '1'),
  );
  const quantityRow = el(
    'div',
    { class: 'field' },
    el('label', { for: 'quantity' }, 'Quantity'),
    stepper(quantity, () => market()?.lot_size ?? '1'),
  );
  const amountRow = el('div', { class: 'field' }, el('label', { for: 'quote-amount' }, 'Amount to spend'), amount);
  const byToggle = el(
    'label',
    { class: 'check' },
    el('input', { type: 'checkbox', id: 'by-amount', 'data-testid': 'by-amount' }),
    ' buy by amount to spend',
  );
  const byInput = byToggle.querySelector('input')!;
  const tif = el('select', { id: 'tif', 'data-testid': 'tif' });
  const postOnly = el('input', { type: 'checkbox', id: 'post-only', 'data-testid': 'post-only' });
  const options = el(
    'div',
    { class: 'options' },
    el('label', { for: 'tif' }, 'Time in force '),
    tif,
    el('label', { class: 'check' }, postOnly, ' post-only'),
  );
  const hints = el('p', { class: 'hints', 'data-testid': 'order-hints' });
  const summary = el('p', { class: 'summary', 'data-testid': 'order-summary' });
  const submit = el('button', { type: 'submit', class: 'primary', 'data-testid': 'order-submit' }, 'Buy');
  const result = el('p', { class: 'result', 'data-testid': 'order-result', role: 'status' });
  const cancelAll = el('button', { type: 'button', class: 'link', 'data-testid': 'cancel-all' }, 'Cancel all in this market');
  const form = el(
    'form',
    { class: 'order-form', novalidate: '' },
    el('div', { class: 'sides' }, ...sideButtons),
    el('div', { class: 'types' }, ...typeButtons),
    stopRow,
    priceRow,
    byToggle,
    quantityRow,
    amountRow,
    options,
    hints,
    summary,
    submit,
    result,
    cancelAll,
  );
  root.append(form);

  for (const button of sideButtons) button.addEventListener('click', () => ((side = button.dataset.side as 'Buy' | 'Sell'), render()));
  for (const button of typeButtons) button.addEventListener('click', () => ((type = button.dataset.type as OrderType), render()));
  byInput.addEventListener('change', () => ((byAmount = byInput.checked), render()));
  for (const field of [price, stopPrice, quantity, amount]) field.addEventListener('input', () => render());
  tif.addEventListener('change', () => render());
  postOnly.addEventListener('change', () => render());
  cancelAll.addEventListener('click', () => {
    void actions.cancelAll().then(
      (text) => show(text, 'ok'),
      (error: unknown) => show(error instanceof Error ? error.message : String(error), 'error'),
    );
  });

  const show = (text: string, kind: 'ok' | 'error') => {
    result.textContent = text;
    result.className = `result ${kind}`;
  };

  /** What is wrong with the inputs, in words; empty when the order can be sent. */
  function problems(spec: Market): string[] {
    const out: string[] = [];
    const needsPrice = type === 'Limit' || type === 'StopLimit';
    const isStop = type === 'StopLimit' || type === 'StopMarket';
    const usesAmount = side === 'Buy' && (type === 'StopMarket' || (type === 'Market' && byAmount));
    const checkPrice = (text: string, what: string) => {
      if (text === '') return out.push(`Enter a ${what}.`);
      if (!isPlainDecimal(text)) return out.push(`The ${what} must be a plain number, like ${spec.tick_size}.`);
      if (!isMultipleOf(text, spec.tick_size))
        return out.push(`The ${what} must be a multiple of the tick size ${group(spec.tick_size)} ${spec.quote}.`);
      if (compareDecimal(text, spec.min_price) < 0 || compareDecimal(text, spec.max_price) > 0)
        out.push(`The ${what} must be between ${group(spec.min_price)} and ${group(spec.max_price)}.`);
      return 0;
    };
    if (isStop) checkPrice(stopPrice.value.trim(), 'stop price');
    if (needsPrice) checkPrice(price.value.trim(), 'price');
    if (usesAmount) {
      const text = amount.value.trim();
      if (text === '') out.push(`Enter the ${spec.quote} amount to spend.`);
      else if (!isPlainDecimal(text) || compareDecimal(text, '0') <= 0) out.push('The amount must be a number above zero.');
    } else {
      const text = quantity.value.trim();
      if (text === '') out.push('Enter a quantity.');
      else if (!isPlainDecimal(text)) out.push(`The quantity must be a plain number, like ${spec.lot_size}.`);
      else if (!isMultipleOf(text, spec.lot_size))
        out.push(`The quantity must be a multiple of the lot size ${spec.lot_size} ${spec.base}.`);
      else if (compareDecimal(text, spec.min_quantity) < 0) out.push(`The quantity must be at least ${spec.min_quantity} ${spec.base}.`);
      else if (compareDecimal(text, spec.max_quantity) > 0) out.push(`The quantity must be at most ${spec.max_quantity} ${spec.base}.`);
    }
    return out;
  }

  function body(spec: Market): Record<string, unknown> {
    const order: Record<string, unknown> = { symbol: spec.symbol, side, order_type: type };
    const usesAmount = side === 'Buy' && (type === 'StopMarket' || (type === 'Market' && byAmount));
    if (type === 'Limit' || type === 'StopLimit') order.price = price.value.trim();
    if (type === 'StopLimit' || type === 'StopMarket') order.stop_price = stopPrice.value.trim();
    if (usesAmount) order.quote_amount = amount.value.trim();
    else order.quantity = quantity.value.trim();
    order.time_in_force = tif.value;
    if (postOnly.checked && !postOnly.disabled) order.post_only = true;
    return order;
  }

  function render(): void {
    const spec = market();
    const loggedIn = store.state.session !== undefined;
    form.hidden = !loggedIn;
    if (!spec) return;
    for (const button of sideButtons) button.classList.toggle('on', button.dataset.side === side);
    for (const button of typeButtons) button.classList.toggle('on', button.dataset.type === type);
    const needsPrice = type === 'Limit' || type === 'StopLimit';
    const isStop = type === 'StopLimit' || type === 'StopMarket';
    const canByAmount = side === 'Buy' && type === 'Market';
    const usesAmount = side === 'Buy' && (type === 'StopMarket' || (type === 'Market' && byAmount));
    priceRow.hidden = !needsPrice;
    stopRow.hidden = !isStop;
    byToggle.hidden = !canByAmount;
    amountRow.hidden = !usesAmount;
    quantityRow.hidden = usesAmount;
    const allowed = needsPrice ? ['GTC', 'IOC', 'FOK'] : ['IOC', 'FOK'];
    if (tif.options.length !== allowed.length) {
      const keep = allowed.includes(tif.value) ? tif.value : allowed[0]!;
      tif.replaceChildren(...allowed.map((value) => el('option', { value }, value)));
      tif.value = keep;
    }
    postOnly.disabled = !(type === 'Limit' && tif.value === 'GTC');
    if (postOnly.disabled) postOnly.checked = false;
    const wrong = problems(spec);
    const typed = [price, stopPrice, quantity, amount].some((field) => field.value.trim() !== '');
    hints.textContent = typed ? wrong.join(' ') : '';
    submit.disabled = wrong.length > 0;
    submit.textContent = `${side} ${spec.base}`;
    submit.className = `primary ${side.toLowerCase()}`;
    const spend = side === 'Buy' ? spec.quote : spec.base;
    const available = store.state.balances.find((balance) => balance.asset === spend)?.available ?? '0';
    const priceText = price.value.trim();
    const quantityText = quantity.value.trim();
    const total =
      needsPrice && isPlainDecimal(priceText) && isPlainDecimal(quantityText)
        ? `≈ ${group(multiply(priceText, quantityText))} ${spec.quote} · `
        : '';
    summary.textContent = `${total}available ${group(available)} ${spend}`;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const spec = market();
    if (!spec || problems(spec).length > 0) return;
    submit.disabled = true;
    show('Sending…', 'ok');
    actions
      .placeOrder(body(spec))
      .then((outcome) => show(outcome.text, outcome.ok ? 'ok' : 'error'))
      .catch((error: unknown) => show(error instanceof Error ? error.message : String(error), 'error'))
      .finally(() => render());
  });

  store.watch(['symbol', 'markets', 'session', 'balances'], render);
  return {
    setPrice(value) {
      price.value = value;
      if (type !== 'Limit' && type !== 'StopLimit') type = 'Limit';
      render();
    },
  };
}
