/**
 * The futures part of the persister's one statement (db/execution-writer.ts): CTEs that insert the
 * rows of db/futures-rows.ts, numbered from a first parameter, so they commit — or not — together
 * with the spot rows and dead letters of the same batch. History rows are idempotent on seq (ON
 * CONFLICT DO NOTHING); the current position moves only to a higher seq (`last_seq`, as `orders`).
 */
import type { FuturesRows, PositionColumns } from './futures-rows.ts';

const POSITION_STATE = ['size', 'entry_price', 'realized_pnl', 'margin_type', 'isolated_margin', 'leverage', 'updated_at'];

/**
 * CTEs (each preceded by a comma) using parameters $first … $first+46, and the count of history rows
 * they inserted (a data-modifying CTE runs whether or not the main query reads it: the upsert too).
 */
export function futuresStatement(first: number): { ctes: string; inserted: string } {
  let next = first;
  const p = (type: string) => `$${next++}::${type}`;
  const positionArrays = () =>
    [
      p('bigint[]'),
      p('bigint[]'),
      p('text[]'),
      p('text[]'),
      p('numeric[]'),
      p('numeric[]'),
      p('numeric[]'),
      p('text[]'),
      p('numeric[]'),
      p('int[]'),
      p('bigint[]'),
    ].join(', ');
  const changes = positionArrays();
  const changeEnvelopes = p('json[]');
  const current = positionArrays();
  const wallets = [p('bigint[]'), p('bigint[]'), p('text[]'), p('numeric[]'), p('text[]'), p('bigint[]'), p('json[]')].join(', ');
  const funding = [
    p('bigint[]'),
    p('bigint[]'),
    p('text[]'),
    p('text[]'),
    p('numeric[]'),
    p('numeric[]'),
    p('numeric[]'),
    p('numeric[]'),
    p('bigint[]'),
    p('json[]'),
  ].join(', ');
  const liquidations = [p('bigint[]'), p('text[]'), p('text[]'), p('numeric[]'), p('numeric[]'), p('text[]'), p('bigint[]')].join(', ');
  const ctes = `,
new_position_changes AS (
  INSERT INTO futures_position_changes (seq, user_id, symbol, position_side, size, entry_price, realized_pnl, margin_type, isolated_margin,
                                        leverage, timestamp, envelope)
  SELECT * FROM unnest(${changes}, ${changeEnvelopes})
  ORDER BY 1
  ON CONFLICT (seq) DO NOTHING
  RETURNING 1
),
position_upsert AS (
  INSERT INTO futures_positions (last_seq, user_id, symbol, position_side, size, entry_price, realized_pnl, margin_type, isolated_margin,
                                 leverage, updated_at)
  SELECT * FROM unnest(${current})
  ORDER BY 2, 3, 4
  ON CONFLICT (user_id, symbol, position_side) DO UPDATE SET
    ${POSITION_STATE.map((column) => `${column} = CASE WHEN EXCLUDED.last_seq > futures_positions.last_seq THEN EXCLUDED.${column} ELSE futures_positions.${column} END`).join(',\n    ')},
    last_seq = greatest(futures_positions.last_seq, EXCLUDED.last_seq)
  RETURNING 1
),
new_wallet_changes AS (
  INSERT INTO futures_wallet_changes (seq, user_id, asset, wallet_balance, reason, timestamp, envelope)
  SELECT * FROM unnest(${wallets})
  ORDER BY 1
  ON CONFLICT (seq) DO NOTHING
  RETURNING 1
),
new_funding AS (
  INSERT INTO futures_funding_payments (seq, user_id, symbol, position_side, size, mark_price, rate, amount, timestamp, envelope)
  SELECT * FROM unnest(${funding})
  ORDER BY 1
  ON CONFLICT (seq) DO NOTHING
  RETURNING 1
),
new_liquidations AS (
  INSERT INTO futures_liquidations (seq, symbol, side, price, quantity, stage, timestamp)
  SELECT * FROM unnest(${liquidations})
  ORDER BY 1
  ON CONFLICT (seq) DO NOTHING
  RETURNING 1
)`;
  const inserted = `((SELECT count(*) FROM new_position_changes) + (SELECT count(*) FROM new_wallet_changes) +
        (SELECT count(*) FROM new_funding) + (SELECT count(*) FROM new_liquidations))::int`;
  return { ctes, inserted };
}

function positionValues(columns: PositionColumns): unknown[] {
  return [
    columns.seq,
    columns.userId,
    columns.symbol,
    columns.positionSide,
    columns.size,
    columns.entryPrice,
    columns.realizedPnl,
    columns.marginType,
    columns.isolatedMargin,
    columns.leverage,
    columns.timestamp,
  ];
}

/** The parameters of futuresStatement, in its order. */
export function futuresValues(rows: FuturesRows): unknown[] {
  const { positionChanges, positions, wallets: w, funding: f, liquidations: l } = rows;
  return [
    ...positionValues(positionChanges),
    positionChanges.envelope,
    ...positionValues(positions),
    w.seq,
    w.userId,
    w.asset,
    w.walletBalance,
    w.reason,
    w.timestamp,
    w.envelope,
    f.seq,
    f.userId,
    f.symbol,
    f.positionSide,
    f.size,
    f.markPrice,
    f.rate,
    f.amount,
    f.timestamp,
    f.envelope,
    l.seq,
    l.symbol,
    l.side,
    l.price,
    l.quantity,
    l.stage,
    l.timestamp,
  ];
}
