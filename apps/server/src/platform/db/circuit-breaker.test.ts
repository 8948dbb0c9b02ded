import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.ts';

function breaker(failureThreshold = 3, resetTimeoutMs = 1000) {
  const clock = { now: 0 };
  const changes: [CircuitState, CircuitState][] = [];
  const b = new CircuitBreaker({
    name: 'test',
    failureThreshold,
    resetTimeoutMs,
    now: () => clock.now,
    onStateChange: ({ from, to }) => changes.push([from, to]),
  });
  return { b, clock, changes };
}

describe('CircuitBreaker', () => {
  it('stays closed until the threshold of consecutive failures; a success starts the count again', () => {
    const { b, changes } = breaker(3);
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    expect(b.acquire()).toBe(true);
    expect(b.consecutiveFailures).toBe(2);
    b.failure();
    expect(b.state).toBe('open');
    expect(changes).toEqual([['closed', 'open']]);
  });

  it('refuses calls while open and says how long until a probe may go', () => {
    const { b, clock } = breaker(1, 1000);
    b.failure();
    expect(b.acquire()).toBe(false);
    expect(b.allowsCalls).toBe(false);
    expect(b.retryAfterMs()).toBe(1000);
    clock.now = 400;
    expect(b.acquire()).toBe(false);
    expect(b.retryAfterMs()).toBe(600);
  });

  it('lets exactly one probe through once the reset timeout has passed; its success closes the circuit', () => {
    const { b, clock, changes } = breaker(1, 1000);
    b.failure();
    clock.now = 1000;
    expect(b.state).toBe('half_open');
    expect(b.retryAfterMs()).toBe(0);
    expect(b.allowsCalls).toBe(true);
    expect(b.acquire()).toBe(true); // the probe
    expect(b.allowsCalls).toBe(false);
    expect(b.acquire()).toBe(false); // others wait for its outcome
    b.success();
    expect(b.state).toBe('closed');
    expect(b.acquire()).toBe(true);
    expect(b.acquire()).toBe(true);
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half_open'],
      ['half_open', 'closed'],
    ]);
  });

  it('a failed probe opens the circuit again for another reset timeout', () => {
    const { b, clock, changes } = breaker(2, 1000);
    b.failure();
    b.failure();
    clock.now = 1500;
    expect(b.acquire()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    expect(b.retryAfterMs()).toBe(1000);
    clock.now = 2499;
    expect(b.acquire()).toBe(false);
    clock.now = 2500;
    expect(b.acquire()).toBe(true);
    expect(changes.map(([, to]) => to)).toEqual(['open', 'half_open', 'open', 'half_open']);
  });

  it('a late failure while open does not push the probe back; a late success closes it', () => {
    const { b, clock } = breaker(1, 1000);
    b.failure();
    clock.now = 900;
    b.failure();
    expect(b.retryAfterMs()).toBe(100);
    b.success();
    expect(b.state).toBe('closed');
  });

  it('refuses nonsensical options', () => {
    expect(() => new CircuitBreaker({ name: 'x', failureThreshold: 0, resetTimeoutMs: 1 })).toThrow(
      RangeError,
    );
    expect(() => new CircuitBreaker({ name: 'x', failureThreshold: 1, resetTimeoutMs: -1 })).toThrow(
      RangeError,
    );
  });
});
