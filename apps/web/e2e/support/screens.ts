import { join } from 'node:path';
import { expect } from 'vitest';
import { axeViolations } from './axe.ts';
import { ARTIFACTS, type E2EPage } from './browsers.ts';

/** axe in both themes, and screenshots of the screen at 360×800 and 1280×800 in each. */
export async function checkScreen(page: E2EPage, engine: string, screen: string) {
  for (const scheme of ['light', 'dark'] as const) {
    await page.colorScheme(scheme);
    expect(await axeViolations(page), `${screen} in ${scheme}`).toEqual([]);
    for (const [w, h] of [
      [360, 800],
      [1280, 800],
    ] as const) {
      await page.viewport(w, h);
      await page.screenshot(join(ARTIFACTS, engine, `${screen}-${scheme}-${w}x${h}.png`));
    }
  }
  await page.viewport(1280, 800);
  await page.colorScheme('light');
}
