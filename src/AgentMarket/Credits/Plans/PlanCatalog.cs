using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Credits.Plans;

/// <summary>Seeds the plans and packages of SPEC §3 when missing (never overwrites an operator's edits).</summary>
sealed class PlanCatalog(IServiceScopeFactory scopes) : IHostedService
{
    static readonly Plan[] Plans =
    [
        new()
        {
            Code = Plan.Free, Name = "Free", DailyCredits = 50, ConcurrentSessions = 1, StorageGb = 10, WidgetPages = 1, SortOrder = 0,
            Features = ["300 starter credits", "50 free credits every day", "1 concurrent session", "10 GB storage", "All public agents", "1 widget page"],
        },
        new()
        {
            Code = Plan.Plus, Name = "Plus", MonthlyPriceCents = 1990, YearlyMonthlyPriceCents = 1590, MonthlyCredits = 2_000, ConcurrentSessions = 5,
            StorageGb = 100, WidgetPages = 10, CanTopUp = true, SortOrder = 1,
            Features = ["2,000 credits every month", "5 concurrent sessions", "100 GB storage", "Scheduled tasks", "10 widget pages + custom domains", "Credit top-ups"],
        },
        new()
        {
            Code = Plan.Pro, Name = "Pro", MonthlyPriceCents = 9990, YearlyMonthlyPriceCents = 7990, MonthlyCredits = 10_000, ConcurrentSessions = 30,
            StorageGb = 1024, WidgetPages = 50, CanTopUp = true, SortOrder = 2,
            Features = ["10,000 credits every month", "30 concurrent sessions", "1 TB storage", "Priority access", "Early features", "50 widget pages", "Credit top-ups"],
        },
        new()
        {
            Code = Plan.Enterprise, Name = "Enterprise", ConcurrentSessions = 200, StorageGb = 10_240, WidgetPages = 1_000, CanTopUp = true, IsCustom = true, SortOrder = 3,
            Features = ["Pay-as-you-go credits", "Organization management", "Private agents", "Dedicated environment", "SLA"],
        },
    ];

    static readonly CreditPackage[] Packages =
    [
        new() { Name = "Starter", Credits = 1_500, PriceCents = 1_500, SortOrder = 0 },
        new() { Name = "Standard", Credits = 5_000, PriceCents = 5_000, SortOrder = 1 },
        new() { Name = "Power", Credits = 10_000, PriceCents = 10_000, SortOrder = 2 },
    ];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var plans = await db.Plans.Select(p => p.Code).ToListAsync(cancellationToken);
        db.Plans.AddRange(Plans.Where(p => !plans.Contains(p.Code)).Select(Copy));
        var packages = await db.CreditPackages.Select(p => p.Name).ToListAsync(cancellationToken);
        db.CreditPackages.AddRange(Packages.Where(p => !packages.Contains(p.Name))
            .Select(p => new CreditPackage { Name = p.Name, Credits = p.Credits, PriceCents = p.PriceCents, SortOrder = p.SortOrder }));
        await db.SaveChangesAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    static Plan Copy(Plan p) => new()
    {
        Code = p.Code, Name = p.Name, MonthlyPriceCents = p.MonthlyPriceCents, YearlyMonthlyPriceCents = p.YearlyMonthlyPriceCents,
        MonthlyCredits = p.MonthlyCredits, DailyCredits = p.DailyCredits, ConcurrentSessions = p.ConcurrentSessions, StorageGb = p.StorageGb,
        WidgetPages = p.WidgetPages, CanTopUp = p.CanTopUp, IsCustom = p.IsCustom, Features = [.. p.Features], SortOrder = p.SortOrder,
    };
}
