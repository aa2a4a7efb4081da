import { expect, test } from "@playwright/test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { type OAuthClientProvider, UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

import { PASSWORD, USER, shot, watchConsole } from "./fixtures";

const root = path.resolve(__dirname, "..", "..");
const bin = process.env.CLAVIS_BIN ?? path.join(root, "target", "release", "clavis");
const RUN = crypto.randomBytes(4).toString("hex");
const CALLBACK = "http://127.0.0.1:43999/callback";

function cli(args: string[]) {
  return String(execFileSync(bin, args, { cwd: root }));
}

/**
 * An MCP server (the SDK's own server and Streamable HTTP transport) that protects itself with
 * Clavis as the README says: protected resource metadata pointing at Clavis, and each bearer
 * token checked by introspection with the API's credentials; its audience is its own URL.
 */
async function startMcpServer(issuer: string) {
  let credentials = { id: "", secret: "" };
  let resource = "";
  const httpServer = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/.well-known/oauth-protected-resource/mcp") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ resource, authorization_servers: [issuer], scopes_supported: ["read"], bearer_methods_supported: ["header"] }));
      return;
    }
    if (url.pathname !== "/mcp") {
      res.writeHead(404).end();
      return;
    }
    const auth = req.headers.authorization ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    let who: any = null;
    if (token) {
      const check = await fetch(`${issuer}/oauth2/introspect`, {
        method: "POST",
        headers: { authorization: "Basic " + Buffer.from(`${credentials.id}:${credentials.secret}`).toString("base64") },
        body: new URLSearchParams({ token }),
      });
      const answer = check.ok ? await check.json() : { active: false };
      if (answer.active) who = answer;
    }
    if (!who) {
      res.writeHead(401, {
        "www-authenticate": `Bearer error="invalid_token", resource_metadata="${resource.replace("/mcp", "")}/.well-known/oauth-protected-resource/mcp"`,
        "content-type": "application/json",
      });
      res.end(JSON.stringify({ error: "invalid_token" }));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
    const server = new Server({ name: "orders-mcp", version: "1.0.0" }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [{ name: "whoami", description: "Who the token is for", inputSchema: { type: "object", properties: {} } }],
    }));
    server.setRequestHandler(CallToolRequestSchema, async () => ({
      content: [{ type: "text", text: `${who.username} via ${who.client_id} for ${who.aud}` }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  resource = `${base}/mcp`;
  return {
    httpServer,
    resource,
    setCredentials: (id: string, secret: string) => {
      credentials = { id, secret };
    },
  };
}

/** The MCP client's storage: what an off-the-shelf MCP client keeps between runs. */
class MemoryProvider implements OAuthClientProvider {
  info?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = "";
  authorizationUrl?: URL;
  get redirectUrl() {
    return CALLBACK;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: `MCP Inspector ${RUN}`,
      redirect_uris: [CALLBACK],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

test("an MCP client registers itself, the user allows it, and it calls an MCP server protected by Clavis", async ({ page, baseURL }, testInfo) => {
  const noErrors = watchConsole(page);
  const mcp = await startMcpServer(baseURL!);
  cli(["settings", "set", "--registration", "open"]);
  try {
    // The MCP server's operator registers it as an API (its URL is the audience).
    const api = JSON.parse(cli(["api", "add", "--name", `Orders MCP ${RUN}`, "--identifier", mcp.resource, "--json"]));
    mcp.setCredentials(api.client_id, api.client_secret);

    // The client tries, is told to authorize, registers itself on the way (no admin step).
    const provider = new MemoryProvider();
    const first = new Client({ name: "inspector", version: "1.0.0" });
    await expect(first.connect(new StreamableHTTPClientTransport(new URL(mcp.resource), { authProvider: provider }))).rejects.toThrow(UnauthorizedError);
    expect(provider.info?.client_id, "registered itself").toBeTruthy();
    const authorizationUrl = provider.authorizationUrl!;
    expect(authorizationUrl.origin).toBe(baseURL);
    expect(authorizationUrl.searchParams.get("resource")).toBe(mcp.resource);

    // The user signs in and allows it in the browser; the consent page names the MCP server.
    await page.route("http://127.0.0.1:43999/**", (route) =>
      route.fulfill({ status: 200, contentType: "text/html", body: "<h1>MCP client callback</h1>" }),
    );
    await page.goto(authorizationUrl.href);
    await page.locator("body[data-hydrated=true]").waitFor();
    await page.getByLabel("Username").fill(USER);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("heading", { name: `MCP Inspector ${RUN} wants to access your account` })).toBeVisible();
    await expect(page.locator(".consent-api")).toHaveText(`Orders MCP ${RUN}`);
    await shot(page, testInfo, "consent-mcp");
    await page.getByRole("button", { name: "Allow" }).click();
    await expect(page.getByRole("heading", { name: "MCP client callback" })).toBeVisible();
    const code = new URL(page.url()).searchParams.get("code")!;
    expect(code).toBeTruthy();

    // The client finishes, connects and calls a tool; the server saw the user through Clavis.
    const transport = new StreamableHTTPClientTransport(new URL(mcp.resource), { authProvider: provider });
    await transport.finishAuth(code);
    expect(provider.saved?.access_token).toBeTruthy();
    const client = new Client({ name: "inspector", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(mcp.resource), { authProvider: provider }));
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toEqual(["whoami"]);
    const result: any = await client.callTool({ name: "whoami", arguments: {} });
    expect(result.content[0].text).toBe(`${USER} via ${provider.info!.client_id} for ${mcp.resource}`);
    await client.close();

    // The administrator sees it marked as self-registered.
    const listed = JSON.parse(cli(["client", "list", "--origin", "registered", "--search", `MCP Inspector ${RUN}`, "--json"]));
    expect(listed.clients.map((c: any) => c.client_id)).toEqual([provider.info!.client_id]);
    noErrors();
  } finally {
    cli(["settings", "set", "--registration", "off"]);
    mcp.httpServer.close();
  }
});
