import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
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

test.beforeAll(() => {
  for (let i = 1; i <= 62; i++) cliAdd(`Bulk ${String(i).padStart(2, "0")}`);
});

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

  await page.getByLabel("Search").fill("bulk 0");
  await expect(page).toHaveURL(/q=bulk%200/);
  await expect(page.locator(".pager p")).toHaveText("Showing 1–9 of 9 clients");
  const names = await page.locator("tbody tr td:first-child").allTextContents();
  expect(names.every((n) => n.startsWith("Bulk 0"))).toBe(true);

  await page.getByLabel("Search").fill("Bulk");
  await expect(page.locator(".pager p")).toHaveText("Showing 1–25 of 62 clients");
  await page.getByRole("button", { name: "Name" }).click();
  await expect(page.locator("tbody tr td:first-child").first()).toHaveText("Bulk 01");
  await expect(page.locator("th[aria-sort=ascending]")).toHaveText(/Name/);
  await page.getByRole("button", { name: "Name" }).click();
  await expect(page.locator("tbody tr td:first-child").first()).toHaveText("Bulk 62");

  await page.getByRole("button", { name: "Next" }).click();
  await expect(page.locator(".pager p")).toHaveText("Showing 26–50 of 62 clients");
  await expect(page.locator("tbody tr td:first-child").first()).toHaveText("Bulk 37");
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page.locator(".pager p")).toHaveText("Showing 51–62 of 62 clients");
  await expect(page.getByRole("button", { name: "Next" })).toBeDisabled();
  await page.getByLabel("Per page").selectOption("100");
  await expect(page.locator(".pager p")).toHaveText("Showing 1–62 of 62 clients");

  // The URL holds the query: a reload shows the same page.
  await page.reload();
  await expect(page.locator(".pager p")).toHaveText("Showing 1–62 of 62 clients");
  await page.getByLabel("Search").fill("no such client");
  await expect(page.getByRole("heading", { name: "No clients match" })).toBeVisible();
  noErrors();
});

test("edit: auth method none with PKCE off is refused on both fields", async ({ page }, testInfo) => {
  const id = cliAdd("Edit Me");
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
  await box.pressSequentially("Bulk ");
  await expect(page).toHaveURL(/q=Bulk$/);
  await page.waitForTimeout(400);
  await box.pressSequentially("01");
  await expect(box).toHaveValue("Bulk 01");
  await expect(page.locator(".pager p")).toHaveText("Showing 1–1 of 1 client");
  await page.goBack();
  await expect(box).toHaveValue("Bulk");
});

test("deactivate and activate", async ({ page }) => {
  const id = cliAdd("Toggle Me");
  await asAdmin(page);
  await open(page, `/admin/clients/${id}`);
  await page.getByRole("button", { name: "Deactivate" }).click();
  await expect(page.getByRole("button", { name: "Activate" })).toBeVisible();
  await expect(page.locator("h1 .badge")).toHaveText("Inactive");
  await open(page, "/admin/clients?state=inactive&q=Toggle");
  await expect(page.locator("tbody tr")).toHaveCount(1);
  await expect(page.locator("tbody .badge")).toHaveText("Inactive");
  await open(page, `/admin/clients/${id}`);
  await page.getByRole("button", { name: "Activate" }).click();
  await expect(page.locator("h1 .badge")).toHaveText("Active");
});

test("regenerate the secret with a grace period", async ({ page }) => {
  const id = cliAdd("Rotate Me");
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
  const id = cliAdd("Delete Me");
  await asAdmin(page);
  await open(page, `/admin/clients/${id}`);
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(page.getByRole("alertdialog")).toContainText("cannot be undone");
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("alertdialog")).toHaveCount(0);
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await page.getByRole("button", { name: "Delete client" }).click();
  await expect(page).toHaveURL(/\/admin\/clients$/);
  await page.getByLabel("Search").fill("Delete Me");
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
