export { quote } from './quote.js';
export { secret, isSecret, revealSecret, maskSecretValues, Secret, MASK } from './secret.js';
export {
  cmd,
  raw,
  quoted,
  concealed,
  toCommand,
  joinCommands,
  Command,
  type CommandPart,
  type CommandValue,
  type CommandInput,
  type Raw,
} from './command.js';
export { and, or, pipe, inDir, withEnv, shell, assertEnvName, type EnvValue } from './compose.js';
