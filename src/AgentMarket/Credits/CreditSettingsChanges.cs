using AgentMarket.Audit;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Credits;

/// <summary>Reads and changes an organization's spend settings (low-balance alert, auto top-up, session cap); the API and the credits page share it.</summary>
sealed class CreditSettingsChanges(AppDbContext db, CurrentTenant tenant, Payments.IPaymentProvider provider, Ledger.CreditLedger ledger,
    Payments.AutoTopUps autoTopUps, TimeProvider clock, AuditLog audit)
{
    /// <summary>Why a change was refused; <see cref="Field"/> names the offending field (snake_case) when one is to blame.</summary>
    public sealed record Failure(int Status, string Code, string Message, string? Field = null, IDictionary<string, object?>? Extensions = null);

    public const string PaymentMethodRequired = "payment_method_required";

    // Spend settings live on the organization's plan row: audited as plan changes and a failed auto top-up are.
    const string TargetType = "organization_plan";

    public async Task<CreditSettings> CurrentAsync(CancellationToken ct)
    {
        var organization = tenant.RequiredOrganizationId;
        var p = await db.OrganizationPlans.AsNoTracking().FirstAsync(x => x.OrganizationId == organization, ct);
        return await ToSettingsAsync(p, ct);
    }

    async Task<CreditSettings> ToSettingsAsync(Plans.OrganizationPlan p, CancellationToken ct)
    {
        var card = provider.Kind == Payments.PaymentProviderKind.Stripe
            ? await db.PaymentCustomers.AsNoTracking().Where(c => c.OrganizationId == p.OrganizationId && c.PaymentMethodId != null)
                .Select(c => new SavedCard(c.CardBrand, c.CardLast4)).FirstOrDefaultAsync(ct)
            : null;
        // Read from the payments themselves, so it shows whether or not a crossing was refused yet, and ends on time.
        var pausedUntil = p.AutoTopUpPackageId is null ? null : await autoTopUps.PausedUntilAsync(p.OrganizationId, ct);
        return new CreditSettings(p.LowBalanceThreshold, p.AutoTopUpPackageId, p.AutoTopUpThreshold, p.SessionCreditCap,
            p.AutoTopUpFailureReason, p.AutoTopUpFailureReason is null ? null : p.AutoTopUpFailedUtc, card, pausedUntil);
    }

    public async Task<(CreditSettings? Settings, Failure? Failure)> UpdateAsync(CreditSettingsRequest request, CancellationToken ct)
    {
        var organization = tenant.RequiredOrganizationId;
        var p = await db.OrganizationPlans.FirstAsync(x => x.OrganizationId == organization, ct);
        var before = AuditedSettings.Of(p);
        if (request.AutoTopUpPackageUuid is { } packageId)
        {
            var canTopUp = await db.Plans.AnyAsync(x => x.Code == p.PlanCode && x.CanTopUp, ct);
            if (!canTopUp)
            {
                return (null, new Failure(StatusCodes.Status403Forbidden, "plan_required", "Auto top-up is available on Plus and Pro."));
            }
            var package = await db.CreditPackages.AsNoTracking().FirstOrDefaultAsync(x => x.Id == packageId && x.Active, ct);
            if (package is null)
            {
                return (null, new Failure(StatusCodes.Status400BadRequest, Platform.Errors.ProblemCodes.ValidationFailed, "Unknown package.", "auto_top_up_package_uuid"));
            }
            if (request.AutoTopUpThreshold is not { } threshold)
            {
                return (null, new Failure(StatusCodes.Status400BadRequest, Platform.Errors.ProblemCodes.ValidationFailed, "Set the balance below which to top up.", "auto_top_up_threshold"));
            }
            if ((p.AutoTopUpPackageId != packageId || p.AutoTopUpThreshold != threshold) && await ThresholdOutOfReachAsync(organization, package, threshold, ct) is { } tooHigh)
            {
                return (null, tooHigh);
            }
            // Stripe charges an automatic top-up to the card a Checkout saved for off-session use; without one there is nothing to charge.
            if (provider.Kind == Payments.PaymentProviderKind.Stripe
                && !await db.PaymentCustomers.AnyAsync(c => c.OrganizationId == organization && c.PaymentMethodId != null, ct))
            {
                return (null, new Failure(StatusCodes.Status409Conflict, PaymentMethodRequired,
                    "Automatic top-ups charge a saved card, and none is saved yet. Buy a package once through checkout: the card you pay with is saved for automatic top-ups.",
                    Extensions: new Dictionary<string, object?> { ["hint"] = "Buy a package at /credits; its checkout saves your card.", ["purchase_url"] = "/credits" }));
            }
            if (p.AutoTopUpPackageId is null)
            {
                p.AutoTopUpFailureReason = null; // switched on again: the last failure is history
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
        AuditChanges(organization, before, AuditedSettings.Of(p));
        await db.SaveChangesAsync(ct);
        return (await ToSettingsAsync(p, ct), null);
    }

    /// <summary>
    /// A threshold one purchase of the package cannot lift the available balance above would buy again on every run (each
    /// purchase starts a new crossing), so it is refused. Checked when the package or the threshold changes, not on every
    /// save: a balance that fell since is the daily cap's business (<see cref="CreditsOptions.AutoTopUpsPerDay"/>).
    /// </summary>
    async Task<Failure?> ThresholdOutOfReachAsync(Guid organization, Plans.CreditPackage package, long threshold, CancellationToken ct)
    {
        var reachable = (await ledger.BalanceAsync(organization, ct)).Available + package.TotalCredits;
        if (threshold <= reachable)
        {
            return null;
        }
        var message = $"One {package.Name} package ({package.TotalCredits:N0} credits) cannot lift your available balance above {threshold:N0} credits, so every run would buy another. " +
            $"Set the threshold to at most {Math.Max(reachable, 0):N0} credits, or choose a larger package.";
        return new Failure(StatusCodes.Status400BadRequest, Platform.Errors.ProblemCodes.AutoTopUpThresholdTooHigh, message, Extensions: new Dictionary<string, object?>
        {
            ["errors"] = new Dictionary<string, string[]> { ["auto_top_up_threshold"] = [message] },
            ["max_threshold"] = Math.Max(reachable, 0),
        });
    }

    /// <summary>
    /// Auto top-up switched on or off is an entry of its own; the limits (and auto top-up's package and threshold while
    /// it stays on) are recorded old → new, as far as they changed.
    /// </summary>
    void AuditChanges(Guid organization, AuditedSettings before, AuditedSettings after)
    {
        var topUpWasOn = before.AutoTopUpPackage is not null;
        var topUpIsOn = after.AutoTopUpPackage is not null;
        if (topUpWasOn == topUpIsOn)
        {
            audit.RecordChanges(AuditActions.SpendLimitChanged, organization, TargetType, organization, before, after);
            return;
        }
        audit.Record(topUpIsOn ? AuditActions.AutoTopUpEnabled : AuditActions.AutoTopUpDisabled, organization, TargetType, organization,
            before: new { auto_top_up_package = before.AutoTopUpPackage, auto_top_up_threshold = before.AutoTopUpThreshold },
            after: new { auto_top_up_package = after.AutoTopUpPackage, auto_top_up_threshold = after.AutoTopUpThreshold });
        audit.RecordChanges(AuditActions.SpendLimitChanged, organization, TargetType, organization,
            new { before.LowBalanceThreshold, before.SessionCreditCap }, new { after.LowBalanceThreshold, after.SessionCreditCap });
    }

    sealed record AuditedSettings(long? LowBalanceThreshold, long? SessionCreditCap, Guid? AutoTopUpPackage, long? AutoTopUpThreshold)
    {
        public static AuditedSettings Of(Plans.OrganizationPlan p) => new(p.LowBalanceThreshold, p.SessionCreditCap, p.AutoTopUpPackageId, p.AutoTopUpThreshold);
    }
}
