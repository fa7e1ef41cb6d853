using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Payments;

/// <summary>The app with Stripe configured, its API pointed at a <see cref="FakeStripe"/>.</summary>
public sealed class StripeApp : AgentMarketApp
{
    public const string SecretKey = "sk_test_agentmarket_fake";
    public const string WebhookSecret = "whsec_agentmarket_test_secret";

    public FakeStripe Stripe { get; } = new();

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("Stripe:SecretKey", SecretKey),
        new("Stripe:WebhookSecret", WebhookSecret),
        new("Stripe:ApiBase", Stripe.BaseUrl),
    ];

    public override async ValueTask InitializeAsync()
    {
        await Stripe.StartAsync(); // before the app reads its settings
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Stripe.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
