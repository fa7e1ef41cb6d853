using Microsoft.Extensions.Options;

namespace AgentMarket.Payments;

/// <summary>Payments (SPEC §4): the sandbox (default) or Stripe, one fulfilment path, receipts.</summary>
static class PaymentsModule
{
    public static void AddPayments(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<StripeOptions>().BindConfiguration("Stripe");
        services.AddSingleton<SandboxPaymentProvider>();
        services.AddSingleton<IPaymentProvider>(provider => provider.GetRequiredService<SandboxPaymentProvider>());
        services.AddScoped<Checkouts>();
        services.AddScoped<Fulfilment>();
        services.AddScoped<SandboxCheckout>();
    }

    public static void MapPayments(this WebApplication app) => ((IEndpointRouteBuilder)app).MapPayments();
}
