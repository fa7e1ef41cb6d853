using System.Globalization;

namespace AgentMarket.Catalog.Pages;

/// <summary>How prices, counts and rates read on cards and pages: "1,250 credits/run", "2.7K runs", "99.5%".</summary>
public static class Money
{
    /// <summary>Prices in full: a buyer compares them with the playground, the chat and their balance, where "1.3K" would be a wrong price.</summary>
    public static string Price(CardPricing pricing) => pricing.Model switch
    {
        PricingModel.Free => "Free",
        PricingModel.FixedCredits => $"{Credits(pricing.CreditsPerRun)}/run",
        PricingModel.VariableCredits => $"{Credits(pricing.CreditsMin, pricing.CreditsMax)}/run",
        PricingModel.Subscription => $"{Credits(pricing.CreditsPerRun)}/month",
    };

    /// <summary>"1 credit", "1,000 credits": an amount of credits in full.</summary>
    public static string Credits(long n) => $"{Whole(n)} credit{(n == 1 ? "" : "s")}";

    /// <summary>"1,000–5,000 credits": a range of credits in full.</summary>
    public static string Credits(long min, long max) => $"{Whole(min)}–{Whole(max)} credits";

    /// <summary>"1 run", "2 runs", "2.7K runs": a count with its noun, singular for exactly one.</summary>
    public static string Count(long n, string noun) => $"{Compact(n)} {noun}{(n == 1 ? "" : "s")}";

    public static string Compact(long n) => n switch
    {
        >= 1_000_000 => (n / 1_000_000.0).ToString("0.#", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (n / 1_000.0).ToString("0.#", CultureInfo.InvariantCulture) + "K",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// A rate from 0 to 1 as "100%" or "99.5%" (up to <paramref name="decimals"/> decimals, none when whole): the
    /// invariant "P" format puts a space before the sign ("100 %"), unlike every other percentage on the site.
    /// </summary>
    public static string Percent(double rate, int decimals = 0) =>
        (rate * 100).ToString(decimals == 0 ? "0" : "0." + new string('#', decimals), CultureInfo.InvariantCulture) + "%";

    /// <summary>"1,250.0375": a fractional amount (a model's cost per run in credits) to four decimals, none when whole.</summary>
    public static string Fraction(decimal n) => n.ToString("#,0.####", CultureInfo.InvariantCulture);

    static string Whole(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
