// The chat transport shared by the chat page and the embeddable widget (which is also the agent page's playground):
// POSTs a message to a run endpoint (POST /api/agents/{uuid}/run/, /api/widget/messages) asking for server-sent events,
// and reports the answer's tokens as they arrive, then the result or a problem. No DOM here, so any UI can use it.
//
//   const chat = createChat({ endpoint, headers, onToken, onEnd, onError });
//   await chat.send("Hello");   // chat.sessionId continues the conversation on the next send
//
// EventSource cannot POST, so the stream is read from fetch's body. The same-origin pages are authenticated by their
// cookie (a JSON POST, which no other site can send without CORS); the widget passes its session token in `headers`.

/**
 * @typedef {{ status: number, code: string, detail: string, retryAfter?: number, [extension: string]: unknown }} Problem
 * @param {{
 *   endpoint: string,
 *   headers?: Record<string, string>,
 *   sessionId?: string | null,
 *   onToken?: (chunk: string, messageId: string) => void,
 *   onEnd?: (result: Record<string, unknown>) => void,
 *   onError?: (problem: Problem) => void,
 * }} options
 */
export function createChat({ endpoint, headers = {}, sessionId = null, onToken = () => {}, onEnd = () => {}, onError = () => {} }) {
  let session = sessionId || null;
  let controller = null;

  const remember = (result) => {
    if (result && typeof result.session_id === 'string') session = result.session_id;
  };

  return {
    /** The conversation the next message continues; null starts a new one. */
    get sessionId() { return session; },
    set sessionId(value) { session = value || null; },

    /** Sends one message; resolves once the answer has ended, failed or been aborted. */
    async send(input) {
      controller?.abort();
      controller = new AbortController();
      const { signal } = controller;
      let response;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', ...headers },
          body: JSON.stringify({ input, session_id: session }),
          signal,
        });
      } catch (error) {
        if (error.name !== 'AbortError') onError(networkProblem());
        return;
      }
      // Refusals before the run starts (402, 429, 404…) are plain problem responses, not streams.
      if (!response.ok) {
        onError(await problemOf(response));
        return;
      }
      if (!(response.headers.get('Content-Type') || '').startsWith('text/event-stream')) {
        // Something between us and the server dropped the stream and passed the whole answer as JSON.
        const result = await response.json();
        remember(result);
        onEnd(result);
        return;
      }
      let ended = false;
      try {
        for await (const { event, data } of serverSentEvents(response.body)) {
          if (event === 'token') {
            onToken(data.chunk, data.message_id);
          } else if (event === 'end') {
            ended = true;
            remember(data);
            onEnd(data);
          } else if (event === 'error') {
            ended = true;
            onError({ ...data, status: data.status || 500, code: data.code || 'run_failed', detail: data.detail || 'The run failed.' });
          }
        }
      } catch (error) {
        if (error.name === 'AbortError') return;
        onError(networkProblem());
        return;
      }
      if (!ended && !signal.aborted) {
        onError({ status: 0, code: 'stream_interrupted', detail: 'The answer was interrupted. Try again.' });
      }
    },

    /** Stops the answer being read (the run itself finishes on the server and is charged if it succeeds). */
    abort() { controller?.abort(); },
  };
}

/** The RFC 9457 problem of a failed response, with Retry-After (seconds) when the server sent one. */
export async function problemOf(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    // Not JSON: a proxy's error page, for example.
  }
  const retryAfter = Number(response.headers.get('Retry-After'));
  return {
    ...body,
    status: response.status,
    code: body.code || `http_${response.status}`,
    detail: body.detail || 'The request failed.',
    retryAfter: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  };
}

function networkProblem() {
  return { status: 0, code: 'network_error', detail: 'The server could not be reached. Check your connection and try again.' };
}

/** Reads a text/event-stream body: yields { event, data } per event, data parsed as JSON. */
async function* serverSentEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      // Events end with a blank line; a read may hold several events or part of one.
      let end;
      while ((end = blankLine(buffer)) !== null) {
        const event = parseEvent(buffer.slice(0, end.index));
        buffer = buffer.slice(end.index + end.length);
        if (event) yield event;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

function blankLine(text) {
  const match = /\r\n\r\n|\n\n|\r\r/.exec(text);
  return match ? { index: match.index, length: match[0].length } : null;
}

function parseEvent(block) {
  let event = 'message';
  const data = [];
  for (const line of block.split(/\r\n|\n|\r/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length === 0 ? null : { event, data: JSON.parse(data.join('\n')) };
}
