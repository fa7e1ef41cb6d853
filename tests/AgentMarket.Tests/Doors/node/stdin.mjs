// The test passes its input as one JSON document on standard input.
export async function readInput() {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return JSON.parse(text);
}

// What a client threw, reduced to what a test asserts on.
export function failure(error) {
  // OpenAI's SDK puts the status on the error, the Langflow client on the Response it keeps as the cause.
  return { name: error?.constructor?.name, status: error?.status ?? error?.cause?.status, message: String(error?.message ?? error) };
}
