-- What the persister (db/persister.ts) writes from the Redis stream `executions`: one row per
-- execution report, trade and balance change, keyed by the event's global `seq`, so a re-delivered
-- entry inserts nothing (ON CONFLICT DO NOTHING). Decimals are `numeric`, exact, in the same units
-- as the API (price in quote units, quantity in base units, amounts in asset units). Times are ms
-- since the epoch (bigint), as on the wire. User ids are the engine's (0 is the fee account), so
-- there is no foreign key to `users`.

-- Every execution report (ARCHITECTURE.md "Messages"), whole in `envelope` — `json`, not `jsonb`: the
-- text exactly as it came off the stream, for a WebSocket resume to send again (and cheaper to insert).
CREATE TABLE executions (
  seq           bigint PRIMARY KEY,
  order_id      bigint NOT NULL,
  user_id       bigint NOT NULL,
  symbol        text NOT NULL,
  side          text NOT NULL CHECK (side IN ('Buy', 'Sell')),
  exec_type     text NOT NULL,
  order_status  text NOT NULL,
  -- a Trade report: the fill's price and quantity; otherwise NULL and 0
  price         numeric CHECK (price > 0),
  quantity      numeric NOT NULL CHECK (quantity >= 0),
  fee           numeric NOT NULL CHECK (fee >= 0),
  fee_asset     text NOT NULL,
  trade_id      bigint,
  is_maker      boolean,
  timestamp     bigint NOT NULL,
  envelope      json NOT NULL
);

CREATE INDEX executions_order ON executions (order_id, seq);
-- a user's reports after a seq (WebSocket resume_from_seq); GET /v1/fills over all symbols too
-- (Trade reports are about half of a user's)
CREATE INDEX executions_user ON executions (user_id, seq);
-- GET /v1/fills?symbol=: the user's Trade reports of one symbol
CREATE INDEX executions_user_symbol_fills ON executions (user_id, symbol, seq) WHERE exec_type = 'Trade';

-- Each order's current state, from its execution reports. Consumers commit out of order, so a row
-- is created by whichever report lands first and its state columns only ever move to a report with
-- a higher seq (`last_seq` is the guard). `fees` and `filled_quote` are sums over the order's rows
-- in `executions`: each report adds its share exactly once, in the statement that inserts its row.
CREATE TABLE orders (
  order_id            bigint PRIMARY KEY,
  user_id             bigint NOT NULL,
  symbol              text NOT NULL,
  side                text NOT NULL CHECK (side IN ('Buy', 'Sell')),
  order_type          text NOT NULL,
  status              text NOT NULL,
  client_order_id     text,
  order_price         numeric,
  order_quantity      numeric NOT NULL,
  filled_quantity     numeric NOT NULL,
  remaining_quantity  numeric NOT NULL,
  avg_price           numeric,
  -- Σ price × quantity of the order's fills, in the quote asset
  filled_quote        numeric NOT NULL DEFAULT 0,
  -- Σ fee of the order's reports, in fee_asset (the quote asset)
  fees                numeric NOT NULL DEFAULT 0,
  fee_asset           text NOT NULL,
  -- not carried by the execution reports of envelope v1: NULL unless a report carries them
  time_in_force       text,
  post_only           boolean,
  stop_price          numeric,
  quote_amount        numeric,
  reject_reason       text,
  expire_reason       text,
  created_at          bigint NOT NULL,
  updated_at          bigint NOT NULL,
  last_seq            bigint NOT NULL
);

-- GET /v1/orders/history: finished orders of a user, by order id, all symbols or one
CREATE INDEX orders_user_finished ON orders (user_id, order_id)
  WHERE status IN ('Filled', 'Cancelled', 'Expired', 'Rejected');
CREATE INDEX orders_user_symbol_finished ON orders (user_id, symbol, order_id)
  WHERE status IN ('Filled', 'Cancelled', 'Expired', 'Rejected');

-- Public trades (no user ids).
CREATE TABLE trades (
  trade_id        bigint PRIMARY KEY,
  seq             bigint NOT NULL UNIQUE,
  symbol          text NOT NULL,
  price           numeric NOT NULL CHECK (price > 0),
  quantity        numeric NOT NULL CHECK (quantity > 0),
  quote_quantity  numeric NOT NULL CHECK (quote_quantity >= 0),
  taker_side      text NOT NULL CHECK (taker_side IN ('Buy', 'Sell')),
  timestamp       bigint NOT NULL
);

-- GET /v1/trades/{symbol}: newest first
CREATE INDEX trades_symbol ON trades (symbol, trade_id DESC);

-- The ledger's history: each (user, asset) a command touched, with the figures after it. A
-- balance now is the row with the highest seq for that user and asset.
CREATE TABLE balance_changes (
  seq        bigint PRIMARY KEY,
  user_id    bigint NOT NULL,
  asset      text NOT NULL,
  available  numeric NOT NULL CHECK (available >= 0),
  locked     numeric NOT NULL CHECK (locked >= 0),
  timestamp  bigint NOT NULL
);

CREATE INDEX balance_changes_user_asset ON balance_changes (user_id, asset, seq DESC);

-- Stream entries the persister could not use (not JSON, not an envelope, refused by a constraint):
-- kept here, in the transaction that acknowledges them, so nothing leaves Redis unrecorded.
CREATE TABLE stream_dead_letters (
  stream       text NOT NULL,
  entry_id     text NOT NULL,
  body         text,
  error        text NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream, entry_id)
);
