using AgentMarket.Payments.Stripe;
using Microsoft.Extensions.Options;

namespace AgentMarket.Payments;

/// <summary>Payments (SPEC §4): the sandbox (default) or Stripe, one fulfilment path, receipts.</summary>
static class PaymentsModule
{
    public static void AddPayments(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<StripeOptions>().BindConfiguration("Stripe")
            .Validate(o => string.IsNullOrWhiteSpace(o.SecretKey) == string.IsNullOrWhiteSpace(o.WebhookSecret),
                "Set both Stripe:SecretKey and Stripe:WebhookSecret to use Stripe, or neither to use the sandbox.")
            .Validate(o => o.WebhookToleranceSeconds > 0, "Stripe:WebhookToleranceSeconds must be positive.")
            .Validate(o => o.CheckoutCustomDomain is null || Platform.Security.SecurityHeaders.OriginOf(o.CheckoutCustomDomain.OriginalString) is not null,
                "Stripe:CheckoutCustomDomain must be an absolute address, such as https://pay.example.com.")
            .ValidateOnStart();
        services.AddSingleton<SandboxPaymentProvider>();
        services.AddStripePayments();
        // Stripe when both keys are configured, else the sandbox; resolved per scope so configuration decides, not registration order.
        services.AddScoped<IPaymentProvider>(provider => provider.GetRequiredService<IOptions<StripeOptions>>().Value.Enabled
            ? provider.GetRequiredService<StripePaymentProvider>()
            : provider.GetRequiredService<SandboxPaymentProvider>());
        services.AddScoped<Checkouts>();
        services.AddScoped<Fulfilment>();
        services.AddScoped<AutoTopUps>();
        services.AddScoped<SandboxCheckout>();
    }

    public static void MapPayments(this WebApplication app)
    {
        ((IEndpointRouteBuilder)app).MapPayments();
        app.MapStripe();
    }
}
