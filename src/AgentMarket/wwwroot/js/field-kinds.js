// The configurable fields page. Progressive enhancement: without this module every field shows both its choice options
// and its number range; with it, a field shows its options only when its kind is a choice and its range only when it is
// a number, and its second row not at all otherwise, so a flow with many fields stays readable.
const table = document.querySelector('[data-field-kinds]');
if (table) {
  const update = (select) => {
    const extras = table.querySelector(`[data-extras-of="${select.dataset.fieldKind}"]`);
    let shown = 0;
    for (const part of extras.querySelectorAll('[data-for-kind]')) {
      part.hidden = part.dataset.forKind !== select.value;
      shown += part.hidden ? 0 : 1;
    }
    extras.hidden = shown === 0;
  };
  for (const select of table.querySelectorAll('[data-field-kind]')) {
    select.addEventListener('change', () => update(select));
    update(select);
  }
}
