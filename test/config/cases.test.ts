// Config errors as case folders (STYLE.md #14): each cases/<name>/ holds a
// project — a deploy.config.* and whatever it imports — and expected.txt, the
// exact error the user sees (message, then "→ hint"). A new regression test is
// a new folder. Optional case.json: { cwd, configFile, environment, resolve }
// (resolve: an environment to resolve after loading).
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/load.js';
import { resolveEnvironment } from '../../core/config/resolve-environment.js';
import { ConfigError } from '../../core/errors.js';

const casesDir = fileURLToPath(new URL('./cases/', import.meta.url));
const names = (await readdir(casesDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();

interface CaseOptions {
  cwd?: string;
  configFile?: string;
  environment?: string;
  resolve?: string;
}

async function run(dir: string): Promise<unknown> {
  const options: CaseOptions = existsSync(path.join(dir, 'case.json')) ? JSON.parse(await readFile(path.join(dir, 'case.json'), 'utf8')) : {};
  try {
    const { config } = await loadConfig({
      cwd: path.join(dir, options.cwd ?? ''),
      ...(options.configFile === undefined ? {} : { configFile: options.configFile }),
      ...(options.environment === undefined ? {} : { environment: options.environment }),
    });
    if (options.resolve !== undefined) resolveEnvironment(config, options.resolve);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('config error cases', () => {
  it('has cases', () => {
    expect(names.length).toBeGreaterThanOrEqual(20);
  });

  it.each(names)('%s', async (name) => {
    const dir = path.join(casesDir, name);
    const error = await run(dir);
    expect(error, 'the case should fail').toBeInstanceOf(ConfigError);
    const shown = (error as ConfigError).describe().split(dir).join('<case>');
    const expectedFile = path.join(dir, 'expected.txt');
    if (!existsSync(expectedFile)) {
      // First run of a new case: record what it gives, and fail until someone has read it.
      await writeFile(expectedFile, `${shown}\n`);
      expect.fail(`${name}: wrote expected.txt from this run; review it, then run again:\n${shown}`);
    }
    expect(shown).toBe((await readFile(expectedFile, 'utf8')).replace(/\n$/, ''));
  });
});
