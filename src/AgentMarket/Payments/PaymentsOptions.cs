namespace AgentMarket.Payments;

/// <summary>Bound from the <c>Stripe</c> section. Without both keys the sandbox provider is used (test mode).</summary>
public sealed class StripeOptions
{
    public string? SecretKey { get; set; }
    public string? WebhookSecret { get; set; }

    /// <summary>Stripe's API base URL; tests point it at a local fake.</summary>
    public Uri ApiBase { get; set; } = new("https://api.stripe.com/");

    /// <summary>How far a webhook's timestamp may be from now (Stripe's default tolerance is 300 s).</summary>
    public int WebhookToleranceSeconds { get; set; } = 300;

    public bool Enabled => !string.IsNullOrWhiteSpace(SecretKey) && !string.IsNullOrWhiteSpace(WebhookSecret);
}
