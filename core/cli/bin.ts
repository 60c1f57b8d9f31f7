#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { isDeployrError } from '../errors.js';
import { smoke } from './smoke.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('deployr')
  .description('Deploy apps to your own servers with typed TypeScript tasks over SSH')
  .version(pkg.version);

program
  .command('smoke')
  .description('check the local transport on this machine (no servers needed)')
  .action(async () => {
    await smoke((line) => console.log(line));
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  if (isDeployrError(error)) {
    console.error(`deployr: ${error.describe()}`);
    process.exitCode = error.code === 'CONFIG_ERROR' ? 2 : 1;
  } else {
    console.error(error);
    process.exitCode = 1;
  }
});
