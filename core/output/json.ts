import type { Writable } from 'node:stream';
import type { EventListener } from '../engine/events.js';

export interface JsonViewOptions {
  /** Default: process.stdout. Nothing else may write there in --json mode. */
  stream?: Writable;
}

/**
 * `--json`: every event as one line of JSON (NDJSON), exactly
 * `JSON.stringify(event)`, so `jq` and log shippers read the same typed
 * stream the views do. Command text and output are masked already.
 */
export function createJsonView(options: JsonViewOptions = {}): EventListener {
  const stream = options.stream ?? process.stdout;
  return (event) => {
    stream.write(JSON.stringify(event) + '\n');
  };
}
