/**
 * Test support: checks a message read from a broker against the envelope schemas of
 * envelope-schemas.ts (the same ones /asyncapi.json serves) and the layout of ARCHITECTURE.md
 * "Broker layout" / "Messages". Each function returns a list of problems, empty when the message is
 * right, so a broker test can `expect(validateEnvelope(value)).toEqual([])` and see every problem.
 *
 * Used only by tests (ajv is a devDependency).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '../engine/index.ts';
import type { Envelope, EnvelopeType } from './envelopes.ts';
import { routesOf } from './broker-routes.ts';
import { buildEnvelopeSchemas } from './envelope-schemas.ts';

type Validators = Readonly<Record<EnvelopeType, ValidateFunction>>;
const compiled = new WeakMap<EngineConfig, Validators>();

function validators(config: EngineConfig): Validators {
  let found = compiled.get(config);
  if (!found) {
    const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
    const schemas = buildEnvelopeSchemas(config);
    const entries = Object.entries(schemas).map(([type, schema]) => [type, ajv.compile(schema)]);
    found = Object.fromEntries(entries) as Validators;
    compiled.set(config, found);
  }
  return found;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath || '/';
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') return `${where}: unexpected field ${String(params.additionalProperty)}`;
  if (error.keyword === 'enum') return `${where}: must be one of ${JSON.stringify(params.allowedValues)}`;
  return `${where}: ${error.message ?? error.keyword}`;
}

/** Problems of one envelope (already parsed from JSON), found by the schema of its `type`; [] when it is valid. */
export function validateEnvelope(value: unknown, config: EngineConfig = DEFAULT_ENGINE_CONFIG): string[] {
  const all = validators(config);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`/: an envelope is a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`];
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(all, type))
    return [`/type: must be one of ${JSON.stringify(Object.keys(all))}, got ${JSON.stringify(type)}`];
  const validate = all[type as EnvelopeType];
  if (validate(value)) return [];
  return [...new Set((validate.errors ?? []).filter((error) => error.keyword !== 'if').map(describe))];
}

/**
 * Where a Kafka record or a RabbitMQ message was read. `topic` is the contract's name
 * ("market-data", "executions"), without the namespace prefix of brokerNames(namespace).
 */
export type Destination =
  | { readonly broker: 'kafka'; readonly topic: string; readonly key: string | null }
  | { readonly broker: 'rabbitmq'; readonly routingKey: string };

function parsed(value: unknown): { value?: unknown; problem?: string } {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) return { value };
  const text = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { problem: `not JSON: ${(error as Error).message}` };
  }
}

/**
 * Problems of a Kafka record value or a RabbitMQ body (raw bytes, text or parsed JSON): one envelope
 * or a non-empty array of them in seq order, each valid, each belonging where it was read (topic and
 * key = its symbol; routing key), and inside an array each `prev_seq` the seq of the one before it.
 */
export function validateBody(body: unknown, destination: Destination, config: EngineConfig = DEFAULT_ENGINE_CONFIG): string[] {
  const { value, problem } = parsed(body);
  if (problem) return [problem];
  const batch = Array.isArray(value);
  const envelopes: unknown[] = batch ? value : [value];
  if (envelopes.length === 0) return ['/: an empty array'];
  const problems: string[] = [];
  let previous: Envelope | undefined;
  envelopes.forEach((item, index) => {
    const at = batch ? `/${index}` : '';
    const found = validateEnvelope(item, config);
    problems.push(...found.map((text) => (text.startsWith('/:') ? at || '/' : at) + text.slice(text.startsWith('/:') ? 1 : 0)));
    if (found.length > 0) return;
    const envelope = item as Envelope;
    const routes = routesOf(envelope);
    if (destination.broker === 'kafka') {
      if (routes.kafkaTopic !== destination.topic)
        problems.push(
          `${at}/type: a ${envelope.type} does not belong on Kafka topic ${destination.topic} (it goes to ${routes.kafkaTopic ?? 'no topic'})`,
        );
      if (destination.key !== routes.kafkaKey)
        problems.push(
          `${at}: Kafka key ${JSON.stringify(destination.key)} is not the envelope's ${routes.kafkaKey ?? '(none)'} (its symbol; a wallet's asset)`,
        );
    } else if (routes.rabbitRoutingKey !== destination.routingKey) {
      problems.push(
        `${at}: routing key ${destination.routingKey} but a ${envelope.type} of this symbol goes to ${routes.rabbitRoutingKey ?? 'no routing key'}`,
      );
    }
    if (previous) {
      if (envelope.seq <= previous.seq) problems.push(`${at}/seq: ${envelope.seq} is not after the previous envelope's ${previous.seq}`);
      if (envelope.prev_seq !== previous.seq)
        problems.push(`${at}/prev_seq: ${envelope.prev_seq}, but the envelope before it in the array has seq ${previous.seq}`);
    } else if (envelope.prev_seq >= envelope.seq) {
      problems.push(`${at}/prev_seq: ${envelope.prev_seq} is not before seq ${envelope.seq}`);
    }
    previous = envelope;
  });
  return problems;
}

/**
 * Problems of one entry of the Redis stream `executions` as XRANGE/XREADGROUP give it (id and the
 * flat field list): id `{seq}-0`, one field `envelope` holding the JSON of an envelope that goes
 * to Redis (Execution, Trade, BalanceChanged).
 */
export function validateRedisEntry(id: string, fields: readonly string[], config: EngineConfig = DEFAULT_ENGINE_CONFIG): string[] {
  if (fields.length !== 2 || fields[0] !== 'envelope')
    return [`entry ${id}: fields must be exactly ["envelope", json], got ${JSON.stringify(fields.filter((_, index) => index % 2 === 0))}`];
  const { value, problem } = parsed(fields[1]);
  if (problem) return [`entry ${id}: ${problem}`];
  const problems = validateEnvelope(value, config).map((text) => `entry ${id} ${text}`);
  if (problems.length > 0) return problems;
  const envelope = value as Envelope;
  if (id !== `${envelope.seq}-0`) problems.push(`entry ${id}: id must be {seq}-0 = ${envelope.seq}-0`);
  if (!routesOf(envelope).redis) problems.push(`entry ${id}: a ${envelope.type} does not belong on the Redis stream`);
  if (envelope.prev_seq >= envelope.seq) problems.push(`entry ${id} /prev_seq: ${envelope.prev_seq} is not before seq ${envelope.seq}`);
  return problems;
}
