// Type of the values global-setup.ts hands to test files through vitest's
// project.provide() / inject(). Imported for its side effect on the types only.
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    /** Absolute path of the running fleet's state.json. */
    fleetStatePath: string;
  }
}
