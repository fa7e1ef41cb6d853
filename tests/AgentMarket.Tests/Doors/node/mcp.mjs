// Drives the MCP TypeScript SDK's client, unmodified, over Streamable HTTP against the MCP door and prints what it saw.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { readInput, failure } from "./stdin.mjs";

const input = await readInput();
const url = new URL(`${input.baseUrl}/mcp`);
const report = {};

const client = new Client({ name: "agentmarket-door-tests", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${input.key}` } } }));
report.server = client.getServerVersion();
report.tools = (await client.listTools()).tools;
report.call = await client.callTool({ name: input.tool, arguments: { input: input.question } });
report.missingInput = await client.callTool({ name: input.tool, arguments: {} });
await client.close();

try {
  const anonymous = new Client({ name: "agentmarket-door-tests", version: "1.0.0" });
  await anonymous.connect(new StreamableHTTPClientTransport(url));
  report.anonymous = "connected";
} catch (error) {
  report.anonymous = failure(error);
}

console.log(JSON.stringify(report));
