import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT } from '../config.ts';
import { probeKafka } from '../service-health.ts';
import { commandExists, runCommand } from './command.ts';
import { dataPath, type EnsureResult, LOCAL_HOSTS, type ServiceContext } from './context.ts';
import { runningPid, stopByPidFile, type StopResult, writePid } from './process-files.ts';
import { ServiceStartError, waitUntil } from './wait.ts';

const SERVICE = 'kafka';
const KAFKA_DIR = path.join(PROJECT_ROOT, 'ops', 'kafka');
const POM = path.join(KAFKA_DIR, 'pom.xml');
/** The broker's classpath, copied from Maven Central (via ~/.m2) by `mvn dependency:copy-dependencies`. */
export const KAFKA_LIB = path.join(KAFKA_DIR, 'lib');
/** Kafka's command-line tools (console consumer …): a classpath of their own, so the broker's is never rewritten under it. */
const TOOLS_POM = path.join(KAFKA_DIR, 'tools', 'pom.xml');
export const KAFKA_TOOLS_LIB = path.join(KAFKA_DIR, 'tools', 'lib');
/** The log4j2 configuration the broker and the tools run with (console only, no log files). */
export const KAFKA_LOG4J2 = path.join(KAFKA_DIR, 'log4j2.properties');
const BROKER_MAIN = 'kafka.Kafka';
const JVM_OPTIONS = ['-Xms256m', '-Xmx512m', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true'];

/**
 * A real single-node KRaft broker, assembled from Maven Central and started with `java`:
 * classpath cached in ops/kafka/lib, storage formatted once under $DATA_DIR/kafka (the cluster id
 * lives in its meta.properties), PID file $DATA_DIR/kafka.pid, log $DATA_DIR/kafka.log.
 */
export async function ensureKafka({ config, say }: ServiceContext): Promise<EnsureResult> {
  // the command-line tools' classpath (npm run kafka): a hash compare once assembled; never fatal to the broker's start
  await ensureKafkaToolsClasspath(say).catch((error: unknown) =>
    say(
      `kafka: command-line tools not assembled (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); npm run kafka will try again`,
    ),
  );
  if (await answers(config.KAFKA_BROKERS)) return { service: SERVICE, outcome: 'already running', detail: config.KAFKA_BROKERS };

  const [host = '', portText = ''] = (config.KAFKA_BROKERS.split(',')[0] ?? '').trim().split(':');
  if (!LOCAL_HOSTS.has(host))
    throw new ServiceStartError(SERVICE, `KAFKA_BROKERS ${config.KAFKA_BROKERS} does not answer and is not local`);
  const listenHost = host === 'localhost' ? '127.0.0.1' : host;
  const port = Number(portText);
  const logFile = dataPath(config, 'kafka.log');
  const pidFile = dataPath(config, 'kafka.pid');

  if ((await runningPid(pidFile, BROKER_MAIN)) === undefined) {
    for (const busy of [port, port + 1]) {
      if (await acceptsConnections(listenHost, busy))
        throw new ServiceStartError(
          SERVICE,
          `${listenHost}:${busy} is taken by another program that is not a Kafka broker answering KAFKA_BROKERS`,
        );
    }
    if (!(await commandExists('java'))) throw new ServiceStartError(SERVICE, 'java is not installed (Kafka 4.1 needs JDK 17+)');
    await ensureClasspath(POM, KAFKA_LIB, say, 'the broker classpath');
    const properties = await ensureStorage(config, listenHost, port, logFile, say);
    say(`kafka: starting broker on ${listenHost}:${port} (controller ${port + 1})`);
    const log = await open(logFile, 'a');
    const broker = spawn(
      'java',
      [...JVM_OPTIONS, `-Dlog4j2.configurationFile=${KAFKA_LOG4J2}`, '-cp', `${KAFKA_LIB}/*`, BROKER_MAIN, properties],
      { detached: true, stdio: ['ignore', log.fd, log.fd] },
    );
    await log.close();
    if (broker.pid === undefined) throw new ServiceStartError(SERVICE, 'could not spawn java', logFile);
    await writePid(pidFile, broker.pid);
    broker.unref();
  }
  await waitUntil(SERVICE, () => answers(config.KAFKA_BROKERS), {
    timeoutMs: 90_000,
    intervalMs: 300,
    logFile,
    failFast: async () =>
      (await runningPid(pidFile, BROKER_MAIN)) === undefined
        ? `the broker exited during start-up; last log lines:\n${await tail(logFile, 8)}`
        : undefined,
  });
  return { service: SERVICE, outcome: 'started', detail: `${listenHost}:${port}, data in ${dataPath(config, 'kafka')}` };
}

function answers(brokers: string): Promise<boolean> {
  return probeKafka(brokers).then(
    () => true,
    () => false,
  );
}

/** The command-line tools' classpath (ops/kafka/tools/lib), assembled from Maven Central on first use. */
export async function ensureKafkaToolsClasspath(say: (line: string) => void): Promise<string> {
  await ensureClasspath(TOOLS_POM, KAFKA_TOOLS_LIB, say, "Kafka's command-line tools (npm run kafka)");
  return KAFKA_TOOLS_LIB;
}

/**
 * Runs Maven only when `lib` is missing or was made from another pom; otherwise no network at all.
 * The pom's hash is written last into `lib/.pom.sha256`: a folder without it (or with another) is stale.
 */
async function ensureClasspath(pom: string, lib: string, say: (line: string) => void, what: string): Promise<void> {
  const stampFile = path.join(lib, '.pom.sha256');
  const pomHash = createHash('sha256')
    .update(await readFile(pom))
    .digest('hex');
  const stamp = await readFile(stampFile, 'utf8').catch(() => '');
  if (stamp.trim() === pomHash) return;
  const where = path.relative(PROJECT_ROOT, lib);
  if (!(await commandExists('mvn')))
    throw new ServiceStartError(SERVICE, `${where} is missing and Maven (mvn) is not installed to assemble it`);
  say(`kafka: assembling ${what} into ${where} from Maven Central (first run only)`);
  await rm(lib, { recursive: true, force: true });
  const mvn = await runCommand('mvn', [
    '-B',
    '-q',
    '-f',
    pom,
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-DoutputDirectory=${lib}`,
  ]);
  if (mvn.code !== 0)
    throw new ServiceStartError(SERVICE, `mvn dependency:copy-dependencies failed (exit ${mvn.code}):\n${mvn.output.trim().slice(-1500)}`);
  await writeFile(stampFile, `${pomHash}\n`);
}

/** Renders server.properties every start (cheap, keeps paths right) and formats the storage once. */
async function ensureStorage(
  config: ServiceContext['config'],
  host: string,
  port: number,
  logFile: string,
  say: (line: string) => void,
): Promise<string> {
  const kafkaData = dataPath(config, 'kafka');
  const logDirs = path.join(kafkaData, 'data');
  const properties = path.join(kafkaData, 'server.properties');
  await mkdir(logDirs, { recursive: true });
  const template = await readFile(path.join(KAFKA_DIR, 'server.properties.template'), 'utf8');
  await writeFile(
    properties,
    template
      .replaceAll('@HOST@', host)
      .replaceAll('@CONTROLLER_PORT@', String(port + 1))
      .replaceAll('@PORT@', String(port))
      .replaceAll('@LOG_DIRS@', logDirs),
  );
  const formatted = await stat(path.join(logDirs, 'meta.properties')).then(
    () => true,
    () => false,
  );
  if (!formatted) {
    const clusterId = newClusterId();
    say(`kafka: formatting storage in ${logDirs} (cluster id ${clusterId})`);
    const format = await runCommand('java', [
      `-Dlog4j2.configurationFile=${path.join(KAFKA_DIR, 'log4j2.properties')}`,
      '-cp',
      `${KAFKA_LIB}/*`,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      properties,
    ]);
    await writeFile(logFile, format.output, { flag: 'a' });
    if (format.code !== 0) throw new ServiceStartError(SERVICE, `storage format failed: ${format.output.trim().slice(-800)}`, logFile);
  }
  return properties;
}

/** Kafka's own Uuid text form: 16 random bytes, URL-safe base64 without padding, never starting with '-'. */
function newClusterId(): string {
  while (true) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** The last log lines that say something: Java stack frames ("at …", "... 6 more") left out. */
async function tail(file: string, lines: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const recent = text.trimEnd().split('\n').slice(-200);
  return recent
    .filter((line) => !/^\s+(at |\.\.\. \d+ more)/.test(line))
    .slice(-lines)
    .join('\n');
}

function acceptsConnections(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1_000 });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

export async function stopKafka({ config, say }: ServiceContext): Promise<StopResult> {
  // A controlled shutdown takes a few seconds; SIGKILL would leave logs needing recovery.
  const result = await stopByPidFile(dataPath(config, 'kafka.pid'), BROKER_MAIN, 60_000);
  if (result !== 'not-running') say(`kafka: ${result}`);
  return result;
}
