import { describe, expect, it } from 'vitest';
import type { PositionChangedEnvelope } from '../contract/envelopes.ts';
import { batchRows } from './execution-rows.ts';

const entry = (envelope: unknown, id = `${(envelope as { seq: number }).seq}-0`) => ({ id, body: JSON.stringify(envelope) });

function position(seq: number, patch: Partial<PositionChangedEnvelope> = {}): PositionChangedEnvelope {
  return {
    v: 1,
    type: 'PositionChanged',
    seq,
    prev_seq: seq - 1,
    timestamp: 1_700_000_000_000 + seq,
    user_id: '7',
    symbol: 'BTC-KRW-PERP',
    position_side: 'BOTH',
    size: '-0.01',
    entry_price: '50000000',
    realized_pnl: '0',
    margin_type: 'ISOLATED',
    isolated_margin: '50000',
    leverage: 10,
    ...patch,
  };
}

describe('futures rows of a batch', () => {
  it('keeps every PositionChanged in the history and, per user/symbol/side, the highest seq as the current row', () => {
    const rows = batchRows([
      entry(position(14, { size: '0', entry_price: null, realized_pnl: '-1500' })),
      entry(position(12)),
      entry(position(13, { position_side: 'LONG', size: '0.002' })),
      entry(position(12)), // delivered twice in one batch: one row
    ]).futures;
    expect(rows.positionChanges.seq).toEqual(['12', '13', '14']);
    expect(rows.positionChanges.entryPrice).toEqual(['50000000', '50000000', null]);
    expect(rows.positions.seq).toEqual(['13', '14']);
    expect(rows.positions.positionSide).toEqual(['LONG', 'BOTH']);
    expect(rows.positions.size).toEqual(['0.002', '0']);
    expect(rows.positions.realizedPnl).toEqual(['0', '-1500']);
    expect(JSON.parse(rows.positionChanges.envelope[0]!)).toMatchObject({ seq: 12, type: 'PositionChanged' });
  });

  it('maps WalletChanged, FundingPaid and Liquidation by their type string to their tables', () => {
    const batch = batchRows([
      entry({
        v: 1,
        type: 'WalletChanged',
        seq: 3,
        prev_seq: 0,
        timestamp: 5,
        user_id: '7',
        asset: 'KRW',
        wallet_balance: '1000000',
        reason: 'Transfer',
      }),
      entry({
        v: 1,
        type: 'FundingPaid',
        seq: 4,
        prev_seq: 3,
        timestamp: 6,
        user_id: '7',
        symbol: 'BTC-KRW-PERP',
        position_side: 'BOTH',
        size: '-0.01',
        mark_price: '50000000',
        rate: '0.0001',
        amount: '50',
      }),
      entry({
        v: 1,
        type: 'Liquidation',
        seq: 5,
        prev_seq: 0,
        timestamp: 7,
        symbol: 'BTC-KRW-PERP',
        side: 'Sell',
        price: '49000000',
        quantity: '0.01',
        stage: 'book',
      }),
    ]);
    expect(batch.deadLetters).toEqual([]);
    expect(batch.skipped).toBe(0);
    expect(batch.maxSeq).toBe(5);
    const { wallets, funding, liquidations } = batch.futures;
    expect(wallets).toMatchObject({
      seq: ['3'],
      userId: ['7'],
      asset: ['KRW'],
      walletBalance: ['1000000'],
      reason: ['Transfer'],
      timestamp: ['5'],
    });
    expect(funding).toMatchObject({
      seq: ['4'],
      positionSide: ['BOTH'],
      size: ['-0.01'],
      markPrice: ['50000000'],
      rate: ['0.0001'],
      amount: ['50'],
    });
    expect(liquidations).toMatchObject({
      seq: ['5'],
      side: ['Sell'],
      price: ['49000000'],
      quantity: ['0.01'],
      stage: ['book'],
      timestamp: ['7'],
    });
  });

  it('makes a malformed futures envelope a dead letter of its own', () => {
    const batch = batchRows([
      entry(position(20, { position_side: 'UP' as never })),
      entry(position(21, { leverage: 0 })),
      entry({
        v: 1,
        type: 'Liquidation',
        seq: 22,
        prev_seq: 0,
        timestamp: 7,
        symbol: 'X',
        side: 'Sell',
        price: '1',
        quantity: '1',
        stage: 'later',
      }),
      entry({
        v: 1,
        type: 'WalletChanged',
        seq: 23,
        prev_seq: 0,
        timestamp: 5,
        user_id: '7',
        asset: 'KRW',
        wallet_balance: '1e3',
        reason: 'Fee',
      }),
      entry(position(24)),
    ]);
    expect(batch.deadLetters.map((letter) => [letter.entryId, letter.error])).toEqual([
      ['20-0', 'position_side must be one of BOTH, LONG, SHORT'],
      ['21-0', 'leverage must be ≥ 1'],
      ['22-0', 'stage must be one of book, insurance, adl'],
      ['23-0', 'wallet_balance must be a signed decimal string'],
    ]);
    expect(batch.futures.positionChanges.seq).toEqual(['24']);
  });
});
