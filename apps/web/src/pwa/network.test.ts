import { onlineManager } from '@tanstack/react-query';
import { afterEach, describe, expect, it } from 'vitest';
import { markReachable, RECHECK_EVERY_MS, watchNetwork } from './network.ts';

function fakeBrowser(onLine: boolean) {
  const target = new EventTarget();
  const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' as DocumentVisibilityState });
  const intervals = new Map<number, () => void>();
  let next = 1;
  const browser = {
    onLine,
    target,
    doc,
    intervals,
    /** One tick of every interval timer (each runs every RECHECK_EVERY_MS). */
    tick() {
      for (const fn of [...intervals.values()]) fn();
    },
  };
  watchNetwork({
    target: target as unknown as Window,
    document: doc as unknown as Document,
    onLine: () => browser.onLine,
    setInterval: (fn, ms) => {
      expect(ms).toBe(RECHECK_EVERY_MS);
      intervals.set(next, fn);
      return next++;
    },
    clearInterval: (h) => intervals.delete(h as number),
  });
  return browser;
}

describe('watchNetwork', () => {
  afterEach(() => {
    onlineManager.setEventListener(() => undefined);
    onlineManager.setOnline(true);
  });

  it('starts from navigator.onLine', () => {
    fakeBrowser(false);
    expect(onlineManager.isOnline()).toBe(false);
    fakeBrowser(true);
    expect(onlineManager.isOnline()).toBe(true);
  });

  it('follows the online and offline events', () => {
    const b = fakeBrowser(true);
    b.onLine = false;
    b.target.dispatchEvent(new Event('offline'));
    expect(onlineManager.isOnline()).toBe(false);
    b.onLine = true;
    b.target.dispatchEvent(new Event('online'));
    expect(onlineManager.isOnline()).toBe(true);
    expect(b.intervals.size).toBe(0);
  });

  it('notices the network back with no online event: on the timer while offline (only then)', () => {
    const b = fakeBrowser(false);
    expect(b.intervals.size).toBe(1);
    b.tick();
    expect(onlineManager.isOnline()).toBe(false);
    b.onLine = true; // Firefox: a page loaded under offline emulation hears no `online`
    b.tick();
    expect(onlineManager.isOnline()).toBe(true);
    expect(b.intervals.size).toBe(0);
  });

  it('notices it when the tab becomes visible or gets the focus', () => {
    const b = fakeBrowser(false);
    b.onLine = true;
    b.doc.visibilityState = 'hidden';
    b.doc.dispatchEvent(new Event('visibilitychange'));
    expect(onlineManager.isOnline()).toBe(false);
    b.doc.visibilityState = 'visible';
    b.doc.dispatchEvent(new Event('visibilitychange'));
    expect(onlineManager.isOnline()).toBe(true);

    b.onLine = false;
    b.target.dispatchEvent(new Event('offline'));
    b.onLine = true;
    b.target.dispatchEvent(new Event('focus'));
    expect(onlineManager.isOnline()).toBe(true);
  });

  it('an answer from the server says online, and a check does not overrule it', () => {
    const b = fakeBrowser(false);
    markReachable();
    expect(onlineManager.isOnline()).toBe(true);
    b.tick(); // navigator.onLine still false: the timer stops, the state stays
    expect(onlineManager.isOnline()).toBe(true);
    expect(b.intervals.size).toBe(0);
  });
});
