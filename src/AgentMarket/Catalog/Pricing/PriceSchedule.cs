using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Catalog.Pricing;

/// <summary>The notice rule for price changes (SPEC §5), as pure functions over a listing's price history.</summary>
public static class PriceSchedule
{
    /// <summary>
    /// The terms a buyer who subscribed at <paramref name="subscribedUtc"/> pays at <paramref name="now"/>, walking the
    /// changes announced since, in order: a change not above what they pay reaches them at once (a decrease, or a
    /// revert that abandons a pending increase), an increase only when its notice has ended. <paramref name="changes"/>
    /// must hold the listing's pending changes and the earlier ones they are read with (<see cref="InForceAsync"/>).
    /// </summary>
    public static PricingTerms ForSubscriber(PricingTerms current, IEnumerable<ListingPriceChange> changes, DateTime subscribedUtc, DateTime now)
    {
        PricingTerms? paying = null;
        // The increases still ahead of this subscriber, each with when it reaches them, in order.
        var raises = new Queue<(PricingTerms Terms, DateTime From)>();
        foreach (var change in changes.Where(c => c.AnnouncedUtc > subscribedUtc).OrderBy(c => c.AnnouncedUtc).ThenBy(c => c.Id))
        {
            paying ??= change.Previous;
            // Strictly before: a notice this change ended (Change) ends at its announcement and never reaches them.
            while (raises.TryPeek(out var raise) && raise.From < change.AnnouncedUtc)
            {
                paying = raises.Dequeue().Terms;
            }
            if (!change.New.IsIncreaseOver(paying))
            {
                paying = change.New;
                raises.Clear();
            }
            else
            {
                // A decrease that stays above what they pay rides on the notice of the increase before it.
                var from = raises.Count == 0 ? change.EffectiveForSubscribersUtc : Max(raises.Last().From, change.EffectiveForSubscribersUtc);
                raises.Enqueue((change.New, from));
            }
        }
        while (raises.TryPeek(out var raise) && raise.From <= now)
        {
            paying = raises.Dequeue().Terms;
        }
        return raises.Count == 0 || paying is null ? current : paying;
    }

    /// <summary>
    /// Records a change from <paramref name="current"/> to <paramref name="next"/> at <paramref name="now"/>: an increase
    /// waits <paramref name="notice"/> for existing subscribers; a decrease applies at once. Either ends every pending
    /// notice whose earlier terms were not cheaper than the new ones: subscribers still on those terms are not moved to the
    /// abandoned ones (a revert within the notice), and <see cref="ForSubscriber"/> gives them the new terms at once.
    /// </summary>
    public static ListingPriceChange Change(Guid listingId, PricingTerms current, PricingTerms next, IEnumerable<ListingPriceChange> pending, DateTime now, TimeSpan notice)
    {
        foreach (var change in pending.Where(c => c.EffectiveForSubscribersUtc > now && !next.IsIncreaseOver(c.Previous)))
        {
            change.EffectiveForSubscribersUtc = now;
        }
        var increase = next.IsIncreaseOver(current);
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

    /// <summary>
    /// The listing's changes <see cref="ForSubscriber"/> needs at <paramref name="now"/>: those still in their notice, and
    /// the earlier ones whose notice had not ended when the earliest of those was announced (one ended by a revert among
    /// them), repeated until none is missing. Usually one query: price changes are rare and notices end.
    /// </summary>
    public static async Task<List<ListingPriceChange>> InForceAsync(IQueryable<ListingPriceChange> changes, Guid listingId, DateTime now, CancellationToken ct)
    {
        var listing = changes.Where(c => c.ListingId == listingId);
        var found = await listing.Where(c => c.EffectiveForSubscribersUtc > now).ToListAsync(ct);
        while (found.Count > 0)
        {
            var from = found.Min(c => c.AnnouncedUtc);
            var earlier = await listing.Where(c => c.AnnouncedUtc < from && c.EffectiveForSubscribersUtc >= from).ToListAsync(ct);
            if (earlier.Count == 0)
            {
                break;
            }
            found.AddRange(earlier);
        }
        return found;
    }

    static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;
}
