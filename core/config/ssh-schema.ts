import type { SshOptions } from '../connection/ssh/options.js';
import { SSH_DEFAULTS } from '../connection/ssh/options.js';
import { s, type Schema } from './schema/index.js';

// What `ssh-keygen -lf` prints: 'SHA256:' and 43 characters of unpadded base64. Anything else never matches a key.
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

const port = s.number({ integer: true, min: 1, max: 65535 });

/** Every SshOptions field; `satisfies` keeps this list and the interface in step. */
export const sshShape = {
  user: s.string({ nonEmpty: true }).optional().describe('Login user.'),
  port: port.optional().describe('SSH port. Default: from ~/.ssh/config, else 22.'),
  identityFile: s
    .union([s.string({ nonEmpty: true }), s.array(s.string({ nonEmpty: true }))], { expected: 'a key file path or a list of them' })
    .optional()
    .describe('Private key file(s). When set, only these keys are offered.'),
  passphrase: s.secret().optional().describe('Passphrase for an encrypted identityFile.'),
  privateKey: s
    .union([s.string({ nonEmpty: true }), s.custom<Buffer>((v) => Buffer.isBuffer(v), 'a Buffer')], { expected: 'the key as a string or a Buffer' })
    .optional()
    .describe('Private key contents, instead of a file.'),
  password: s.secret().optional().describe('Login password.'),
  agent: s
    .union([s.string({ nonEmpty: true }), s.literal(false)], { expected: 'an ssh-agent socket path or false' })
    .optional()
    .describe('ssh-agent socket. Default $SSH_AUTH_SOCK; false disables the agent.'),
  proxyJump: s.string({ nonEmpty: true }).optional().describe("Jump hosts, OpenSSH syntax: 'bastion' or 'user@b1:2222,b2'."),
  hostKeyFingerprints: s
    .array(
      s.string().refine((v) =>
        FINGERPRINT.test(v) ? undefined : `expected 'SHA256:' and 43 base64 characters as ssh-keygen -lf prints them, got ${JSON.stringify(v)}`,
      ),
    )
    .optional()
    .describe('Pinned host key fingerprints; the key must match one of them.'),
  knownHostsFiles: s.array(s.string({ nonEmpty: true })).optional().describe("Extra known_hosts files (e.g. the project's)."),
  recordKnownHostsFile: s.string({ nonEmpty: true }).optional().describe('Where accepted new keys are recorded (accept-new).'),
  strictHostKeyChecking: s.oneOf('yes', 'accept-new').optional().describe("'yes' refuses unknown host keys; 'accept-new' records them on first use."),
  connectTimeout: s.number({ positive: true }).optional().describe(`Milliseconds to connect and log in. Default ${SSH_DEFAULTS.connectTimeout}.`),
  keepaliveInterval: s.number({ min: 0 }).optional().describe(`Milliseconds between keepalives. Default ${SSH_DEFAULTS.keepaliveInterval}.`),
  keepaliveCountMax: s.number({ integer: true, min: 0 }).optional().describe(`Missed keepalives before the connection counts as dead. Default ${SSH_DEFAULTS.keepaliveCountMax}.`),
  maxChannels: s.number({ integer: true, min: 1 }).optional().describe(`Concurrent commands per connection. Default ${SSH_DEFAULTS.maxChannels}.`),
  useSshConfig: s.boolean().optional().describe('Read ~/.ssh/config through `ssh -G`. Default true.'),
  sshConfigFile: s.string({ nonEmpty: true }).optional().describe('An ssh_config file to read instead of ~/.ssh/config.'),
} satisfies Record<keyof SshOptions, Schema<unknown>>;

export const sshSchema = s.object(sshShape, { description: 'SSH settings.' }).optional();
