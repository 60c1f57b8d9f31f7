import { describe, expect, it } from 'vitest';
import { createJsonView } from '../../core/output/json.js';
import { commandError, Events, Sink } from './helpers.js';

describe('json view', () => {
  it('writes each event as one line of exactly JSON.stringify(event), and nothing else', () => {
    const e = new Events();
    const events = [
      e.runStart(['web-1', 'db-1'], { dryRun: true }),
      ...e.task('web-1', 'upload', () =>
        e.command('web-1', 'c1', "echo 'multi\nline' ***", ['out\nwith "quotes" and \u2028 and \\ and ***\n', ['stderr', 'partial']]),
      ),
      e.event('warning', { message: 'w' }),
      e.event('log', { host: 'db-1', level: 'debug', message: 'd' }),
      e.runEnd([{ host: 'db-1', task: 'upload', error: commandError('db-1') }]),
    ];
    const sink = new Sink();
    const listener = createJsonView({ stream: sink });
    for (const event of events) listener(event);

    expect(sink.text.endsWith('\n')).toBe(true);
    const lines = sink.lines;
    expect(lines).toEqual(events.map((event) => JSON.stringify(event)));
    expect(lines.map((line) => JSON.parse(line))).toEqual(events);
  });
});
