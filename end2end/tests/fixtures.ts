import { expect, type Page, type TestInfo } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";

export const ADMIN = "e2e-admin";
export const USER = "e2e-user";
export const PASSWORD = "e2e correct horse";

/** Opens `url` and waits until the WASM has hydrated the page (a click before would be lost). */
export async function open(page: Page, url: string) {
  await page.goto(url);
  await page.locator("body[data-hydrated=true]").waitFor();
}

export async function signIn(page: Page, username: string, password = PASSWORD) {
  await open(page, "/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Keeps a full-page screenshot as a test artifact (end2end/screenshots and the report). */
export async function shot(page: Page, testInfo: TestInfo, name: string) {
  const dir = path.join(__dirname, "..", "screenshots");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: "image/png" });
}

/**
 * Fails the test on any browser console error: CSP violations and hydration errors show up there.
 * `expected` lists messages the test provokes on purpose (e.g. Chromium logs a 403 page load).
 */
export function watchConsole(page: Page, expected: RegExp[] = []): () => void {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !expected.some((re) => re.test(m.text()))) errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  return () => expect(errors, "browser console errors").toEqual([]);
}

/**
 * Puts `url` in an iframe of a page on the same site (served by the browser itself, with no
 * policy of its own, so the session cookie goes along as it would for a same-site attacker page),
 * waits for Chromium's own refusal by CSP frame-ancestors, and checks that the frame shows
 * Chromium's error page and no `button`.
 */
export async function expectFramingRefused(page: Page, url: string, button: string) {
  const framer = `${new URL(url).origin}/__framing-test`;
  await page.route(framer, (route) =>
    route.fulfill({
      status: 200,
      contentType: "text/html",
      body: `<!doctype html><title>framer</title><iframe id="f" src="${url}" width="600" height="400"></iframe>`,
    }),
  );
  const refused = page.waitForEvent("console", (m) => m.text().includes("frame-ancestors 'none'"));
  await page.goto(framer);
  expect((await refused).text()).toMatch(/^Framing '.*' violates .* The request has been blocked/s);
  const frame = page.frames().find((f) => f !== page.mainFrame());
  expect(frame, "the iframe exists").toBeTruthy();
  await expect.poll(() => frame!.url()).toBe("chrome-error://chromewebdata/");
  await expect(frame!.locator("body")).toContainText("refused to connect");
  await expect(frame!.getByRole("button", { name: button })).toHaveCount(0);
}
