// @ts-nocheck — a fixture for deployr's loader, not compiled with the tests: 'deployr' resolves through the loader.
import { defineConfig } from 'deployr';

import { hosts } from './hosts.js';

export default defineConfig({ app: 'shop', environments: { prod: { hosts } } });
