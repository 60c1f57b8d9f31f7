import { ConfigError } from '../../errors.js';

export interface ParsedHostString {
  user?: string;
  address: string;
  port?: number;
}

/**
 * Parses 'user@host:port', 'host', 'host:2222', '[::1]:2222' and
 * 'user@[fe80::1]'. A bare IPv6 address without brackets is taken whole.
 */
export function parseHostString(spec: string, where = 'host'): ParsedHostString {
  const text = spec.trim();
  if (!text) throw new ConfigError(`${where}: empty host`, { hint: "write a host as 'user@host:port', 'host' or an object { address }" });
  const at = text.lastIndexOf('@');
  const user = at >= 0 ? text.slice(0, at) : undefined;
  const rest = at >= 0 ? text.slice(at + 1) : text;
  if (user === '') throw new ConfigError(`${where}: "${spec}" has an empty user before @`);

  let address = rest;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
  if (bracketed) {
    address = bracketed[1] as string;
    portText = bracketed[2];
  } else if ((rest.match(/:/g) ?? []).length === 1) {
    [address, portText] = rest.split(':') as [string, string];
  }
  if (!address) throw new ConfigError(`${where}: "${spec}" has no host name`);

  let port: number | undefined;
  if (portText !== undefined) {
    port = Number(portText);
    // Digits only: Number() also reads '0x16', '1e3', ' 22' and '+22'.
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
      throw new ConfigError(`${where}: "${spec}" has an invalid port "${portText}"`, { hint: 'use a port number from 1 to 65535' });
    }
  }
  return { ...(user === undefined ? {} : { user }), address, ...(port === undefined ? {} : { port }) };
}
