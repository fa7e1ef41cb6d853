using AgentMarket.Credits.Plans;
using AgentMarket.Payments;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Credits;

public sealed record PlanState(string Plan, string Name, BillingInterval Interval, DateTime? CurrentPeriodEnd, string? ScheduledPlan, BillingInterval? ScheduledInterval, DateTime? ScheduledAt);
public sealed record PlanChangeResult(PlanState Plan, CheckoutResponse? Checkout);

/// <summary>
/// Plan changes: an upgrade (or a first paid plan) goes through checkout and applies when paid; a downgrade, including to
/// Free, is scheduled for the end of the paid period, when the renewal job applies it.
/// </summary>
sealed class PlanChanges(AppDbContext db, CurrentTenant tenant, Checkouts checkouts, IServiceProvider services, TimeProvider clock, Audit.AuditLog audit)
{
    public async Task<PlanState> CurrentAsync(CancellationToken ct)
    {
        var organizationId = tenant.RequiredOrganizationId;
        var current = await db.OrganizationPlans.AsNoTracking().FirstAsync(p => p.OrganizationId == organizationId, ct);
        var name = await db.Plans.AsNoTracking().Where(p => p.Code == current.PlanCode).Select(p => p.Name).FirstAsync(ct);
        return new PlanState(current.PlanCode, name, current.Interval, current.CurrentPeriodEndUtc, current.ScheduledPlanCode, current.ScheduledInterval,
            current.ScheduledPlanCode is null ? null : current.CurrentPeriodEndUtc);
    }

    public async Task<(PlanChangeResult? Result, Checkouts.Failure? Failure)> ChangeAsync(string planCode, BillingInterval interval, string? idempotencyKey, CheckoutUrls urls, CancellationToken ct)
    {
        var organizationId = tenant.RequiredOrganizationId;
        var target = await db.Plans.AsNoTracking().FirstOrDefaultAsync(p => p.Code == planCode, ct);
        if (target is null)
        {
            return (null, new Checkouts.Failure(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The plan was not found."));
        }
        var current = await db.OrganizationPlans.FirstAsync(p => p.OrganizationId == organizationId, ct);
        var currentPlan = await db.Plans.AsNoTracking().FirstAsync(p => p.Code == current.PlanCode, ct);
        if (target.Code == current.PlanCode && interval == current.Interval && current.ScheduledPlanCode is { } scheduled)
        {
            await KeepCurrentPlanAsync(current, currentPlan, scheduled, ct);
            return (new PlanChangeResult(await CurrentAsync(ct), null), null);
        }
        if (Plan.IsDowngrade(currentPlan, current.Interval, target, interval) && current.CurrentPeriodEndUtc is not null)
        {
            if (current.ExternalSubscriptionId is { } subscription)
            {
                // Stripe bills the subscription, so the change is made there too, for the same moment: the end of the
                // period already paid. To Free the subscription ends then; to a cheaper plan its price changes without
                // proration, so the next invoice (at period end) is the new plan's.
                var stripe = services.GetRequiredService<Payments.Stripe.StripeClient>();
                // A key per request: scheduling Plus, then Free, then Plus again must reach Stripe three times.
                var changeKey = $"{subscription}:{target.Code}:{interval}:{clock.GetUtcNow().UtcTicks}";
                if (target.Code == Plan.Free)
                {
                    await stripe.SetCancelAtPeriodEndAsync(subscription, cancel: true, changeKey, ct);
                }
                else
                {
                    if (interval != current.Interval)
                    {
                        // Stripe restarts the billing period (and charges at once) when the interval changes, which would not be "at period end".
                        return (null, new Checkouts.Failure(StatusCodes.Status409Conflict, "downgrade_not_supported",
                            $"A downgrade keeps your {current.Interval.ToString().ToLowerInvariant()} billing. To change the interval too, switch to Free at the end of this period, then choose the new plan."));
                    }
                    await ChangeStripePriceAsync(stripe, subscription, target, interval, changeKey, ct);
                }
            }
            audit.Record(Audit.AuditActions.PlanChanged, organizationId, "organization_plan", organizationId,
                before: new { plan = current.PlanCode, interval = current.Interval }, after: new { scheduled_plan = target.Code, at = current.CurrentPeriodEndUtc });
            current.ScheduledPlanCode = target.Code;
            current.ScheduledInterval = target.Code == Plan.Free ? null : interval;
            current.UpdatedUtc = clock.GetUtcNow().UtcDateTime;
            await db.SaveChangesAsync(ct);
            return (new PlanChangeResult(await CurrentAsync(ct), null), null);
        }
        if (target.Code == Plan.Free)
        {
            return (null, new Checkouts.Failure(StatusCodes.Status409Conflict, "already_on_plan", "You are already on Free."));
        }
        var (checkout, failure) = await checkouts.ForPlanAsync(target.Code, interval, idempotencyKey, urls, ct);
        return failure is not null ? (null, failure) : (new PlanChangeResult(await CurrentAsync(ct), checkout), null);
    }

    /// <summary>
    /// Choosing the plan one has while a downgrade is scheduled keeps it: the scheduled change is dropped, and at Stripe
    /// the subscription renews again (a scheduled end) or goes back to the current plan's price (a scheduled cheaper plan).
    /// </summary>
    async Task KeepCurrentPlanAsync(OrganizationPlan current, Plan plan, string scheduled, CancellationToken ct)
    {
        if (current.ExternalSubscriptionId is { } subscription)
        {
            var stripe = services.GetRequiredService<Payments.Stripe.StripeClient>();
            var changeKey = $"{subscription}:keep:{plan.Code}:{current.Interval}:{clock.GetUtcNow().UtcTicks}";
            if (scheduled == Plan.Free)
            {
                await stripe.SetCancelAtPeriodEndAsync(subscription, cancel: false, changeKey, ct);
            }
            else
            {
                await ChangeStripePriceAsync(stripe, subscription, plan, current.Interval, changeKey, ct);
            }
        }
        audit.Record(Audit.AuditActions.PlanChanged, current.OrganizationId, "organization_plan", current.OrganizationId,
            before: new { plan = current.PlanCode, scheduled_plan = scheduled }, after: new { plan = current.PlanCode, scheduled_plan = (string?)null });
        current.ScheduledPlanCode = null;
        current.ScheduledInterval = null;
        current.UpdatedUtc = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Bills the subscription at the plan's price from its next invoice, without proration.</summary>
    static Task ChangeStripePriceAsync(Payments.Stripe.StripeClient stripe, string subscription, Plan plan, BillingInterval interval, string changeKey, CancellationToken ct)
    {
        var yearly = interval == BillingInterval.Yearly;
        return stripe.ChangeSubscriptionPriceAsync(subscription, yearly ? $"{plan.Name} plan, yearly" : $"{plan.Name} plan, monthly",
            yearly ? plan.YearlyPriceCents : plan.MonthlyPriceCents, "usd", yearly ? "year" : "month", changeKey, ct);
    }
}
