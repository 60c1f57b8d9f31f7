import { describe, expect, it } from 'vitest';
import { parseHostString } from '../../core/connection/ssh/parse-target.js';
import { ConfigError } from '../../core/errors.js';

describe('parseHostString', () => {
  it.each([
    ['web-1', { address: 'web-1' }],
    ['web.example.com', { address: 'web.example.com' }],
    ['deploy@web-1', { user: 'deploy', address: 'web-1' }],
    ['web-1:2222', { address: 'web-1', port: 2222 }],
    ['deploy@web-1:2222', { user: 'deploy', address: 'web-1', port: 2222 }],
    ['10.0.0.5', { address: '10.0.0.5' }],
    ['root@10.0.0.5:22', { user: 'root', address: '10.0.0.5', port: 22 }],
    ['web-1:1', { address: 'web-1', port: 1 }],
    ['web-1:65535', { address: 'web-1', port: 65535 }],
    ['  deploy@web-1:22  ', { user: 'deploy', address: 'web-1', port: 22 }],
    // The last @ separates the user, as in OpenSSH.
    ['me@corp@bastion', { user: 'me@corp', address: 'bastion' }],
  ])('%j', (spec, expected) => {
    expect(parseHostString(spec)).toEqual(expected);
  });

  describe('IPv6', () => {
    it.each([
      ['[::1]', { address: '::1' }],
      ['[::1]:2222', { address: '::1', port: 2222 }],
      ['deploy@[::1]:2222', { user: 'deploy', address: '::1', port: 2222 }],
      ['user@[fe80::1]', { user: 'user', address: 'fe80::1' }],
      ['[fe80::1%eth0]:22', { address: 'fe80::1%eth0', port: 22 }],
      ['[2001:db8::10]:22', { address: '2001:db8::10', port: 22 }],
      // Without brackets an address with several colons is taken whole: no port.
      ['::1', { address: '::1' }],
      ['2001:db8::10', { address: '2001:db8::10' }],
      ['deploy@2001:db8::10', { user: 'deploy', address: '2001:db8::10' }],
    ])('%j', (spec, expected) => {
      expect(parseHostString(spec)).toEqual(expected);
    });
  });

  it('leaves no undefined keys behind (they would override defaults when spread)', () => {
    expect(Object.keys(parseHostString('web-1'))).toEqual(['address']);
  });

  describe('errors', () => {
    function errorOf(spec: string, where?: string): ConfigError {
      try {
        parseHostString(spec, where);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return error as ConfigError;
      }
      throw new Error(`parseHostString(${JSON.stringify(spec)}) did not throw`);
    }

    it.each(['web-1:0', 'web-1:65536', 'web-1:99999', 'web-1:abc', 'web-1:', 'web-1:-1', 'web-1:22.5', '[::1]:', '[::1]:70000', 'u@[::1]:x'])(
      'rejects the bad port in %j, naming the input',
      (spec) => {
        const error = errorOf(spec);
        expect(error.message).toContain(`"${spec.trim()}"`);
        expect(error.message).toMatch(/invalid port/);
        expect(error.hint).toMatch(/1 to 65535/);
        expect(error.code).toBe('CONFIG_ERROR');
      },
    );

    it.each(['web-1:0x16', 'web-1:1e3', 'web-1: 22', 'web-1:+22', 'web-1:022.0'])('rejects %j, a port that only Number() would read', (spec) => {
      expect(errorOf(spec).message).toMatch(/invalid port/);
    });

    it.each(['', '   '])('rejects the empty host %j', (spec) => {
      expect(errorOf(spec).message).toMatch(/empty host/);
      expect(errorOf(spec).hint).toBeDefined();
    });

    it('rejects an empty user', () => {
      expect(errorOf('@web-1').message).toBe('host: "@web-1" has an empty user before @');
    });

    it.each(['deploy@', ':22', 'deploy@:22'])('rejects %j, which has no host name', (spec) => {
      expect(errorOf(spec).message).toBe(`host: "${spec}" has no host name`);
    });

    it('says where the host came from', () => {
      expect(errorOf('web-1:0', 'environments.production.hosts[2]').message).toBe(
        'environments.production.hosts[2]: "web-1:0" has an invalid port "0"',
      );
    });
  });
});
