-- What the persister (db/persister.ts, db/futures-rows.ts) writes of the futures envelopes of the
-- Redis stream `executions` (ARCHITECTURE.md "Perpetual futures" → "Messages"): keyed by the
-- event's global `seq`, so a re-delivered entry inserts nothing (ON CONFLICT DO NOTHING), in the
-- same statement — so the same transaction — as the spot rows of its batch. Same units as 002:
-- decimals `numeric` in the API's units (sizes in base units, prices and money in KRW, rates as
-- fractions), times ms since the epoch, the engine's user ids (no foreign key to `users`).

-- Every PositionChanged, whole in `envelope` (json: the text as it came off the stream, for a
-- WebSocket resume of the `positions` channel to send again).
CREATE TABLE futures_position_changes (
  seq              bigint PRIMARY KEY,
  user_id          bigint NOT NULL,
  symbol           text NOT NULL,
  position_side    text NOT NULL CHECK (position_side IN ('BOTH', 'LONG', 'SHORT')),
  -- signed in one-way mode; "0" once closed
  size             numeric NOT NULL,
  entry_price      numeric CHECK (entry_price > 0),
  realized_pnl     numeric NOT NULL,
  margin_type      text NOT NULL CHECK (margin_type IN ('CROSS', 'ISOLATED')),
  isolated_margin  numeric NOT NULL,
  leverage         integer NOT NULL CHECK (leverage >= 1),
  timestamp        bigint NOT NULL,
  envelope         json NOT NULL
);

-- GET /v1/futures/position-history?symbol=, and the `positions` channel's resume (by user, after a seq)
CREATE INDEX futures_position_changes_user_symbol ON futures_position_changes (user_id, symbol, seq);
CREATE INDEX futures_position_changes_user ON futures_position_changes (user_id, seq);

-- Each position's current state: one row per (user, symbol, position side), the figures of its
-- PositionChanged with the highest seq. Consumers commit out of order, so a row only ever moves to
-- a higher seq (`last_seq` is the guard, as for `orders`). A closed position keeps its row (size 0).
CREATE TABLE futures_positions (
  user_id          bigint NOT NULL,
  symbol           text NOT NULL,
  position_side    text NOT NULL CHECK (position_side IN ('BOTH', 'LONG', 'SHORT')),
  size             numeric NOT NULL,
  entry_price      numeric CHECK (entry_price > 0),
  realized_pnl     numeric NOT NULL,
  margin_type      text NOT NULL CHECK (margin_type IN ('CROSS', 'ISOLATED')),
  isolated_margin  numeric NOT NULL,
  leverage         integer NOT NULL CHECK (leverage >= 1),
  updated_at       bigint NOT NULL,
  last_seq         bigint NOT NULL,
  PRIMARY KEY (user_id, symbol, position_side)
);

-- Open positions of a symbol (operators, risk views)
CREATE INDEX futures_positions_open ON futures_positions (symbol) WHERE size <> 0;

-- Every WalletChanged: a futures wallet (per user and settlement asset) after a command that moved
-- it, isolated margins included. A wallet now is the row with the highest seq.
CREATE TABLE futures_wallet_changes (
  seq             bigint PRIMARY KEY,
  user_id         bigint NOT NULL,
  asset           text NOT NULL,
  wallet_balance  numeric NOT NULL,
  -- the first cause the command gave the wallet (engine/perp/futures-events.ts)
  reason          text NOT NULL,
  timestamp       bigint NOT NULL,
  envelope        json NOT NULL
);

-- a wallet's previous balance (a transfer's amount), and the `positions` channel's resume
CREATE INDEX futures_wallet_changes_user_asset ON futures_wallet_changes (user_id, asset, seq);
CREATE INDEX futures_wallet_changes_user ON futures_wallet_changes (user_id, seq);
-- GET /v1/futures/transfers
CREATE INDEX futures_wallet_transfers ON futures_wallet_changes (user_id, seq) WHERE reason = 'Transfer';

-- Transfers between the spot balance and the futures wallet (POST /v1/futures/transfer). The
-- envelope carries the balance after, not the amount: a transfer command moves only that wallet
-- and every wallet move is a WalletChanged, so the amount is the balance minus the wallet's
-- previous balance (0 before its first change) — exact once the persister holds every earlier seq
-- of that wallet (consumers commit out of order: for the few ms a batch with an earlier change of
-- the same wallet is still in flight, the amount read would include it). Positive: spot → futures.
CREATE VIEW futures_transfers AS
SELECT w.seq, w.user_id, w.asset, w.wallet_balance,
       w.wallet_balance - coalesce((
         SELECT p.wallet_balance FROM futures_wallet_changes p
         WHERE p.user_id = w.user_id AND p.asset = w.asset AND p.seq < w.seq
         ORDER BY p.seq DESC LIMIT 1), 0) AS amount,
       w.timestamp
FROM futures_wallet_changes w
WHERE w.reason = 'Transfer';

-- Every FundingPaid (a position's payment at a funding time; `amount` negative when paid).
CREATE TABLE futures_funding_payments (
  seq            bigint PRIMARY KEY,
  user_id        bigint NOT NULL,
  symbol         text NOT NULL,
  position_side  text NOT NULL CHECK (position_side IN ('BOTH', 'LONG', 'SHORT')),
  size           numeric NOT NULL,
  mark_price     numeric NOT NULL CHECK (mark_price > 0),
  rate           numeric NOT NULL,
  amount         numeric NOT NULL,
  timestamp      bigint NOT NULL,
  envelope       json NOT NULL
);

-- GET /v1/futures/funding-history?symbol=, and the `positions` channel's resume
CREATE INDEX futures_funding_payments_user_symbol ON futures_funding_payments (user_id, symbol, seq);
CREATE INDEX futures_funding_payments_user ON futures_funding_payments (user_id, seq);

-- Every Liquidation (public: no user id), by stage: book (the liquidation order's fills),
-- insurance (the fund covering beyond bankruptcy), adl (auto-deleveraging).
CREATE TABLE futures_liquidations (
  seq        bigint PRIMARY KEY,
  symbol     text NOT NULL,
  side       text NOT NULL CHECK (side IN ('Buy', 'Sell')),
  price      numeric NOT NULL CHECK (price > 0),
  quantity   numeric NOT NULL CHECK (quantity >= 0),
  stage      text NOT NULL CHECK (stage IN ('book', 'insurance', 'adl')),
  timestamp  bigint NOT NULL
);

-- GET /v1/futures/liquidations?symbol=
CREATE INDEX futures_liquidations_symbol ON futures_liquidations (symbol, seq);
