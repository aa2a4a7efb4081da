import { expect, test } from "@playwright/test";
import crypto from "node:crypto";

import { ADMIN, addClient, clavis, open, signIn, watchConsole } from "./fixtures";

// Each page's code is a WASM file of its own. Before the page hydrates, the browser matches its
// address against the route table the way the router does and loads that file first
// (`hydrate` in src/lib.rs): a page whose file was not loaded could not hydrate at all. So every
// page, opened at its own address, must come alive and show its own heading, with no error in
// the console.
test("every page comes alive when opened at its own address", async ({ page }) => {
  const run = crypto.randomBytes(4).toString("hex");
  const client = addClient(`Pages ${run}`);
  const apiName = `Pages API ${run}`;
  clavis(["api", "add", "--name", apiName, "--identifier", `https://pages-${run}.example.com`, "--json"]);
  // Chromium logs the not-found page's own 404 answer.
  const consoleClean = watchConsole(page, [/status of 404 \(Not Found\)/]);

  // The sign-in page is the first one opened, as a visitor would.
  await signIn(page, ADMIN);
  // The sign-in's own navigation ends first: a page opened meanwhile would race it.
  await expect(page).toHaveURL(/\/admin\/clients$/);
  await open(page, `/admin/apis?search=${encodeURIComponent(apiName)}`);
  const apiPage = await page.getByRole("link", { name: apiName }).getAttribute("href");
  expect(apiPage, "the API's own page").toMatch(/^\/admin\/apis\/\d+$/);

  const id = encodeURIComponent(client.client_id);
  const pages: [string, RegExp][] = [
    ["/account", /^Your account$/],
    ["/admin/clients", /^OAuth2 Clients$/],
    ["/admin/clients/new", /^Add OAuth2 Client$/],
    [`/admin/clients/${id}`, new RegExp(`^Pages ${run}`)],
    [`/admin/clients/${id}/edit`, new RegExp(`^Edit Pages ${run}$`)],
    ["/admin/apis", /^APIs$/],
    ["/admin/apis/new", /^Add API$/],
    [apiPage!, new RegExp(`^${apiName}`)],
    [`${apiPage}/edit`, new RegExp(`^Edit ${apiName}$`)],
    ["/admin/settings", /^Settings$/],
    ["/admin/users", /^Users$/],
    ["/admin/audit", /^Audit log$/],
    ["/no/such/page", /^Page not found$/],
  ];
  for (const [url, heading] of pages) {
    await open(page, url);
    await expect(page.getByRole("heading", { level: 1 }), url).toHaveText(heading);
  }
  consoleClean();
});
