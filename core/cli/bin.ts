#!/usr/bin/env node
import { CommanderError } from 'commander';
import { ConfigError, isDeployrError } from '../errors.js';
import { isConnectionFailure } from '../engine/error-info.js';
import { ExitCode } from '../engine/exit-codes.js';
import { createProgram } from './program.js';

/**
 * Entry point. A user's mistake (bad config, unknown task or host) prints
 * its message and next step, never a stack trace, and exits 2; anything
 * unexpected prints the stack so it can be reported.
 */
const program = createProgram((code) => {
  process.exitCode = code;
});
// Subcommands copy settings only when created, so each gets the override too: a bad option exits 2, not commander's 1.
for (const command of [program, ...program.commands]) command.exitOverride();

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // Commander printed its message already; --help and --version are not errors.
    process.exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    return;
  }
  if (isDeployrError(error)) {
    process.stderr.write(`deployr: ${error.describe()}\n`);
    process.exitCode = error instanceof ConfigError ? ExitCode.usage : isConnectionFailure(error) ? ExitCode.connection : ExitCode.taskFailed;
    return;
  }
  process.stderr.write(`deployr: unexpected error — please report it with this output:\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = ExitCode.taskFailed;
});
