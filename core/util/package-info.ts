import { readFileSync } from 'node:fs';

/**
 * deployr's own package.json, found from this file whether it runs compiled
 * (dist/core/util/) or from the sources (core/util/, under tsx or vitest).
 */
export function packageInfo(): { name: string; version: string } {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'deployr' && pkg.version) return { name: pkg.name, version: pkg.version };
    } catch {
      // not this level
    }
  }
  return { name: 'deployr', version: '0.0.0' };
}
