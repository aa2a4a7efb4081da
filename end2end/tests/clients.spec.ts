import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";

import { ADMIN, USER, open, shot, signIn, watchConsole } from "./fixtures";

const root = path.resolve(__dirname, "..", "..");
const bin = process.env.CLAVIS_BIN ?? path.join(root, "target", "release", "clavis");

/** Registers a client with the real CLI (as an admin scripting Clavis would); returns its id. */
function cliAdd(name: string, extra: string[] = []): string {
  const out = execFileSync(bin, ["client", "add", "--name", name, "--redirect-uri", "https://app.example.com/cb", "--json", ...extra], { cwd: root });
  return JSON.parse(String(out)).client_id;
}

async function asAdmin(page: Page) {
  await signIn(page, ADMIN);
  await expect(page).toHaveURL(/\/admin\/clients$/);
  await page.locator("body[data-hydrated=true]").waitFor();
}

test.describe.configure({ mode: "serial" });

// This run's own clients: the database is shared with the other specs (and earlier runs on a
// kept database), so every name and search below carries this tag and counts stay exact.
const RUN = crypto.randomBytes(4).toString("hex");
const BULK = `Bulk ${RUN}`;
const bulk = (i: number) => `${BULK} ${String(i).padStart(2, "0")}`;

test.beforeAll(() => {
  for (let i = 1; i <= 62; i++) cliAdd(bulk(i));
});

/** The pager's summary, e.g. "Showing 1–25 of 62 clients". */
async function showing(page: Page, text: string) {
  await expect(page.locator(".pager p")).toHaveText(text);
}

test("add a client and see its secret exactly once", async ({ page }, testInfo) => {
  const noErrors = watchConsole(page);
  await asAdmin(page);
  await page.getByRole("button", { name: "Add OAuth2 Client" }).click();
  await expect(page).toHaveURL(/\/admin\/clients\/new$/);
  await page.getByLabel("Name").fill("Browser App");
  await page.getByLabel("Redirect URLs").fill("http://evil.example/cb");
  await page.getByRole("button", { name: "Add client" }).click();
  await expect(page.getByText("http is allowed only for 127.0.0.1")).toBeVisible();
  await expect(page).toHaveURL(/\/admin\/clients\/new$/);
  await page.getByLabel("Redirect URLs").fill("https://browser.example.com/cb");
  await page.getByRole("button", { name: "Add client" }).click();

  await expect(page).toHaveURL(/\/admin\/clients\/[A-Za-z0-9_-]{22}$/);
  const secret = (await page.locator("#new-client-secret").textContent()) ?? "";
  expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  await expect(page.getByText("it will not be shown again")).toBeVisible();
  await expect(page.getByText("Authorization Endpoint URL")).toBeVisible();
  await expect(page.getByText(/\/oauth2\/token$/)).toBeVisible();
  await shot(page, testInfo, "client-details");

  await page.reload();
  await page.locator("body[data-hydrated=true]").waitFor();
  await expect(page.getByRole("heading", { name: /Browser App/ })).toBeVisible();
  await expect(page.locator("#new-client-secret")).toHaveCount(0);
  await expect(page.getByText(`••••••••${secret.slice(-4)}`)).toBeVisible();
  expect(await page.content()).not.toContain(secret);
  noErrors();
});

test("search, sort and page through 60+ clients", async ({ page }, testInfo) => {
  const noErrors = watchConsole(page);
  await asAdmin(page);
  await expect(page.locator(".pager p")).toContainText(/Showing 1–25 of \d+ clients/);
  await shot(page, testInfo, "client-list");

  // Case-insensitive, as typed.
  await page.getByLabel("Search").fill(`${BULK.toLowerCase()} 0`);
  await expect(page).toHaveURL(new RegExp(`q=bulk%20${RUN}%200`));
  await showing(page, "Showing 1–9 of 9 clients");
  const names = await page.locator("tbody tr td:first-child").allTextContents();
  expect(names.every((n) => n.startsWith(`${BULK} 0`))).toBe(true);

  await page.getByLabel("Search").fill(BULK);
  await showing(page, "Showing 1–25 of 62 clients");
  await page.getByRole("button", { name: "Name" }).click();
  await expect(page.locator("tbody tr td:first-child").first()).toHaveText(bulk(1));
  await expect(page.locator("th[aria-sort=ascending]")).toHaveText(/Name/);
  await page.getByRole("button", { name: "Name" }).click();
  await expect(page.locator("tbody tr td:first-child").first()).toHaveText(bulk(62));

  await page.getByRole("button", { name: "Next" }).click();
  await showing(page, "Showing 26–50 of 62 clients");
  await expect(page.locator("tbody tr td:first-child").first()).toHaveText(bulk(37));
  await page.getByRole("button", { name: "Next" }).click();
  await showing(page, "Showing 51–62 of 62 clients");
  await expect(page.getByRole("button", { name: "Next" })).toBeDisabled();
  await page.getByLabel("Per page").selectOption("100");
  await showing(page, "Showing 1–62 of 62 clients");

  // Sorting by Client ID: byte order, both ways, with the column marked.
  const ids = () => page.locator("tbody tr td:nth-child(2)").allTextContents();
  const byId = [...(await ids())].sort();
  expect(byId).toHaveLength(62);
  await page.getByRole("button", { name: "Client ID" }).click();
  await expect(page.locator("th[aria-sort=ascending]")).toHaveText(/Client ID/);
  await expect(page).toHaveURL(/sort=client_id/);
  await expect(page.locator("tbody tr td:nth-child(2)")).toHaveText(byId);
  await page.getByRole("button", { name: "Client ID" }).click();
  await expect(page.locator("th[aria-sort=descending]")).toHaveText(/Client ID/);
  await expect(page.locator("tbody tr td:nth-child(2)")).toHaveText([...byId].reverse());

  // The URL holds the query: a reload shows the same page.
  await page.reload();
  // Typing before the reloaded page hydrates would be lost.
  await page.locator("body[data-hydrated=true]").waitFor();
  await showing(page, "Showing 1–62 of 62 clients");
  await expect(page.locator("tbody tr td:nth-child(2)")).toHaveText([...byId].reverse());
  await page.getByLabel("Search").fill("no such client");
  await expect(page.getByRole("heading", { name: "No clients match" })).toBeVisible();
  noErrors();
});

test("edit: auth method none with PKCE off is refused on both fields", async ({ page }, testInfo) => {
  const id = cliAdd(`Edit Me ${RUN}`);
  await asAdmin(page);
  await open(page, `/admin/clients/${id}/edit`);
  await page.getByText("Advanced").click();
  await page.getByLabel("Client Authentication Method").selectOption("none");
  await page.getByLabel("Require Proof Key (PKCE)").uncheck();
  const rule = page.getByText("Client Authentication Method 'none' requires PKCE");
  await expect(rule).toHaveCount(2);
  await expect(page.getByLabel("Client Authentication Method")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("Require Proof Key (PKCE)")).toHaveAttribute("aria-invalid", "true");
  await page.getByLabel("Name").fill("Edited Name");
  await shot(page, testInfo, "client-edit");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page).toHaveURL(/\/edit$/);
  await expect(page.getByLabel("Name")).toHaveValue("Edited Name");

  await page.getByLabel("Require Proof Key (PKCE)").check();
  await expect(rule).toHaveCount(0);
  // Nor may a public client skip the allow/deny screen: shown at once, on both fields.
  const consentRule = page.getByText("Client Authentication Method 'none' requires the allow/deny screen");
  await page.getByLabel("Show allow/deny screen").uncheck();
  await expect(consentRule).toHaveCount(2);
  await expect(page.getByLabel("Show allow/deny screen")).toHaveAttribute("aria-invalid", "true");
  await page.getByLabel("Show allow/deny screen").check();
  await expect(consentRule).toHaveCount(0);
  // Nor have the client credentials grant (no secret to authenticate a job with).
  const jobRule = page.getByText("Client Authentication Method 'none' cannot use the client credentials grant");
  await page.getByLabel("Allow client credentials (unattended jobs)").check();
  await expect(jobRule).toHaveCount(2);
  await page.getByLabel("Allow client credentials (unattended jobs)").uncheck();
  await expect(jobRule).toHaveCount(0);
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/clients/${id}$`));
  await expect(page.getByRole("heading", { name: /Edited Name/ })).toBeVisible();
  await expect(page.getByText("None: public client")).toBeVisible();
  await expect(page.getByRole("button", { name: "Regenerate secret" })).toHaveCount(0);

  // Back to a secret method: a new secret is issued and shown once.
  await page.getByRole("button", { name: "Edit" }).click();
  await expect(page).toHaveURL(/\/edit$/);
  await page.getByText("Advanced").click();
  await page.getByLabel("Client Authentication Method").selectOption("client_secret_basic");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/clients/${id}$`));
  await expect(page.locator("#new-client-secret")).toHaveText(/^[A-Za-z0-9_-]{43}$/);
  await expect(page.getByText("client_secret_basic", { exact: true })).toBeVisible();
});

test("the search box keeps what is typed, spaces included", async ({ page }) => {
  await asAdmin(page);
  const box = page.getByLabel("Search");
  await box.pressSequentially(`${BULK} `);
  // The search has run (trimmed) and its page is shown: the box still holds the space.
  await expect(page).toHaveURL(new RegExp(`q=Bulk%20${RUN}$`));
  await showing(page, "Showing 1–25 of 62 clients");
  await expect(box).toHaveValue(`${BULK} `);
  await box.pressSequentially("01");
  await expect(box).toHaveValue(bulk(1));
  await showing(page, "Showing 1–1 of 1 client");
  await page.goBack();
  await expect(box).toHaveValue(BULK);
});

test("deactivate and activate; the State select filters", async ({ page }) => {
  const name = `Toggle Me ${RUN}`;
  const id = cliAdd(name);
  const stays = cliAdd(`${name} (stays active)`);
  await asAdmin(page);
  await open(page, `/admin/clients/${id}`);
  await page.getByRole("button", { name: "Deactivate" }).click();
  await expect(page.getByRole("button", { name: "Activate", exact: true })).toBeVisible();
  await expect(page.locator("h1 .badge")).toHaveText("Inactive");

  // The State select, over this test's two clients.
  await open(page, `/admin/clients?q=${encodeURIComponent(name)}`);
  await showing(page, "Showing 1–2 of 2 clients");
  const state = page.getByLabel("State");
  await state.selectOption("inactive");
  await expect(page).toHaveURL(/state=inactive/);
  await showing(page, "Showing 1–1 of 1 client");
  await expect(page.locator("tbody tr td:first-child")).toHaveText([name]);
  await expect(page.locator("tbody .badge")).toHaveText(["Inactive"]);
  await state.selectOption("active");
  await showing(page, "Showing 1–1 of 1 client");
  await expect(page.locator("tbody tr td:nth-child(2)")).toHaveText([stays]);
  await expect(page.locator("tbody .badge")).toHaveText(["Active"]);
  await page.reload();
  await expect(state).toHaveValue("active");
  await state.selectOption("all");
  await showing(page, "Showing 1–2 of 2 clients");

  await open(page, `/admin/clients/${id}`);
  await page.getByRole("button", { name: "Activate", exact: true }).click();
  await expect(page.locator("h1 .badge")).toHaveText("Active");
});

test("regenerate the secret with a grace period", async ({ page }) => {
  const id = cliAdd(`Rotate Me ${RUN}`);
  await asAdmin(page);
  await open(page, `/admin/clients/${id}`);
  await page.getByRole("button", { name: "Regenerate secret" }).click();
  await page.getByLabel("Old secret keeps working for").selectOption("1h");
  await page.getByRole("button", { name: "Regenerate", exact: true }).click();
  const secret = (await page.locator("#new-client-secret").textContent()) ?? "";
  expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  await expect(page.getByText(`••••••••${secret.slice(-4)}`)).toBeVisible();
  await expect(page.getByText("the previous secret works until")).toBeVisible();
});

test("delete after confirming", async ({ page }) => {
  const id = cliAdd(`Delete Me ${RUN}`);
  await asAdmin(page);
  await open(page, `/admin/clients/${id}`);
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(page.getByRole("alertdialog")).toContainText("cannot be undone");
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("alertdialog")).toHaveCount(0);
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await page.getByRole("button", { name: "Delete client" }).click();
  await expect(page).toHaveURL(/\/admin\/clients$/);
  await page.getByLabel("Search").fill(`Delete Me ${RUN}`);
  await expect(page.getByRole("heading", { name: "No clients match" })).toBeVisible();
  const res = await page.goto(`/admin/clients/${id}`);
  await expect(page.getByText("This client no longer exists.")).toBeVisible();
});

test("a non-admin cannot open the client pages", async ({ page }) => {
  await signIn(page, USER);
  await expect(page).toHaveURL(/\/account$/);
  for (const url of ["/admin/clients/new", "/admin/clients"]) {
    const res = await page.goto(url);
    expect(res?.status()).toBe(403);
    await expect(page.getByRole("heading", { name: "No access" })).toBeVisible();
  }
});
