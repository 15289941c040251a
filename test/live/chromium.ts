/**
 * Debian's Chromium for the HTML tests (playwright-core drives it): where it is, whether a test
 * skips without it (a laptop) or fails (CI: PERISCOPE_REQUIRE_LIVE=1), and a launch with the
 * flags that keep it off the network.
 */
import { access } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';
import { requireLive } from './env.js';

export const CHROMIUM = '/usr/bin/chromium';

/** false when Chromium is there; otherwise why the test skips (or, under PERISCOPE_REQUIRE_LIVE=1, a thrown error). */
export async function chromiumSkip(): Promise<string | false> {
  const present = await access(CHROMIUM).then(
    () => true,
    () => false,
  );
  if (!present && requireLive) throw new Error(`the HTML test needs ${CHROMIUM} (apt-get install chromium); PERISCOPE_REQUIRE_LIVE=1 forbids skipping`);
  return present ? false : `skipped: ${CHROMIUM} is not installed (apt-get install chromium)`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
}
