// @ts-nocheck — a fixture for deployr's loader, not compiled with the tests: 'deployr' resolves through the loader.
export default 42;
