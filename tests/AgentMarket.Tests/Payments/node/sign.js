// Signs a webhook payload with Stripe's own library, so the app's verifier is checked against Stripe's implementation.
// stdin: {"payload": "...", "secret": "whsec_...", "timestamp": 1700000000}; stdout: the Stripe-Signature header.
const Stripe = require('stripe');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const { payload, secret, timestamp } = JSON.parse(input);
  const stripe = new Stripe('sk_test_unused');
  process.stdout.write(stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }));
});
