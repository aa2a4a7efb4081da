import { expect, test } from "@playwright/test";

import { ADMIN, USER, open, shot, signIn, watchConsole } from "./fixtures";

test("the settings page checks each field and saves at once", async ({ page, request }, testInfo) => {
  const noErrors = watchConsole(page);
  await signIn(page, ADMIN);
  // The sign-in's own navigation ends first: a page opened meanwhile would race it.
  await expect(page).toHaveURL(/\/admin\/clients$/);
  await open(page, "/admin/settings");
  await expect(page.getByRole("heading", { name: "Settings" })).toBeVisible();
  await expect(page.getByLabel("Access token lifetime (seconds)")).toHaveValue("43200");
  await expect(page.getByText("For clients using the global setting: 12 hours.")).toBeVisible();
  await shot(page, testInfo, "settings");

  // A bad value is named beside its field and nothing is saved.
  await page.getByLabel("Access token lifetime (seconds)").fill("12h");
  await page.getByLabel("Most self-registered clients").fill("-1");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText("Access token lifetime must be a whole number of seconds")).toBeVisible();
  await expect(page.getByText("Most self-registered clients must be a whole number from 0 to 1000000")).toBeVisible();
  await shot(page, testInfo, "settings-errors");

  // A good one applies at once: the metadata advertises registration.
  await page.getByLabel("Access token lifetime (seconds)").fill("43200");
  await page.getByLabel("Most self-registered clients").fill("250");
  await page.getByLabel("Client registration (RFC 7591)").selectOption("open");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText("Settings saved.")).toBeVisible();
  const metadata = await (await request.get("/.well-known/oauth-authorization-server")).json();
  expect(metadata.registration_endpoint).toMatch(/\/oauth2\/register$/);
  await open(page, "/admin/settings");
  await expect(page.getByLabel("Most self-registered clients")).toHaveValue("250");

  // Back as it was, for the other tests.
  await page.getByLabel("Most self-registered clients").fill("1000");
  await page.getByLabel("Client registration (RFC 7591)").selectOption("off");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText("Settings saved.")).toBeVisible();
  noErrors();
});

test("a user cannot open the settings page", async ({ page }) => {
  await signIn(page, USER);
  await expect(page).toHaveURL(/\/account$/);
  const res = await page.goto("/admin/settings");
  expect(res?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "No access" })).toBeVisible();
});
