namespace AgentMarket.Payments;

/// <summary>Where a buyer pays. The sandbox (default) and Stripe create checkouts; both end in <see cref="Fulfilment"/>.</summary>
public interface IPaymentProvider
{
    PaymentProviderKind Kind { get; }

    /// <summary>True when payments are simulated (no money moves): every page shows "test mode".</summary>
    bool TestMode { get; }

    /// <summary>Creates the hosted checkout for a pending payment and returns the URL to send the buyer to.</summary>
    Task<string> CreateCheckoutAsync(Payment payment, CheckoutUrls urls, CancellationToken ct);

    /// <summary>
    /// Charges the organization's saved payment method for <paramref name="payment"/> without the buyer present (an
    /// automatic top-up). Idempotent by the payment: a repeated call never charges twice.
    /// </summary>
    Task<OffSessionCharge> ChargeSavedPaymentMethodAsync(Payment payment, CancellationToken ct);

    /// <summary>
    /// Ends, at once, the provider's subscription that bills a plan (a refund took the plan away): it must not bill again.
    /// Idempotent: one already ended stays ended.
    /// </summary>
    Task EndSubscriptionAsync(string externalSubscriptionId, CancellationToken ct);

    /// <summary>
    /// Returns a paid payment's money in full (a plan checkout paid too late to apply). Idempotent by the payment: a
    /// repeated call refunds once. Throws when the provider fails or cannot be reached, so the caller tries again later;
    /// a refusal that trying again cannot change is answered, not thrown.
    /// </summary>
    Task<ProviderRefund> RefundInFullAsync(Payment payment, CancellationToken ct);
}

public enum ProviderRefundOutcome
{
    /// <summary>The money is back with the buyer: refunded now, or already before.</summary>
    Refunded,

    /// <summary>No money moved at the provider for this payment (an invoice paid in full by a discount): nothing to return.</summary>
    NothingToRefund,

    /// <summary>The provider refuses for good (the charge is disputed, too old to refund...): an operator has to look.</summary>
    Refused,
}

/// <summary>What <see cref="IPaymentProvider.RefundInFullAsync"/> came to; <see cref="Problem"/> names a refusal (the provider's code, never card data).</summary>
public sealed record ProviderRefund(ProviderRefundOutcome Outcome, string? Problem = null)
{
    public static readonly ProviderRefund Done = new(ProviderRefundOutcome.Refunded);
}

public sealed record CheckoutUrls(string BaseUrl, string SuccessPath, string CancelPath);

public enum OffSessionOutcome
{
    Succeeded,

    /// <summary>Accepted but not final (a bank debit settling): the provider's webhook reports the outcome.</summary>
    Pending,

    /// <summary>Refused: declined, the bank wants the buyer to authenticate, or no card is saved.</summary>
    Failed,
}

/// <summary>What an off-session charge came to; <see cref="ExternalPaymentId"/> is the provider's payment (Stripe's PaymentIntent), matched by webhooks and refunds.</summary>
public sealed record OffSessionCharge(OffSessionOutcome Outcome, string? ExternalPaymentId, string? CardLast4, string? FailureReason);

/// <summary>The embedded test-mode provider: a local checkout page that accepts Stripe's test card numbers.</summary>
sealed class SandboxPaymentProvider : IPaymentProvider
{
    public const string SucceedingCard = "4242424242424242";
    public const string DecliningCard = "4000000000000002";

    public PaymentProviderKind Kind => PaymentProviderKind.Sandbox;
    public bool TestMode => true;

    public Task<string> CreateCheckoutAsync(Payment payment, CheckoutUrls urls, CancellationToken ct) =>
        Task.FromResult($"{urls.BaseUrl}/checkout/{payment.Id}");

    /// <summary>Sandbox plans bill through no external subscription.</summary>
    public Task EndSubscriptionAsync(string externalSubscriptionId, CancellationToken ct) => Task.CompletedTask;

    /// <summary>Sandbox payments move no money: recording the refund is all there is.</summary>
    public Task<ProviderRefund> RefundInFullAsync(Payment payment, CancellationToken ct) => Task.FromResult(ProviderRefund.Done);

    /// <summary>Test mode's saved card is 4242 4242 4242 4242: it always pays.</summary>
    public Task<OffSessionCharge> ChargeSavedPaymentMethodAsync(Payment payment, CancellationToken ct) =>
        Task.FromResult(new OffSessionCharge(OffSessionOutcome.Succeeded, null, SucceedingCard[^4..], null));

    public enum CardVerdict
    {
        Approved,
        Declined,
        Invalid,
    }

    /// <summary>4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined, anything else that is not a valid card number is invalid.</summary>
    public static CardVerdict Judge(string? cardNumber)
    {
        var digits = new string((cardNumber ?? "").Where(c => c != ' ' && c != '-').ToArray());
        if (digits.Length is < 12 or > 19 || !digits.All(char.IsAsciiDigit) || !PassesLuhn(digits))
        {
            return CardVerdict.Invalid;
        }
        return digits == DecliningCard ? CardVerdict.Declined : CardVerdict.Approved;
    }

    static bool PassesLuhn(string digits)
    {
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i] - '0';
            if (i % 2 == 1)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }
            sum += d;
        }
        return sum % 10 == 0;
    }
}
