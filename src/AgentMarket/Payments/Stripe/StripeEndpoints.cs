using System.Text.Json;
using AgentMarket.Credits;
using AgentMarket.Identity;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace AgentMarket.Payments.Stripe;

/// <summary>Stripe's webhook, SPEC's <c>/api/stripe/checkout/</c> path, and the wiring that picks Stripe over the sandbox.</summary>
static class StripeEndpoints
{
    public const string InvalidSignature = "invalid_signature";
    public const string NotConfigured = "stripe_not_configured";
    public const string ProviderUnavailable = "payment_provider_unavailable";

    public static void AddStripePayments(this IServiceCollection services)
    {
        services.AddHttpClient<StripeClient>(StripeClient.Configure);
        services.AddScoped<StripePaymentProvider>();
        services.AddScoped<StripeEventHandler>();
        services.AddExceptionHandler<StripeUnavailableHandler>();
    }

    public static void MapStripe(this IEndpointRouteBuilder routes)
    {
        var stripe = routes.MapGroup("/api/stripe").WithTags("Payments");
        stripe.MapPost("/webhook", ReceiveWebhookAsync).WithName("StripeWebhook").AllowAnyone().ExcludeFromDescription();
        stripe.MapPost("/checkout", CheckoutAsync).WithName("StripeCheckout").RequireOrganization(MembershipRole.Manager);
    }

    /// <summary>
    /// Reads the raw body (the signature covers its exact bytes), verifies <c>Stripe-Signature</c>, then handles the event
    /// in a system scope of its own: the request's scope stays without privileges.
    /// </summary>
    static async Task<IResult> ReceiveWebhookAsync(HttpRequest request, IOptions<StripeOptions> options, TimeProvider clock, IServiceScopeFactory scopes,
        ILogger<StripeEventHandler> logger, CancellationToken ct)
    {
        var stripe = options.Value;
        if (!stripe.Enabled)
        {
            return ApiProblem.NotFound();
        }
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, ct);
        var payload = body.GetBuffer().AsSpan(0, (int)body.Length);
        if (!StripeSignature.IsValid(request.Headers["Stripe-Signature"], payload, stripe.WebhookSecret!, clock.GetUtcNow(), TimeSpan.FromSeconds(stripe.WebhookToleranceSeconds)))
        {
            return ApiProblem.BadRequest(InvalidSignature, "The Stripe-Signature header is missing, expired or does not match the payload.");
        }
        StripeEvent? stripeEvent;
        try
        {
            stripeEvent = JsonSerializer.Deserialize<StripeEvent>(payload, StripeJson.Options);
        }
        catch (JsonException)
        {
            stripeEvent = null;
        }
        if (stripeEvent is null)
        {
            return ApiProblem.BadRequest(ProblemCodes.MalformedJson, "The payload is not a Stripe event.");
        }

        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        try
        {
            var handled = await scope.ServiceProvider.GetRequiredService<StripeEventHandler>().HandleOnceAsync(stripeEvent, ct);
            return TypedResults.Ok(new { received = true, duplicate = !handled });
        }
        catch (JsonException)
        {
            // Signed by Stripe but shaped unlike the pinned API version: answer 400 so the dashboard shows the failure.
            logger.LogWarning("Stripe event {EventId} ({Type}) has an unexpected shape; check the endpoint's API version is {ApiVersion}", stripeEvent.Id, stripeEvent.Type, StripeClient.ApiVersion);
            return ApiProblem.BadRequest(ProblemCodes.MalformedJson, $"The event's data.object does not match API version {StripeClient.ApiVersion}.");
        }
    }

    /// <summary>SPEC §10's path for starting a Stripe checkout: <c>/api/credits/purchase/</c>, when Stripe is the provider.</summary>
    static async Task<IResult> CheckoutAsync(PurchaseRequest request, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, IOptions<StripeOptions> options,
        Checkouts checkouts, CurrentTenant tenant, HttpContext http, CancellationToken ct) =>
        options.Value.Enabled
            ? await CreditsEndpoints.PurchaseAsync(request, idempotencyKey, checkouts, tenant, http, ct)
            : ApiProblem.Conflict(NotConfigured, "Stripe is not configured on this marketplace; purchases use the sandbox checkout at /api/credits/purchase/.");

    /// <summary>A Stripe outage is not our bug: the caller gets 502 with a code and may retry, instead of a 500.</summary>
    sealed class StripeUnavailableHandler(IProblemDetailsService problems) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            if (exception is not StripeApiException || httpContext.Response.HasStarted)
            {
                return false;
            }
            httpContext.Response.StatusCode = StatusCodes.Status502BadGateway;
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = httpContext,
                Exception = exception,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status502BadGateway,
                    Detail = "The payment provider is unavailable. Try again in a moment.",
                    Extensions = { ["code"] = ProviderUnavailable },
                },
            });
        }
    }
}
