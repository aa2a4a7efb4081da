import { expect, test } from "@playwright/test";
import crypto from "node:crypto";
import fs from "node:fs";

import { ADMIN, shot, signIn, watchConsole } from "./fixtures";

test("an administrator exports the clients and imports them again under new IDs", async ({ page }, testInfo) => {
  const noErrors = watchConsole(page, [/status of 400/]);
  await signIn(page, ADMIN);
  await expect(page).toHaveURL(/\/admin\/clients$/);
  await page.locator("body[data-hydrated=true]").waitFor();

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export" }).click()]);
  expect(download.suggestedFilename()).toBe("clavis-clients.json");
  const exported = JSON.parse(fs.readFileSync(await download.path(), "utf8"));
  expect(exported.clavis_clients).toBe(1);
  expect(exported.clients.length).toBeGreaterThan(0);
  for (const c of exported.clients) expect(Object.keys(c).filter((k) => k.includes("secret"))).toEqual([]);

  // The same file again is refused as a whole, naming the first entry.
  await page.getByText("Import clients").click();
  const input = page.getByLabel("Import file");
  await input.setInputFiles({ name: "clients.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(exported)) });
  await expect(page.getByRole("alert")).toContainText("Import file: clients[0]");
  await expect(page.getByRole("alert")).toContainText("exists already");

  // Two of them under new IDs: both are registered, each confidential one with a new secret shown once.
  const run = crypto.randomBytes(6).toString("hex");
  const two = exported.clients.slice(0, 2).map((c: { client_id: string; name: string }, i: number) => ({
    // Any active API: an API another test limited it to may be gone.
    ...c, client_id: `imported-${run}-${i}`, name: `Imported ${run} ${i}`, apis: undefined,
  }));
  await input.setInputFiles({
    name: "two.json", mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify({ clavis_clients: 1, clients: two })),
  });
  const status = page.getByRole("status").filter({ hasText: "Imported" });
  await expect(status).toContainText(`Imported ${two.length} client`);
  await expect(status.getByRole("row").filter({ hasText: `imported-${run}-0` })).toBeVisible();
  await shot(page, testInfo, "client-import");
  await page.getByLabel("Search").fill(`Imported ${run}`);
  await expect(page.locator(".table-card tbody tr")).toHaveCount(two.length);
  noErrors();
});
