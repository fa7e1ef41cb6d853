using AgentMarket.Credits.Ledger;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Payouts;

/// <summary>The calling organization's provider's payout settings; a provider without a row has the defaults (manual, $20).</summary>
sealed class PayoutSettingsService(AppDbContext db, CurrentTenant tenant, IOptions<PayoutsOptions> options, TimeProvider clock)
{
    public sealed record Failure(int Status, string Code, string Message, string? Field = null);

    /// <summary>Earnings not paid out yet (credits, a cent each), the minimum they must reach, and when they will be paid if they reach it.</summary>
    public sealed record PayoutProgress(long UnpaidCents, long MinimumCents, DateOnly? NextPayout);

    public Task<Provider?> MineAsync(CancellationToken ct)
    {
        var organization = tenant.RequiredOrganizationId;
        return db.Providers.AsNoTracking().FirstOrDefaultAsync(p => p.OrganizationId == organization, ct);
    }

    public async Task<PayoutSettingsResponse> GetAsync(Provider provider, CancellationToken ct) =>
        ToResponse(await db.PayoutSettings.AsNoTracking().FirstOrDefaultAsync(s => s.ProviderId == provider.Id, ct) ?? Defaults(provider));

    /// <summary>The provider's row, created with the defaults when missing (tracked, so the caller may change and save it).</summary>
    public async Task<PayoutSettings> EnsureAsync(Provider provider, CancellationToken ct)
    {
        if (await db.PayoutSettings.FirstOrDefaultAsync(s => s.ProviderId == provider.Id, ct) is { } existing)
        {
            return existing;
        }
        var settings = Defaults(provider);
        db.PayoutSettings.Add(settings);
        try
        {
            await db.SaveChangesAsync(ct);
            return settings;
        }
        catch (DbUpdateException)
        {
            // A concurrent request created it first.
            db.Entry(settings).State = EntityState.Detached;
            return await db.PayoutSettings.FirstAsync(s => s.ProviderId == provider.Id, ct);
        }
    }

    public async Task<(PayoutSettingsResponse? Settings, Failure? Failure)> UpdateAsync(Provider provider, PayoutSettingsRequest request, CancellationToken ct)
    {
        var floor = options.Value.MinimumFloorCents;
        if (request.MinimumCents is { } minimum && minimum < floor)
        {
            return (null, new Failure(StatusCodes.Status400BadRequest, Platform.Errors.ProblemCodes.ValidationFailed, $"The minimum payout is at least {floor} cents.", "minimum_cents"));
        }
        var settings = await EnsureAsync(provider, ct);
        if (request.Method == PayoutMethod.StripeConnect && settings.StripeAccountId is null)
        {
            return (null, new Failure(StatusCodes.Status409Conflict, "stripe_account_required", "Connect a Stripe account first (POST /api/stripe/connect/)."));
        }
        settings.Method = request.Method ?? settings.Method;
        settings.MinimumCents = request.MinimumCents ?? settings.MinimumCents;
        settings.UpdatedUtc = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        return (ToResponse(settings), null);
    }

    /// <summary>
    /// The provider's earnings not paid out yet against its minimum, and the day of the first payout run that would pay
    /// them (null while they are below the minimum). A run on <see cref="PayoutsOptions.PayoutDayOfMonth"/> pays what was
    /// earned before the month began, so earnings of this month wait for next month's run.
    /// </summary>
    public async Task<PayoutProgress> ProgressAsync(Provider provider, long minimumCents, CancellationToken ct)
    {
        var account = await db.LedgerAccounts.AsNoTracking().FirstOrDefaultAsync(a => a.Kind == AccountKind.ProviderEarnings && a.OwnerId == provider.Id, ct);
        if (account is null)
        {
            return new PayoutProgress(0, minimumCents, null);
        }
        var unpaid = Math.Max(0, await PayoutRunner.PayableAsync(db, account, null, ct));
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var monthStart = new DateOnly(today.Year, today.Month, 1);
        var thisMonthsRun = monthStart.AddDays(options.Value.PayoutDayOfMonth - 1);
        DateOnly? next = null;
        if (unpaid >= minimumCents)
        {
            // Last month's run (due today or later, or not yet made) pays what was earned before this month; the rest waits a month.
            var lastMonths = await PayoutRunner.PayableAsync(db, account, monthStart.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), ct);
            var lastMonthPaid = await db.Payouts.AsNoTracking().AnyAsync(p => p.ProviderId == provider.Id && p.Period == PayoutRunner.PeriodOf(monthStart.AddMonths(-1)), ct);
            next = lastMonths >= minimumCents && !lastMonthPaid ? (today > thisMonthsRun ? today : thisMonthsRun) : thisMonthsRun.AddMonths(1);
        }
        return new PayoutProgress(unpaid, minimumCents, next);
    }

    PayoutSettings Defaults(Provider provider) => new()
    {
        ProviderId = provider.Id, OrganizationId = provider.OrganizationId, Method = PayoutMethod.Manual,
        MinimumCents = Math.Max(PayoutSettings.DefaultMinimumCents, options.Value.MinimumFloorCents), UpdatedUtc = clock.GetUtcNow().UtcDateTime,
    };

    PayoutSettingsResponse ToResponse(PayoutSettings s) => new(s.Method, s.MinimumCents, options.Value.MinimumFloorCents, s.StripeAccountId, s.StripeTransfersEnabled);
}
