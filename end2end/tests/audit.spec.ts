import { expect, test } from "@playwright/test";
import crypto from "node:crypto";

import { ADMIN, USER, open, shot, signIn, watchConsole } from "./fixtures";

test("the audit log shows who changed a client, from where, field by field", async ({ page }, testInfo) => {
  const noErrors = watchConsole(page, [/status of 400/]);
  const name = `Audited ${crypto.randomBytes(4).toString("hex")}`;
  await signIn(page, ADMIN);
  await expect(page).toHaveURL(/\/admin\/clients$/);
  await page.locator("body[data-hydrated=true]").waitFor();

  // An administrator adds a client and renames it in the browser.
  await page.getByRole("button", { name: "Add OAuth2 Client" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Redirect URLs").fill("https://audited.example.com/cb");
  await page.getByRole("button", { name: "Add client" }).click();
  await expect(page).toHaveURL(/\/admin\/clients\/[A-Za-z0-9_-]{22}$/);
  const clientId = page.url().split("/").pop() ?? "";
  const secret = (await page.locator("#new-client-secret").textContent()) ?? "";
  await page.getByRole("button", { name: "Edit" }).click();
  await expect(page).toHaveURL(/\/edit$/);
  await page.getByLabel("Name").fill(`${name} v2`);
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/clients/${clientId}$`));

  // The client's "History" opens the log filtered to it.
  await page.getByRole("link", { name: "History" }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/audit\\?client=${clientId}$`));
  await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
  await page.locator("body[data-hydrated=true]").waitFor();
  await expect(page.getByLabel("Client ID")).toHaveValue(clientId);
  const rows = page.locator("tbody tr");
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText("client.updated");
  await expect(rows.nth(0)).toContainText(`${ADMIN}127.0.0.1`);
  await expect(rows.nth(0).locator(".audit-changes li")).toHaveText([`name: ${name} → ${name} v2`]);
  await expect(rows.nth(1)).toContainText("client.created");
  await expect(rows.nth(1)).toContainText("secret: (none) → issued");
  expect(await page.content()).not.toContain(secret);
  await shot(page, testInfo, "audit");

  // Filters: by who, and a "since" it cannot read is named.
  await page.getByLabel("Client ID").fill("");
  await page.getByLabel("Changed by").fill("nobody-at-all");
  await page.getByLabel("Changed by").press("Enter");
  await expect(page.getByText("No entries match.")).toBeVisible();
  await page.getByLabel("Changed by").fill(ADMIN);
  await page.getByLabel("Since").fill("last week");
  await page.getByLabel("Since").press("Enter");
  await expect(page.getByRole("alert")).toContainText("Since:");
  await page.getByLabel("Since").fill("1h");
  await page.getByLabel("Since").press("Enter");
  await expect(page.locator("tbody tr").first()).toContainText(ADMIN);
  noErrors();
});

test("a user cannot open the audit log", async ({ page }) => {
  await signIn(page, USER);
  await expect(page).toHaveURL(/\/account$/);
  const res = await page.goto("/admin/audit");
  expect(res?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "No access" })).toBeVisible();
});
