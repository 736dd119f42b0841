/** A full event log refuses new commands exactly as a full sequencer queue does: 503 OVERLOADED, Retry-After: 1. */
import { describe, expect, it } from 'vitest';
import { apiErrorOfKind } from '../api/errors.ts';
import { EventLogFullError } from './event-log-service.ts';

describe('EventLogFullError', () => {
  it('is answered 503 OVERLOADED with Retry-After: 1 and says how full the log is', () => {
    const apiError = apiErrorOfKind(new EventLogFullError(2_048, 1_024))!;
    expect({ status: apiError.status, headers: apiError.headers, body: apiError.body() }).toEqual({
      status: 503,
      headers: { 'Retry-After': '1' },
      body: { error: 'OVERLOADED', message: 'the event log holds 2048 bytes (bound 1024): publishers are far behind; retry later' },
    });
  });
});
