import { test, expect } from "@playwright/test";

// README "Speed": the browser bundle (JS, WASM, CSS) is served under names that carry its
// content's hash, as the brotli or gzip copy made at build time, and kept by browsers for a year;
// pages are compressed on the fly and never cached.
test("the bundle is hashed, precompressed and cached for a year; pages are compressed, never cached", async ({
  request,
  page,
}) => {
  const res = await request.get("/login", { headers: { "accept-encoding": "br, gzip" } });
  expect(res.status()).toBe(200);
  expect(res.headers()["content-encoding"]).toBe("br");
  expect(res.headers()["cache-control"]).toBe("no-store");
  const html = await res.text();
  const assets = new Map<string, string>();
  for (const m of html.matchAll(/\/pkg\/clavis\.([A-Za-z0-9_-]+)\.(css|js|wasm)\b/g)) {
    assets.set(m[2], m[0]);
  }
  expect([...assets.keys()].sort()).toEqual(["css", "js", "wasm"]);
  // The page's own code (a split build): preloaded with the page, hashed and cached the same way.
  // In every render: Leptos 0.8.9 left these hints out of about one render in eight (it read them
  // under whichever reactive owner the thread it resumed on had; 5 of 40 sequential renders of
  // /login on 2026-12-02), fixed by the patched leptos_integration_utils (Cargo.toml). 24 renders
  // catch that race with a probability of about 95%.
  const ownOf = (page: string) =>
    [...page.matchAll(/href="(\/pkg\/(?!clavis\.)[^"]+\.(?:wasm|js))"/g)].map((m) => m[1]);
  const own = ownOf(html);
  expect(own.some((u) => u.endsWith(".wasm")), `the login page's own WASM in ${own}`).toBe(true);
  for (let render = 1; render < 24; render++) {
    const again = ownOf(await (await request.get("/login")).text());
    expect(again, `render ${render} of /login preloads the same files`).toEqual(own);
  }
  own.forEach((url, i) => assets.set(`own ${i}`, url));
  for (const [kind, url] of assets) {
    for (const [accept, encoding] of [
      ["br, gzip", "br"],
      ["gzip", "gzip"],
    ]) {
      const asset = await request.get(url, { headers: { "accept-encoding": accept } });
      expect(asset.status(), `${url} (${accept})`).toBe(200);
      expect(asset.headers()["content-encoding"], `${kind} as ${encoding}`).toBe(encoding);
      expect(asset.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
    }
  }
  // The WASM files carry no `target_features` section, which browsers do not read (Cargo.toml:
  // `wasm-opt-features`).
  for (const url of [assets.get("wasm")!, ...own.filter((u) => u.endsWith(".wasm"))]) {
    const body = await (await request.get(url, { headers: { "accept-encoding": "identity" } })).body();
    expect(body.subarray(0, 4).toString("latin1"), url).toBe("\0asm");
    expect(customSections(body), url).not.toContain("target_features");
  }
  // And the page still comes alive with them.
  await page.goto("/login");
  await page.locator("body[data-hydrated=true]").waitFor();
});

/** The names of a WASM module's custom sections. */
function customSections(wasm: Buffer): string[] {
  const leb = (at: number): [number, number] => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = wasm[at++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) return [value, at];
    }
  };
  const names: string[] = [];
  let at = 8;
  while (at < wasm.length) {
    const id = wasm[at];
    const [size, body] = leb(at + 1);
    if (id === 0) {
      const [length, name] = leb(body);
      names.push(wasm.subarray(name, name + length).toString("utf8"));
    }
    at = body + size;
  }
  return names;
}
