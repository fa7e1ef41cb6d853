// The agent page around its playground, which is the chat widget drawn inline (Gateway/Pages/Playground.razor): after
// each answer the line of free tries left follows the widget's answer, and the widget's "Sign up to keep going" link
// opens the sign-up on this page (a link inside the widget's shadow root is found through the click's composed path).
const allowance = document.querySelector('#try [data-trial-left]');

document.addEventListener('agentmarket-widget:answer', (event) => {
  const left = event.detail.trial_runs_left;
  if (!allowance || typeof left !== 'number') return;
  allowance.textContent = left === 0
    ? 'No free tries left today. Add the agent to My Agents to keep going.'
    : `${left} free ${left === 1 ? 'try' : 'tries'} left today.`;
});

document.addEventListener('click', (event) => {
  const link = event.composedPath().find((node) => node instanceof HTMLAnchorElement);
  if (!link || link.pathname !== location.pathname || !link.hash) return;
  const section = document.querySelector(link.hash);
  const details = section?.matches('details') ? section : section?.querySelector('details');
  if (!details) return;
  details.open = true;
  details.querySelector('input, textarea, select, button')?.focus();
});
