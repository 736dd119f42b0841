-- What the market-data service (ops/market-data.ts) builds from the Kafka `market-data` trade feed:
-- one row per symbol and UTC minute that had at least one trade (minutes without trades have no
-- row). Larger intervals (5m … 1d) are aggregated from these rows when read. Decimals are `numeric`,
-- exact, in the API's units; times are ms since the epoch, `open_time` the minute's first ms.
CREATE TABLE candles_1m (
  symbol          text NOT NULL,
  open_time       bigint NOT NULL CHECK (open_time % 60000 = 0),
  open            numeric NOT NULL,
  high            numeric NOT NULL,
  low             numeric NOT NULL,
  close           numeric NOT NULL,
  -- Σ quantity (base asset) and Σ quote_quantity (quote asset) of the minute's trades
  volume          numeric NOT NULL,
  quote_volume    numeric NOT NULL,
  trade_count     integer NOT NULL CHECK (trade_count > 0),
  first_trade_id  bigint NOT NULL,
  last_trade_id   bigint NOT NULL,
  PRIMARY KEY (symbol, open_time)
);

-- How far the candles of each symbol have been built: the `seq` (and trade id) of the last Trade
-- envelope applied, written in the same transaction as the candle rows, so a trade read again
-- (restart, rebalance, duplicate delivery) is recognised and never counted twice.
CREATE TABLE candle_progress (
  symbol         text PRIMARY KEY,
  last_seq       bigint NOT NULL,
  last_trade_id  bigint NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
