namespace AgentMarket.Payments;

/// <summary>Bound from the <c>Stripe</c> section. Without both keys the sandbox provider is used (test mode).</summary>
public sealed class StripeOptions
{
    public string? SecretKey { get; set; }
    public string? WebhookSecret { get; set; }

    /// <summary>Stripe's API base URL; tests point it at a local fake.</summary>
    public Uri ApiBase { get; set; } = new("https://api.stripe.com/");

    /// <summary>
    /// The address of the account's Stripe Checkout custom domain (<c>https://pay.example.com</c>), when it has one: Stripe
    /// then returns Checkout URLs on it, and the pages' <c>form-action</c> must allow it, since browsers hold the redirect
    /// of a form post to it (ADR-171). Without it, only <c>checkout.stripe.com</c> is allowed.
    /// </summary>
    public Uri? CheckoutCustomDomain { get; set; }

    /// <summary>How far a webhook's timestamp may be from now (Stripe's default tolerance is 300 s).</summary>
    public int WebhookToleranceSeconds { get; set; } = 300;

    public bool Enabled => !string.IsNullOrWhiteSpace(SecretKey) && !string.IsNullOrWhiteSpace(WebhookSecret);
}
