// Copy buttons: <button data-copy="#id-of-the-text" data-copy-status="id-of-a-role-status-element" hidden>. They stay
// hidden where the Clipboard API is unavailable (no script, or a page not served over HTTPS or from localhost), and the
// text remains selectable. The status element says "Copied" for screen readers and sighted users alike.
if (navigator.clipboard) {
  for (const button of document.querySelectorAll('button[data-copy]')) {
    const source = document.querySelector(button.dataset.copy);
    if (!source) continue;
    const status = document.getElementById(button.dataset.copyStatus);
    let clear;
    const say = (text) => {
      if (!status) return;
      status.textContent = text;
      clearTimeout(clear);
      clear = setTimeout(() => { status.textContent = ''; }, 4000);
    };
    button.hidden = false;
    button.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(source.textContent);
        say('Copied.');
      } catch {
        say('Copying was blocked; select the text and copy it.');
      }
    });
  }
}
