// Verifies webhooks with the Standard Webhooks reference library, independently of the app's own signing code.
// stdin: {"secret": "whsec_...", "requests": [{"headers": {...}, "body": "..."}], "now": <optional Unix ms>}; stdout: one
// line per request, "ok <type>" or "invalid <reason>". "now" is the receiver's clock: the app's test clock when a test
// moved it, since the library refuses timestamps more than 5 minutes from its own.
import { Webhook } from 'standardwebhooks';

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const { secret, requests, now } = JSON.parse(input);
  if (now != null) {
    Date.now = () => now;
  }
  const webhook = new Webhook(secret);
  for (const { headers, body } of requests) {
    try {
      const payload = webhook.verify(body, headers);
      process.stdout.write(`ok ${payload.type}\n`);
    } catch (error) {
      process.stdout.write(`invalid ${error.message}\n`);
    }
  }
});
