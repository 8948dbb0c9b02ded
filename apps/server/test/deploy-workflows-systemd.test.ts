import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_DIR } from './helpers/process.ts';

// .github/workflows validated against GitHub's workflow schema (@action-validator/core), and the
// systemd units with `systemd-analyze verify`.
const WORKFLOWS = join(REPO_DIR, '.github/workflows');
const SYSTEMD = join(REPO_DIR, 'deploy/systemd');
const ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
if (!ANALYZE) console.warn('deploy-systemd: `systemd-analyze verify` skipped, not installed');
const rootScripts = JSON.parse(readFileSync(join(REPO_DIR, 'package.json'), 'utf8')).scripts as Record<
  string,
  string
>;

describe('GitHub workflows', () => {
  it.each(['ci.yml', 'deploy.yml'])('%s is a valid workflow', (file) => {
    const result = validateWorkflow(readFileSync(join(WORKFLOWS, file), 'utf8'));
    expect(result.errors).toEqual([]);
  });

  it('CI runs every gate: lint, typecheck, contract, migration safety, tests, image build and scan', () => {
    const ci = readFileSync(join(WORKFLOWS, 'ci.yml'), 'utf8');
    for (const run of ['lint', 'typecheck', 'contract', 'migration:safety', 'build', 'image:check']) {
      expect(ci, run).toMatch(new RegExp(`npm run ${run}\\b`));
      expect(rootScripts[run], `package.json script ${run}`).toBeDefined();
    }
    expect(ci).toMatch(/npm test\b/);
    expect(ci).toContain('aquasecurity/trivy-action');
    const services = parse(ci).jobs.test.services;
    expect(Object.keys(services).sort()).toEqual(['postgres', 'redis']);
  });

  it('deploys one digest to staging, then production, and rolls back by digest', () => {
    const deploy = parse(readFileSync(join(WORKFLOWS, 'deploy.yml'), 'utf8'));
    expect(deploy.jobs.production.needs).toEqual(['build', 'staging']);
    const steps = (job: string) => JSON.stringify(deploy.jobs[job].steps);
    expect(steps('staging')).toContain('needs.build.outputs.digest');
    expect(steps('production')).toContain('needs.build.outputs.digest');
    expect(steps('rollback')).toContain('inputs.rollback_to');
    for (const job of ['staging', 'production', 'rollback'])
      expect(steps(job)).toContain('scripts/smoke-test.sh');
    for (const script of ['k8s-deploy.sh', 'smoke-test.sh'])
      expect(existsSync(join(REPO_DIR, 'scripts', script))).toBe(true);
    // the deploy script refuses tags: production runs what staging ran, bit for bit
    const refused = spawnSync(
      'bash',
      [join(REPO_DIR, 'scripts/k8s-deploy.sh'), 'deploy/k8s/overlays/production', 'kith:latest'],
      {
        encoding: 'utf8',
      },
    );
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('deploy by digest');
  });
});

describe('systemd units', () => {
  it('sandbox every role', () => {
    const unit = readFileSync(join(SYSTEMD, 'kith@.service'), 'utf8');
    for (const line of [
      'ProtectSystem=strict',
      'NoNewPrivileges=yes',
      'PrivateTmp=yes',
      'User=kith',
      'Restart=on-failure',
      'CapabilityBoundingSet=',
      'KillSignal=SIGTERM',
    ])
      expect(unit).toContain(`\n${line}\n`);
    expect(unit).toMatch(
      /ExecStart=\/usr\/bin\/node --conditions=kith-dist --enable-source-maps .*dist\/main\.js --role %i/,
    );
    expect(readFileSync(join(SYSTEMD, 'kith-migrate.service'), 'utf8')).toContain('database_url_direct');
  });

  it.skipIf(!ANALYZE)('pass systemd-analyze verify', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kith-systemd-'));
    for (const f of ['kith@.service', 'kith-migrate.service', 'kith.target'])
      copyFileSync(join(SYSTEMD, f), join(dir, f));
    copyFileSync(join(SYSTEMD, 'kith@.service'), join(dir, 'kith@api.service'));
    const result = spawnSync(
      ANALYZE!,
      ['verify', '--man=no', './kith@api.service', './kith-migrate.service', './kith.target'],
      {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:`, SYSTEMD_LOG_LEVEL: 'notice' },
      },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
