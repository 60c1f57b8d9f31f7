import type { ResolvedEnvironment, ResolvedHost } from '../config/resolved.js';
import { LocalConnection } from '../connection/local.js';
import { PredictingConnection } from '../connection/predicting.js';
import type { SshConnector } from '../connection/ssh/connector.js';
import type { Connection } from '../connection/types.js';
import { InterruptedError } from '../errors.js';
import { toErrorInfo } from './error-info.js';
import type { DeployrEventBody } from './events.js';

export interface HostPoolOptions {
  environment: ResolvedEnvironment;
  connector: SshConnector;
  dryRun: boolean;
  /** Working directory of local connections: the project's root. */
  root: string;
  emit: (body: DeployrEventBody) => void;
  /** Runs once per host, right after it connects and before anything else uses it (the connect hook). */
  afterConnect: (target: ResolvedHost, connection: Connection) => Promise<void>;
}

/** The host that `local: true` tasks run on. */
export const LOCAL_HOST_NAME = 'local';

/**
 * The connections of one run: each host is connected once, on first use,
 * and its connect hook has run before any task gets it. Under --dry-run
 * every host (and this machine) is connected but wrapped in a
 * PredictingConnection: read-only commands run, everything else is recorded.
 */
export class HostPool {
  private readonly connections = new Map<string, Promise<Connection>>();
  private readonly opened: Connection[] = [];

  constructor(private readonly options: HostPoolOptions) {}

  /** The host's connection, connecting (and running the connect hook) the first time. */
  get(target: ResolvedHost, signal: AbortSignal): Promise<Connection> {
    let pending = this.connections.get(target.name);
    if (!pending) {
      pending = this.open(target, signal);
      this.connections.set(target.name, pending);
    }
    return pending;
  }

  /** This machine, for `local` tasks. */
  local(): Connection {
    const local = new LocalConnection({ name: LOCAL_HOST_NAME, cwd: this.options.root });
    const connection = this.options.dryRun ? new PredictingConnection(local) : local;
    this.opened.push(connection);
    return connection;
  }

  /**
   * Closes this run's connections, those whose connect hook failed included.
   * The connector's jump connections outlive a run (Deployr#close ends them),
   * as does one still handshaking when the run was interrupted.
   */
  async closeAll(): Promise<void> {
    await Promise.allSettled(this.opened.map((connection) => connection.close()));
  }

  private async open(target: ResolvedHost, signal: AbortSignal): Promise<Connection> {
    const { emit, environment } = this.options;
    emit({ type: 'host:connect:start', host: target.name });
    const started = performance.now();
    try {
      const connection = await abortable(this.connect(target, environment), signal);
      emit({ type: 'host:connect:end', host: target.name, durationMs: Math.round(performance.now() - started) });
      await this.options.afterConnect(target, connection);
      return connection;
    } catch (error) {
      emit({ type: 'host:connect:end', host: target.name, durationMs: Math.round(performance.now() - started), error: toErrorInfo(error) });
      throw error;
    }
  }

  private async connect(target: ResolvedHost, environment: ResolvedEnvironment): Promise<Connection> {
    let connection: Connection;
    if (environment.connect === 'local') connection = new LocalConnection({ name: target.name, cwd: this.options.root });
    else {
      connection = await this.options.connector.connect({
        name: target.name,
        address: target.address,
        ...(target.user === undefined ? {} : { user: target.user }),
        ...(target.port === undefined ? {} : { port: target.port }),
        ssh: target.ssh,
      });
    }
    if (this.options.dryRun) connection = new PredictingConnection(connection);
    this.opened.push(connection);
    return connection;
  }
}

/**
 * Stops waiting when the run is interrupted. A connection that completes
 * later is still closed by closeAll(): the connector tracks it.
 */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new InterruptedError('Interrupted before connecting'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new InterruptedError('Interrupted while connecting'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
