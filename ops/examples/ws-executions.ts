/**
 * Example client (docs/api.md "WebSocket"): places one order over REST and prints its execution reports
 * as they arrive on the WebSocket. Run against a running stack:
 *   KEY=xk_… SECRET=… node --import tsx ops/examples/ws-executions.ts
 * (API_URL defaults to http://127.0.0.1:7000, WS_URL to ws://127.0.0.1:7001/ws.)
 */
import { createHmac } from 'node:crypto';
import WebSocket from 'ws';

const API = process.env.API_URL ?? 'http://127.0.0.1:7000';
const WS = process.env.WS_URL ?? 'ws://127.0.0.1:7001/ws';
const KEY = process.env.KEY ?? '';
const SECRET = process.env.SECRET ?? '';
const sign = (message: string) => createHmac('sha256', SECRET).update(message).digest('hex');

const socket = new WebSocket(WS);
socket.on('message', async (data) => {
  const frame = JSON.parse(data.toString()) as { type: string; [key: string]: unknown };
  if (frame.type === 'auth') socket.send(JSON.stringify({ op: 'subscribe', channels: ['executions'] }));
  else if (frame.type === 'subscribed') {
    // subscribed: now place the order, so none of its reports can be missed
    const body = JSON.stringify({ symbol: 'BTC-KRW', side: 'Buy', order_type: 'Limit', price: '50000000', quantity: '0.002' });
    const timestamp = String(Date.now());
    const response = await fetch(`${API}/v1/order`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-API-KEY': KEY,
        'X-TIMESTAMP': timestamp,
        'X-SIGNATURE': sign(`${timestamp}POST/v1/order${body}`),
      },
      body,
    });
    console.log('ack', response.status, await response.text());
  } else if (frame.type === 'Execution') {
    const report = frame.execution_report as Record<string, string>;
    console.log('execution', frame.seq, report.exec_type, frame.order_status, report.order_id, report.filled_quantity);
  } else if (frame.type === 'error') console.error('error', frame.code, frame.message);
});
socket.on('open', () => {
  const timestamp = Date.now();
  socket.send(JSON.stringify({ op: 'auth', api_key: KEY, timestamp, signature: sign(`${timestamp}GET/ws`) }));
});
setTimeout(() => socket.close(), Number(process.env.SECONDS ?? 5) * 1000);
