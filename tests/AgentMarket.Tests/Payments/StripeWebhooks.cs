using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Payments;

/// <summary>Stripe's side of the conversation: event payloads shaped like API version 2025-02-24.acacia, signed and posted.</summary>
public static class StripeWebhooks
{
    public const string Path = "/api/stripe/webhook/";

    public static string Event(string type, object data, string? eventId = null) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["id"] = eventId ?? NewId("evt"),
        ["object"] = "event",
        ["api_version"] = "2025-02-24.acacia",
        ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["livemode"] = false,
        ["pending_webhooks"] = 1,
        ["type"] = type,
        ["data"] = new Dictionary<string, object?> { ["object"] = data },
    });

    public static string NewId(string prefix) => $"{prefix}_test_{Guid.NewGuid():N}";

    public static object CheckoutSession(Guid paymentId, string mode, string? paymentIntent = null, string? subscription = null, string? invoice = null,
        string paymentStatus = "paid") => new Dictionary<string, object?>
        {
            ["id"] = NewId("cs"),
            ["object"] = "checkout.session",
            ["mode"] = mode,
            ["client_reference_id"] = paymentId.ToString(),
            ["metadata"] = new Dictionary<string, string> { ["payment_id"] = paymentId.ToString() },
            ["payment_status"] = paymentStatus,
            ["status"] = "complete",
            ["payment_intent"] = paymentIntent,
            ["subscription"] = subscription,
            ["invoice"] = invoice,
            ["customer"] = FakeStripe.Customer,
            ["amount_total"] = 0,
            ["currency"] = "usd",
        };

    public static object Invoice(string id, string subscription, string billingReason, long amountPaid, DateTime periodStart, DateTime periodEnd) => new Dictionary<string, object?>
    {
        ["id"] = id,
        ["object"] = "invoice",
        ["billing_reason"] = billingReason,
        ["subscription"] = subscription,
        ["status"] = "paid",
        ["amount_paid"] = amountPaid,
        ["currency"] = "usd",
        ["payment_intent"] = NewId("pi"),
        ["lines"] = new Dictionary<string, object?>
        {
            ["object"] = "list",
            ["data"] = new[]
            {
                new Dictionary<string, object?>
                {
                    ["id"] = NewId("il"),
                    ["type"] = "subscription",
                    ["amount"] = amountPaid,
                    ["period"] = new { start = new DateTimeOffset(periodStart).ToUnixTimeSeconds(), end = new DateTimeOffset(periodEnd).ToUnixTimeSeconds() },
                },
            },
        },
    };

    /// <summary>A PaymentIntent as <c>payment_intent.succeeded</c> or <c>payment_intent.payment_failed</c> carries it.</summary>
    public static object PaymentIntent(string id, Guid paymentId, string status, string? errorCode = null, string? declineCode = null) => new Dictionary<string, object?>
    {
        ["id"] = id,
        ["object"] = "payment_intent",
        ["status"] = status,
        ["customer"] = FakeStripe.Customer,
        ["metadata"] = new Dictionary<string, string> { ["payment_id"] = paymentId.ToString() },
        ["last_payment_error"] = errorCode is null ? null : new { type = "card_error", code = errorCode, decline_code = declineCode },
    };

    public static object Subscription(string id, string status = "canceled") => new { id, @object = "subscription", status };

    public static object Charge(string paymentIntent, long amount, long amountRefunded, string? refundId) => new Dictionary<string, object?>
    {
        ["id"] = NewId("ch"),
        ["object"] = "charge",
        ["amount"] = amount,
        ["amount_refunded"] = amountRefunded,
        ["refunded"] = amountRefunded >= amount,
        ["payment_intent"] = paymentIntent,
        ["refunds"] = refundId is null ? null : new { @object = "list", data = new[] { new { id = refundId, amount = amountRefunded } } },
    };

    /// <summary>A dispute as <c>charge.dispute.*</c> events carry it (API version 2025-02-24.acacia).</summary>
    public static object Dispute(string paymentIntent, long amount, string status = "lost") => new Dictionary<string, object?>
    {
        ["id"] = NewId("du"),
        ["object"] = "dispute",
        ["amount"] = amount,
        ["charge"] = NewId("ch"),
        ["payment_intent"] = paymentIntent,
        ["currency"] = "usd",
        ["reason"] = "fraudulent",
        ["status"] = status,
        ["is_charge_refundable"] = false,
    };

    /// <summary>The header Stripe sends: <c>t=…,v1=HMAC-SHA256("{t}.{payload}")</c> (written here independently of the app's verifier).</summary>
    public static string Signature(string payload, DateTimeOffset at, string secret = StripeApp.WebhookSecret)
    {
        var timestamp = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{payload}"));
        return $"t={timestamp},v1={Convert.ToHexStringLower(mac)}";
    }

    /// <summary>The header Stripe's own Node library generates (npm <c>stripe</c>, installed by test.sh).</summary>
    public static async Task<string> SignatureFromStripeLibraryAsync(string payload, DateTimeOffset at, string secret = StripeApp.WebhookSecret)
    {
        var folder = System.IO.Path.Combine(Repo.Root, "tests", "AgentMarket.Tests", "Payments", "node");
        Assert.True(Directory.Exists(System.IO.Path.Combine(folder, "node_modules", "stripe")),
            $"npm stripe is not installed; run: npm ci --prefix {folder}");
        var start = new ProcessStartInfo("node", "sign.js")
        {
            WorkingDirectory = folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = Process.Start(start)!;
        await node.StandardInput.WriteAsync(JsonSerializer.Serialize(new { payload, secret, timestamp = at.ToUnixTimeSeconds() }));
        node.StandardInput.Close();
        var header = await node.StandardOutput.ReadToEndAsync();
        var error = await node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync();
        Assert.True(node.ExitCode == 0, $"node sign.js failed: {error}");
        return header.Trim();
    }

    public static async Task<HttpResponseMessage> PostAsync(AgentMarketApp app, string payload, string? signature)
    {
        using var client = app.CreateClient();
        var request = new HttpRequestMessage(HttpMethod.Post, Path) { Content = new StringContent(payload, Encoding.UTF8, "application/json") };
        if (signature is not null)
        {
            request.Headers.TryAddWithoutValidation("Stripe-Signature", signature);
        }
        return await client.SendAsync(request);
    }

    /// <summary>Posts <paramref name="payload"/> signed now (by the app's clock), asserting Stripe would see a 200.</summary>
    public static async Task<JsonElement> DeliverAsync(AgentMarketApp app, string payload)
    {
        var response = await PostAsync(app, payload, Signature(payload, app.Clock.GetUtcNow()));
        await Http.AssertStatusAsync(response, System.Net.HttpStatusCode.OK);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
