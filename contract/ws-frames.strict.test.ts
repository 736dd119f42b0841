import { describe, expect, it } from 'vitest';
import { errorFrame, parseClientFrame } from './ws-frames.ts';

describe('client frames with a repeated key', () => {
  it('are refused with DUPLICATE_KEY at any depth, whichever value would win; malformed JSON stays BAD_FRAME', () => {
    for (const text of [
      '{"op":"subscribe","channels":["trades.BTC-KRW"],"channels":["executions"]}',
      '{"op":"ping","op":"auth"}',
      '{"op":"auth","api_key":"k","timestamp":1,"signature":"s","\\u0073ignature":"t"}',
      '{"op":"subscribe","channels":["trades.BTC-KRW"],"x":[{"a":1,"a":1}]}',
    ]) {
      const parsed = parseClientFrame(text);
      expect(parsed.ok, text).toBe(false);
      if (parsed.ok) continue;
      expect(parsed.error.code, text).toBe('DUPLICATE_KEY');
      expect(JSON.parse(errorFrame(parsed.error, parsed.id))).toMatchObject({ type: 'error', code: 'DUPLICATE_KEY' });
    }
    expect(parseClientFrame('{"op":"ping","id":"a:b"}')).toMatchObject({ ok: true, request: { op: 'ping', id: 'a:b' } });
    expect(parseClientFrame('{"op":"ping",')).toMatchObject({ ok: false, error: { code: 'BAD_FRAME' } });
  });
});
