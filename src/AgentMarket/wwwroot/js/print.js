// Reveals and wires "Print" buttons ([data-print]); without JavaScript they stay hidden and the browser's own Print works.
for (const button of document.querySelectorAll('[data-print]')) {
  button.addEventListener('click', () => window.print());
  button.hidden = false;
}
