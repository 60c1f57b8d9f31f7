import { environmentLine, escapePercent, quoteWord } from './ini.js';
import type { ResolvedOptions } from './options.js';

/** What the program file needs to know about one host, found out there (host-facts.ts). */
export interface ProgramHost {
  /** Absolute working directory: `<deployTo>/current` by default. */
  readonly directory: string;
  readonly user: string;
  /** Already checked (environmentValueProblem), in the order written. */
  readonly environment: Readonly<Record<string, string>>;
}

export const HEADER = '; Written by deployr:supervisor on every deploy: changes made here are replaced.';

type LogOptions = Pick<ResolvedOptions, 'program' | 'numprocs' | 'logDir'>;

/** The log files of process `index` (0-based) as they are on the host; one pair when numprocs is 1. */
export function logFiles(options: LogOptions, index = 0): { stdout: string; stderr: string } {
  const base = `${logDirOf(options)}/${options.program}${options.numprocs > 1 ? `_${String(index).padStart(2, '0')}` : ''}`;
  return { stdout: `${base}.out.log`, stderr: `${base}.err.log` };
}

/** Without a trailing slash ('' for /), so `${dir}/${file}` is right. */
function logDirOf(options: LogOptions): string {
  return options.logDir.replace(/\/+$/, '');
}

/** Every log file of the program, on the host (process numbers filled in). */
export function allLogFiles(options: LogOptions): string[] {
  return Array.from({ length: options.numprocs }, (_, index) => logFiles(options, index)).flatMap(({ stdout, stderr }) => [stderr, stdout]);
}

/**
 * The `[program:x]` file. Every value the user gave is escaped for
 * supervisor (`%` → `%%`, words quoted) after having been checked for what
 * cannot be escaped; only the plugin's own `%(…)s` expansions stay live.
 */
export function renderProgram(options: ResolvedOptions, host: ProgramHost): string {
  const command = typeof options.command === 'string' ? options.command : options.command.map(quoteWord).join(' ');
  // The directory is the user's (escaped); the process number is supervisor's expansion.
  const logBase = `${escapePercent(logDirOf(options))}/${options.program}${options.numprocs > 1 ? '_%(process_num)02d' : ''}`;
  const extra = Object.entries(options.extra ?? {}).map(([key, value]) => `${key}=${escapePercent(String(value))}`);
  const lines = [
    HEADER,
    `[program:${options.program}]`,
    `command=${escapePercent(command)}`,
    `directory=${escapePercent(host.directory)}`,
    `user=${escapePercent(host.user)}`,
    ...(options.numprocs > 1 ? [`numprocs=${options.numprocs}`, 'process_name=%(program_name)s_%(process_num)02d'] : []),
    `autostart=${String(options.autostart)}`,
    `autorestart=${String(options.autorestart)}`,
    `startsecs=${options.startsecs}`,
    `startretries=${options.startretries}`,
    `stopsignal=${options.stopsignal}`,
    `stopwaitsecs=${options.stopwaitsecs}`,
    `stopasgroup=${String(options.stopasgroup)}`,
    `killasgroup=${String(options.killasgroup)}`,
    `stdout_logfile=${logBase}.out.log`,
    `stderr_logfile=${logBase}.err.log`,
    ...(Object.keys(host.environment).length > 0 ? [`environment=${environmentLine(host.environment)}`] : []),
    ...extra,
  ];
  return `${lines.join('\n')}\n`;
}
