import { InvalidArgumentError, Option, type Command } from 'commander';

/** Options every command that works on hosts accepts. */
export interface HostOptions {
  config?: string;
  hosts?: string[];
  roles?: string[];
  concurrency?: number;
  dryRun?: boolean;
  json?: boolean;
  verbose?: boolean;
  yes?: boolean;
}

/** `--hosts a,b --hosts c` → ['a', 'b', 'c']. */
function commaList(value: string, previous: string[] | undefined): string[] {
  const items = value.split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError('give at least one name, e.g. web-1,web-2');
  return [...(previous ?? []), ...items];
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return number;
}

export function configOption(command: Command): Command {
  return command.addOption(new Option('-c, --config <file>', 'use this config file instead of finding deploy.config.ts'));
}

export function outputOptions(command: Command): Command {
  return command
    .addOption(new Option('--json', 'print NDJSON events on stdout, one per line'))
    .addOption(new Option('-v, --verbose', 'show exit codes, timings and debug messages'));
}

export function hostOptions(command: Command): Command {
  configOption(command);
  command
    .addOption(new Option('-H, --hosts <names>', 'only these hosts (comma-separated, repeatable)').argParser(commaList))
    .addOption(new Option('-R, --roles <roles>', 'only hosts with one of these roles (comma-separated)').argParser(commaList))
    .addOption(new Option('-j, --concurrency <n>', 'how many hosts work at once').argParser(positiveInteger))
    .addOption(new Option('-n, --dry-run', 'connect and read each host, show what would change; change nothing'))
    .addOption(new Option('-y, --yes', 'answer yes to the environment\'s confirmation'));
  return outputOptions(command);
}

function seconds(value: string): number {
  const number = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value)) throw new InvalidArgumentError('expected a number of seconds, e.g. 60');
  return number;
}

/** --lock-wait for the commands that take the deploy lock. */
export function lockWaitOption(command: Command): Command {
  return command.addOption(new Option('--lock-wait <seconds>', 'wait up to this long for another run\'s lock instead of failing at once').argParser(seconds));
}
