using AgentMarket.Tests.Gateway;

namespace AgentMarket.Tests.Payments;

/// <summary>The gateway's app (a fake model to run agents against) with Stripe configured and pointed at a <see cref="FakeStripe"/>.</summary>
public class StripeGatewayApp : GatewayApp
{
    public FakeStripe Stripe { get; } = new();

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        .. base.ExtraSettings(),
        new("Stripe:SecretKey", StripeApp.SecretKey),
        new("Stripe:WebhookSecret", StripeApp.WebhookSecret),
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
