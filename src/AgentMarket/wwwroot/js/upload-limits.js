// File inputs that carry data-max-bytes (the limit the server enforces for that field) and data-too-large (the server's
// own refusal of a file over it). Progressive enhancement: without this module an over-limit file is refused by the
// server, under the field when the body still fits the page's cap, else by a page naming the limit; with it, the field
// says so as soon as the file is chosen and the form is not sent.
for (const input of document.querySelectorAll('input[type="file"][data-max-bytes]')) {
  const maxBytes = Number(input.dataset.maxBytes);
  const message = document.createElement('small');
  message.id = `${input.id}-too-large`;
  message.className = 'validation-message';
  message.hidden = true;
  message.dataset.tooLargeMessage = '';
  input.after(message);
  const describedBy = input.getAttribute('aria-describedby');
  input.setAttribute('aria-describedby', describedBy ? `${describedBy} ${message.id}` : message.id);
  // A refusal the server rendered (say, not an image) stays until the form is sent again; only ours is cleared here.
  const serverSaidInvalid = input.getAttribute('aria-invalid');

  input.addEventListener('change', () => {
    const tooLarge = [...input.files].some((file) => file.size > maxBytes);
    message.textContent = tooLarge ? input.dataset.tooLarge : '';
    message.hidden = !tooLarge;
    input.setCustomValidity(tooLarge ? input.dataset.tooLarge : '');
    if (tooLarge) {
      input.setAttribute('aria-invalid', 'true');
    } else if (serverSaidInvalid === null) {
      input.removeAttribute('aria-invalid');
    }
  });
}
