import { expect, type Page, type TestInfo } from "@playwright/test";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
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

export const ROOT = path.resolve(__dirname, "..", "..");
export const BIN = process.env.CLAVIS_BIN ?? path.join(ROOT, "target", "release", "clavis");
export const REDIRECT = "https://app.example.com/callback";

/** Runs the `clavis` command line on the test server's database. */
export function clavis(args: string[], input?: string): string {
  return String(execFileSync(BIN, args, { cwd: ROOT, input }));
}

export function addUser(username: string) {
  clavis(["user", "add", "--username", username, "--password-stdin"], `${PASSWORD}\n`);
}

export type CliClient = { client_id: string; client_secret: string };

/** A confidential client registered with the CLI that skips the consent screen. */
export function addClient(name: string, extra: string[] = []): CliClient {
  return JSON.parse(clavis(["client", "add", "--name", name, "--redirect-uri", REDIRECT, "--no-consent", "--json", ...extra]));
}

/**
 * One session of `page`'s user with `client` (a new client named so, given a name): the
 * authorization, answered at once without a consent screen, then the code exchange. Returns the
 * access token.
 */
export async function authorize(page: Page, client: string | CliClient): Promise<string> {
  const c = typeof client === "string" ? addClient(client) : client;
  const verifier = crypto.randomBytes(32).toString("base64url");
  const challenge = crypto.createHash("sha256").update(verifier).digest("base64url");
  const q = new URLSearchParams({
    response_type: "code", client_id: c.client_id, redirect_uri: REDIRECT, scope: "read",
    state: "s", code_challenge: challenge, code_challenge_method: "S256",
  });
  // With the consent screen off, the authorization answers at once with a redirect to the app;
  // read it here (the browser's own cookies) rather than follow it to a host that does not exist.
  const answer = await page.request.get(`/oauth2/authorize?${q}`, { maxRedirects: 0 });
  expect(answer.status()).toBe(302);
  const code = new URL(answer.headers()["location"]).searchParams.get("code")!;
  const res = await page.request.post("/oauth2/token", {
    form: {
      grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier,
      client_id: c.client_id, client_secret: c.client_secret,
    },
  });
  expect(res.status()).toBe(200);
  return (await res.json()).access_token as string;
}
