/**
 * Resolves once `check` returns true, asked every `intervalMs`: for state that raises no event a test
 * can wait on (a process that is not our child exiting, a sampled gauge). Rejects after `timeoutMs`
 * with `what` in the message. Prefer an event (a log line, a socket frame, a broker message) when
 * there is one.
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  { what = 'condition', timeoutMs = 10_000, intervalMs = 20 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
