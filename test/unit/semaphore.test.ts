import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../core/util/semaphore.js';

/** Lets queued promise callbacks run. */
const settle = (): Promise<void> => sleep(0);

describe('Semaphore', () => {
  it.each([0, -1, 1.5, Number.NaN])('rejects size %s', (size) => {
    expect(() => new Semaphore(size)).toThrow(RangeError);
  });

  it('grants up to its size at once, then queues', async () => {
    const semaphore = new Semaphore(2);
    await semaphore.acquire();
    await semaphore.acquire();
    let third = false;
    void semaphore.acquire().then(() => (third = true));
    await settle();
    expect(third).toBe(false);
    expect(semaphore.pending).toBe(1);
  });

  it('hands slots to waiters in the order they asked (FIFO)', async () => {
    const semaphore = new Semaphore(1);
    const first = await semaphore.acquire();
    const order: number[] = [];
    const releases: Array<() => void> = [];
    const waiters = Array.from({ length: 10 }, (_, i) =>
      semaphore.acquire().then((release) => {
        order.push(i);
        releases.push(release);
      }),
    );
    expect(semaphore.pending).toBe(10);
    first();
    for (let i = 0; i < 10; i++) {
      await settle();
      expect(order).toEqual(Array.from({ length: i + 1 }, (_, j) => j)); // exactly one more, the next in line
      releases[i]!();
    }
    await Promise.all(waiters);
    expect(semaphore.pending).toBe(0);
  });

  it('serves an urgent waiter before the ones already queued', async () => {
    const semaphore = new Semaphore(1);
    const release = await semaphore.acquire();
    const order: string[] = [];
    const queued = semaphore.acquire().then((free) => (order.push('queued'), free));
    const urgent = semaphore.acquire(undefined, true).then((free) => (order.push('urgent'), free));
    release();
    (await urgent)();
    (await queued)();
    expect(order).toEqual(['urgent', 'queued']);
  });

  it('does not let a newcomer barge in ahead of a waiter', async () => {
    const semaphore = new Semaphore(1);
    const release = await semaphore.acquire();
    const order: string[] = [];
    const waiter = semaphore.acquire().then((r) => {
      order.push('waiter');
      return r;
    });
    release();
    // The slot went straight to the waiter, so this newcomer has to queue.
    const newcomer = semaphore.acquire().then((r) => {
      order.push('newcomer');
      return r;
    });
    (await waiter)();
    (await newcomer)();
    expect(order).toEqual(['waiter', 'newcomer']);
  });

  it('never runs more than its size under load, and does use every slot', async () => {
    const semaphore = new Semaphore(3);
    let running = 0;
    let peak = 0;
    let done = 0;
    // Deterministic, uneven task lengths.
    const delays = Array.from({ length: 60 }, (_, i) => (i * 7919) % 13);
    await Promise.all(
      delays.map((delay) =>
        semaphore.run(async () => {
          running += 1;
          peak = Math.max(peak, running);
          await sleep(delay);
          running -= 1;
          done += 1;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(done).toBe(60);
    expect(running).toBe(0);
    expect(semaphore.pending).toBe(0);
  });

  it('run() frees the slot when the task throws', async () => {
    const semaphore = new Semaphore(1);
    await expect(semaphore.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(semaphore.run(async () => 'next')).resolves.toBe('next');
  });

  it('ignores a second call of the same release', async () => {
    const semaphore = new Semaphore(1);
    const release = await semaphore.acquire();
    release();
    release();
    await semaphore.acquire();
    let extra = false;
    void semaphore.acquire().then(() => (extra = true));
    await settle();
    expect(extra).toBe(false); // the double release did not create a second slot
  });

  describe('abort', () => {
    it('rejects a waiter with the signal reason and removes it from the queue', async () => {
      const semaphore = new Semaphore(1);
      const release = await semaphore.acquire();
      const controller = new AbortController();
      const aborted = semaphore.acquire(controller.signal);
      const next = semaphore.acquire();
      expect(semaphore.pending).toBe(2);

      const reason = new Error('deploy cancelled');
      controller.abort(reason);
      await expect(aborted).rejects.toBe(reason);
      expect(semaphore.pending).toBe(1);

      // The slot skips the aborted waiter and goes to the next one.
      release();
      const nextRelease = await next;
      nextRelease();
      await expect(semaphore.acquire()).resolves.toBeTypeOf('function'); // no slot was lost
    });

    it('rejects at once for an already aborted signal, taking no slot', async () => {
      const semaphore = new Semaphore(1);
      await expect(semaphore.acquire(AbortSignal.abort(new Error('too late')))).rejects.toThrow('too late');
      expect(semaphore.pending).toBe(0);
      const release = await semaphore.acquire(); // the one slot is still free
      release();
    });

    it('does nothing to a slot already granted', async () => {
      const semaphore = new Semaphore(1);
      const controller = new AbortController();
      const release = await semaphore.acquire(controller.signal);
      controller.abort();
      let other = false;
      void semaphore.acquire().then(() => (other = true));
      await settle();
      expect(other).toBe(false); // still held
      release();
      await settle();
      expect(other).toBe(true);
    });

    it('run() with an aborted wait never runs the task', async () => {
      const semaphore = new Semaphore(1);
      const release = await semaphore.acquire();
      const controller = new AbortController();
      let ran = false;
      const result = semaphore.run(async () => {
        ran = true;
      }, controller.signal);
      controller.abort();
      await expect(result).rejects.toBeDefined();
      release();
      await settle();
      expect(ran).toBe(false);
    });
  });
});
