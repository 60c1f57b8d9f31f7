import { DeployrError } from 'deployr';

const TAIL_LINES = 12;

/** The last lines of a command's output, indented as core's CommandError shows stderr. */
export function outputTail(text: string, lines = TAIL_LINES): string {
  const kept = text
    .replace(/\s+$/, '')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-lines);
  return kept.map((line) => `  │ ${line}`).join('\n');
}

/** What pip said went wrong, and about which requirement, from its output. */
export function pipDiagnosis(output: string): { reason: string; requirement?: string } {
  const errors = output.split('\n').filter((line) => line.startsWith('ERROR: ')).map((line) => line.slice('ERROR: '.length).trim());
  const notFound = /No matching distribution found for (.+)$/.exec(errors.find((line) => line.startsWith('No matching distribution')) ?? '');
  if (notFound) return { reason: `no matching distribution for ${notFound[1]}`, requirement: notFound[1] as string };
  const unsatisfied = /Could not find a version that satisfies the requirement (\S+)/.exec(errors.join('\n'));
  if (unsatisfied) return { reason: `no version satisfies ${unsatisfied[1]}`, requirement: unsatisfied[1] as string };
  const conflict = /Cannot install (.+?) because these package versions have conflicting dependencies/.exec(output);
  if (conflict) return { reason: `conflicting dependencies of ${conflict[1]}`, requirement: conflict[1] as string };
  const unreadable = /Could not open requirements file: (.+)$/.exec(errors.join('\n'));
  if (unreadable) return { reason: `cannot read a requirements file: ${unreadable[1]}` };
  const failedBuild = /Failed building wheel for (\S+)|Could not build wheels for (\S+)/.exec(output);
  if (failedBuild) {
    const name = (failedBuild[1] ?? failedBuild[2]) as string;
    return { reason: `building ${name} failed`, requirement: name };
  }
  const last = errors.at(-1) ?? output.trim().split('\n').at(-1)?.trim();
  return { reason: last || 'pip failed without saying why' };
}

/**
 * A failed `pip install` as an error worth reading: which requirement, why,
 * and the end of pip's output (the whole output is in the host's log).
 */
export function pipFailure(host: string, venv: string, output: string, code: number | null, index: string): DeployrError {
  const { reason, requirement } = pipDiagnosis(output);
  const tail = outputTail(output);
  return new DeployrError(`pip install into ${venv} failed (exit ${code ?? 'signal'}): ${reason}${tail ? `\n${tail}` : ''}`, {
    host,
    hint: requirement
      ? `check "${requirement}" in your requirements/packages and that ${index} offers it; the hosts stay on their current release`
      : "see pip's output above (all of it is in the host's log); the hosts stay on their current release",
  });
}

/** `python -m venv` failed: most often python3-venv (ensurepip) is missing on Debian/Ubuntu. */
export function venvFailure(host: string, venv: string, python: string, output: string): DeployrError {
  const ensurepip = /ensurepip is not available|No module named (venv|ensurepip)|python3(\.\d+)?-venv/.test(output);
  const tail = outputTail(output);
  return new DeployrError(`${python} -m venv could not create ${venv}${tail ? `\n${tail}` : ''}`, {
    host,
    hint: ensurepip
      ? "the host's Python lacks venv/ensurepip: install python3-venv (Debian/Ubuntu), e.g. ensurePackages(ctx, ['python3-venv']) in a predeploy hook"
      : 'check that the login user can write the directory and that the interpreter works',
  });
}
