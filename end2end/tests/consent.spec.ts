import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";

import { ADMIN, PASSWORD, USER, expectFramingRefused, shot, watchConsole } from "./fixtures";

const root = path.resolve(__dirname, "..", "..");
const bin = process.env.CLAVIS_BIN ?? path.join(root, "target", "release", "clavis");
const REDIRECT = "https://app.example.com/callback";
// This run's own names: the database is shared with the other specs.
const RUN = crypto.randomBytes(4).toString("hex");

interface Registered {
  client_id: string;
  client_secret?: string;
}

/** Registers a client with the real CLI, as an administrator scripting Clavis would. */
function register(name: string): Registered {
  const out = execFileSync(bin, ["client", "add", "--name", name, "--redirect-uri", REDIRECT, "--json"], { cwd: root });
  return JSON.parse(String(out));
}

/** A user of this test's own, so what their account page lists is this test's doing alone. */
function addUser(username: string) {
  execFileSync(bin, ["user", "add", "--username", username, "--password-stdin"], { cwd: root, input: `${PASSWORD}\n` });
}

function pkce() {
  const verifier = crypto.randomBytes(32).toString("base64url");
  const challenge = crypto.createHash("sha256").update(verifier).digest("base64url");
  return { verifier, challenge };
}

function authorizeUrl(clientId: string, challenge: string, state: string) {
  const q = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT,
    scope: "read write",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  return `/oauth2/authorize?${q}`;
}

/** The client application's callback: answered in the browser, never sent to the network. */
async function interceptCallback(page: Page) {
  await page.route("https://app.example.com/**", (route) =>
    route.fulfill({ status: 200, contentType: "text/html", body: "<h1>Example app callback</h1>" }),
  );
}

async function signInHere(page: Page, username = USER) {
  await expect(page).toHaveURL(/\/login\?next=%2Foauth2%2Fauthorize/);
  await page.locator("body[data-hydrated=true]").waitFor();
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("sign in, Allow: the app receives a code and gets tokens that call the API", async ({ page, request, baseURL }, testInfo) => {
  const noErrors = watchConsole(page);
  const name = `Photo Printer ${RUN}`;
  const user = `photo-${RUN}`;
  const client = register(name);
  addUser(user);
  const { verifier, challenge } = pkce();
  await interceptCallback(page);

  await page.goto(authorizeUrl(client.client_id, challenge, "state-allow"));
  await signInHere(page, user);
  await expect(page.getByRole("heading", { name: `${name} wants to access your account` })).toBeVisible();
  await expect(page.getByText("Read and change your data")).toBeVisible();
  await expect(page.getByText("app.example.com")).toBeVisible();
  await shot(page, testInfo, "consent");

  await page.getByRole("button", { name: "Allow" }).click();
  await expect(page.getByRole("heading", { name: "Example app callback" })).toBeVisible();
  const back = new URL(page.url());
  expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
  expect(back.searchParams.get("state")).toBe("state-allow");
  expect(back.searchParams.get("iss")).toBe(baseURL);
  const code = back.searchParams.get("code");
  expect(code).toBeTruthy();

  // The app's server side: code -> tokens -> API.
  const tokenRes = await request.post("/oauth2/token", {
    form: {
      grant_type: "authorization_code",
      code: code!,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_id: client.client_id,
      client_secret: client.client_secret!,
    },
  });
  expect(tokenRes.status()).toBe(200);
  const tokens = await tokenRes.json();
  expect(tokens.token_type).toBe("Bearer");
  const me = await request.get("/api/v1/me", { headers: { Authorization: `Bearer ${tokens.access_token}` } });
  expect(me.status()).toBe(200);
  expect((await me.json()).username).toBe(user);

  // The user sees the app on their account page and can take its access back.
  await page.goto("/account");
  await page.locator("body[data-hydrated=true]").waitFor();
  const apps = page.getByRole("region", { name: "Apps with access" });
  const row = apps.getByRole("row").filter({ hasText: name });
  await expect(row).toBeVisible();
  await expect(row.getByRole("cell", { name: "Read and change your data" })).toBeVisible();
  await expect(row.getByText("1 session")).toBeVisible();
  await shot(page, testInfo, "account-apps");
  await apps.getByRole("button", { name: `Remove access for ${name}` }).click();
  await expect(row).toHaveCount(0);
  await expect(apps.getByText("No application has access to your account.")).toBeVisible();
  const after = await request.get("/api/v1/me", { headers: { Authorization: `Bearer ${tokens.access_token}` } });
  expect(after.status()).toBe(401);
  noErrors();
});

test("Deny sends access_denied back to the app", async ({ page, baseURL }, testInfo) => {
  const noErrors = watchConsole(page);
  const client = register("Nosy Widget");
  const { challenge } = pkce();
  await interceptCallback(page);
  await page.goto(authorizeUrl(client.client_id, challenge, "state-deny"));
  await signInHere(page);
  // "Not you?": sign out and back to this request as someone else.
  await page.getByRole("button", { name: `Not ${USER}? Sign in as someone else` }).click();
  await expect(page).toHaveURL(/\/login\?next=%2Foauth2%2Fauthorize/);
  await page.locator("body[data-hydrated=true]").waitFor();
  await page.getByLabel("Username").fill(ADMIN);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText(`Signed in as ${ADMIN}`)).toBeVisible();
  await page.getByRole("button", { name: "Deny" }).click();
  await expect(page.getByRole("heading", { name: "Example app callback" })).toBeVisible();
  const back = new URL(page.url());
  expect(back.searchParams.get("error")).toBe("access_denied");
  expect(back.searchParams.get("state")).toBe("state-deny");
  expect(back.searchParams.get("iss")).toBe(baseURL);
  expect(back.searchParams.get("code")).toBeNull();
  noErrors();

  // An unregistered redirect URI: an error page on the server, never a redirect.
  await page.goto(authorizeUrl(client.client_id, challenge, "x").replace("app.example.com", "evil.example"));
  await expect(page.getByRole("heading", { name: "This request cannot be completed" })).toBeVisible();
  await expect(page.getByText("not registered for this application")).toBeVisible();
  await shot(page, testInfo, "authorize-error");
});

test("the consent page cannot be framed", async ({ page, request, baseURL }) => {
  const client = register("Framed App");
  const { challenge } = pkce();
  const url = `${baseURL}${authorizeUrl(client.client_id, challenge, "s")}`;
  const res = await request.get(url, { maxRedirects: 0 });
  expect(res.headers()["x-frame-options"]).toBe("DENY");
  // Sign in in this browser, then try to show the consent page inside another page's frame.
  await page.goto(url);
  await signInHere(page);
  await expect(page.getByRole("button", { name: "Allow" })).toBeVisible();
  const consent = await page.request.get(url);
  expect(consent.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(consent.headers()["x-frame-options"]).toBe("DENY");

  // In another page's frame, the browser refuses it: no Allow button to be clicked through an overlay.
  await expectFramingRefused(page, url, "Allow");
});
