using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace AgentMarket.Providers.Economics;

/// <summary>Bound from the <c>Economics</c> section.</summary>
public sealed class EconomicsOptions
{
    /// <summary>
    /// How runs paid with granted (free) credits pay providers, from the platform's promotions account: <c>pay</c> (as a
    /// paid run), <c>reduced:&lt;percent&gt;</c> (that percent of it) or <c>none</c>. Sets
    /// <c>Credits:GrantedCreditsPayoutPercent</c>, which the ledger's settle applies.
    /// </summary>
    [RegularExpression("^(pay|none|reduced:(100|[1-9]?[0-9]))$", ErrorMessage = "Use pay, none or reduced:<percent> (0-100).")]
    public string GrantedCreditRuns { get; set; } = "pay";

    /// <summary>Pricing hints average the model cost of at least this many of an agent's latest runs (whole days of them).</summary>
    [Range(1, 10_000)]
    public int PricingHintRuns { get; set; } = 100;

    /// <summary>Model prices in credits (US cents) per million tokens, by model name; runs of other models use <see cref="DefaultModelPrice"/>.</summary>
    public Dictionary<string, ModelPrice> ModelPrices { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The price of models missing from <see cref="ModelPrices"/>; zero by default (cost unknown).</summary>
    public ModelPrice DefaultModelPrice { get; set; } = new();

    /// <summary>The percent of a paid run's payout that a run paid with granted credits earns; null when the setting is malformed (validation says so).</summary>
    public int? TryGrantedPayoutPercent() => GrantedCreditRuns switch
    {
        "pay" => 100,
        "none" => 0,
        _ when GrantedCreditRuns.StartsWith("reduced:", StringComparison.Ordinal)
            && int.TryParse(GrantedCreditRuns["reduced:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var percent) && percent <= 100 => percent,
        _ => null,
    };

    public ModelPrice PriceOf(string? model) =>
        model is not null && ModelPrices.TryGetValue(model, out var price) ? price : DefaultModelPrice;
}

/// <summary>Credits per million input and output tokens (a credit is a cent, so $0.15 per million is 15).</summary>
public sealed class ModelPrice
{
    [Range(0, 1_000_000)]
    public decimal Input { get; set; }

    [Range(0, 1_000_000)]
    public decimal Output { get; set; }

    /// <summary>In millionths of a credit: a price per million tokens times tokens.</summary>
    public long Microcredits(long inputTokens, long outputTokens) => (long)Math.Round(Input * inputTokens + Output * outputTokens, MidpointRounding.AwayFromZero);
}
