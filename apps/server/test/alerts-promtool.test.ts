import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const run = promisify(execFile);
const prometheusDir = fileURLToPath(new URL('../../../deploy/prometheus/', import.meta.url));
const promtool = await run('promtool', ['--version']).then(
  () => 'promtool',
  () => undefined,
);

interface RulesFile {
  groups: { rules: { alert?: string; record?: string }[] }[];
}
interface TestsFile {
  tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

describe('Prometheus alert rules', async () => {
  const rules = parse(await readFile(`${prometheusDir}alerts.yml`, 'utf8')) as RulesFile;
  const testFiles = ['alerts.test.yml', 'alerts-long.test.yml'];
  const tests: TestsFile = { tests: [] };
  for (const file of testFiles) {
    tests.tests.push(...(parse(await readFile(`${prometheusDir}${file}`, 'utf8')) as TestsFile).tests);
  }
  const alerts = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));

  it('has a unit test in which each alert fires', () => {
    const firing = new Set(
      tests.tests.flatMap((t) =>
        (t.alert_rule_test ?? []).filter((c) => (c.exp_alerts ?? []).length > 0).map((c) => c.alertname),
      ),
    );
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts.filter((a) => !firing.has(a))).toEqual([]);
  });

  // CI installs Debian's prometheus package for promtool; elsewhere the rules are still parsed above
  it.skipIf(!promtool)(
    'passes `promtool check rules` and `promtool test rules`',
    async () => {
      const check = await run(promtool!, ['check', 'rules', 'alerts.yml'], { cwd: prometheusDir });
      expect(check.stdout).toContain('SUCCESS');
      const result = await run(promtool!, ['test', 'rules', ...testFiles], { cwd: prometheusDir }).catch(
        (err: { stdout?: string; stderr?: string }) => {
          throw new Error(`promtool test rules failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
        },
      );
      expect(result.stdout).toContain('SUCCESS');
      expect(result.stdout).not.toContain('FAILED');
    },
    180_000,
  );
});
