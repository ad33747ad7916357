// Debian's Chromium as every test starts it: headless, and with the flags this machine's closed
// network needs (without the background-networking ones, Chromium's own connections are refused
// many at a time).
export const CHROMIUM_BIN = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Chromium through playwright-core, with the flags above and `extraArgs`. */
export async function launchChromium(extraArgs = []) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM_BIN, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}
