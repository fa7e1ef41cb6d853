using System.Globalization;

namespace AgentMarket.Catalog.Pages;

/// <summary>How prices and counts read on cards and pages: "5 credits/run", "2.7K runs".</summary>
public static class Money
{
    public static string Price(CardPricing pricing) => pricing.Model switch
    {
        PricingModel.Free => "Free",
        PricingModel.FixedCredits => $"{Count(pricing.CreditsPerRun, "credit")}/run",
        PricingModel.VariableCredits => $"{pricing.CreditsMin}–{pricing.CreditsMax} credits/run",
        PricingModel.Subscription => $"{Count(pricing.CreditsPerRun, "credit")}/month",
    };

    /// <summary>"1 run", "2 runs", "2.7K runs": a count with its noun, singular for exactly one.</summary>
    public static string Count(long n, string noun) => $"{Compact(n)} {noun}{(n == 1 ? "" : "s")}";

    public static string Compact(long n) => n switch
    {
        >= 1_000_000 => (n / 1_000_000.0).ToString("0.#", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (n / 1_000.0).ToString("0.#", CultureInfo.InvariantCulture) + "K",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };
}
