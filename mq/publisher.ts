/**
 * The port every broker adapter implements (STYLE.md §5, §22): three methods. The retry queue, the
 * cursor and the state live in publish-loop.ts and wrap any adapter the same way.
 */
import type { EngineEvent } from '../engine/index.ts';
import type { Envelope } from '../contract/envelopes.ts';

export type BrokerName = 'redis' | 'kafka' | 'rabbitmq';

export interface BrokerPublisher {
  readonly name: BrokerName;
  /** Which envelopes this broker carries, and the routing key their prev_seq chains on. undefined = not for this broker. */
  chainKey(envelope: Envelope): string | undefined;
  /** engine event types that never make an envelope for this broker: the reader steps over them unparsed */
  readonly skipEventTypes?: readonly EngineEvent['type'][];
  /**
   * Sends the envelopes (in seq order, prev_seq already set) and resolves once the broker confirmed
   * all of them. Throws on any failure (the loop resends the whole batch; consumers drop repeats by
   * seq). May throw RewindRequired when the broker lost confirmed data (Redis restarted without it).
   */
  publish(envelopes: readonly Envelope[]): Promise<void>;
  /** Drops the connection after a failure or a timeout, without waiting on a hung broker; the next publish reconnects. */
  reset(): void;
  close(): Promise<void>;
}
