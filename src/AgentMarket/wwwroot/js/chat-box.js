// The chat box of the chat page (the agent page's playground is the widget, wwwroot/widget): every [data-chat] element on the page, with a
// [data-chat-log] list, a [data-chat-form] holding a [data-chat-input], and a [data-chat-error] alert. Answers stream
// into the log through chat.js; the log is an aria-live region and the answer being written is aria-busy, so screen
// readers read it once, complete, instead of token by token.
import { createChat } from './chat.js';

for (const root of document.querySelectorAll('[data-chat]')) {
  mount(root);
}

function mount(root) {
  const log = root.querySelector('[data-chat-log]');
  const form = root.querySelector('[data-chat-form]');
  const input = root.querySelector('[data-chat-input]');
  const alert = root.querySelector('[data-chat-error]');
  const send = form.querySelector('button[type="submit"]');
  let answer = null;

  const chat = createChat({
    endpoint: root.dataset.endpoint,
    sessionId: root.dataset.session,
    onToken(chunk) {
      answer.text.textContent += chunk;
      answer.item.scrollIntoView({ block: 'nearest' });
    },
    onEnd(result) {
      if (!answer.text.textContent && typeof result.output === 'string') answer.text.textContent = result.output;
      answer.item.setAttribute('aria-busy', 'false');
      answer.item.append(meta(result));
      updateBalance(result);
      rememberSession(root, result);
    },
    onError(problem) {
      answer.item.remove();
      showProblem(root, alert, problem);
    },
  });

  form.hidden = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || send.disabled) return;
    alert.replaceChildren();
    log.append(message('chat-user', 'You:', text).item);
    answer = message('chat-agent', `${root.dataset.agentName || 'Agent'}:`, '');
    answer.item.setAttribute('aria-busy', 'true');
    log.append(answer.item);
    input.value = '';
    send.disabled = true;
    try {
      await chat.send(text);
    } finally {
      send.disabled = false;
      input.focus();
    }
  });
  // Enter sends, Shift+Enter starts a new line (as in most chat apps); IME composition is left alone.
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}

function message(kind, speaker, text) {
  const item = document.createElement('li');
  item.className = `chat-message ${kind}`;
  const who = document.createElement('span');
  who.className = 'visually-hidden';
  who.textContent = speaker;
  const body = document.createElement('p');
  body.className = 'chat-text';
  body.textContent = text;
  item.append(who, body);
  return { item, text: body };
}

function meta(result) {
  const line = document.createElement('p');
  line.className = 'chat-meta muted';
  const parts = [];
  if (typeof result.credits_charged === 'number') parts.push(`${result.credits_charged.toLocaleString('en-US')} credits`);
  if (typeof result.balance === 'number') parts.push(`${result.balance.toLocaleString('en-US')} left`);
  line.textContent = parts.join(' · ');
  return line;
}

/** The header's balance follows the run's answer, which carries the wallet's balance after it. */
function updateBalance(result) {
  const balance = document.querySelector('[data-credit-balance] strong');
  if (balance && typeof result.balance === 'number') balance.textContent = result.balance.toLocaleString('en-US');
}

/** On the chat page, a new conversation gets its address (so a reload shows it) and a place in the session list. */
function rememberSession(root, result) {
  const base = root.dataset.sessionUrl;
  if (!base || !result.session_id || root.dataset.session === result.session_id) return;
  root.dataset.session = result.session_id;
  const url = base + encodeURIComponent(result.session_id);
  history.replaceState(null, '', url);
  const list = document.querySelector('[data-session-list]');
  if (!list) return;
  for (const current of list.querySelectorAll('[aria-current]')) current.removeAttribute('aria-current');
  const item = document.createElement('li');
  const link = document.createElement('a');
  link.href = url;
  link.setAttribute('aria-current', 'page');
  // A new conversation's first question names it, as on the server.
  link.textContent = root.querySelector('.chat-user .chat-text')?.textContent.slice(0, 80) || 'New chat';
  item.append(link);
  list.prepend(item);
}

function showProblem(root, alert, problem) {
  const text = document.createElement('span');
  text.textContent = problem.code === 'insufficient_credits' && typeof problem.required === 'number'
    ? `This run needs ${problem.required.toLocaleString('en-US')} credits; ${Number(problem.available).toLocaleString('en-US')} are available.`
    : problem.detail;
  alert.replaceChildren(text);
  if (problem.retryAfter && (problem.status === 429 || problem.status === 503)) {
    alert.append(` Try again in ${wait(problem.retryAfter)}.`);
  }
  const next = {
    insufficient_credits: [root.dataset.buyCreditsLabel || 'Buy credits', root.dataset.buyCreditsUrl],
    session_credit_cap: ['Start a new chat', root.dataset.newSessionUrl],
    unauthorized: ['Sign in again', `/signin?returnUrl=${encodeURIComponent(location.pathname + location.search)}`],
  }[problem.code];
  if (next && next[1]) {
    const link = document.createElement('a');
    link.textContent = next[0];
    link.href = next[1];
    alert.append(' ', link);
  }
}

function wait(seconds) {
  if (seconds < 120) return `${seconds} seconds`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} minutes`;
  return `${Math.round(seconds / 3600)} hours`;
}
