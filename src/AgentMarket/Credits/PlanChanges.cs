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
        if (IsDowngrade(currentPlan, target) && current.CurrentPeriodEndUtc is not null)
        {
            if (current.ExternalSubscriptionId is { } subscription)
            {
                // Stripe bills the subscription: ending it there is what stops the charges. Moving to a cheaper paid
                // plan would need the subscription's price changed, which this integration does not do yet.
                if (target.Code != Plan.Free)
                {
                    return (null, new Checkouts.Failure(StatusCodes.Status409Conflict, "downgrade_not_supported",
                        "Switch to Free at the end of this period, then choose the new plan."));
                }
                await services.GetRequiredService<Payments.Stripe.StripeClient>().CancelAtPeriodEndAsync(subscription, ct);
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

    static bool IsDowngrade(Plan from, Plan to) => to.SortOrder < from.SortOrder;
}
