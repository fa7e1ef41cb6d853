using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentMarket.Tests.Payments;

/// <summary>
/// The few Stripe endpoints the app calls, on Kestrel at 127.0.0.1: it records every request and answers with JSON
/// shaped like Stripe's (API version 2025-02-24.acacia). Set <see cref="FailWith"/> to play an outage.
/// </summary>
public sealed class FakeStripe : IAsyncDisposable
{
    readonly ConcurrentQueue<StripeRequest> _requests = new();
    readonly ConcurrentDictionary<string, string> _sessionsByIdempotencyKey = new();
    readonly ConcurrentDictionary<string, string> _accountsByIdempotencyKey = new();
    readonly ConcurrentDictionary<string, string> _transfersByIdempotencyKey = new();
    readonly ConcurrentDictionary<string, string> _productsByIdempotencyKey = new();
    readonly ConcurrentDictionary<string, string> _cardsByCheckoutPaymentIntent = new();
    readonly ConcurrentDictionary<string, (int Status, object Body)> _paymentIntentsByIdempotencyKey = new();
    readonly ConcurrentDictionary<string, Guid> _paymentsByCheckoutPaymentIntent = new();
    readonly ConcurrentDictionary<string, (string? PaymentIntent, Guid Payment)> _invoices = new();
    readonly ConcurrentDictionary<string, string> _refundsByIdempotencyKey = new();

    /// <summary>The customer Checkout created in these tests (<see cref="StripeWebhooks.CheckoutSession"/> names it).</summary>
    public const string Customer = "cus_test_buyer";

    /// <summary>Stripe's test PaymentMethods and how an off-session charge of each ends.</summary>
    public const string SucceedingCard = "pm_card_visa";
    public const string DecliningCard = "pm_card_chargeDeclined";
    public const string AuthenticationRequiredCard = "pm_card_authenticationRequired";

    /// <summary>A US bank account: its PaymentIntent stays <c>processing</c> and the outcome arrives by webhook.</summary>
    public const string ProcessingBankAccount = "pm_usBankAccount_success";
    WebApplication? _app;

    public string BaseUrl { get; private set; } = "";

    public IReadOnlyCollection<StripeRequest> Requests => _requests;

    /// <summary>When set, every call answers this status with a Stripe error body.</summary>
    public int? FailWith { get; set; }

    /// <summary>When set, refunds answer this status with a Stripe error of this type and code (<c>charge_already_refunded</c>...).</summary>
    public (int Status, string Type, string? Code)? RefundFailsWith { get; set; }

    /// <summary>
    /// Where the sessions' <c>url</c> points: Stripe's Checkout, or, when set (say to <see cref="BaseUrl"/>), a custom
    /// domain; this fake answers <c>GET /c/pay/{id}</c> with a page, as a browser test needs.
    /// </summary>
    public string CheckoutBase { get; set; } = "https://checkout.stripe.com/";

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Use(async (context, next) =>
        {
            var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync() : null;
            _requests.Enqueue(new StripeRequest(context.Request.Method, context.Request.Path,
                form?.ToDictionary(f => f.Key, f => f.Value.ToString()) ?? [],
                context.Request.Headers.Authorization.ToString(), context.Request.Headers["Stripe-Version"].ToString(), context.Request.Headers["Idempotency-Key"].ToString()));
            if (context.Request.Path.StartsWithSegments("/c/pay"))
            {
                // The browser's visit to the hosted Checkout page, which needs no key.
                await next(context);
                return;
            }
            if (context.Request.Headers.Authorization.ToString() != $"Bearer {StripeApp.SecretKey}")
            {
                await Results.Json(Error("invalid_request_error", null, "Invalid API Key provided."), statusCode: 401).ExecuteAsync(context);
                return;
            }
            if (FailWith is { } status)
            {
                await Results.Json(Error("api_error", null, "Something went wrong on Stripe's end."), statusCode: status).ExecuteAsync(context);
                return;
            }
            await next(context);
        });
        _app.MapPost("/v1/checkout/sessions", (HttpRequest request) => CreateSession(request));
        _app.MapGet("/c/pay/{id}", (string id) => Results.Content($"<!DOCTYPE html><title>Fake Checkout</title><h1>Pay session {id}</h1>", "text/html"));
        _app.MapDelete("/v1/subscriptions/{id}", (string id) => id.StartsWith("sub_", StringComparison.Ordinal)
            ? Results.Json(new { id, @object = "subscription", status = "canceled" })
            : Results.Json(Error("invalid_request_error", "resource_missing", $"No such subscription: '{id}'"), statusCode: 404));
        _app.MapPost("/v1/subscriptions/{id}", (string id, HttpRequest request) => id.StartsWith("sub_", StringComparison.Ordinal)
            ? Results.Json(new { id, @object = "subscription", status = "active", cancel_at_period_end = request.Form["cancel_at_period_end"] == "true" })
            : Results.Json(Error("invalid_request_error", "resource_missing", $"No such subscription: '{id}'"), statusCode: 404));
        _app.MapGet("/v1/subscriptions/{id}", (string id) => id.StartsWith("sub_", StringComparison.Ordinal)
            ? Results.Json(new { id, @object = "subscription", status = "active", items = new { @object = "list", data = new[] { new { id = $"si_{id[4..]}", @object = "subscription_item" } } } })
            : Results.Json(Error("invalid_request_error", "resource_missing", $"No such subscription: '{id}'"), statusCode: 404));
        _app.MapPost("/v1/products", (HttpRequest request) => Results.Json(new
        {
            id = _productsByIdempotencyKey.GetOrAdd(request.Headers["Idempotency-Key"].ToString(), _ => $"prod_test_{Guid.NewGuid():N}"),
            @object = "product",
            name = request.Form["name"].ToString(),
        }));
        // PaymentIntents: Checkout's (read back with the card it saved) and off-session charges, idempotent by key.
        _app.MapGet("/v1/payment_intents/{id}", (string id, HttpRequest request) => Results.Json(new Dictionary<string, object?>
        {
            ["id"] = id,
            ["object"] = "payment_intent",
            ["status"] = "succeeded",
            ["customer"] = Customer,
            ["setup_future_usage"] = "off_session",
            ["metadata"] = _paymentsByCheckoutPaymentIntent.TryGetValue(id, out var payment) ? new Dictionary<string, string> { ["payment_id"] = payment.ToString() } : new Dictionary<string, string>(),
            ["invoice"] = _invoices.FirstOrDefault(invoice => invoice.Value.PaymentIntent == id).Key,
            ["payment_method"] = request.Query["expand[]"] == "payment_method"
                ? PaymentMethod(_cardsByCheckoutPaymentIntent.GetValueOrDefault(id, SucceedingCard))
                : _cardsByCheckoutPaymentIntent.GetValueOrDefault(id, SucceedingCard),
        }));
        _app.MapPost("/v1/payment_intents", (HttpRequest request) =>
        {
            var form = request.Form;
            var (status, body) = _paymentIntentsByIdempotencyKey.GetOrAdd(request.Headers["Idempotency-Key"].ToString(), _ => OffSessionCharge(form));
            return Results.Json(body, statusCode: status);
        });
        // Invoices of subscriptions Checkout created (acacia: payment_intent and subscription_details on the invoice), and refunds.
        _app.MapGet("/v1/invoices/{id}", (string id) => _invoices.TryGetValue(id, out var invoice)
            ? Results.Json(new Dictionary<string, object?>
            {
                ["id"] = id,
                ["object"] = "invoice",
                ["payment_intent"] = invoice.PaymentIntent,
                ["subscription_details"] = new { metadata = new Dictionary<string, string> { ["payment_id"] = invoice.Payment.ToString() } },
            })
            : Results.Json(Error("invalid_request_error", "resource_missing", $"No such invoice: '{id}'"), statusCode: 404));
        _app.MapPost("/v1/refunds", (HttpRequest request) => RefundFailsWith is { } failure
            ? Results.Json(Error(failure.Type, failure.Code, "The refund was refused."), statusCode: failure.Status)
            : Results.Json(new Dictionary<string, object?>
            {
                ["id"] = _refundsByIdempotencyKey.GetOrAdd(request.Headers["Idempotency-Key"].ToString(), _ => $"re_test_{Guid.NewGuid():N}"),
                ["object"] = "refund",
                ["payment_intent"] = request.Form["payment_intent"].ToString(),
                ["status"] = "succeeded",
            }));
        // Connect: Express accounts, onboarding links and transfers, idempotent by key as Stripe is.
        _app.MapPost("/v1/accounts", (HttpRequest request) => Results.Json(new Dictionary<string, object?>
        {
            ["id"] = _accountsByIdempotencyKey.GetOrAdd(request.Headers["Idempotency-Key"].ToString(), _ => $"acct_test_{Guid.NewGuid():N}"[..26]),
            ["object"] = "account",
            ["type"] = request.Form["type"].ToString(),
            ["email"] = request.Form["email"].ToString(),
            ["payouts_enabled"] = false,
            ["capabilities"] = new Dictionary<string, string> { ["transfers"] = "inactive" },
        }));
        _app.MapPost("/v1/account_links", (HttpRequest request) => Results.Json(new Dictionary<string, object?>
        {
            ["object"] = "account_link",
            ["url"] = $"https://connect.stripe.com/setup/e/{request.Form["account"]}/{Guid.NewGuid():N}",
            ["expires_at"] = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds(),
        }));
        _app.MapPost("/v1/transfers", (HttpRequest request) => Results.Json(new Dictionary<string, object?>
        {
            ["id"] = _transfersByIdempotencyKey.GetOrAdd(request.Headers["Idempotency-Key"].ToString(), _ => $"tr_test_{Guid.NewGuid():N}"),
            ["object"] = "transfer",
            ["amount"] = long.Parse(request.Form["amount"].ToString(), System.Globalization.CultureInfo.InvariantCulture),
            ["currency"] = request.Form["currency"].ToString(),
            ["destination"] = request.Form["destination"].ToString(),
            ["metadata"] = new Dictionary<string, string> { ["payout_id"] = request.Form["metadata[payout_id]"].ToString() },
            ["reversed"] = false,
        }));
        await _app.StartAsync();
        BaseUrl = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/";
    }

    /// <summary>The checkout sessions the app created, oldest first, as the form fields it sent.</summary>
    public IReadOnlyList<StripeRequest> CheckoutSessions() => _requests.Where(r => r.Method == "POST" && r.Path == "/v1/checkout/sessions").ToList();

    IResult CreateSession(HttpRequest request)
    {
        var form = request.Form;
        // Stripe's idempotency: the same key returns the session created the first time.
        var id = _sessionsByIdempotencyKey.GetOrAdd(request.Headers["Idempotency-Key"].ToString(), _ => $"cs_test_{Guid.NewGuid():N}");
        return Results.Json(new Dictionary<string, object?>
        {
            ["id"] = id,
            ["object"] = "checkout.session",
            ["mode"] = form["mode"].ToString(),
            ["client_reference_id"] = form["client_reference_id"].ToString(),
            ["metadata"] = new Dictionary<string, string> { ["payment_id"] = form["metadata[payment_id]"].ToString() },
            ["amount_total"] = long.Parse(form["line_items[0][price_data][unit_amount]"].ToString(), System.Globalization.CultureInfo.InvariantCulture),
            ["currency"] = form["line_items[0][price_data][currency]"].ToString(),
            ["status"] = "open",
            ["payment_status"] = "unpaid",
            ["success_url"] = form["success_url"].ToString(),
            ["cancel_url"] = form["cancel_url"].ToString(),
            ["url"] = $"{CheckoutBase.TrimEnd('/')}/c/pay/{id}",
            ["livemode"] = false,
        });
    }

    /// <summary>Makes the Checkout that paid with <paramref name="paymentIntent"/> save <paramref name="paymentMethod"/> (by default <see cref="SucceedingCard"/>).</summary>
    public void CheckoutPaysWith(string paymentIntent, string paymentMethod) => _cardsByCheckoutPaymentIntent[paymentIntent] = paymentMethod;

    /// <summary>Makes <paramref name="paymentIntent"/> carry our <paramref name="payment"/>'s id in its metadata, as a package Checkout's does.</summary>
    public void PaymentIntentPays(string paymentIntent, Guid payment) => _paymentsByCheckoutPaymentIntent[paymentIntent] = payment;

    /// <summary>
    /// Makes <paramref name="invoice"/> exist, paid by <paramref name="paymentIntent"/> (null: nothing to pay, as with a
    /// 100% discount), for the subscription a plan <paramref name="payment"/>'s Checkout created.
    /// </summary>
    public void InvoicePays(string invoice, string? paymentIntent, Guid payment) => _invoices[invoice] = (paymentIntent, payment);

    /// <summary>The refunds the app asked for, oldest first (retries with the same Idempotency-Key included).</summary>
    public IReadOnlyList<StripeRequest> Refunds() => _requests.Where(r => r.Method == "POST" && r.Path == "/v1/refunds").ToList();

    /// <summary>How many distinct refunds Stripe made: one per idempotency key.</summary>
    public int DistinctRefunds => _refundsByIdempotencyKey.Count;

    /// <summary>The off-session charges the app asked for, oldest first (retries with the same Idempotency-Key included).</summary>
    public IReadOnlyList<StripeRequest> OffSessionCharges() => _requests.Where(r => r.Method == "POST" && r.Path == "/v1/payment_intents").ToList();

    /// <summary>How many distinct PaymentIntents Stripe created: one per idempotency key.</summary>
    public int DistinctPaymentIntents => _paymentIntentsByIdempotencyKey.Count;

    static (int Status, object Body) OffSessionCharge(IFormCollection form)
    {
        var card = form["payment_method"].ToString();
        var intent = new Dictionary<string, object?>
        {
            ["id"] = $"pi_test_{Guid.NewGuid():N}",
            ["object"] = "payment_intent",
            ["amount"] = long.Parse(form["amount"].ToString(), System.Globalization.CultureInfo.InvariantCulture),
            ["currency"] = form["currency"].ToString(),
            ["customer"] = form["customer"].ToString(),
            ["payment_method"] = card,
            ["metadata"] = new Dictionary<string, string> { ["payment_id"] = form["metadata[payment_id]"].ToString() },
            ["status"] = "succeeded",
        };
        if (form["off_session"] != "true" || form["confirm"] != "true")
        {
            return (400, Error("invalid_request_error", "parameter_missing", "This fake only confirms off-session charges."));
        }
        switch (card)
        {
            case DecliningCard:
                intent["status"] = "requires_payment_method";
                return (402, new { error = new { type = "card_error", code = "card_declined", decline_code = "generic_decline", message = "Your card was declined.", payment_intent = intent } });
            case AuthenticationRequiredCard:
                intent["status"] = "requires_payment_method";
                return (402, new { error = new { type = "card_error", code = "authentication_required", decline_code = "authentication_required", message = "Your card was declined. This transaction requires authentication.", payment_intent = intent } });
            case ProcessingBankAccount:
                intent["status"] = "processing";
                return (200, intent);
            default:
                return (200, intent);
        }
    }

    static Dictionary<string, object?> PaymentMethod(string id) => new()
    {
        ["id"] = id,
        ["object"] = "payment_method",
        ["type"] = id.StartsWith("pm_card", StringComparison.Ordinal) ? "card" : "us_bank_account",
        ["card"] = id.StartsWith("pm_card", StringComparison.Ordinal)
            ? new { brand = "visa", last4 = id switch { DecliningCard => "0002", AuthenticationRequiredCard => "3184", _ => "4242" } }
            : null,
    };

    /// <summary>The transfers the app asked for, oldest first (retries with the same Idempotency-Key included).</summary>
    public IReadOnlyList<StripeRequest> Transfers() => _requests.Where(r => r.Method == "POST" && r.Path == "/v1/transfers").ToList();

    /// <summary>How many distinct transfers Stripe made: one per idempotency key.</summary>
    public int DistinctTransfers => _transfersByIdempotencyKey.Count;

    static object Error(string type, string? code, string message) => new { error = new { type, code, message } };

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

public sealed record StripeRequest(string Method, string Path, Dictionary<string, string> Form, string Authorization, string StripeVersion, string IdempotencyKey);
