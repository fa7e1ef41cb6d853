namespace AgentMarket.Payments;

/// <summary>Where a buyer pays. The sandbox (default) and Stripe create checkouts; both end in <see cref="Fulfilment"/>.</summary>
public interface IPaymentProvider
{
    PaymentProviderKind Kind { get; }

    /// <summary>True when payments are simulated (no money moves): every page shows "test mode".</summary>
    bool TestMode { get; }

    /// <summary>Creates the hosted checkout for a pending payment and returns the URL to send the buyer to.</summary>
    Task<string> CreateCheckoutAsync(Payment payment, CheckoutUrls urls, CancellationToken ct);
}

public sealed record CheckoutUrls(string BaseUrl, string SuccessPath, string CancelPath);

/// <summary>The embedded test-mode provider: a local checkout page that accepts Stripe's test card numbers.</summary>
sealed class SandboxPaymentProvider : IPaymentProvider
{
    public const string SucceedingCard = "4242424242424242";
    public const string DecliningCard = "4000000000000002";

    public PaymentProviderKind Kind => PaymentProviderKind.Sandbox;
    public bool TestMode => true;

    public Task<string> CreateCheckoutAsync(Payment payment, CheckoutUrls urls, CancellationToken ct) =>
        Task.FromResult($"{urls.BaseUrl}/checkout/{payment.Id}");

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
