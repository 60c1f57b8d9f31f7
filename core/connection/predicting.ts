import type { Command } from '../command/index.js';
import { RecordingConnection } from './recording.js';
import type { Connection, TransferOptions, TransportExecOptions, TransportExecResult } from './types.js';

/**
 * The connection of a --dry-run: a real connection that only ever reads.
 * Commands marked `readOnly` (cat, test, stat, queries) run on the host, so
 * tasks can compare what is there with what they would write (batou's
 * predict, Ansible's check mode); everything else, and every upload, is
 * recorded and answered as a success without reaching the host.
 */
export class PredictingConnection implements Connection {
  readonly kind = 'predicting' as const;
  readonly recording: RecordingConnection;

  constructor(private readonly real: Connection) {
    this.recording = new RecordingConnection(real.name);
  }

  get name(): string {
    return this.real.name;
  }

  exec(command: Command, options: TransportExecOptions = {}): Promise<TransportExecResult> {
    return options.readOnly ? this.real.exec(command, options) : this.recording.exec(command, options);
  }

  put(localPath: string, remotePath: string, options?: TransferOptions): Promise<void> {
    return this.recording.put(localPath, remotePath, options);
  }

  /** Downloads change only this machine, but a dry run changes nothing anywhere. */
  get(remotePath: string, localPath: string): Promise<void> {
    return this.recording.get(remotePath, localPath);
  }

  close(): Promise<void> {
    return this.real.close();
  }
}
