import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  output: string;
}

/** Runs a command to completion; stdout and stderr together, never throws for a non-zero exit. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => resolve({ code: null, output: output + String(error) }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** True when `command` is on PATH. */
export async function commandExists(command: string): Promise<boolean> {
  return (await runCommand('sh', ['-c', `command -v ${command}`])).code === 0;
}
