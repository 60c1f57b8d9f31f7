import { createInterface } from 'node:readline/promises';
import { ConfigError } from '../errors.js';

/**
 * Asks a yes/no question on the terminal. Without a terminal nothing ever
 * waits on a prompt: the run fails and says to pass --yes.
 */
export async function confirm(question: string, environment: string): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new ConfigError(`Environment "${environment}" asks for confirmation, and there is no terminal to ask on`, {
      hint: 'pass --yes to confirm from a script or CI',
    });
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}
