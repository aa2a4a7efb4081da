import { expect, test } from "@playwright/test";

import { ADMIN, USER, expectFramingRefused, open, shot, signIn, watchConsole } from "./fixtures";

test("the sign-in page renders, hydrates and has labelled inputs", async ({ page }, testInfo) => {
  const noErrors = watchConsole(page);
  await open(page, "/login");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await expect(page.getByLabel("Username")).toBeVisible();
  await expect(page.getByLabel("Password")).toHaveAttribute("type", "password");
  await shot(page, testInfo, "login");
  noErrors();
});

test("an admin signs in, reaches the Clients page and signs out", async ({ page }, testInfo) => {
  const noErrors = watchConsole(page);
  await signIn(page, ADMIN);
  await expect(page).toHaveURL(/\/admin\/clients$/);
  await page.locator("body[data-hydrated=true]").waitFor();
  await expect(page.getByRole("heading", { name: "OAuth2 Clients" })).toBeVisible();
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Clients" })).toBeVisible();
  await expect(nav.getByText(ADMIN)).toBeVisible();
  await shot(page, testInfo, "admin-clients");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/admin/clients");
  await expect(page).toHaveURL(/\/login\?next=%2Fadmin%2Fclients$/);
  noErrors();
});

test("sign-in returns to the page that asked for it", async ({ page }) => {
  await page.goto("/account");
  await expect(page).toHaveURL(/\/login\?next=%2Faccount$/);
  await page.locator("body[data-hydrated=true]").waitFor();
  await page.getByLabel("Username").fill(USER);
  await page.getByLabel("Password").fill("e2e correct horse");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/account$/);
});

test("a user reaches the account page and is refused the admin pages", async ({ page }, testInfo) => {
  const noErrors = watchConsole(page, [/Failed to load resource: .* status of 403/]);
  await signIn(page, USER);
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Clients" })).toHaveCount(0);
  await shot(page, testInfo, "account");

  const res = await page.goto("/admin/clients");
  expect(res?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "No access" })).toBeVisible();
  await expect(page.getByText("No clients yet")).toHaveCount(0);
  await shot(page, testInfo, "forbidden");
  noErrors();
});

test("a wrong password gets one clear message and keeps the username", async ({ page }, testInfo) => {
  await signIn(page, ADMIN, "not the password");
  await expect(page.getByRole("alert")).toHaveText("Invalid username or password");
  await expect(page.getByLabel("Username")).toHaveValue(ADMIN);
  await shot(page, testInfo, "login-error");
  await signIn(page, "nobody-here", "not the password");
  await expect(page.getByRole("alert")).toHaveText("Invalid username or password");
});

test("the sign-in page cannot be framed", async ({ page, baseURL }) => {
  const res = await page.goto("/login");
  const headers = res!.headers();
  expect(headers["x-frame-options"]).toBe("DENY");
  expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  await expectFramingRefused(page, `${baseURL}/login`, "Sign in");
});

test("unknown pages get a 404 page", async ({ page }, testInfo) => {
  const res = await page.goto("/no/such/page");
  expect(res?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await shot(page, testInfo, "not-found");
});
