import { parseHostString } from '../connection/ssh/parse-target.js';
import type { HostConfig, HostEntry } from './types.js';

/** A host entry as a HostConfig: 'deploy@web-1:2222' → { address: 'web-1', user: 'deploy', port: 2222 }. */
export function hostConfigOf(entry: HostEntry): HostConfig {
  return typeof entry === 'string' ? parseHostString(entry) : entry;
}

/** The name a host goes by: its `name`, else its address (without user and port). */
export function hostNameOf(entry: HostEntry): string {
  const host = hostConfigOf(entry);
  return host.name ?? host.address;
}
