namespace AgentMarket.Catalog.Pricing;

/// <summary>
/// What a listing costs (SPEC §3): <c>free</c>; <c>fixed_credits</c> (credits per run); <c>variable_credits</c>
/// (between min and max per run, from metered usage); <c>subscription</c> (credits per month, in
/// <see cref="CreditsPerRun"/>). Whole credits.
/// </summary>
public sealed record PricingTerms(PricingModel Model, long CreditsPerRun, long CreditsMin, long CreditsMax)
{
    /// <summary>$10,000 a run: a bound against typos, far above any real price.</summary>
    public const long MaxCredits = 1_000_000;

    public static PricingTerms Free { get; } = new(PricingModel.Free, 0, 0, 0);

    public static PricingTerms Of(Listing listing) => new(listing.PricingModel, listing.CreditsPerRun, listing.CreditsMin, listing.CreditsMax);

    /// <summary>Why these terms are inconsistent, naming the field, or null when they are fine.</summary>
    public (string Field, string Message)? Problem() => Model switch
    {
        PricingModel.Free when CreditsPerRun != 0 || CreditsMin != 0 || CreditsMax != 0 =>
            ("pricing", "A free agent has no credit amounts."),
        PricingModel.FixedCredits when CreditsPerRun is < 1 or > MaxCredits =>
            ("pricing.credits_per_run", $"Set 1 to {MaxCredits:N0} credits per run."),
        PricingModel.FixedCredits when CreditsMin != 0 || CreditsMax != 0 =>
            ("pricing", "A fixed price has no minimum or maximum."),
        PricingModel.VariableCredits when CreditsMin < 0 || CreditsMax is < 1 or > MaxCredits || CreditsMin > CreditsMax =>
            ("pricing.credits_max", $"Set 0 ≤ credits_min ≤ credits_max ≤ {MaxCredits:N0}, with credits_max at least 1."),
        PricingModel.VariableCredits when CreditsPerRun != 0 =>
            ("pricing.credits_per_run", "A variable price is set with credits_min and credits_max."),
        PricingModel.Subscription when CreditsPerRun is < 1 or > MaxCredits =>
            ("pricing.credits_per_run", $"Set the monthly price, 1 to {MaxCredits:N0} credits."),
        PricingModel.Subscription when CreditsMin != 0 || CreditsMax != 0 =>
            ("pricing", "A subscription has no minimum or maximum."),
        _ => null,
    };

    /// <summary>
    /// True when existing subscribers could pay more under these terms than under <paramref name="previous"/>, so the
    /// change reaches them only after the notice period. Any change between two paid models counts as an increase:
    /// per-run and monthly prices cannot be compared for every buyer, and a notice costs a buyer nothing.
    /// </summary>
    public bool IsIncreaseOver(PricingTerms previous)
    {
        if (Model == PricingModel.Free)
        {
            return false;
        }
        if (Model != previous.Model)
        {
            return true;
        }
        return CreditsPerRun > previous.CreditsPerRun || CreditsMin > previous.CreditsMin || CreditsMax > previous.CreditsMax;
    }

    /// <summary>The most one run can cost: what the gateway reserves before it starts (subscriptions are paid monthly).</summary>
    public long MaxRunPrice => Model switch
    {
        PricingModel.FixedCredits => CreditsPerRun,
        PricingModel.VariableCredits => CreditsMax,
        PricingModel.Free or PricingModel.Subscription => 0,
    };

    /// <summary>What a run that used <paramref name="tokens"/> costs: variable prices meter tokens within min and max.</summary>
    public long RunPrice(long tokens, long creditsPerThousandTokens) => Model switch
    {
        PricingModel.FixedCredits => CreditsPerRun,
        PricingModel.VariableCredits => Math.Clamp(tokens * creditsPerThousandTokens / 1_000, CreditsMin, CreditsMax),
        PricingModel.Free or PricingModel.Subscription => 0,
    };

    /// <summary>The most one run (or, for subscriptions, one month) can cost: what "price" sorts by.</summary>
    public long SortPrice => Model switch
    {
        PricingModel.Free => 0,
        PricingModel.FixedCredits => CreditsPerRun,
        PricingModel.VariableCredits => CreditsMin,
        PricingModel.Subscription => CreditsPerRun,
    };
}
