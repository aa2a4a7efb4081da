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
