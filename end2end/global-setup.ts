import { execFileSync } from "node:child_process";
import path from "node:path";

import { ADMIN, PASSWORD, USER } from "./tests/fixtures";

const root = path.resolve(__dirname, "..");

async function waitForServer(base: string) {
  const deadline = Date.now() + 120_000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) return;
      last = `status ${res.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Clavis did not become healthy at ${base}: ${last}`);
}

/** Creates a user with the real CLI, against the server's database, as a new admin would. */
function addUser(username: string, admin: boolean) {
  const bin = process.env.CLAVIS_BIN ?? path.join(root, "target", "release", "clavis");
  const args = ["user", "add", "--username", username, "--password-stdin"];
  if (admin) args.push("--admin");
  try {
    execFileSync(bin, args, { cwd: root, input: `${PASSWORD}\n`, stdio: ["pipe", "pipe", "pipe"] });
  } catch (e: any) {
    const stderr = String(e.stderr ?? "");
    if (!stderr.includes("already taken")) throw new Error(`clavis user add failed: ${stderr}`);
  }
}

export default async function globalSetup() {
  const addr = process.env.LEPTOS_SITE_ADDR ?? "127.0.0.1:3000";
  await waitForServer(`http://${addr}`);
  addUser(ADMIN, true);
  addUser(USER, false);
}
