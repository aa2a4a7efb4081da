import { expect, test } from "@playwright/test";
import crypto from "node:crypto";

import { ADMIN, open, shot, signIn, watchConsole } from "./fixtures";

const RUN = crypto.randomBytes(4).toString("hex");

test("an administrator adds, disables, enables and deletes a user", async ({ page, browser }, testInfo) => {
  // The refused password is a 400 answer, which Chromium logs.
  const noErrors = watchConsole(page, [/status of 400/]);
  const name = `carol-${RUN}`;
  await signIn(page, ADMIN);
  // The sign-in's own navigation ends first: a page opened meanwhile would race it.
  await expect(page).toHaveURL(/\/admin\/clients$/);
  await open(page, "/admin/users");
  await page.locator("summary", { hasText: "Add user" }).click();
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByText("Password: ")).toBeVisible();
  await page.getByLabel("Password").fill("carol's long password");
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByText(`${name} is added.`)).toBeVisible();
  await page.getByLabel("Search").fill(name);
  const row = page.getByRole("row").filter({ hasText: name });
  await expect(row).toHaveCount(1);
  await shot(page, testInfo, "users");

  // The display name is edited in place; a control character is refused with the field named
  // (the box itself stops at 100 characters).
  await row.getByRole("button", { name: "Edit display name" }).click();
  const display = row.getByLabel(`Display name of ${name}`);
  await display.fill("Carol\tDanvers");
  await row.getByRole("button", { name: "Save" }).click();
  await expect(row.getByText("Display name must not contain control characters")).toBeVisible();
  await display.fill("Carol Danvers");
  await row.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText(`${name}'s display name is saved.`)).toBeVisible();
  await expect(row.getByRole("cell", { name: "Carol Danvers" })).toBeVisible();

  // Carol signs in elsewhere; disabling her ends that session at once.
  const carol = await browser.newPage();
  await signIn(carol, name, "carol's long password");
  await expect(carol).toHaveURL(/\/account$/);
  await row.getByRole("button", { name: "Disable" }).click();
  await expect(page.getByText(`${name} is disabled`)).toBeVisible();
  await expect(row.getByText("Disabled")).toBeVisible();
  const res = await carol.goto("/account");
  await expect(carol).toHaveURL(/\/login/);
  expect(res?.ok()).toBeTruthy();
  await row.getByRole("button", { name: "Enable" }).click();
  await expect(row.getByText("Active")).toBeVisible();
  await carol.close();

  // Deleting asks first.
  await row.getByRole("button", { name: "Delete" }).click();
  await row.getByRole("button", { name: "Delete user" }).click();
  await expect(page.getByText(`${name} is deleted.`)).toBeVisible();
  await expect(page.getByRole("row").filter({ hasText: name })).toHaveCount(0);
  noErrors();
});

test("the last administrator cannot be disabled", async ({ page }) => {
  const noErrors = watchConsole(page, [/status of 400/]);
  await signIn(page, ADMIN);
  // The sign-in's own navigation ends first: a page opened meanwhile would race it.
  await expect(page).toHaveURL(/\/admin\/clients$/);
  await open(page, "/admin/users");
  await page.getByLabel("Search").fill(ADMIN);
  const row = page.getByRole("row").filter({ hasText: ADMIN });
  await row.getByRole("button", { name: "Disable" }).click();
  await expect(page.getByText("This is the last active administrator")).toBeVisible();
  await expect(row.getByText("Active")).toBeVisible();
  noErrors();
});
