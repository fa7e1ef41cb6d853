using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Credits;

/// <summary>Reads and changes an organization's spend settings (low-balance alert, auto top-up, session cap); the API and the credits page share it.</summary>
sealed class CreditSettingsChanges(AppDbContext db, CurrentTenant tenant, Payments.IPaymentProvider provider, TimeProvider clock)
{
    /// <summary>Why a change was refused; <see cref="Field"/> names the offending field (snake_case) when one is to blame.</summary>
    public sealed record Failure(int Status, string Code, string Message, string? Field = null);

    public async Task<CreditSettings> CurrentAsync(CancellationToken ct)
    {
        var organization = tenant.RequiredOrganizationId;
        var p = await db.OrganizationPlans.AsNoTracking().FirstAsync(x => x.OrganizationId == organization, ct);
        return new CreditSettings(p.LowBalanceThreshold, p.AutoTopUpPackageId, p.AutoTopUpThreshold, p.SessionCreditCap);
    }

    public async Task<(CreditSettings? Settings, Failure? Failure)> UpdateAsync(CreditSettingsRequest request, CancellationToken ct)
    {
        var organization = tenant.RequiredOrganizationId;
        var p = await db.OrganizationPlans.FirstAsync(x => x.OrganizationId == organization, ct);
        if (request.AutoTopUpPackageUuid is { } packageId)
        {
            if (provider.Kind != Payments.PaymentProviderKind.Sandbox)
            {
                // An automatic purchase needs a saved card to charge off-session, which the Stripe integration does not keep.
                return (null, new Failure(StatusCodes.Status409Conflict, "auto_top_up_unavailable",
                    "Automatic top-ups are not available with this payment provider yet."));
            }
            var canTopUp = await db.Plans.AnyAsync(x => x.Code == p.PlanCode && x.CanTopUp, ct);
            if (!canTopUp)
            {
                return (null, new Failure(StatusCodes.Status403Forbidden, "plan_required", "Auto top-up is available on Plus and Pro."));
            }
            if (!await db.CreditPackages.AnyAsync(x => x.Id == packageId && x.Active, ct))
            {
                return (null, new Failure(StatusCodes.Status400BadRequest, Platform.Errors.ProblemCodes.ValidationFailed, "Unknown package.", "auto_top_up_package_uuid"));
            }
            if (request.AutoTopUpThreshold is null)
            {
                return (null, new Failure(StatusCodes.Status400BadRequest, Platform.Errors.ProblemCodes.ValidationFailed, "Set the balance below which to top up.", "auto_top_up_threshold"));
            }
        }
        if (p.LowBalanceThreshold != request.LowBalanceThreshold)
        {
            p.LowBalanceAlerted = false;
        }
        p.LowBalanceThreshold = request.LowBalanceThreshold;
        p.AutoTopUpPackageId = request.AutoTopUpPackageUuid;
        p.AutoTopUpThreshold = request.AutoTopUpPackageUuid is null ? null : request.AutoTopUpThreshold;
        p.SessionCreditCap = request.SessionCreditCap;
        p.UpdatedUtc = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        return (new CreditSettings(p.LowBalanceThreshold, p.AutoTopUpPackageId, p.AutoTopUpThreshold, p.SessionCreditCap), null);
    }
}
