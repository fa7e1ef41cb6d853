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
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO platform_days (day, runs, succeeded, credits_spent, trial_credits, platform_fees, active_organizations)
                VALUES ({day.Key}, {total}, {succeeded}, {spent}, {trials}, {fees}, {newlyActive})
                ON CONFLICT (day) DO UPDATE SET
                    runs = platform_days.runs + excluded.runs,
                    succeeded = platform_days.succeeded + excluded.succeeded,
                    credits_spent = platform_days.credits_spent + excluded.credits_spent,
                    trial_credits = platform_days.trial_credits + excluded.trial_credits,
                    platform_fees = platform_days.platform_fees + excluded.platform_fees,
                    active_organizations = platform_days.active_organizations + excluded.active_organizations
                """, ct);

            foreach (var listing in day.GroupBy(d => (d.ListingId, d.ProviderId)))
            {
                var (runs, ok, gross) = (listing.Sum(d => d.Runs), listing.Sum(d => d.Succeeded), listing.Sum(d => d.GrossCredits));
                await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO platform_listing_days (day, listing_id, provider_id, runs, succeeded, gross_credits)
                    VALUES ({day.Key}, {listing.Key.ListingId}, {listing.Key.ProviderId}, {runs}, {ok}, {gross})
                    ON CONFLICT (day, listing_id) DO UPDATE SET
                        runs = platform_listing_days.runs + excluded.runs,
                        succeeded = platform_listing_days.succeeded + excluded.succeeded,
                        gross_credits = platform_listing_days.gross_credits + excluded.gross_credits
                    """, ct);
            }
        }
    }
}
