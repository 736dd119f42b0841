/**
 * The events of the command being applied, and the counters every part of the engine stamps them
 * with: the event seq, the command's timestamp, and the command counter (epoch) that marks levels
 * and balances already listed for this command. One instance, shared by matching and the
 * settlements; only Engine.apply starts a command and takes its events.
 */
import { REJECT_CODES, type RejectReason } from './reject-codes.ts';
import { primeEventShapes, TAGGED } from './shapes.ts';
import type { Command, EngineEvent, OrderView } from './types.ts';
import { isNonNegativeSafe } from './validation.ts';

/** from this many events a command's list is handed over rather than copied (take) */
const HAND_OVER_AT = 4096;

export class CommandEvents {
  /** seq of the last event emitted (part of the state: snapshot.ts) */
  seq = 0;
  /** the command's timestamp; a tagged field so that events share its heap number (shapes.ts) */
  timestamp: number = TAGGED;
  /** counts applied commands; marks levels and balances already listed for this command */
  epoch = 0;
  /**
   * The command's events, gathered in a reused array and copied out at the end: the copy is
   * exactly as long as the list (3 events for most commands), where a fresh array grown by
   * push would allocate room for 17.
   */
  private gathered: EngineEvent[] = [];
  private count = 0;

  constructor() {
    primeEventShapes();
    this.timestamp = 0;
  }

  begin(timestamp: number): void {
    this.count = 0;
    this.epoch++;
    this.timestamp = timestamp;
  }

  emit(event: EngineEvent): void {
    this.gathered[this.count++] = event;
  }

  /** The command's events, in order, as a fresh array. */
  take(): EngineEvent[] {
    if (this.count < HAND_OVER_AT) return this.gathered.slice(0, this.count);
    // a command of many events (a funding settlement: 200,000) hands its list over instead of copying it
    const taken = this.gathered;
    taken.length = this.count;
    this.gathered = [];
    return taken;
  }

  /** Emits the OrderRejected of a refused command; returns undefined so callers can `return this.reject(…)`. */
  reject(reason: RejectReason, command: Command, orderId: number | undefined, order?: OrderView, duplicateOfOrderId?: number): undefined {
    const place = command?.type === 'PlaceOrder' ? command : undefined;
    const userId = (command as { userId?: unknown } | undefined)?.userId; // a Tick has none (and never is rejected)
    this.emit({
      type: 'OrderRejected',
      seq: ++this.seq,
      timestamp: this.timestamp,
      code: REJECT_CODES[reason],
      reason,
      commandType: (command?.type ?? 'PlaceOrder') as Command['type'],
      userId: isNonNegativeSafe(userId) ? userId : -1,
      orderId,
      clientOrderId: typeof place?.clientOrderId === 'string' ? place.clientOrderId : undefined,
      symbol: typeof place?.symbol === 'string' ? place.symbol : undefined,
      order,
      duplicateOfOrderId,
    });
    return undefined;
  }
}
