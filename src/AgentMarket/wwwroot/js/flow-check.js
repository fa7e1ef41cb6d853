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
  const body = new FormData(form, button); // before disabling it: a disabled button's intent is not sent
  button.disabled = true;
  try {
    const response = await fetch(form.action || location.href, { method: 'POST', body });
    const page = new DOMParser().parseFromString(await response.text(), 'text/html');
    for (const part of ['[data-flow-check]', '[data-flow-report]']) {
      const fresh = page.querySelector(part);
      if (fresh) {
        document.querySelector(part)?.replaceWith(document.adoptNode(fresh));
      }
    }
    document.querySelector('[data-flow-report] h2')?.scrollIntoView({ block: 'nearest' });
  } catch {
    // The network or the page failed: fall back to the plain post, still a check (submit() sends no button).
    const intent = Object.assign(document.createElement('input'), { type: 'hidden', name: 'intent', value: 'validate' });
    form.append(intent);
    form.submit();
  } finally {
    button.disabled = false;
  }
});
