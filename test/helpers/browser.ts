import fs from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { FACTORY_PASSWORD, type TestUser } from './factories';

/** Debian's Chromium (npm cannot download browsers); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts', 'e2e');

/** A headless Chromium that reaches nothing but the test server. */
export function launchChromium(): Promise<Browser> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** The app on a free loopback port, with its base URL. */
export async function listen(app: Express): Promise<{ server: Server; base: string; close(): Promise<void> }> {
  const server = await new Promise<Server>((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
  return {
    server,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    // Keep-alive connections of a browser would hold close() open; they have nothing left to answer.
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

export const screenshot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

/** A fresh browser context signed in by the login form, as a person would. */
export async function signIn(
  browser: Browser, base: string, user: TestUser, opts: { locale?: string; javaScriptEnabled?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: opts.locale ?? 'en-US', javaScriptEnabled: opts.javaScriptEnabled ?? true, timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill('#username', user.username);
  await page.fill('#password', FACTORY_PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button[type=submit].primary')]);
  return { context, page };
}
