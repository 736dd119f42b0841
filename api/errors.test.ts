/** The kind → answer table (api/errors.ts ANSWER_BY_KIND): every refusal the API can be handed, with the answer it gets. */
import { describe, expect, it } from 'vitest';
import {
  DataDirLockedError,
  InvalidCommandError,
  JournalCorruptError,
  SequencerClosedError,
  SequencerFailedError,
  SequencerNotReadyError,
  SequencerOverloadedError,
} from '../sequencer/index.ts';
import { StoreUnavailableError } from './credentials.ts';
import { API_ERRORS, apiErrorOfKind } from './errors.ts';

const answer = (error: unknown) => {
  const apiError = apiErrorOfKind(error);
  return apiError && { status: apiError.status, headers: apiError.headers, body: apiError.body() };
};

describe('apiErrorOfKind', () => {
  it('answers a full queue 503 OVERLOADED with Retry-After: 1 and the error’s own message', () => {
    expect(answer(new SequencerOverloadedError(7))).toEqual({
      status: 503,
      headers: { 'Retry-After': '1' },
      body: { error: 'OVERLOADED', message: 'sequencer queue is full (7 commands pending)' },
    });
  });

  it('answers any error of kind overloaded the same way, whoever raised it (the core’s event log does)', () => {
    const full = Object.assign(new Error('the event log holds 10 bytes (bound 10): publishers are far behind; retry later'), {
      kind: 'overloaded',
    });
    expect(answer(full)).toEqual({ status: 503, headers: { 'Retry-After': '1' }, body: { error: 'OVERLOADED', message: full.message } });
  });

  it('answers not ready, closed, locked and corrupt 503 NOT_READY with their own message', () => {
    for (const error of [
      new SequencerNotReadyError(),
      new SequencerClosedError(),
      new DataDirLockedError('/data', 1),
      new JournalCorruptError('bad', 'f', 0),
    ]) {
      expect(answer(error)).toEqual({ status: 503, headers: {}, body: { error: 'NOT_READY', message: error.message } });
    }
  });

  it('answers a journal failure 503 OUTCOME_UNKNOWN and an unjournalable command 400 INVALID_COMMAND', () => {
    expect(answer(new SequencerFailedError('journal write failed: EIO'))).toEqual({
      status: 503,
      headers: {},
      body: { error: 'OUTCOME_UNKNOWN', message: 'journal write failed: EIO' },
    });
    expect(answer(new InvalidCommandError('price is not a safe integer'))).toEqual({
      status: 400,
      headers: {},
      body: { error: 'INVALID_COMMAND', message: 'price is not a safe integer' },
    });
  });

  it('answers an unreachable user store 503 STORE_UNAVAILABLE with the catalogue message, not PostgreSQL’s text', () => {
    expect(answer(new StoreUnavailableError('user store unavailable: connect ECONNREFUSED'))).toEqual({
      status: 503,
      headers: {},
      body: { error: 'STORE_UNAVAILABLE', message: API_ERRORS.STORE_UNAVAILABLE.message },
    });
  });

  it('leaves errors without a known kind to the caller (a bug: 500)', () => {
    expect(answer(new Error('boom'))).toBeUndefined();
    expect(answer(Object.assign(new Error('boom'), { kind: 'toString' }))).toBeUndefined();
    expect(answer({ kind: 'overloaded', message: 'not an Error' })).toBeUndefined();
  });
});
