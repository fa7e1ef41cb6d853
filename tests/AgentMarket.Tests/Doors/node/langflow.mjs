// Drives DataStax's Langflow client, unmodified, against the Langflow-compatible door and prints what it saw.
import { LangflowClient } from "@datastax/langflow-client";
import { readInput, failure } from "./stdin.mjs";

const input = await readInput();
const client = new LangflowClient({ baseUrl: input.baseUrl, apiKey: input.key });
const report = {};

const byId = await client.flow(input.flowId).run(input.question, { session_id: input.sessionId });
report.run = { sessionId: byId.sessionId, text: byId.chatOutputText(), outputs: byId.outputs };

const byName = await client.flow(input.endpointName).run(input.question);
report.byName = { sessionId: byName.sessionId, text: byName.chatOutputText() };

report.stream = [];
for await (const event of await client.flow(input.flowId).stream(input.question)) report.stream.push(event);

try {
  await client.flow("no-such-flow").run("Anyone?");
  report.notFound = "no error";
} catch (error) {
  report.notFound = failure(error);
}

console.log(JSON.stringify(report));
