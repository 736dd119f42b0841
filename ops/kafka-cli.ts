/**
 * Kafka's own command-line tools against the project's broker, without a Kafka download:
 * `npm run kafka -- console-consumer --topic market-data --from-beginning --property print.key=true`
 * (`--bootstrap-server` defaults to KAFKA_BROKERS). The tools' classpath is assembled from Maven
 * Central into ops/kafka/tools/lib on first use (ops/kafka/tools/pom.xml), apart from the broker's.
 * Tools: console-consumer, console-producer, topics, consumer-groups, get-offsets.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from './config.ts';
import { ensureKafkaToolsClasspath } from './services/kafka.ts';

export const KAFKA_TOOLS: Readonly<Record<string, string>> = {
  'console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  'console-producer': 'org.apache.kafka.tools.ConsoleProducer',
  topics: 'org.apache.kafka.tools.TopicCommand',
  'consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  'get-offsets': 'org.apache.kafka.tools.GetOffsetShell',
};

async function main(argv: readonly string[]): Promise<number> {
  const [tool, ...args] = argv;
  const mainClass = tool === undefined ? undefined : KAFKA_TOOLS[tool];
  if (mainClass === undefined) {
    process.stderr.write(`usage: npm run kafka -- <${Object.keys(KAFKA_TOOLS).join('|')}> [the tool's own options]\n`);
    return 2;
  }
  const lib = await ensureKafkaToolsClasspath((line) => process.stderr.write(`${line}\n`));
  const withServer = args.includes('--bootstrap-server') ? args : ['--bootstrap-server', loadConfig().KAFKA_BROKERS, ...args];
  const child = spawn(
    'java',
    [
      '-Xms64m',
      '-Xmx256m',
      `-Dlog4j2.configurationFile=${path.join(lib, '..', 'log4j2.properties')}`,
      '-cp',
      `${lib}/*`,
      mainClass,
      ...withServer,
    ],
    { stdio: 'inherit' },
  );
  // Ctrl-C reaches the JVM through the terminal's process group; a SIGTERM to this process is passed on
  process.once('SIGTERM', () => child.kill('SIGTERM'));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
