import { describe, expect, it } from 'vitest';
import type { ExecutionEnvelope } from '../contract/envelopes.ts';
import { batchRows } from './execution-rows.ts';
import { compareStreamIds, nextStreamId, trimThreshold, type GroupProgress } from './execution-stream.ts';

function execution(
  seq: number,
  orderId: string,
  patch: Partial<ExecutionEnvelope['execution_report']> = {},
  status: ExecutionEnvelope['order_status'] = 'Pending',
): ExecutionEnvelope {
  return {
    v: 1,
    type: 'Execution',
    seq,
    prev_seq: seq - 1,
    timestamp: 1_700_000_000_000 + seq,
    order_status: status,
    execution_report: {
      order_id: orderId,
      client_order_id: null,
      user_id: '7',
      symbol: 'BTC-KRW',
      side: 'Buy',
      order_type: 'Limit',
      exec_type: 'New',
      price: null,
      quantity: '0',
      order_price: '50000000',
      order_quantity: '0.01',
      filled_quantity: '0',
      remaining_quantity: '0.01',
      avg_price: null,
      fee: '0',
      fee_asset: 'KRW',
      is_maker: null,
      trade_id: null,
      reject_reason: null,
      expire_reason: null,
      ...patch,
    },
  };
}

const entry = (envelope: unknown, id = `${(envelope as { seq: number }).seq}-0`) => ({ id, body: JSON.stringify(envelope) });

describe('batchRows', () => {
  it('keeps one order row per order: the state of its highest-seq report, created at its earliest timestamp', () => {
    const fill = execution(
      12,
      '5',
      {
        exec_type: 'Trade',
        price: '50000000',
        quantity: '0.01',
        filled_quantity: '0.01',
        remaining_quantity: '0',
        fee: '1000',
        trade_id: '3',
        is_maker: true,
        avg_price: '50000000',
      },
      'Filled',
    );
    // delivered out of order within the batch
    const rows = batchRows([entry(fill), entry(execution(10, '5'))]);
    expect(rows.executions.seq).toEqual(['10', '12']);
    expect(rows.orders.orderId).toEqual(['5']);
    expect(rows.orders.status).toEqual(['Filled']);
    expect(rows.orders.lastSeq).toEqual(['12']);
    expect(rows.orders.createdAt).toEqual([String(1_700_000_000_010)]);
    expect(rows.orders.updatedAt).toEqual([String(1_700_000_000_012)]);
    expect(rows.maxSeq).toBe(12);
  });

  it('sorts orders by id and counts an entry delivered twice in one batch once', () => {
    const rows = batchRows([entry(execution(3, '20')), entry(execution(2, '9')), entry(execution(3, '20'), '99-0')]);
    expect(rows.executions.seq).toEqual(['2', '3']);
    expect(rows.orders.orderId).toEqual(['9', '20']);
  });

  it('turns what it cannot use into dead letters and skips the envelope types it does not keep', () => {
    const rows = batchRows([
      { id: '1-0', body: 'not json' },
      { id: '2-0', body: undefined },
      { id: '3-0', body: undefined, deleted: true },
      entry({ ...execution(4, '1'), v: 2 }),
      entry(execution(5, '1', { fee: '-1' })),
      entry(execution(6, '1', { exec_type: 'Trade' })),
      entry({
        v: 1,
        type: 'BookDelta',
        seq: 7,
        prev_seq: 6,
        timestamp: 1,
        symbol: 'BTC-KRW',
        symbol_seq: 1,
        side: 'Buy',
        price: '1000',
        quantity: '0',
      }),
      entry({ v: 1, type: 'Nonsense', seq: 8, prev_seq: 7, timestamp: 1 }),
      entry({
        v: 1,
        type: 'BalanceChanged',
        seq: 9,
        prev_seq: 8,
        timestamp: 1,
        user_id: '7',
        asset: 'KRW',
        available: '10',
        locked: '1.5',
      }),
    ]);
    expect(rows.deadLetters.map((letter) => [letter.entryId, letter.error])).toEqual([
      ['1-0', 'envelope is not JSON'],
      ['2-0', 'entry has no envelope field'],
      ['3-0', 'entry deleted from the stream before it was persisted'],
      ['4-0', 'unsupported envelope version 2'],
      ['5-0', 'fee must be a decimal string'],
      ['6-0', 'a Trade report needs its price'],
      ['8-0', 'unknown envelope type Nonsense'],
    ]);
    expect(rows.skipped).toBe(1);
    expect(rows.balances.seq).toEqual(['9']);
    expect(rows.balances.locked).toEqual(['1.5']);
    expect(rows.executions.seq).toEqual([]);
  });

  it('keeps the futures envelopes beside the spot rows and skips MarkPrice (db/futures-rows.test.ts has the details)', () => {
    const rows = batchRows([
      entry(execution(10, '1')),
      entry({
        v: 1,
        type: 'WalletChanged',
        seq: 11,
        prev_seq: 10,
        timestamp: 1,
        user_id: '7',
        asset: 'KRW',
        wallet_balance: '-12',
        reason: 'Trade',
      }),
      { id: '12-0', body: JSON.stringify({ v: 1, type: 'MarkPrice', seq: 12, prev_seq: 0, timestamp: 1, symbol: 'BTC-KRW-PERP' }) },
    ]);
    expect(rows.deadLetters).toEqual([]);
    expect(rows.skipped).toBe(1);
    expect(rows.executions.seq).toEqual(['10']);
    expect(rows.futures.wallets.seq).toEqual(['11']);
    expect(rows.maxSeq).toBe(11);
  });
});

describe('stream ids and the trim threshold', () => {
  const group = (patch: Partial<GroupProgress>): GroupProgress => ({
    name: 'g',
    pending: 0,
    lastDeliveredId: '0-0',
    undelivered: 0,
    oldestPendingId: undefined,
    ...patch,
  });

  it('compares ids as integer pairs, not as text', () => {
    expect(compareStreamIds('9-0', '10-0')).toBe(-1);
    expect(compareStreamIds('10-1', '10-0')).toBe(1);
    expect(compareStreamIds('7-3', '7-3')).toBe(0);
    expect(nextStreamId('41-0')).toBe('41-1');
  });

  it('holds the stream at the oldest pending entry, or just after the last delivered one', () => {
    expect(trimThreshold([group({ lastDeliveredId: '500-0' })])).toBe('500-1');
    expect(trimThreshold([group({ lastDeliveredId: '500-0', pending: 3, oldestPendingId: '120-0' })])).toBe('120-0');
    // the slowest of several groups decides
    expect(trimThreshold([group({ lastDeliveredId: '500-0' }), group({ name: 'other', lastDeliveredId: '90-0' })])).toBe('90-1');
    // a group that has read nothing holds everything
    expect(trimThreshold([group({ lastDeliveredId: '0-0' })])).toBe('0-1');
  });

  it('trims nothing when there is no group, or pending entries whose oldest id is unknown', () => {
    expect(trimThreshold([])).toBeUndefined();
    expect(trimThreshold([group({ lastDeliveredId: '500-0', pending: 2, oldestPendingId: undefined })])).toBeUndefined();
  });
});
