// The pricing page's [Yearly SAVE ~20%] / [Monthly] toggle. Progressive enhancement: without this module the toggle
// stays hidden and both prices (and both Choose buttons) show; with it, one billing period shows at a time.
const pricing = document.querySelector('[data-pricing]');
const toggle = pricing?.querySelector('[data-billing-toggle]');
if (pricing && toggle) {
  const buttons = [...toggle.querySelectorAll('button[data-interval]')];
  const show = (interval) => {
    pricing.dataset.interval = interval;
    for (const button of buttons) {
      button.setAttribute('aria-pressed', String(button.dataset.interval === interval));
    }
  };
  for (const button of buttons) {
    button.addEventListener('click', () => show(button.dataset.interval));
  }
  show(pricing.dataset.defaultInterval === 'monthly' ? 'monthly' : 'yearly');
  toggle.hidden = false;
}
