import { expect, test } from "@playwright/test";
import crypto from "node:crypto";

import { ADMIN, addClient, addUser, authorize, open, shot, signIn, watchConsole } from "./fixtures";

const RUN = crypto.randomBytes(4).toString("hex");

test("a client's details list its sessions, and 'Revoke all sessions' ends them", async ({ page, browser }, testInfo) => {
  const noErrors = watchConsole(page);
  const client = addClient(`Sessions ${RUN}`);
  // Two users, three sessions.
  const tokens: string[] = [];
  for (const [user, sessions] of [[`ses-a-${RUN}`, 2], [`ses-b-${RUN}`, 1]] as const) {
    addUser(user);
    const context = await browser.newContext();
    const userPage = await context.newPage();
    await signIn(userPage, user);
    await expect(userPage).toHaveURL(/\/account$/);
    for (let i = 0; i < sessions; i++) tokens.push(await authorize(userPage, client));
    await context.close();
  }

  await signIn(page, ADMIN);
  await expect(page).toHaveURL(/\/admin\/clients$/);
  // Loaded from the server (not by navigating within the app), as a reload would.
  await open(page, `/admin/clients/${client.client_id}`);
  const card = page.getByRole("region", { name: "Sessions" });
  await expect(card.getByText("3 live sessions of 2 users")).toBeVisible();
  await expect(card.getByRole("row").filter({ hasText: `ses-a-${RUN}` })).toHaveCount(2);
  await expect(card.getByRole("row").filter({ hasText: `ses-b-${RUN}` })).toHaveCount(1);
  await shot(page, testInfo, "client-sessions");
  await page.reload();
  await page.locator("body[data-hydrated=true]").waitFor();
  await expect(card.getByText("3 live sessions of 2 users")).toBeVisible();

  const me = (token: string) => page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${token}` } });
  expect((await me(tokens[0])).status()).toBe(200);
  await page.locator(".page-head").getByRole("button", { name: "Revoke all sessions" }).click();
  const dialog = page.getByRole("alertdialog", { name: "Revoke every session of this client?" });
  await expect(dialog).toContainText(`Sessions ${RUN}`);
  await dialog.getByRole("button", { name: "Revoke all sessions" }).click();
  await expect(page.getByText("3 sessions ended; their tokens no longer work.")).toBeVisible();
  await expect(card.getByText("No live sessions.")).toBeVisible();
  await expect(dialog).toHaveCount(0);
  for (const token of tokens) expect((await me(token)).status()).toBe(401);
  noErrors();
});

test("an administrator allows a client to run unattended jobs", async ({ page }, testInfo) => {
  const noErrors = watchConsole(page);
  const client = addClient(`Nightly ${RUN}`);
  const job = () =>
    page.request.post("/oauth2/token", {
      form: { grant_type: "client_credentials", client_id: client.client_id, client_secret: client.client_secret },
    });
  expect((await job()).status()).toBe(400);

  await signIn(page, ADMIN);
  await expect(page).toHaveURL(/\/admin\/clients$/);
  await open(page, `/admin/clients/${client.client_id}/edit`);
  await page.getByText("Advanced").click();
  await page.getByLabel("Allow client credentials (unattended jobs)").check();
  await shot(page, testInfo, "client-credentials-edit");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/clients/${client.client_id}$`));
  await expect(page.getByText("Client credentials (unattended jobs)")).toBeVisible();
  await expect(page.locator("dd", { hasText: "Allowed" })).toBeVisible();

  const res = await job();
  expect(res.status()).toBe(200);
  const body = await res.json();
  expect(body.refresh_token).toBeUndefined();
  const me = await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${body.access_token}` } });
  expect(await me.json()).toEqual({ client_id: client.client_id, client_name: `Nightly ${RUN}` });
  noErrors();
});
