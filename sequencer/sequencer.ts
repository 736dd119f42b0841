import type { MatchingEngine } from '../engine/types.ts';
import type { Sequencer, SequencerOptions } from './types.ts';

/** Builds a sequencer that is not yet open: `ready` is false until `await sequencer.open()` has recovered. */
export function createSequencer<E extends MatchingEngine>(_options: SequencerOptions<E>): Sequencer<E> {
  throw new Error('not implemented yet');
}

/** createSequencer + open: resolves with a ready sequencer. */
export async function openSequencer<E extends MatchingEngine>(options: SequencerOptions<E>): Promise<Sequencer<E>> {
  const sequencer = createSequencer(options);
  await sequencer.open();
  return sequencer;
}
