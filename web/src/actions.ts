/** What the panels may ask of the page (app.ts implements it); each answer is text for the trader. */
export interface Outcome {
  readonly ok: boolean;
  readonly text: string;
}

export interface Actions {
  login(apiKey: string, apiSecret: string): Promise<void>;
  logout(): void;
  selectMarket(symbol: string): void;
  selectInterval(interval: string): void;
  /** a click on a book level: its price into the order form */
  pickPrice(price: string): void;
  placeOrder(body: Record<string, unknown>): Promise<Outcome>;
  cancel(orderId: string): Promise<string>;
  amend(orderId: string, quantity: string): Promise<string>;
  cancelAll(): Promise<string>;
}
