/** Wire shapes of the public contract the page reads (GET /openapi.json, ARCHITECTURE.md); decimals are strings. */
export interface Market {
  symbol: string;
  base: string;
  quote: string;
  tick_size: string;
  lot_size: string;
  min_price: string;
  max_price: string;
  min_quantity: string;
  max_quantity: string;
  min_notional: string;
  maker_fee_rate: string;
  taker_fee_rate: string;
}

export interface Ticker {
  symbol: string;
  last_price: string | null;
  best_bid: string | null;
  best_ask: string | null;
  open_24h: string | null;
  high_24h: string | null;
  low_24h: string | null;
  volume_24h: string;
  quote_volume_24h: string;
}

export interface Trade {
  trade_id: string;
  price: string;
  quantity: string;
  taker_side: 'Buy' | 'Sell';
  timestamp: number;
}

export interface Balance {
  asset: string;
  available: string;
  locked: string;
  total: string;
}

export interface Order {
  order_id: string;
  symbol: string;
  side: 'Buy' | 'Sell';
  order_type: string;
  time_in_force: string | null;
  post_only: boolean | null;
  price: string | null;
  stop_price: string | null;
  quantity: string;
  quote_amount: string | null;
  filled_quantity: string;
  remaining_quantity: string;
  avg_price: string | null;
  status: string;
  reject_reason: string | null;
  expire_reason: string | null;
  created_at: number;
  updated_at: number;
}

export interface Fill {
  seq: number;
  order_id: string;
  trade_id: string;
  symbol: string;
  side: 'Buy' | 'Sell';
  price: string;
  quantity: string;
  quote_quantity?: string;
  fee: string;
  fee_asset: string;
  is_maker: boolean;
  timestamp: number;
}

export interface Candle {
  open_time: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  closed: boolean;
}

export interface ExecutionReport {
  order_id: string;
  client_order_id: string | null;
  symbol: string;
  side: 'Buy' | 'Sell';
  order_type: string;
  exec_type: string;
  price: string | null;
  quantity: string;
  order_price: string | null;
  order_quantity: string;
  filled_quantity: string;
  remaining_quantity: string;
  avg_price: string | null;
  fee: string;
  fee_asset: string;
  is_maker: boolean | null;
  trade_id: string | null;
  reject_reason: string | null;
  expire_reason: string | null;
}

export interface ExecutionFrame {
  type: 'Execution';
  seq: number;
  timestamp: number;
  order_status: string;
  execution_report: ExecutionReport;
}

export interface Ack {
  order_id: string;
  status: 'ACCEPTED';
  message: string;
  order_status: string | null;
  duplicate?: boolean;
}
