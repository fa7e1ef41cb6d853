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

    PayoutSettings Defaults(Provider provider) => new()
    {
        ProviderId = provider.Id, OrganizationId = provider.OrganizationId, Method = PayoutMethod.Manual,
        MinimumCents = Math.Max(PayoutSettings.DefaultMinimumCents, options.Value.MinimumFloorCents), UpdatedUtc = clock.GetUtcNow().UtcDateTime,
    };

    PayoutSettingsResponse ToResponse(PayoutSettings s) => new(s.Method, s.MinimumCents, options.Value.MinimumFloorCents, s.StripeAccountId, s.StripeTransfersEnabled);
}
