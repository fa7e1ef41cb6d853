using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace AgentMarket.Payments.Stripe;

/// <summary>
/// The few Stripe REST calls we make, over plain <see cref="HttpClient"/> (no Stripe.net in the package mirror; ADR-031):
/// form-encoded requests with the secret key as a bearer token, the API version pinned so response and event shapes
/// do not change under us.
/// </summary>
sealed class StripeClient(HttpClient http, ILogger<StripeClient> logger)
{
    /// <summary>The API version our requests ask for; the webhook endpoint in Stripe's dashboard should use the same.</summary>
    public const string ApiVersion = "2025-02-24.acacia";

    public static void Configure(IServiceProvider services, HttpClient http)
    {
        var options = services.GetRequiredService<IOptions<StripeOptions>>().Value;
        http.BaseAddress = options.ApiBase;
        http.Timeout = TimeSpan.FromSeconds(30);
        if (options.SecretKey is { Length: > 0 } key)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        http.DefaultRequestHeaders.Add("Stripe-Version", ApiVersion);
    }

    /// <summary>
    /// Creates a Checkout Session. <paramref name="idempotencyKey"/> makes Stripe return the same session when the same
    /// purchase is started again (a retried request, a replayed <c>Idempotency-Key</c>) instead of opening a second one.
    /// </summary>
    public async Task<CheckoutSession> CreateCheckoutSessionAsync(IReadOnlyList<KeyValuePair<string, string>> form, string idempotencyKey, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/checkout/sessions") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await SendAsync(request, ct);
        var session = await response.Content.ReadFromJsonAsync<CheckoutSession>(StripeJson.Options, ct);
        return session is { Id.Length: > 0, Url.Length: > 0 } ? session : throw new StripeApiException("Stripe returned a checkout session without an id or url.");
    }

    /// <summary>Cancels a subscription at once. One that Stripe no longer knows is already as cancelled as it gets.</summary>
    public async Task CancelSubscriptionAsync(string subscriptionId, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"v1/subscriptions/{Uri.EscapeDataString(subscriptionId)}");
        using var response = await SendAsync(request, ct, tolerateNotFound: true);
    }

    /// <summary>
    /// Lets a subscription run to the end of the paid period and then end (Stripe sends customer.subscription.deleted),
    /// or, with <paramref name="cancel"/> false, renew again. <paramref name="changeKey"/> names the plan change asking for it: Stripe would answer a repeated key from its
    /// cache without applying it, even after another change undid the first.
    /// </summary>
    public async Task SetCancelAtPeriodEndAsync(string subscriptionId, bool cancel, string changeKey, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/subscriptions/{Uri.EscapeDataString(subscriptionId)}")
        {
            Content = new FormUrlEncodedContent([new("cancel_at_period_end", cancel ? "true" : "false")]),
        };
        request.Headers.Add("Idempotency-Key", $"cancel-at-period-end:{cancel}:{changeKey}");
        using var response = await SendAsync(request, ct);
    }

    /// <summary>Creates an Express connected account for a provider's payouts (Connect); keyed by provider so a retry finds the same account.</summary>
    public async Task<string> CreateExpressAccountAsync(string email, Guid providerId, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/accounts")
        {
            Content = new FormUrlEncodedContent(
            [
                new("type", "express"),
                new("email", email),
                new("capabilities[transfers][requested]", "true"),
                new("metadata[provider_id]", providerId.ToString()),
            ]),
        };
        request.Headers.Add("Idempotency-Key", $"connect-account:{providerId}");
        using var response = await SendAsync(request, ct);
        var account = await response.Content.ReadFromJsonAsync<Created>(StripeJson.Options, ct);
        return account is { Id.Length: > 0 } ? account.Id : throw new StripeApiException("Stripe returned an account without an id.");
    }

    /// <summary>A one-time onboarding link for a connected account (it expires within minutes, so one is made per request).</summary>
    public async Task<string> CreateAccountLinkAsync(string accountId, Uri refreshUrl, Uri returnUrl, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/account_links")
        {
            Content = new FormUrlEncodedContent(
            [
                new("account", accountId),
                new("refresh_url", refreshUrl.ToString()),
                new("return_url", returnUrl.ToString()),
                new("type", "account_onboarding"),
            ]),
        };
        using var response = await SendAsync(request, ct);
        var link = await response.Content.ReadFromJsonAsync<AccountLink>(StripeJson.Options, ct);
        return link is { Url.Length: > 0 } ? link.Url : throw new StripeApiException("Stripe returned an account link without a url.");
    }

    /// <summary>
    /// Sends <paramref name="amountCents"/> from the platform's balance to a connected account. The idempotency key is
    /// the payout's ledger key, so however often a payout run retries, Stripe makes one transfer.
    /// </summary>
    public async Task<string> CreateTransferAsync(long amountCents, string destination, Guid payoutId, string idempotencyKey, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/transfers")
        {
            Content = new FormUrlEncodedContent(
            [
                new("amount", amountCents.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new("currency", "usd"),
                new("destination", destination),
                new("transfer_group", payoutId.ToString()),
                new("metadata[payout_id]", payoutId.ToString()),
            ]),
        };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await SendAsync(request, ct);
        var transfer = await response.Content.ReadFromJsonAsync<Created>(StripeJson.Options, ct);
        return transfer is { Id.Length: > 0 } ? transfer.Id : throw new StripeApiException("Stripe returned a transfer without an id.");
    }

    /// <summary>
    /// Reads a PaymentIntent with its PaymentMethod expanded: after a Checkout that saved the card, this says which
    /// customer and card Stripe keeps for off-session payments (a webhook payload carries ids only).
    /// </summary>
    public async Task<PaymentIntent> GetPaymentIntentAsync(string paymentIntentId, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/payment_intents/{Uri.EscapeDataString(paymentIntentId)}?expand[]=payment_method");
        using var response = await SendAsync(request, ct);
        var intent = await response.Content.ReadFromJsonAsync<PaymentIntent>(StripeJson.Options, ct);
        return intent is { Id.Length: > 0 } ? intent : throw new StripeApiException("Stripe returned a payment intent without an id.");
    }

    /// <summary>
    /// Reads an invoice: the PaymentIntent that paid it (API version 2025-02-24.acacia still has <c>payment_intent</c> on
    /// the invoice) and the subscription's metadata as it stood when the invoice was made (our payment's id). Null when
    /// Stripe knows no such invoice (404): asking again would not change that.
    /// </summary>
    public async Task<Invoice?> GetInvoiceAsync(string invoiceId, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/invoices/{Uri.EscapeDataString(invoiceId)}");
        using var response = await SendAsync(request, ct, tolerateNotFound: true);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        var invoice = await response.Content.ReadFromJsonAsync<Invoice>(StripeJson.Options, ct);
        return invoice is { Id.Length: > 0 } ? invoice : throw new StripeApiException("Stripe returned an invoice without an id.");
    }

    /// <summary>
    /// Refunds a PaymentIntent in full. <paramref name="idempotencyKey"/> names our reason for it, so however often it is
    /// retried Stripe refunds once. Null when the money is back, including a charge already refunded (by the dashboard,
    /// or by a request whose answer was lost); Stripe's error when it refuses the request as such (400, 402, 404), which
    /// asking again would not change. An outage or a server error throws, to be tried again.
    /// </summary>
    public async Task<StripeError?> RefundPaymentIntentAsync(string paymentIntentId, Guid paymentId, string idempotencyKey, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/refunds")
        {
            Content = new FormUrlEncodedContent(
            [
                new("payment_intent", paymentIntentId),
                new("metadata[payment_id]", paymentId.ToString()),
            ]),
        };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await TransportAsync(request, ct);
        if (response.IsSuccessStatusCode)
        {
            return null;
        }
        var error = await ReadErrorAsync(response, ct);
        if (error?.Code == "charge_already_refunded")
        {
            return null;
        }
        logger.LogError("Stripe POST v1/refunds failed with {Status}: {ErrorType} {ErrorCode} (request {RequestId})", (int)response.StatusCode, error?.Type, error?.Code,
            response.Headers.TryGetValues("Request-Id", out var ids) ? ids.FirstOrDefault() : null);
        if (response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.PaymentRequired or HttpStatusCode.NotFound)
        {
            return error ?? new StripeError("invalid_request_error", null);
        }
        throw new StripeApiException($"Stripe answered {(int)response.StatusCode}.");
    }

    /// <summary>
    /// Charges a saved card without the customer present (<c>off_session=true&amp;confirm=true</c>). The idempotency key
    /// is our payment's, so however many runs or retries ask, Stripe makes one charge. A refusal by the card or the
    /// bank (HTTP 402 <c>card_error</c>: <c>card_declined</c>, <c>authentication_required</c>…) or a saved card Stripe no
    /// longer accepts (400) is an answer, returned as <see cref="OffSessionAttempt.Refusal"/>; only an outage throws.
    /// </summary>
    public async Task<OffSessionAttempt> ChargeOffSessionAsync(IReadOnlyList<KeyValuePair<string, string>> form, string idempotencyKey, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/payment_intents") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        var response = await TransportAsync(request, ct);
        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                var intent = await response.Content.ReadFromJsonAsync<PaymentIntent>(StripeJson.Options, ct);
                return intent is { Id.Length: > 0 } ? new OffSessionAttempt(intent, null) : throw new StripeApiException("Stripe returned a payment intent without an id.");
            }
            var error = await ReadErrorAsync(response, ct);
            if (response.StatusCode is HttpStatusCode.PaymentRequired || (response.StatusCode is HttpStatusCode.BadRequest && error?.Type is "card_error" or "invalid_request_error"))
            {
                // The card's verdict: the decline code and Stripe's message are about the card, never its number.
                logger.LogWarning("Stripe refused an off-session charge: {ErrorType} {ErrorCode} {DeclineCode}", error?.Type, error?.Code, error?.DeclineCode);
                return new OffSessionAttempt(error?.PaymentIntent, error ?? new StripeError("card_error", null));
            }
            logger.LogError("Stripe POST v1/payment_intents failed with {Status}: {ErrorType} {ErrorCode} (request {RequestId})", (int)response.StatusCode, error?.Type, error?.Code,
                response.Headers.TryGetValues("Request-Id", out var ids) ? ids.FirstOrDefault() : null);
            throw new StripeApiException($"Stripe answered {(int)response.StatusCode}.");
        }
    }

    /// <summary>
    /// Moves a subscription to another price from its next invoice on: the item's price changes now, but with
    /// <c>proration_behavior=none</c> and the same interval nothing is charged or credited for the period already paid,
    /// so the customer pays the new price from the end of the current period. Subscription items take an inline price
    /// only for an existing product, so the product is created first (keyed, so a retry reuses it).
    /// </summary>
    public async Task ChangeSubscriptionPriceAsync(string subscriptionId, string productName, long unitAmountCents, string currency, string interval, string changeKey, CancellationToken ct)
    {
        using var read = new HttpRequestMessage(HttpMethod.Get, $"v1/subscriptions/{Uri.EscapeDataString(subscriptionId)}");
        using var subscriptionResponse = await SendAsync(read, ct);
        var subscription = await subscriptionResponse.Content.ReadFromJsonAsync<Subscription>(StripeJson.Options, ct);
        var item = subscription?.Items?.Data?.FirstOrDefault() ?? throw new StripeApiException("Stripe returned a subscription without items.");

        using var productRequest = new HttpRequestMessage(HttpMethod.Post, "v1/products") { Content = new FormUrlEncodedContent([new("name", productName)]) };
        productRequest.Headers.Add("Idempotency-Key", $"product:{changeKey}");
        using var productResponse = await SendAsync(productRequest, ct);
        var product = await productResponse.Content.ReadFromJsonAsync<Created>(StripeJson.Options, ct);
        if (product is not { Id.Length: > 0 })
        {
            throw new StripeApiException("Stripe returned a product without an id.");
        }

        using var update = new HttpRequestMessage(HttpMethod.Post, $"v1/subscriptions/{Uri.EscapeDataString(subscriptionId)}")
        {
            Content = new FormUrlEncodedContent(
            [
                new("items[0][id]", item.Id),
                new("items[0][price_data][currency]", currency),
                new("items[0][price_data][product]", product.Id),
                new("items[0][price_data][unit_amount]", unitAmountCents.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new("items[0][price_data][recurring][interval]", interval),
                new("proration_behavior", "none"),
                new("cancel_at_period_end", "false"),
            ]),
        };
        update.Headers.Add("Idempotency-Key", $"subscription-price:{changeKey}");
        using var updated = await SendAsync(update, ct);
    }

    async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct, bool tolerateNotFound = false)
    {
        var response = await TransportAsync(request, ct);
        if (response.IsSuccessStatusCode || (tolerateNotFound && response.StatusCode == HttpStatusCode.NotFound))
        {
            return response;
        }
        using (response)
        {
            // Stripe's error type and code say what went wrong without echoing anything we sent.
            var error = await ReadErrorAsync(response, ct);
            logger.LogError("Stripe {Method} {Path} failed with {Status}: {ErrorType} {ErrorCode} (request {RequestId})",
                request.Method, request.RequestUri?.OriginalString, (int)response.StatusCode, error?.Type, error?.Code,
                response.Headers.TryGetValues("Request-Id", out var ids) ? ids.FirstOrDefault() : null);
            throw new StripeApiException($"Stripe answered {(int)response.StatusCode}.");
        }
    }

    /// <summary>Sends the request; an outage (no connection, no answer in time) becomes a <see cref="StripeApiException"/>.</summary>
    async Task<HttpResponseMessage> TransportAsync(HttpRequestMessage request, CancellationToken ct)
    {
        try
        {
            return await http.SendAsync(request, ct);
        }
        catch (HttpRequestException exception)
        {
            throw new StripeApiException("Stripe could not be reached.", exception);
        }
        catch (TaskCanceledException exception) when (!ct.IsCancellationRequested)
        {
            throw new StripeApiException("Stripe did not answer in time.", exception);
        }
    }

    static async Task<StripeError?> ReadErrorAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            return (await response.Content.ReadFromJsonAsync<StripeErrorBody>(StripeJson.Options, ct))?.Error;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public sealed record CheckoutSession(string Id, string Url);

    sealed record Created(string Id);

    sealed record AccountLink(string Url);

    sealed record StripeErrorBody(StripeError? Error);

    /// <summary>Stripe's error: for a refused card, <c>code</c> (<c>card_declined</c>, <c>authentication_required</c>), the issuer's <c>decline_code</c>, and the PaymentIntent it left.</summary>
    public sealed record StripeError(string? Type, string? Code, string? DeclineCode = null, string? Message = null, PaymentIntent? PaymentIntent = null);

    /// <summary>A PaymentIntent; <c>payment_method</c> is an id, or the object when expanded.</summary>
    public sealed record PaymentIntent(string Id, string? Status = null, string? Customer = null, JsonElement? PaymentMethod = null, string? SetupFutureUsage = null,
        Dictionary<string, string>? Metadata = null, string? Invoice = null)
    {
        /// <summary>Our payment's id, for the PaymentIntents our checkouts and off-session charges create.</summary>
        public Guid? PaymentId => Metadata?.GetValueOrDefault("payment_id") is { } id && Guid.TryParse(id, out var parsed) ? parsed : null;

        public string? PaymentMethodId => PaymentMethod switch
        {
            { ValueKind: JsonValueKind.String } id => id.GetString(),
            { ValueKind: JsonValueKind.Object } method when method.TryGetProperty("id", out var id) => id.GetString(),
            _ => null,
        };

        /// <summary>The card's brand and last four digits, when the payment method was expanded and is a card.</summary>
        public (string? Brand, string? Last4) Card => PaymentMethod is { ValueKind: JsonValueKind.Object } method && method.TryGetProperty("card", out var card) && card.ValueKind == JsonValueKind.Object
            ? (card.TryGetProperty("brand", out var brand) ? brand.GetString() : null, card.TryGetProperty("last4", out var last4) ? last4.GetString() : null)
            : (null, null);
    }

    /// <summary>An off-session charge's outcome: the PaymentIntent Stripe created, and the refusal when the card or bank said no.</summary>
    public sealed record OffSessionAttempt(PaymentIntent? Intent, StripeError? Refusal);

    /// <summary>An invoice; <c>subscription_details</c> moved under <c>parent</c> in API version 2025-03-31, both are read.</summary>
    public sealed record Invoice(string Id, string? PaymentIntent = null, InvoiceSubscriptionDetails? SubscriptionDetails = null, InvoiceParent? Parent = null)
    {
        public Guid? PaymentId => (SubscriptionDetails ?? Parent?.SubscriptionDetails)?.Metadata?.GetValueOrDefault("payment_id") is { } id && Guid.TryParse(id, out var parsed) ? parsed : null;
    }

    public sealed record InvoiceParent(InvoiceSubscriptionDetails? SubscriptionDetails = null);

    public sealed record InvoiceSubscriptionDetails(Dictionary<string, string>? Metadata = null);

    sealed record Subscription(string Id, StripeList<SubscriptionItem>? Items = null);

    sealed record SubscriptionItem(string Id);
}

/// <summary>Stripe failed or could not be reached; the purchase can be retried. Maps to 502 <c>payment_provider_unavailable</c>.</summary>
sealed class StripeApiException(string message, Exception? inner = null) : Exception(message, inner);

static class StripeJson
{
    /// <summary>Stripe's snake_case; a missing required member (an event without an id) is an error, not a null.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };
}
