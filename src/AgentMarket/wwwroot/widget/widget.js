// The chat widget's UI. The server serves it joined after ../js/chat.js as one module (Widget/WidgetAssets.cs), so
// createChat is in scope. It lives in a shadow root, so the host page's styles cannot reach in and ours cannot leak out;
// messages are shown as text, never as HTML.
//
// On other sites the page holds only the publishable key (data-agent-key). mount() trades it for a session token (the
// server checks the page's origin against the key's), then chats with streaming; an expired token is renewed and the
// message sent again. On the marketplace's own agent page (data-agent, the listing's slug) it is the playground: the
// session is opened with the page's own cookies (visitor or signed-in member), same origin, and no key exists at all.
// data-inline draws the window in place of the script tag instead of behind a floating launcher. After each answer the
// host element dispatches `agentmarket-widget:answer` (bubbling, detail = the answer) for the page around it.

const STYLE = `
:host{all:initial!important}
.w{--brand:#7c3aed;--on-brand:#fff;--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--agent:#f2f4f7;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);text-align:left;letter-spacing:normal}
.w *{box-sizing:border-box;font:inherit;color:inherit;margin:0}
.dark{--bg:#16191d;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--agent:#262c36}
@media (prefers-color-scheme:dark){.auto{--bg:#16191d;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--agent:#262c36}}
.launcher,.panel{position:fixed;z-index:2147483000;bottom:20px;right:20px}
.left .launcher,.left .panel{right:auto;left:20px}
.launcher{width:56px;height:56px;border:0;border-radius:50%;background:var(--brand);color:var(--on-brand);cursor:pointer;
display:grid;place-items:center;box-shadow:0 4px 14px rgba(0,0,0,.25)}
.launcher svg{width:26px;height:26px;fill:currentColor}
.panel{bottom:88px;width:min(370px,calc(100vw - 40px));height:min(540px,calc(100vh - 110px));display:flex;flex-direction:column;
background:var(--bg);border:1px solid var(--line);border-radius:14px;overflow:hidden;box-shadow:0 10px 30px rgba(0,0,0,.25)}
.panel[hidden]{display:none}
.w header{display:flex;align-items:center;gap:10px;padding:12px 14px;background:var(--brand);color:var(--on-brand)}
header img{width:28px;height:28px;border-radius:6px;object-fit:cover}
header img[hidden]{display:none}
.w h2{flex:1;font-size:16px;font-weight:600}
.close{border:0;background:transparent;color:inherit;font-size:22px;line-height:1;cursor:pointer;padding:2px 6px;border-radius:6px}
.log{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:8px}
.msg{max-width:85%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.agent{align-self:flex-start;background:var(--agent)}
.user{align-self:flex-end;background:var(--brand);color:var(--on-brand)}
.error{align-self:stretch;max-width:none;border:1px solid #d1242f;color:#d1242f;background:transparent}
.agent[aria-busy=true]:empty::after{content:"…";color:var(--muted)}
form{display:flex;gap:8px;padding:10px;border-top:1px solid var(--line)}
textarea{flex:1;resize:none;height:40px;padding:9px 10px;border:1px solid var(--line);border-radius:8px;background:var(--bg)}
.w form button{border:0;border-radius:8px;padding:0 14px;background:var(--brand);color:var(--on-brand);font-weight:600;cursor:pointer}
button:disabled{opacity:.6;cursor:default}
:focus-visible{outline:2px solid var(--brand);outline-offset:2px}
header :focus-visible{outline-color:var(--on-brand)}
.inline .panel{position:static;width:auto;height:440px;box-shadow:none}
.meta{align-self:flex-start;margin-top:-4px;padding:0 4px;font-size:12px;color:var(--muted)}
.error a{text-decoration:underline}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;

const ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>';

/** Adds the launcher and chat window for the key on `script` (the loader's script element). */
export async function mount(script) {
  const { agentKey: key, agent: listing } = script.dataset;
  const playground = !key;
  const inline = 'inline' in script.dataset;
  const url = (path) => new URL(`api/widget/${path}`, script.src).href;
  // A playground conversation lasts one page view, like the rest of the agent page.
  const stored = playground ? new Map() : remembered(key);
  const continuing = stored.get('conversation');
  const headers = {};
  let session = null;

  async function openSession() {
    try {
      const response = await fetch(url('sessions'), {
        method: 'POST',
        // The playground is the marketplace's own page, and its cookies say who runs; other sites' pages send none.
        credentials: playground ? 'same-origin' : 'omit',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(playground ? { agent: listing } : { key, visitor_id: stored.get('visitor'), conversation_id: stored.get('conversation') }),
      });
      if (!response.ok) {
        const problem = await problemOf(response);
        console.warn(`Chat widget: ${problem.code}: ${problem.detail}`);
        return null;
      }
      session = await response.json();
    } catch {
      // A refused origin gets no CORS answer, which the browser reports as a network error.
      console.warn('Chat widget: no session (is this page\'s origin among the key\'s allowed origins?)');
      return null;
    }
    stored.set('visitor', session.visitor_id);
    stored.set('conversation', session.conversation_id);
    headers['X-Widget-Session'] = session.token;
    return session;
  }

  if (!(await openSession())) return;
  const agent = session.agent;
  // A page view that continues a conversation fetches its earlier messages while the window is built.
  const earlier = continuing && continuing === session.conversation_id ? history() : null;

  const host = document.createElement('div');
  host.setAttribute('data-agentmarket-widget', '');
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = `<style>${STYLE}</style><div class="w${inline ? ' inline' : ''}">
<div class="panel" id="panel" ${inline ? 'role="region"' : 'role="dialog" aria-modal="true" hidden'} aria-labelledby="title">
<header><img alt="" hidden><h2 id="title"></h2>${inline ? '' : '<button class="close" type="button" aria-label="Close chat">×</button>'}</header>
<div class="log" role="log" aria-live="polite"></div>
<form><label class="sr" for="message">Message</label><textarea id="message" rows="1" placeholder="Type a message…"></textarea>
<button type="submit">Send</button></form></div>
${inline ? '' : `<button class="launcher" type="button" aria-expanded="false" aria-controls="panel">${ICON}</button>`}</div>`;
  const $ = (selector) => root.querySelector(selector);
  const [frame, panel, log, form, input, send, launcher, close] =
    ['.w', '.panel', '.log', 'form', 'textarea', 'form button', '.launcher', '.close'].map($);

  frame.classList.add(agent.theme || 'auto');
  if (agent.position === 'bottom_left') frame.classList.add('left');
  if (/^#[0-9a-f]{6}$/i.test(agent.brand_color || '')) {
    frame.style.setProperty('--brand', agent.brand_color);
    frame.style.setProperty('--on-brand', readableOn(agent.brand_color));
  }
  $('h2').textContent = agent.title;
  if (/^https?:/i.test(agent.logo_url || '')) {
    const logo = $('img');
    logo.referrerPolicy = 'no-referrer';
    logo.src = agent.logo_url;
    logo.hidden = false;
  }
  const welcome = agent.welcome_message ? bubble('agent', agent.welcome_message) : null;
  earlier?.then((messages) => {
    // Above anything sent since the page loaded, below the welcome.
    const next = welcome ? welcome.nextSibling : log.firstChild;
    for (const { sender, text } of messages) log.insertBefore(messageOf(sender === 'user' ? 'user' : 'agent', text), next);
    log.scrollTop = log.scrollHeight;
  });

  if (!inline) {
    launcher.setAttribute('aria-label', `Open chat: ${agent.title}`);
    const open = () => {
      panel.hidden = false;
      launcher.setAttribute('aria-expanded', 'true');
      input.focus();
    };
    const shut = () => {
      panel.hidden = true;
      launcher.setAttribute('aria-expanded', 'false');
      launcher.focus();
    };
    launcher.addEventListener('click', () => (panel.hidden ? open() : shut()));
    close.addEventListener('click', shut);
    // A modal dialog: Tab and Shift+Tab cycle inside the window, Escape closes it and returns to the launcher.
    panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        shut();
      } else if (event.key === 'Tab') {
        const stops = [close, input, send].filter((element) => !element.disabled);
        const at = stops.indexOf(root.activeElement);
        const next = event.shiftKey ? (at <= 0 ? stops.length - 1 : at - 1) : (at + 1) % stops.length;
        event.preventDefault();
        stops[next].focus();
      }
    });
  }
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  let answer = null;
  let failure = null;
  const chat = createChat({
    endpoint: url('messages'),
    headers,
    onToken: (chunk) => { answer.textContent += chunk; },
    onEnd: (result) => {
      if (typeof result.output === 'string') answer.textContent = result.output;
      // Only the playground's answers carry a cost: there the person chatting is the one paying.
      if (typeof result.credits_charged === 'number') answer.after(noteOf(costOf(result)));
      host.dispatchEvent(new CustomEvent('agentmarket-widget:answer', { bubbles: true, detail: result }));
    },
    onError: (problem) => { failure = problem; },
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || send.disabled) return;
    input.value = '';
    send.disabled = true;
    bubble('user', text);
    answer = bubble('agent', '');
    answer.setAttribute('aria-busy', 'true');
    // A token about to run out is renewed first; one refused as expired or unknown is renewed and the message sent again.
    if (Date.parse(session.expires_at) - Date.now() < 30_000) await openSession();
    for (let attempt = 0; attempt < 2; attempt++) {
      failure = null;
      await chat.send(text);
      if (failure?.status !== 401 || attempt > 0 || !(await openSession())) break;
      answer.textContent = '';
    }
    answer.setAttribute('aria-busy', 'false');
    if (failure) {
      answer.remove();
      showProblem(failure);
    }
    send.disabled = false;
    input.focus();
  });

  if (inline) script.before(host);
  else document.body.append(host);

  /** Says what went wrong, with the way out the page offers for it (the playground's sign-up and credits pages). */
  function showProblem(problem) {
    const element = bubble('error', explain(problem));
    element.setAttribute('role', 'alert');
    const [label, href] = {
      insufficient_credits: [script.dataset.buyCreditsLabel || 'Buy credits', script.dataset.buyCreditsUrl],
      trial_limit: ['Sign up to keep going', script.dataset.signupUrl],
    }[problem.code] || [];
    if (href) {
      const link = document.createElement('a');
      link.href = href;
      link.textContent = label;
      element.append(' ', link);
    }
  }

  async function history() {
    try {
      const response = await fetch(url(`conversations/${session.conversation_id}/messages`), { credentials: 'omit', headers });
      return response.ok ? (await response.json()).messages : [];
    } catch {
      return [];
    }
  }

  function bubble(kind, text) {
    const element = messageOf(kind, text);
    log.append(element);
    log.scrollTop = log.scrollHeight;
    return element;
  }
}

function messageOf(kind, text) {
  const element = document.createElement('div');
  element.className = `msg ${kind}`;
  element.textContent = text;
  return element;
}

function noteOf(text) {
  const element = document.createElement('div');
  element.className = 'meta';
  element.textContent = text;
  return element;
}

function costOf(result) {
  if (typeof result.trial_runs_left === 'number') return 'Free try';
  return `${result.credits_charged.toLocaleString('en-US')} credit${result.credits_charged === 1 ? '' : 's'}`;
}

function explain(problem) {
  if (!problem.retryAfter) return problem.detail;
  if (problem.code === 'rate_limited') return `Too many messages; try again in ${wait(problem.retryAfter)}.`;
  return `${problem.detail} Try again in ${wait(problem.retryAfter)}.`;
}

function wait(seconds) {
  if (seconds < 120) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} minutes`;
  return `${Math.round(seconds / 3600)} hours`;
}

/** Black or white, whichever reads better on the brand color (WCAG relative luminance). */
function readableOn(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179 ? '#000' : '#fff';
}

/** The visitor and conversation ids, kept per key in this site's storage when the browser allows it. */
function remembered(key) {
  const prefix = `agentmarket-widget:${key.slice(-12)}:`;
  return {
    get(name) {
      try { return localStorage.getItem(prefix + name); } catch { return null; }
    },
    set(name, value) {
      try { localStorage.setItem(prefix + name, value); } catch { /* storage blocked: a new conversation per page */ }
    },
  };
}
