using System.Globalization;

namespace AgentMarket.Catalog.Pages;

/// <summary>How prices and counts read on cards and pages: "5 credits/run", "2.7K runs".</summary>
public static class Money
{
    public static string Price(CardPricing pricing) => pricing.Model switch
    {
        PricingModel.Free => "Free",
        PricingModel.FixedCredits => $"{pricing.CreditsPerRun} credits/run",
        PricingModel.VariableCredits => $"{pricing.CreditsMin}–{pricing.CreditsMax} credits/run",
        PricingModel.Subscription => $"{pricing.CreditsPerRun} credits/month",
    };

    public static string Compact(long n) => n switch
    {
        >= 1_000_000 => (n / 1_000_000.0).ToString("0.#", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (n / 1_000.0).ToString("0.#", CultureInfo.InvariantCulture) + "K",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };
}
