import { expect, test } from "@playwright/test";

import { ADMIN, addClient, open, shot, signIn } from "./fixtures";

test.use({ viewport: { width: 390, height: 844 } });

test("every admin page is usable on a phone-sized screen", async ({ page }, testInfo) => {
  await signIn(page, ADMIN);
  // The sign-in's own navigation ends first: a page opened meanwhile would race it.
  await expect(page).toHaveURL(/\/admin\/clients$/);
  const client = addClient(`Phone ${Date.now()}`);
  for (const [path, name] of [
    [`/admin/clients/${client.client_id}`, "phone-client-details"],
    ["/admin/audit", "phone-audit"],
    ["/admin/clients", "phone-clients"],
    ["/admin/apis", "phone-apis"],
    ["/admin/users", "phone-users"],
    ["/admin/settings", "phone-settings"],
  ]) {
    await open(page, path);
    // The page never scrolls sideways: wide tables scroll within their card.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${path} is no wider than the screen`).toBeLessThanOrEqual(0);
    await shot(page, testInfo, name);
  }
  // A Client ID stays on one line (no four-line wraps).
  await open(page, "/admin/clients");
  const code = page.locator(".data-table code").first();
  if ((await code.count()) > 0) {
    const box = await code.boundingBox();
    expect(box!.height).toBeLessThan(30);
  }
});
