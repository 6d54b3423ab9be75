import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { lateBound, ROOT, type Rewind } from '../e2e/harness.js';

/** Debian's chromium (`.ci/run` installs it with apt); REWIND_CHROMIUM overrides the path. */
export const CHROMIUM = process.env.REWIND_CHROMIUM ?? '/usr/bin/chromium';

export function launchBrowser(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', ...extraArgs],
  });
}

/**
 * Launches chromium (with `extraArgs`) before the tests of this file or describe block and closes it
 * after them. A failed test leaves a picture of every page it had open (test-results/failed-…png),
 * and those pages are closed.
 */
export function useBrowser(extraArgs: readonly string[] = []): Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchBrowser(extraArgs);
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail' || !browser) return;
    const pages = browser.contexts().flatMap((c) => c.pages());
    await Promise.all(pages.map((p, i) => shot(p, `failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}-${i}`).catch(() => {})));
    await Promise.all(pages.map((p) => p.close().catch(() => {})));
  });
  afterAll(async () => {
    await browser?.close();
  });
  return lateBound('useBrowser()', () => browser);
}

/** A new browser (its own cookies) logged in with a one-time link, as a user is, then at `path`. */
export async function openPage(browser: Browser, rw: Rewind, path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(20_000);
  await page.goto(await rw.loginUrl());
  await page.goto(`${rw.url}${path}`);
  return page;
}

/** Saves a full-page screenshot as test-results/NAME.png (gitignored). */
export async function shot(page: Page, name: string): Promise<string> {
  const dir = join(ROOT, 'test-results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/**
 * An app with two components in their own folders, so each one's build is reused until its own
 * files change: `web` answers HTTP with its version, `worker` just runs.
 */
export async function twoComponentApp(web: string, worker: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rewind-duo-'));
  await writeTwoComponentApp(dir, web, worker);
  return dir;
}

export async function writeTwoComponentApp(dir: string, web: string, worker: string): Promise<void> {
  await mkdir(join(dir, 'web'), { recursive: true });
  await mkdir(join(dir, 'worker'), { recursive: true });
  await writeFile(
    join(dir, 'rewind.yml'),
    'components:\n  web:\n    path: web\n    command: node server.js\n    health:\n      path: /health\n      timeout: 20\n      interval: 0.1\n  worker:\n    path: worker\n    command: node worker.js\n',
  );
  await writeFile(
    join(dir, 'web', 'server.js'),
    `const http = require('http');
const server = http.createServer((req, res) => res.end(req.url === '/health' ? 'ok' : 'web ${web}\\n'));
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`,
  );
  await writeFile(
    join(dir, 'worker', 'worker.js'),
    `console.log('worker ${worker} started');\nsetInterval(() => {}, 1000);\nprocess.on('SIGTERM', () => process.exit(0));\n`,
  );
}
