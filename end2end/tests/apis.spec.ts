import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

import { ADMIN, PASSWORD, USER, open, shot, signIn, watchConsole } from "./fixtures";

const root = path.resolve(__dirname, "..", "..");
const bin = process.env.CLAVIS_BIN ?? path.join(root, "target", "release", "clavis");
const REDIRECT = "https://app.example.com/callback";
// This run's own names: the database is shared with the other specs.
const RUN = crypto.randomBytes(4).toString("hex");

function cli(args: string[]) {
  return JSON.parse(String(execFileSync(bin, args, { cwd: root })));
}

function pkce() {
  const verifier = crypto.randomBytes(32).toString("base64url");
  const challenge = crypto.createHash("sha256").update(verifier).digest("base64url");
  return { verifier, challenge };
}

/**
 * A separate HTTP service that protects itself with Clavis, as the README's Node example does:
 * each bearer token is checked at the introspection endpoint with the service's own
 * credentials, and an answer is cached for at most 5 seconds.
 */
async function startOrdersService(issuer: string, credentials: () => { id: string; secret: string }) {
  const cache = new Map<string, { answer: any; until: number }>();
  async function check(token: string) {
    const hit = cache.get(token);
    if (hit && hit.until > Date.now()) return hit.answer.active ? hit.answer : null;
    const { id, secret } = credentials();
    const res = await fetch(`${issuer}/oauth2/introspect`, {
      method: "POST",
      headers: { authorization: "Basic " + Buffer.from(`${id}:${secret}`).toString("base64") },
      body: new URLSearchParams({ token }),
    });
    if (!res.ok) return null;
    const answer = await res.json();
    cache.set(token, { answer, until: Date.now() + 5000 });
    return answer.active ? answer : null;
  }
  const server = http.createServer(async (req, res) => {
    const auth = req.headers.authorization ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice("Bearer ".length) : "";
    const info = token ? await check(token) : null;
    if (!info) {
      res.writeHead(401, { "www-authenticate": 'Bearer error="invalid_token"', "content-type": "application/json" });
      res.end(JSON.stringify({ error: "invalid_token" }));
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ orders: [], user: info.username, aud: info.aud, scope: info.scope }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, base: `http://127.0.0.1:${port}` };
}

async function callService(base: string, token: string) {
  const res = await fetch(`${base}/orders`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

/** Authorize (as USER, signing in on the way), Allow, exchange: the token response. */
async function tokensThroughBrowser(
  page: Page,
  request: any,
  client: { client_id: string; client_secret: string },
  extra: Record<string, string>,
  onConsent?: () => Promise<void>,
) {
  const { verifier, challenge } = pkce();
  const q = new URLSearchParams({
    response_type: "code",
    client_id: client.client_id,
    redirect_uri: REDIRECT,
    state: "s",
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...extra,
  });
  await page.goto(`/oauth2/authorize?${q}`);
  if (page.url().includes("/login")) {
    await page.locator("body[data-hydrated=true]").waitFor();
    await page.getByLabel("Username").fill(USER);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
  }
  await expect(page.getByRole("button", { name: "Allow" })).toBeVisible();
  if (onConsent) await onConsent();
  await page.getByRole("button", { name: "Allow" }).click();
  await expect(page.getByRole("heading", { name: "Example app callback" })).toBeVisible();
  const code = new URL(page.url()).searchParams.get("code")!;
  const res = await request.post("/oauth2/token", {
    form: {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_id: client.client_id,
      client_secret: client.client_secret,
    },
  });
  expect(res.status()).toBe(200);
  return res.json();
}

test("register an API in the admin pages; a service protects itself with Clavis", async ({ page, browser, request, baseURL }, testInfo) => {
  const noErrors = watchConsole(page);
  let credentials = { id: "", secret: "" };
  const service = await startOrdersService(baseURL!, () => credentials);
  try {
    const identifier = `${service.base}/orders-${RUN}`;
    const name = `Orders ${RUN}`;

    // The administrator registers the API in the browser.
    await signIn(page, ADMIN);
    // The sign-in's own navigation ends first: a page opened meanwhile would race it.
    await expect(page).toHaveURL(/\/admin\/clients$/);
    await open(page, "/admin/apis");
    await expect(page.getByRole("link", { name: "APIs" })).toBeVisible();
    await expect(page.getByRole("cell", { name: `${baseURL}/api/v1` })).toBeVisible();
    await page.getByRole("button", { name: "Add API" }).click();
    await page.locator("body[data-hydrated=true]").waitFor();
    await page.getByLabel("Name").fill(name);
    await page.getByLabel("Identifier").fill("http://orders.example.com");
    await page.getByRole("button", { name: "Add API" }).click();
    await expect(page.getByText("Identifier must use https")).toBeVisible();
    await page.getByLabel("Identifier").fill(identifier);
    await page.getByRole("button", { name: "Add API" }).click();
    await expect(page.getByRole("heading", { name })).toBeVisible();
    const secret = (await page.locator("#new-client-secret").textContent())!.trim();
    const clientId = (await page.locator("#api-client-id").textContent())!.trim();
    expect(secret).toHaveLength(43);
    expect(clientId).toMatch(/^api_/);
    await expect(page.getByText(`${baseURL}/oauth2/introspect`)).toBeVisible();
    await expect(page.locator("#api-identifier")).toHaveText(identifier);
    await shot(page, testInfo, "api-details");
    credentials = { id: clientId, secret };

    // A reload shows the secret no more.
    await open(page, page.url());
    await expect(page.locator("#new-client-secret")).toHaveCount(0);
    await open(page, `/admin/apis?search=${RUN}`);
    await expect(page.getByRole("link", { name })).toBeVisible();
    await shot(page, testInfo, "apis-list");

    // A client asks for a token for the API: the consent page names it.
    const client = cli(["client", "add", "--name", `Order Desk ${RUN}`, "--redirect-uri", REDIRECT, "--json"]);
    const user = await browser.newPage();
    await user.route("https://app.example.com/**", (route) =>
      route.fulfill({ status: 200, contentType: "text/html", body: "<h1>Example app callback</h1>" }),
    );
    const tokens = await tokensThroughBrowser(user, request, client, { resource: identifier }, async () => {
      await expect(user.locator(".consent-api")).toHaveText(name);
      await expect(user.getByText("127.0.0.1")).toBeVisible();
      await shot(user, testInfo, "consent-api");
    });

    // The service accepts it and knows who it is for.
    const ok = await callService(service.base, tokens.access_token);
    expect(ok.status).toBe(200);
    expect(ok.body.user).toBe(USER);
    expect(ok.body.aud).toBe(identifier);
    // Clavis's own API refuses it: it is not for that API.
    const me = await request.get("/api/v1/me", { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect(me.status()).toBe(401);

    // A token for another API (here the built-in one) is refused by the service.
    const other = await tokensThroughBrowser(user, request, client, {});
    expect((await request.get("/api/v1/me", { headers: { Authorization: `Bearer ${other.access_token}` } })).status()).toBe(200);
    expect((await callService(service.base, other.access_token)).status).toBe(401);
    expect((await callService(service.base, "made-up")).status).toBe(401);

    // The administrator limits the client to the Orders API in its form: without `resource`
    // its tokens are now for Orders.
    await open(page, `/admin/clients/${client.client_id}/edit`);
    await page.getByText("Advanced").click();
    await page.getByLabel("Only these:").check();
    await page.getByRole("checkbox", { name }).check();
    await shot(page, testInfo, "client-form-apis");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page).toHaveURL(new RegExp(`/admin/clients/${client.client_id}$`));
    await expect(page.getByRole("definition").filter({ hasText: identifier })).toBeVisible();
    const limited = await tokensThroughBrowser(user, request, client, {});
    expect((await callService(service.base, limited.access_token)).status).toBe(200);
    await open(page, `/admin/apis?search=${RUN}`);

    // Deactivated in the admin pages, the API can no longer check tokens, and new
    // authorizations naming it are refused.
    await page.getByRole("link", { name }).click();
    await page.locator("body[data-hydrated=true]").waitFor();
    await page.getByRole("button", { name: "Deactivate" }).click();
    // Exact: "Deactivate" holds "activate", and would match at once, before the change is saved.
    await expect(page.getByRole("button", { name: "Activate", exact: true })).toBeVisible();
    const introspected = await request.post("/oauth2/introspect", {
      headers: { authorization: "Basic " + Buffer.from(`${clientId}:${secret}`).toString("base64") },
      form: { token: tokens.access_token },
    });
    expect(introspected.status()).toBe(401);
    const q = new URLSearchParams({
      response_type: "code", client_id: client.client_id, redirect_uri: REDIRECT, state: "s",
      code_challenge: pkce().challenge, code_challenge_method: "S256", resource: identifier,
    });
    // The browser's own request (its session cookie), stopped at the redirect to the app.
    const refused = await user.request.get(`/oauth2/authorize?${q}`, { maxRedirects: 0 });
    expect(refused.status()).toBe(302);
    const back = new URL(refused.headers()["location"]);
    expect(back.searchParams.get("error")).toBe("invalid_target");
    expect(back.searchParams.get("state")).toBe("s");

    // Delete, after confirming.
    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("button", { name: "Delete API" }).click();
    await expect(page).toHaveURL(/\/admin\/apis$/);
    await expect(page.getByRole("link", { name })).toHaveCount(0);
    await user.close();
    noErrors();
  } finally {
    service.server.close();
  }
});

test("the built-in API is listed read-only", async ({ page }, testInfo) => {
  const noErrors = watchConsole(page);
  await signIn(page, ADMIN);
  // The sign-in's own navigation ends first: a page opened meanwhile would race it.
  await expect(page).toHaveURL(/\/admin\/clients$/);
  await open(page, "/admin/apis");
  await page.getByRole("link", { name: "Clavis API" }).click();
  await expect(page.getByRole("heading", { name: "Clavis API" })).toBeVisible();
  await expect(page.getByText("which checks tokens itself")).toBeVisible();
  await expect(page.getByRole("button", { name: "Delete" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Deactivate" })).toHaveCount(0);
  await shot(page, testInfo, "api-builtin");
  noErrors();
});
