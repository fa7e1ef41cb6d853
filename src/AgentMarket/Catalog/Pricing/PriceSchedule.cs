namespace AgentMarket.Catalog.Pricing;

/// <summary>The notice rule for price changes (SPEC §5), as pure functions over a listing's price history.</summary>
public static class PriceSchedule
{
    /// <summary>
    /// The terms a buyer who subscribed at <paramref name="subscribedUtc"/> pays at <paramref name="now"/>: the current
    /// terms, unless an increase announced after they subscribed is still in its notice period; then the terms in force
    /// before the earliest such increase.
    /// </summary>
    public static PricingTerms ForSubscriber(PricingTerms current, IEnumerable<ListingPriceChange> changes, DateTime subscribedUtc, DateTime now)
    {
        var earliestPending = changes
            .Where(c => c.AnnouncedUtc > subscribedUtc && c.EffectiveForSubscribersUtc > now)
            .OrderBy(c => c.AnnouncedUtc)
            .FirstOrDefault();
        return earliestPending?.Previous ?? current;
    }

    /// <summary>
    /// Records a change from <paramref name="current"/> to <paramref name="next"/> at <paramref name="now"/>: an increase
    /// waits <paramref name="notice"/> for existing subscribers; a decrease applies at once, and also ends every pending
    /// notice whose earlier terms were not cheaper than the new ones (subscribers should not keep paying more).
    /// </summary>
    public static ListingPriceChange Change(Guid listingId, PricingTerms current, PricingTerms next, IEnumerable<ListingPriceChange> pending, DateTime now, TimeSpan notice)
    {
        var increase = next.IsIncreaseOver(current);
        if (!increase)
        {
            foreach (var change in pending.Where(c => c.EffectiveForSubscribersUtc > now && !next.IsIncreaseOver(c.Previous)))
            {
                change.EffectiveForSubscribersUtc = now;
            }
        }
        return new ListingPriceChange
        {
            ListingId = listingId,
            PreviousModel = current.Model,
            PreviousCreditsPerRun = current.CreditsPerRun,
            PreviousCreditsMin = current.CreditsMin,
            PreviousCreditsMax = current.CreditsMax,
            NewModel = next.Model,
            NewCreditsPerRun = next.CreditsPerRun,
            NewCreditsMin = next.CreditsMin,
            NewCreditsMax = next.CreditsMax,
            AnnouncedUtc = now,
            EffectiveForSubscribersUtc = increase ? now + notice : now,
        };
    }
}
