using AgentMarket.Platform.Data;
using AgentMarket.Providers.Economics;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Admin.PlatformMetrics;

/// <summary>
/// Adds what <see cref="EconomicsRollups"/> just added (a batch of runs, or a monthly charge) to the platform-wide
/// rollups, in the same transaction, so the platform's figures are the providers' summed and each run still counts once.
/// Every write is one statement that adds to the row, so concurrent batches (several app instances) add up instead of
/// racing an insert.
/// Subscriptions' monthly charges arrive the same way (rows with money and no runs): they add to the credits spent, the
/// fees and the listing's credits, not to runs or active organizations.
/// </summary>
sealed class PlatformRollups(AppDbContext db)
{
    static readonly CounterTable Days = new("platform_days", ["day"],
        ["runs", "succeeded", "credits_spent", "trial_credits", "platform_fees", "active_organizations"]);

    static readonly CounterTable ListingDays = new("platform_listing_days", ["day", "listing_id"], ["runs", "succeeded", "gross_credits"])
    {
        InsertOnly = ["provider_id"],
    };

    public async Task AddAsync(IReadOnlyList<EconomicsDay> added, CancellationToken ct)
    {
        foreach (var day in added.GroupBy(d => d.Day))
        {
            long newlyActive = 0;
            foreach (var organization in day.Where(d => d.BuyerOrganizationId != Guid.Empty).GroupBy(d => d.BuyerOrganizationId))
            {
                var (id, runs) = (organization.Key, organization.Sum(d => d.Runs));
                if (runs == 0)
                {
                    continue; // a subscription's monthly charge: an organization is active on the days it runs an agent
                }
                // The insert succeeds only for the organization's first run of the day (here or in a concurrent batch,
                // which it waits for), so the day's count of active organizations grows once per organization.
                var inserted = await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO platform_organization_days (day, organization_id, runs) VALUES ({day.Key}, {id}, {runs})
                    ON CONFLICT (day, organization_id) DO NOTHING
                    """, ct);
                if (inserted == 0)
                {
                    await db.Database.ExecuteSqlAsync($"""
                        UPDATE platform_organization_days SET runs = runs + {runs} WHERE day = {day.Key} AND organization_id = {id}
                        """, ct);
                }
                newlyActive += inserted;
            }

            var (total, succeeded, fees) = (day.Sum(d => d.Runs), day.Sum(d => d.Succeeded), day.Sum(d => d.PlatformFees));
            var spent = day.Where(d => d.BuyerOrganizationId != Guid.Empty).Sum(d => d.GrossCredits);
            var trials = day.Where(d => d.BuyerOrganizationId == Guid.Empty).Sum(d => d.GrossCredits);
            await db.AddToCountersAsync(Days, [[day.Key, total, succeeded, spent, trials, fees, newlyActive]], ct);
            await db.AddToCountersAsync(ListingDays, day.GroupBy(d => (d.ListingId, d.ProviderId))
                .Select(l => (object[])[day.Key, l.Key.ListingId, l.Key.ProviderId, l.Sum(d => d.Runs), l.Sum(d => d.Succeeded), l.Sum(d => d.GrossCredits)]).ToList(), ct);
        }
    }
}
