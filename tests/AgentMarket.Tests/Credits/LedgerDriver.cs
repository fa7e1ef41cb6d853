using AgentMarket.Credits.Ledger;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Credits;

/// <summary>Drives the ledger as the run gateway and the payment paths do (there is no HTTP route that reserves credits directly).</summary>
public sealed class LedgerDriver(AgentMarketApp app)
{
    public static readonly RevenueSplit DefaultSplit = new(2_000, 100);

    public Task<LedgerResult> GrantAsync(Guid organization, long credits, string key) =>
        Run(organization, ledger => ledger.GrantAsync(key, organization, credits, "adjustment", "test grant", default));

    public Task<LedgerResult> PurchaseAsync(Guid organization, long credits, string key) =>
        Run(organization, ledger => ledger.PurchaseAsync(key, organization, credits, "test purchase", "test", key, default));

    public Task<LedgerResult> ReserveAsync(Guid organization, long credits, string key, DateTime? expiresUtc = null) =>
        Run(organization, ledger => ledger.ReserveAsync(key, organization, credits, expiresUtc ?? app.Clock.GetUtcNow().UtcDateTime.AddMinutes(15), "run", key, default));

    public Task<LedgerResult> SettleAsync(Guid organization, Guid reservation, long actual, Guid? provider, string key, RevenueSplit? split = null) =>
        Run(organization, ledger => ledger.SettleAsync(key, organization, reservation, actual, provider, split ?? DefaultSplit, "test run", default));

    public Task<LedgerResult> VoidAsync(Guid organization, Guid reservation, string key) =>
        Run(organization, ledger => ledger.VoidAsync(key, organization, reservation, default));

    public Task<LedgerResult> RefundAsync(Guid organization, long credits, string key) =>
        Run(organization, ledger => ledger.RefundAsync(key, organization, credits, "test refund", "test", key, default));

    public Task<WalletBalance> BalanceAsync(Guid organization) => Run(organization, ledger => ledger.BalanceAsync(organization, default));

    public Task<LedgerCheckResult> CheckAsync() => app.InScopeAsync(null, services => services.GetRequiredService<LedgerCheck>().RunAsync(default));

    /// <summary>Posted balance of a provider's earnings account.</summary>
    public Task<long> EarningsAsync(Guid provider) => AccountAsync(AccountKind.ProviderEarnings, provider);

    public async Task<long> AccountAsync(AccountKind kind, Guid owner) => await app.InScopeAsync(null, async services =>
    {
        var db = services.GetRequiredService<AgentMarket.Platform.Data.AppDbContext>();
        return await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SumAsync(
            db.LedgerAccounts.Where(a => a.Kind == kind && a.OwnerId == owner), a => a.CreditsPosted - a.DebitsPosted);
    });

    Task<T> Run<T>(Guid organization, Func<CreditLedger, Task<T>> work) =>
        app.InScopeAsync(organization, services => work(services.GetRequiredService<CreditLedger>()));
}
