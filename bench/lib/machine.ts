import { cpus, loadavg, totalmem } from 'node:os';

/** What the figures were measured on: they are only comparable within one run on one machine. */
export function machine() {
  const cores = cpus();
  return {
    cpu: cores[0]?.model ?? 'unknown',
    cores: cores.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    /** 1-minute load average when the result was written: other work on the machine skews every figure. */
    loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
  };
}
