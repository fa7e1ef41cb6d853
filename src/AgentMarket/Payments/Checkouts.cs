using System.Text.Json;
using AgentMarket.Credits.Plans;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Payments;

public sealed record CheckoutResponse(Guid CheckoutUuid, string CheckoutUrl, bool TestMode);

/// <summary>Starts purchases: a top-up package (Plus and Pro only) or a plan, through the configured payment provider.</summary>
sealed class Checkouts(AppDbContext db, CurrentTenant tenant, IPaymentProvider provider, TimeProvider clock)
{
    public sealed record Failure(int Status, string Code, string Message, IDictionary<string, object?>? Extensions = null);

    static Failure Suspended() => new(StatusCodes.Status403Forbidden, ProblemCodes.OrganizationSuspended, ProblemCodes.OrganizationSuspendedMessage);

    public async Task<(CheckoutResponse? Checkout, Failure? Failure)> ForPackageAsync(Guid packageId, string? idempotencyKey, CheckoutUrls urls, CancellationToken ct)
    {
        var organizationId = tenant.RequiredOrganizationId;
        if (await db.Organizations.IsSuspendedAsync(organizationId, ct))
        {
            return (null, Suspended());
        }
        var package = await db.CreditPackages.AsNoTracking().FirstOrDefaultAsync(p => p.Id == packageId && p.Active, ct);
        if (package is null)
        {
            return (null, new Failure(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The package was not found."));
        }
        var plan = await CurrentPlanAsync(organizationId, ct);
        if (!plan.CanTopUp)
        {
            return (null, new Failure(StatusCodes.Status403Forbidden, "plan_required",
                $"Top-up packages are available on Plus and Pro. Upgrade your plan to buy credits.",
                new Dictionary<string, object?> { ["current_plan"] = plan.Code, ["upgrade_url"] = "/pricing" }));
        }
        var payment = new Payment
        {
            OrganizationId = organizationId,
            Provider = provider.Kind,
            Purpose = PaymentPurpose.Package,
            PackageId = package.Id,
            AmountCents = package.PriceCents,
            Credits = package.TotalCredits,
            Description = $"{package.Name} package: {package.TotalCredits:N0} credits",
            Status = PaymentStatus.Pending,
            IdempotencyKey = idempotencyKey is null ? null : $"checkout:{organizationId}:{idempotencyKey}",
            CreatedByUserId = tenant.UserId,
            CreatedUtc = clock.GetUtcNow().UtcDateTime,
        };
        return await StartAsync(payment, urls, ct);
    }

    public async Task<(CheckoutResponse? Checkout, Failure? Failure)> ForPlanAsync(string planCode, BillingInterval interval, string? idempotencyKey, CheckoutUrls urls, CancellationToken ct)
    {
        var organizationId = tenant.RequiredOrganizationId;
        if (await db.Organizations.IsSuspendedAsync(organizationId, ct))
        {
            return (null, Suspended());
        }
        var plan = await db.Plans.AsNoTracking().FirstOrDefaultAsync(p => p.Code == planCode, ct);
        if (plan is null)
        {
            return (null, new Failure(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The plan was not found."));
        }
        var price = interval == BillingInterval.Yearly ? plan.YearlyPriceCents : plan.MonthlyPriceCents;
        if (plan.IsCustom || price <= 0)
        {
            return (null, new Failure(StatusCodes.Status400BadRequest, "plan_not_purchasable",
                plan.IsCustom ? "Enterprise is priced by agreement; contact us." : "This plan cannot be bought through checkout."));
        }
        var current = await db.OrganizationPlans.AsNoTracking().FirstAsync(p => p.OrganizationId == organizationId, ct);
        switch (PlanConflict(current, await db.Plans.AsNoTracking().FirstAsync(p => p.Code == current.PlanCode, ct), plan, interval))
        {
            case AlreadyOnPlan:
                return (null, new Failure(StatusCodes.Status409Conflict, AlreadyOnPlan, $"You are already on {plan.Name} ({interval.ToString().ToLowerInvariant()})."));
            case DowngradeAtPeriodEnd:
                return (null, new Failure(StatusCodes.Status409Conflict, DowngradeAtPeriodEnd,
                    "A cheaper plan starts when the period you paid for ends: choose it with POST /api/credits/plan/ (or on the pricing page) to schedule it."));
        }
        var payment = new Payment
        {
            OrganizationId = organizationId,
            Provider = provider.Kind,
            Purpose = PaymentPurpose.Plan,
            PlanCode = plan.Code,
            Interval = interval,
            AmountCents = price,
            Description = interval == BillingInterval.Yearly ? $"{plan.Name} plan, yearly (12 × ${plan.YearlyMonthlyPriceCents / 100m:0.00})" : $"{plan.Name} plan, monthly",
            Status = PaymentStatus.Pending,
            IdempotencyKey = idempotencyKey is null ? null : $"checkout:{organizationId}:{idempotencyKey}",
            CreatedByUserId = tenant.UserId,
            CreatedUtc = clock.GetUtcNow().UtcDateTime,
        };
        return await StartAsync(payment, urls, ct);
    }

    const string AlreadyOnPlan = "already_on_plan";
    const string DowngradeAtPeriodEnd = "downgrade_at_period_end";

    /// <summary>
    /// Why paying for <paramref name="target"/> now would not improve the organization's <paramref name="current"/> plan
    /// (of definition <paramref name="currentPlan"/>): it is that plan already, or a cheaper one, which would throw away
    /// the rest of the period already paid for. Null when it is an upgrade. Checked when the checkout starts, and again
    /// when it is paid (<see cref="Fulfilment"/>): an old checkout can be paid after a newer plan was bought.
    /// </summary>
    public static string? PlanConflict(OrganizationPlan current, Plan currentPlan, Plan target, BillingInterval interval) =>
        current.PlanCode == target.Code && current.Interval == interval ? AlreadyOnPlan
        : current.CurrentPeriodEndUtc is not null && Plan.IsDowngrade(currentPlan, current.Interval, target, interval) ? DowngradeAtPeriodEnd
        : null;

    async Task<(CheckoutResponse?, Failure?)> StartAsync(Payment payment, CheckoutUrls urls, CancellationToken ct)
    {
        if (payment.IdempotencyKey is { } key && await db.Payments.AsNoTracking().FirstOrDefaultAsync(p => p.IdempotencyKey == key, ct) is { } earlier)
        {
            return await ReplayAsync(earlier, payment, urls, ct);
        }
        db.Payments.Add(payment);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException) when (payment.IdempotencyKey is not null)
        {
            // A concurrent request with the same Idempotency-Key inserted its payment first: this one is its replay.
            db.Entry(payment).State = EntityState.Detached;
            var winner = await db.Payments.AsNoTracking().FirstOrDefaultAsync(p => p.IdempotencyKey == payment.IdempotencyKey, ct);
            if (winner is null)
            {
                throw;
            }
            return await ReplayAsync(winner, payment, urls, ct);
        }
        var url = await provider.CreateCheckoutAsync(payment, urls, ct);
        await db.SaveChangesAsync(ct);
        return (new CheckoutResponse(payment.Id, url, provider.TestMode), null);
    }

    /// <summary>
    /// The same Idempotency-Key returns the same checkout while it can still be paid; reused for another purchase it is a
    /// conflict. Once paid (or failed, refunded) the checkout is closed and its payment's status is the answer: asking the
    /// provider again could open a new session for the same purchase (Stripe keeps idempotency keys for a day only).
    /// </summary>
    async Task<(CheckoutResponse?, Failure?)> ReplayAsync(Payment earlier, Payment asked, CheckoutUrls urls, CancellationToken ct)
    {
        if (earlier.PackageId != asked.PackageId || earlier.PlanCode != asked.PlanCode || earlier.Interval != asked.Interval)
        {
            return (null, new Failure(StatusCodes.Status409Conflict, ProblemCodes.IdempotencyConflict, "This Idempotency-Key was used for another purchase."));
        }
        if (earlier.Status != PaymentStatus.Pending)
        {
            var status = JsonNamingPolicy.SnakeCaseLower.ConvertName(earlier.Status.ToString());
            return (null, new Failure(StatusCodes.Status409Conflict, "checkout_closed",
                $"The checkout of this Idempotency-Key is {status.Replace('_', ' ')}: see GET /api/payments/{earlier.Id}. Use a new key for a new purchase.",
                new Dictionary<string, object?> { ["checkout_uuid"] = earlier.Id, ["payment_status"] = status }));
        }
        return (new CheckoutResponse(earlier.Id, await provider.CreateCheckoutAsync(earlier, urls, ct), provider.TestMode), null);
    }

    async Task<Plan> CurrentPlanAsync(Guid organizationId, CancellationToken ct)
    {
        var code = await db.OrganizationPlans.Where(p => p.OrganizationId == organizationId).Select(p => p.PlanCode).FirstAsync(ct);
        return await db.Plans.AsNoTracking().FirstAsync(p => p.Code == code, ct);
    }
}
