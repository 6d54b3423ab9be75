/**
 * The console at phone width (390 px, issue 10 item 19): no page scrolls sideways, and no
 * Rollback button overlaps the text beside it.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useRewind } from '../e2e/harness.js';
import { shot, twoComponentApp, useBrowser } from './browser.js';

describe('console at phone width', () => {
  const rw = useRewind();
  const browser = useBrowser();
  let release = '';

  beforeAll(async () => {
    expect((await rw.cli(['apps', 'create', 'a-rather-long-app-name-for-a-phone'])).code).toBe(0);
    for (const v of ['v1', 'v2']) {
      const r = await rw.cli([
        'deploy',
        await twoComponentApp(v, v),
        '-a',
        'a-rather-long-app-name-for-a-phone',
        '-d',
        `${v}: a description long enough to wrap on a phone screen`,
      ]);
      expect(r.code, r.stderr).toBe(0);
    }
    const releases = (await rw.api<Array<{ id: string }>>('/api/apps/a-rather-long-app-name-for-a-phone/releases')).body;
    release = releases[1].id;
    // An app installed from a template and upgraded once: its overview shows the upgrade records.
    const ok = (args: string[]) => rw.ok(args);
    await ok(['templates', 'publish', 'phone-template-with-a-long-name@1.0.0', '-a', 'a-rather-long-app-name-for-a-phone']);
    await ok(['templates', 'install', 'phone-template-with-a-long-name', '--as', 'installed-from-the-template']);
    await ok(['deploy', await twoComponentApp('v3', 'v3'), '-a', 'a-rather-long-app-name-for-a-phone', '-d', 'v3']);
    await ok(['templates', 'publish', 'phone-template-with-a-long-name@2.0.0', '-a', 'a-rather-long-app-name-for-a-phone']);
    await ok(['templates', 'upgrade', '-a', 'installed-from-the-template', '--yes']);
  });

  /** What is wrong with the page as laid out: sideways scrolling, buttons covered or covering. */
  const problems = (page: Page) =>
    page.evaluate(() => {
      const out: string[] = [];
      const width = document.documentElement.clientWidth;
      const sw = document.documentElement.scrollWidth;
      if (sw > width + 1) {
        // Name what reaches the far edge, to say what to fix.
        const at = Array.from(document.querySelectorAll('body *')).filter((el) => Math.abs(el.getBoundingClientRect().right - sw) < 3);
        out.push(
          `scrolls sideways: ${sw} > ${width} (${at
            .slice(0, 3)
            .map((el) => `${el.tagName.toLowerCase()}.${el.className} in ${el.parentElement?.tagName.toLowerCase()}`)
            .join(', ')})`,
        );
      }
      // Inside a box that scrolls by itself (a tab strip, a wide table, a log) is fine, if the box fits.
      const inScroller = (el: Element) => {
        for (let p = el.parentElement; p; p = p.parentElement) {
          if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return p.getBoundingClientRect().right <= width + 1;
        }
        return false;
      };
      for (const el of Array.from(document.querySelectorAll('body *'))) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.right > width + 1 && getComputedStyle(el).position !== 'fixed' && !inScroller(el))
          out.push(`${el.tagName.toLowerCase()}.${el.className} ends at ${Math.round(r.right)}`);
      }
      for (const button of Array.from(document.querySelectorAll('button'))) {
        if (!/roll ?back/i.test(button.textContent ?? '')) continue;
        const b = button.getBoundingClientRect();
        if (b.width === 0) continue;
        const hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
        if (hit && hit !== button && !button.contains(hit)) out.push(`"${button.textContent}" is covered by ${hit.tagName.toLowerCase()}`);
        for (const sib of Array.from(button.parentElement?.children ?? [])) {
          if (sib === button) continue;
          const s = sib.getBoundingClientRect();
          if (s.width && s.height && s.left < b.right - 1 && s.right > b.left + 1 && s.top < b.bottom - 1 && s.bottom > b.top + 1)
            out.push(`"${button.textContent}" overlaps ${sib.tagName.toLowerCase()} "${(sib.textContent ?? '').slice(0, 30)}"`);
        }
      }
      return [...new Set(out)].slice(0, 10);
    });

  it('scrolls no page sideways and overlaps no Rollback button', { timeout: 120_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(await rw.loginUrl());
    const app = '/apps/a-rather-long-app-name-for-a-phone';
    const found: Record<string, string[]> = {};
    for (const path of [
      '/',
      app,
      `${app}/releases`,
      `${app}/releases/${release}`,
      `${app}/deployments`,
      `${app}/config`,
      `${app}/components/web`,
      `${app}/activity`,
      `${app}/pipelines`,
      '/apps/installed-from-the-template',
    ]) {
      await page.goto(`${rw.url}${path}`);
      await page.locator('main h1').first().waitFor();
      // Loaded: nothing says "Loading…" any more.
      await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));
      const p = await problems(page);
      await shot(page, `phone${path.replace(/\W+/g, '-').replace(/-a-rather-long-app-name-for-a-phone/, '')}`);
      if (p.length) found[path] = p;
    }
    expect(found).toEqual({});
    await context.close();
  });
});
