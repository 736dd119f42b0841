/** The configuration tables stay in step with ops/config.ts: every variable is documented, and no documented one is gone. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, PROJECT_ROOT } from './config.ts';

/** variable names in the first column of a Markdown table under the given heading (`| `A`, `B` | …`) */
function documentedVariables(file: string, heading: string): string[] {
  const text = readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`${file} has no "${heading}"`);
  const end = text.indexOf('\n## ', start + heading.length + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  const names: string[] = [];
  for (const line of section.split('\n')) {
    const firstCell = /^\| ([^|]+) \|/.exec(line)?.[1] ?? '';
    for (const match of firstCell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.push(match[1]!);
  }
  return names;
}

// loadConfig({}) gives every key of the schema, optional ones as undefined
const variables = Object.keys(loadConfig({})).sort();

describe('configuration documentation', () => {
  it('docs/operations.md lists every variable ops/config.ts reads, and none it does not', () => {
    expect([...new Set(documentedVariables('docs/operations.md', '## Configuration'))].sort()).toEqual(variables);
  });

  it("README.md's short table names only variables ops/config.ts reads", () => {
    const documented = documentedVariables('README.md', '## Configuration');
    expect(documented.length).toBeGreaterThan(10);
    expect(documented.filter((name) => !variables.includes(name))).toEqual([]);
  });
});
