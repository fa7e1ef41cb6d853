// Drives OpenAI's official Node SDK, unmodified, against the OpenAI-compatible door and prints what it saw.
import OpenAI from "openai";
import { readInput, failure } from "./stdin.mjs";

const input = await readInput();
const client = new OpenAI({ baseURL: `${input.baseUrl}/v1`, apiKey: input.key, maxRetries: 0 });
const report = {};

report.models = [];
for await (const model of client.models.list()) report.models.push(model.id);

const messages = [{ role: "system", content: "Clients may send a system message; the agent keeps its own." }, { role: "user", content: input.question }];
const completion = await client.chat.completions.create({ model: input.model, messages });
report.completion = {
  id: completion.id, object: completion.object, model: completion.model, content: completion.choices[0].message.content,
  role: completion.choices[0].message.role, finish_reason: completion.choices[0].finish_reason, usage: completion.usage,
};

const stream = await client.chat.completions.create({ model: input.model, messages, stream: true, stream_options: { include_usage: true } });
report.stream = { text: "", chunks: 0, objects: [], finish_reason: null, usage: null };
for await (const chunk of stream) {
  report.stream.chunks++;
  report.stream.objects.push(chunk.object);
  const choice = chunk.choices[0];
  if (choice?.delta?.content) report.stream.text += choice.delta.content;
  if (choice?.finish_reason) report.stream.finish_reason = choice.finish_reason;
  if (chunk.usage) report.stream.usage = chunk.usage;
}

try {
  await new OpenAI({ baseURL: `${input.baseUrl}/v1`, apiKey: input.unaffordable.key, maxRetries: 0 })
    .chat.completions.create({ model: input.unaffordable.model, messages: [{ role: "user", content: "Too expensive?" }] });
  report.unaffordable = "no error";
} catch (error) {
  report.unaffordable = { ...failure(error), code: error.code, type: error.type };
}

try {
  await client.chat.completions.create({ model: "no-such-agent", messages: [{ role: "user", content: "Anyone?" }] });
  report.unknownModel = "no error";
} catch (error) {
  report.unknownModel = { ...failure(error), code: error.code, type: error.type, param: error.param };
}

console.log(JSON.stringify(report));
