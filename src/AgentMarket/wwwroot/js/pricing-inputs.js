// The publish form's price. Progressive enhancement: without this module every amount shows, each label naming its
// pricing model, and the price line describes the values the page was rendered with; with it, only the chosen model's
// amounts show, under that model's label, and the line follows what the seller types. The sentences and the rounding
// are PublishListingPage.PriceMeaning's (a credit is a US cent; the commission is rounded half up, as the ledger does).
const pricing = document.querySelector('[data-pricing]');
const model = pricing?.querySelector('[data-pricing-model]');
const meaning = pricing?.querySelector('[data-price-meaning]');
if (pricing && model && meaning) {
  const basisPoints = Number(pricing.dataset.commissionBasisPoints);
  const afterCommission = `after the platform's ${pricing.dataset.commissionPercent}% commission you earn`;
  const amount = (name) => {
    const text = pricing.querySelector(`[name="${name}"]`).value.trim();
    return /^[0-9]+$/.test(text) ? Number(text) : null;
  };
  const count = (n) => n.toLocaleString('en-US');
  const usd = (cents) => '$' + (cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const worth = (credits) => `${count(credits)} ${credits === 1 ? 'credit' : 'credits'} (${usd(credits)})`;
  const earned = (credits) => worth(credits - Math.floor((credits * basisPoints + 5000) / 10000));
  const sentence = (chosen) => {
    const price = amount('credits_per_run');
    const min = amount('credits_min');
    const max = amount('credits_max');
    if (chosen === 'free') {
      return 'Free: buyers pay nothing, and you earn nothing from its runs.';
    }
    if (chosen === 'fixed_credits' && price !== null) {
      return `Buyers pay ${worth(price)} a run; ${afterCommission} ${earned(price)} a run.`;
    }
    if (chosen === 'variable_credits' && min !== null && max !== null) {
      return `Buyers pay ${worth(min)} to ${worth(max)} a run; ${afterCommission} ${earned(min)} to ${earned(max)} a run.`;
    }
    if (chosen === 'subscription' && price !== null) {
      return `Buyers pay ${worth(price)} a month; ${afterCommission} ${earned(price)} a month.`;
    }
    return 'Enter whole numbers of credits to see what buyers pay and what you earn.';
  };
  const update = () => {
    const chosen = model.value;
    for (const field of pricing.querySelectorAll('[data-pricing-for]')) {
      field.hidden = !field.dataset.pricingFor.split(' ').includes(chosen);
      const label = field.querySelector('label');
      label.dataset.labelAll ??= label.textContent;
      label.textContent = label.getAttribute(`data-label-${chosen}`) ?? label.dataset.labelAll;
    }
    meaning.textContent = sentence(chosen);
  };
  model.addEventListener('change', update);
  pricing.addEventListener('input', update);
  update();
}
