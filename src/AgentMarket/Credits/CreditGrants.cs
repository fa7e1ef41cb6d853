using System.Collections.Concurrent;
using AgentMarket.Credits.Ledger;
using AgentMarket.Credits.Plans;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Credits;

/// <summary>
/// Free credits: the starter credits once per organization ever, the Free plan's daily credits once per UTC day (granted
/// lazily on the first balance read or run of the day, and by a job), and a plan's monthly credits once per period.
/// Every grant's idempotency key encodes its period, so two nodes, two requests or a retry can never grant twice.
/// </summary>
sealed class CreditGrants(CreditLedger ledger, AppDbContext db, GrantsCache cache, IOptions<CreditsOptions> options, TimeProvider clock)
{
    public static string StarterKey(Guid organization) => $"grant:starter:{organization}";
    public static string DailyKey(Guid organization, DateOnly day) => $"grant:daily:{organization}:{day:yyyy-MM-dd}";
    public static string MonthlyKey(Guid organization, string period) => $"grant:monthly:{organization}:{period}";

    /// <summary>
    /// The period of a plan period's first monthly grant, made with its payment. It names the plan too: two plans bought
    /// within the same second start two periods, not one.
    /// </summary>
    public static string FirstMonth(DateTime periodStart, string planCode) => $"{periodStart:yyyyMMddHHmmss}:{planCode}";

    /// <summary>The period of a later month's grant of a yearly plan (<c>CreditJobs</c>), named by the month's start.</summary>
    public static string LaterMonth(DateTime monthStart) => $"{monthStart:yyyyMMddHHmmss}";

    /// <summary>
    /// The keys of every monthly grant a plan period starting at <paramref name="periodStart"/> makes over its length: the
    /// first month's, and for yearly billing each later month's, stepped a month at a time from the previous one as
    /// <c>CreditJobs</c> steps the credit period (Jan 31, Feb 28, Mar 28…), which start plus n months would miss.
    /// </summary>
    public static List<string> MonthlyKeys(Guid organization, string planCode, DateTime periodStart, BillingInterval interval)
    {
        var keys = new List<string> { MonthlyKey(organization, FirstMonth(periodStart, planCode)) };
        var end = interval == BillingInterval.Yearly ? periodStart.AddYears(1) : periodStart.AddMonths(1);
        for (var month = periodStart.AddMonths(1); month < end; month = month.AddMonths(1))
        {
            keys.Add(MonthlyKey(organization, LaterMonth(month)));
        }
        return keys;
    }

    /// <summary>Makes sure the starter and today's daily credits exist; free after the first call of the day on this node.</summary>
    public async Task EnsureAsync(Guid organization, string planCode, CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        if (cache.IsDone(organization, today))
        {
            return;
        }
        var starter = await ledger.GrantAsync(StarterKey(organization), organization, options.Value.StarterCredits, "starter", "Starter credits", ct);
        if (!starter.Succeeded && starter.Status != LedgerStatus.InvalidAmount)
        {
            throw new InvalidOperationException($"Starter grant failed: {starter.Status}");
        }
        var daily = await db.Plans.AsNoTracking().Where(p => p.Code == planCode).Select(p => p.DailyCredits).FirstOrDefaultAsync(ct);
        if (daily > 0)
        {
            var result = await ledger.GrantAsync(DailyKey(organization, today), organization, daily, "daily", $"Daily credits for {today:yyyy-MM-dd}", ct);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"Daily grant failed: {result.Status}");
            }
        }
        cache.MarkDone(organization, today);
    }

    /// <summary>The plan's monthly credits for one credit period, identified by <paramref name="period"/>.</summary>
    public async Task<LedgerResult> GrantMonthlyAsync(Guid organization, Plan plan, string period, CancellationToken ct) =>
        plan.MonthlyCredits <= 0
            ? LedgerResult.Rejected(LedgerStatus.InvalidAmount)
            : await ledger.GrantAsync(MonthlyKey(organization, period), organization, plan.MonthlyCredits, "monthly", $"{plan.Name} monthly credits", ct);
}

/// <summary>Which organizations this node already granted today's credits to, so balance reads stay read-only.</summary>
sealed class GrantsCache
{
    readonly ConcurrentDictionary<Guid, DateOnly> _done = new();

    public bool IsDone(Guid organization, DateOnly day) => _done.TryGetValue(organization, out var done) && done == day;

    public void MarkDone(Guid organization, DateOnly day) => _done[organization] = day;

    /// <summary>Forget an organization, e.g. after its plan changed and its daily allowance with it.</summary>
    public void Forget(Guid organization) => _done.TryRemove(organization, out _);
}

/// <summary>Every new organization starts on the Free plan, with its starter and first daily credits.</summary>
sealed class FreePlanForNewOrganizations(CreditGrants grants, TimeProvider clock) : IOrganizationCreated
{
    public Task OnCreatedAsync(AppDbContext db, Organization organization, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        db.OrganizationPlans.Add(new OrganizationPlan { OrganizationId = organization.Id, PlanCode = Plan.Free, CreatedUtc = now, UpdatedUtc = now });
        return Task.CompletedTask;
    }

    public Task OnCommittedAsync(Organization organization, CancellationToken cancellationToken) =>
        grants.EnsureAsync(organization.Id, Plan.Free, cancellationToken);
}
