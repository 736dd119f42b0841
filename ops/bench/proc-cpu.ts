/**
 * CPU seconds per named group of processes, from /proc (Linux), for bench:e2e's per-process table.
 * A sample keeps each pid's figure, so a process that starts between two samples counts from its
 * start and one that exits loses only what it used after the first sample (a broker restarted by
 * --chaos); reaped children count through their parent's cutime + cstime (PostgreSQL backends of
 * closed connections under the postmaster, the core's snapshot processes).
 */
import { readdir, readFile } from 'node:fs/promises';

const CLOCK_TICKS = 100;

export interface ProcEntry {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  /** utime + stime, s */
  readonly cpu: number;
  /** cutime + cstime (waited-for children), s */
  readonly childrenCpu: number;
}

async function readEntry(pid: number): Promise<ProcEntry | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const fields = text.slice(close + 2).split(' ');
    // after ")": state ppid … utime (index 11) stime (12) cutime (13) cstime (14)
    return {
      pid,
      ppid: Number(fields[1]),
      comm,
      cpu: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS,
      childrenCpu: (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS,
    };
  } catch {
    return undefined;
  }
}

export async function allProcesses(): Promise<Map<number, ProcEntry>> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const entries = await Promise.all(pids.map(readEntry));
  return new Map(entries.filter((entry): entry is ProcEntry => entry !== undefined).map((entry) => [entry.pid, entry]));
}

/** the process's command line, arguments joined by spaces ('' when gone) */
export async function commandLine(pid: number): Promise<string> {
  return readFile(`/proc/${pid}/cmdline`, 'utf8').then(
    (text) => text.split('\0').join(' ').trim(),
    () => '',
  );
}

/** pids of processes named `comm` whose command line contains `fragment` */
export async function pidsOf(table: Map<number, ProcEntry>, comm: string, fragment: string): Promise<number[]> {
  const candidates = [...table.values()].filter((entry) => entry.comm === comm);
  const lines = await Promise.all(candidates.map((entry) => commandLine(entry.pid)));
  return candidates.filter((_, index) => lines[index]!.includes(fragment)).map((entry) => entry.pid);
}

export interface CpuGroup {
  readonly pids: readonly number[];
  /** add the live children of these pids, and their reaped ones */
  readonly withChildren?: boolean;
  /** pids whose reaped children count (the postmaster) */
  readonly reapedOf?: readonly number[];
}

export type CpuGroups = Record<string, CpuGroup>;

export interface CpuSample {
  /** Date.now() */
  readonly at: number;
  /** busy CPU seconds of the whole machine (all cores), from /proc/stat */
  readonly machine: number;
  /** group → key (a pid, or `reaped:<pid>`) → CPU seconds */
  readonly groups: Record<string, Record<string, number>>;
}

async function machineBusySeconds(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / CLOCK_TICKS;
}

export async function cpuSample(groups: CpuGroups): Promise<CpuSample> {
  const [table, machine] = await Promise.all([allProcesses(), machineBusySeconds()]);
  const result: Record<string, Record<string, number>> = {};
  for (const [name, group] of Object.entries(groups)) {
    const figures: Record<string, number> = {};
    const pids = new Set(group.pids);
    if (group.withChildren) for (const entry of table.values()) if (pids.has(entry.ppid)) figures[entry.pid] = entry.cpu;
    for (const pid of pids) {
      const entry = table.get(pid);
      if (!entry) continue;
      figures[pid] = entry.cpu;
      if (group.withChildren) figures[`reaped:${pid}`] = entry.childrenCpu;
    }
    for (const pid of group.reapedOf ?? []) {
      const entry = table.get(pid);
      if (entry) figures[`reaped:${pid}`] = entry.childrenCpu;
    }
    result[name] = figures;
  }
  return { at: Date.now(), machine, groups: result };
}

/** CPU seconds per group between two samples (a key new in `end` counts from 0) */
export function cpuDelta(start: CpuSample, end: CpuSample): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [name, figures] of Object.entries(end.groups)) {
    const before = start.groups[name] ?? {};
    result[name] = Object.entries(figures).reduce((sum, [key, value]) => sum + Math.max(0, value - (before[key] ?? 0)), 0);
  }
  result.machine = end.machine - start.machine;
  return result;
}
