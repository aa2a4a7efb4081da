import { expect, test } from "@playwright/test";
import crypto from "node:crypto";

import { PASSWORD, addUser, authorize, open, shot, signIn, watchConsole } from "./fixtures";

const RUN = crypto.randomBytes(4).toString("hex");

test("a user edits their name, signs one session out and changes their password", async ({ page, browser }, testInfo) => {
  const noErrors = watchConsole(page, [/status of 400/]);
  const user = `acct-${RUN}`;
  addUser(user);
  await signIn(page, user);
  await expect(page).toHaveURL(/\/account$/);
  const first = await authorize(page, `Diary ${RUN}`);
  const second = await authorize(page, `Diary ${RUN}`);

  await open(page, "/account");
  await page.getByLabel("Display name").fill("Ada Lovelace");
  await page.getByRole("button", { name: "Save name" }).click();
  await expect(page.getByText("Display name saved.")).toBeVisible();

  const sessions = page.getByRole("region", { name: "Sessions" });
  await expect(sessions.getByRole("row").filter({ hasText: `Diary ${RUN}` })).toHaveCount(2);
  await expect(sessions.getByRole("row").nth(1)).toContainText("Read your data");
  await expect(sessions.getByRole("row").nth(1)).toContainText("Clavis API");
  await shot(page, testInfo, "account");
  // The newest session is listed first.
  await sessions.getByRole("button", { name: `Sign out this session of Diary ${RUN}` }).first().click();
  await expect(sessions.getByRole("row").filter({ hasText: `Diary ${RUN}` })).toHaveCount(1);
  const me = (token: string) => page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${token}` } });
  expect((await me(second)).status()).toBe(401);
  const stillThere = await me(first);
  expect(stillThere.status()).toBe(200);
  expect((await stillThere.json()).display_name).toBe("Ada Lovelace");

  // A second browser signed in as the same user is signed out by the password change.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await signIn(otherPage, user);
  await expect(otherPage).toHaveURL(/\/account$/);

  await page.getByLabel("Current password").fill("not the password");
  await page.getByLabel("New password").fill("a brand new passphrase");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("alert")).toContainText("Current password: this is not your password.");
  await page.getByLabel("Current password").fill(PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Password changed. You were signed out everywhere else.")).toBeVisible();
  await shot(page, testInfo, "account-password");

  await open(page, "/account");
  await expect(page.getByLabel("Display name")).toHaveValue("Ada Lovelace");
  await otherPage.goto("/account");
  await expect(otherPage).toHaveURL(/\/login\?next=%2Faccount$/);
  await other.close();
  noErrors();
});
