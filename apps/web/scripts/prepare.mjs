// Root `prepare` (runs after `npm ci` / `npm install`): builds the web app so that `npm start` serves
// it with no other step. An install without dev dependencies (a production image that copies a
// dist built earlier) has no Vite: say so and go on.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(webDir, 'package.json'));
let vitePackage;
try {
  vitePackage = require.resolve('vite/package.json');
} catch {
  console.log('[kith] web app not built: Vite is not installed (install without dev dependencies)');
  process.exit(0);
}
const result = spawnSync(
  process.execPath,
  [join(dirname(vitePackage), 'bin/vite.js'), 'build', '--logLevel', 'warn'],
  {
    cwd: webDir,
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);
