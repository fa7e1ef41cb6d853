// The flow import page's "Check compatibility" without leaving the page. A browser empties a file input when the page
// reloads, so after a plain check the seller had to choose the file again to import it. Progressive enhancement:
// without this module the check is an ordinary form post.
const form = document.querySelector('form[data-flow-import]');
form?.addEventListener('submit', async (event) => {
  if (event.submitter?.value !== 'validate') {
    return;
  }
  event.preventDefault();
  const button = event.submitter;
  const body = new FormData(form);
  body.set('intent', 'validate'); // set, not taken from the button: older browsers leave the submitter out
  button.disabled = true;
  try {
    const response = await fetch(form.action || location.href, { method: 'POST', body });
    const page = response.ok && !response.redirected ? new DOMParser().parseFromString(await response.text(), 'text/html') : null;
    const parts = ['[data-flow-check]', '[data-flow-report]'].map((part) => [document.querySelector(part), page?.querySelector(part)]);
    if (parts.some(([here, fresh]) => !here || !fresh)) {
      throw new Error('not the import page'); // a refusal, an expired session: show it as the plain post would
    }
    // The regions stay, their contents change, so a screen reader announces the new error.
    for (const [here, fresh] of parts) {
      here.replaceChildren(...[...fresh.childNodes].map((node) => document.adoptNode(node)));
    }
    document.querySelector('[data-flow-report] h2')?.scrollIntoView({ block: 'nearest' });
  } catch {
    // Fall back to the plain post, still a check (submit() sends no button).
    form.append(Object.assign(document.createElement('input'), { type: 'hidden', name: 'intent', value: 'validate' }));
    form.submit();
  } finally {
    button.disabled = false;
  }
});
