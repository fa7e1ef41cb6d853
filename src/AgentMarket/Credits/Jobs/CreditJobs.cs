using AgentMarket.Credits.Ledger;
using AgentMarket.Credits.Plans;
using AgentMarket.Payments;
using AgentMarket.Platform;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Credits.Jobs;

/// <summary>
/// The credit area's periodic work, safe with any number of instances because every effect is keyed: voids expired
/// reservations (key <c>void:{reservation}</c>, so a late settle and the job cannot both win), grants the Free plan's
/// daily credits, renews sandbox-billed plans, applies downgrades at period end, grants monthly credits for each month
/// of a yearly plan, takes back the credits of refunds a crash left recorded but not applied (ADR-135), and retries or
/// fails automatic top-ups the payment provider never answered (keyed by the payment, ADR-145).
/// </summary>
sealed class CreditJobs(IServiceScopeFactory scopes, IOptions<CreditsOptions> options, TimeProvider clock, ILogger<CreditJobs> logger) : PeriodicJob
{
    protected override TimeSpan Interval => TimeSpan.FromSeconds(options.Value.JobIntervalSeconds);

    protected override TimeProvider Clock => clock;

    protected override string MetricName => "credits";

    protected override Task TickAsync(CancellationToken ct) => RunOnceAsync(ct);

    protected override void LogFailure(Exception exception) => logger.LogError(exception, "Credit jobs failed; retrying next tick");

    public async Task RunOnceAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var services = scope.ServiceProvider;
        await ExpireReservationsAsync(services, ct);
        await GrantDailyCreditsAsync(services, ct);
        await RenewPlansAsync(services, ct);
        await GrantMonthlyCreditsAsync(services, ct);
        await services.GetRequiredService<Fulfilment>().FinishInterruptedRefundsAsync(ct);
        await services.GetRequiredService<AutoTopUps>().RetryUnansweredAsync(ct);
    }

    async Task ExpireReservationsAsync(IServiceProvider services, CancellationToken ct)
    {
        var db = services.GetRequiredService<AppDbContext>();
        var ledger = services.GetRequiredService<CreditLedger>();
        var now = clock.GetUtcNow().UtcDateTime;
        var expired = await db.LedgerOperations.AsNoTracking()
            .Where(o => o.Kind == OperationKind.Reserve && o.ResolvedUtc == null && o.ExpiresUtc < now)
            .OrderBy(o => o.ExpiresUtc).Take(1_000)
            .Select(o => new { o.Id, o.OrganizationId })
            .ToListAsync(ct);
        foreach (var reservation in expired)
        {
            var result = await ledger.VoidAsync($"void:{reservation.Id}", reservation.OrganizationId!.Value, reservation.Id, ct);
            if (result.Succeeded && !result.Replayed)
            {
                logger.LogInformation("Voided expired reservation {Reservation}", reservation.Id);
            }
        }
    }

    static async Task GrantDailyCreditsAsync(IServiceProvider services, CancellationToken ct)
    {
        var db = services.GetRequiredService<AppDbContext>();
        var grants = services.GetRequiredService<CreditGrants>();
        var daily = await db.Plans.AsNoTracking().Where(p => p.DailyCredits > 0).Select(p => p.Code).ToListAsync(ct);
        var organizations = await db.OrganizationPlans.AsNoTracking().Where(p => daily.Contains(p.PlanCode)).Select(p => new { p.OrganizationId, p.PlanCode }).ToListAsync(ct);
        foreach (var organization in organizations)
        {
            await grants.EnsureAsync(organization.OrganizationId, organization.PlanCode, ct);
        }
    }

    async Task RenewPlansAsync(IServiceProvider services, CancellationToken ct)
    {
        var db = services.GetRequiredService<AppDbContext>();
        var fulfilment = services.GetRequiredService<Fulfilment>();
        var cache = services.GetRequiredService<GrantsCache>();
        var audit = services.GetRequiredService<Audit.AuditLog>();
        var sandbox = services.GetRequiredService<IPaymentProvider>().Kind == PaymentProviderKind.Sandbox;
        var now = clock.GetUtcNow().UtcDateTime;
        var due = await db.OrganizationPlans.Where(p => p.CurrentPeriodEndUtc != null && p.CurrentPeriodEndUtc <= now)
            .OrderBy(p => p.CurrentPeriodEndUtc).Take(500).ToListAsync(ct); // the longest overdue first
        foreach (var plan in due)
        {
            if (plan.ExternalSubscriptionId is not null && plan.ScheduledPlanCode != Plan.Free)
            {
                continue; // Stripe bills it (a scheduled downgrade included, at its new price); invoice.paid renews it and subscription.deleted ends it
            }
            // Without the sandbox nothing can be charged here: a period nobody pays for ends on Free.
            var target = sandbox ? plan.ScheduledPlanCode ?? plan.PlanCode : Plan.Free;
            if (target == Plan.Free)
            {
                audit.Record(Audit.AuditActions.PlanChanged, plan.OrganizationId, "organization_plan", plan.OrganizationId,
                    before: new { plan = plan.PlanCode, interval = plan.Interval }, after: new { plan = Plan.Free, reason = "period_ended" });
                plan.PlanCode = Plan.Free;
                plan.Interval = BillingInterval.Monthly;
                plan.CurrentPeriodStartUtc = plan.CurrentPeriodEndUtc = plan.CreditPeriodStartUtc = null;
                plan.ScheduledPlanCode = null;
                plan.ScheduledInterval = null;
                plan.ExternalSubscriptionId = null;
                plan.UpdatedUtc = now;
                await db.SaveChangesAsync(ct);
                cache.Forget(plan.OrganizationId);
                continue;
            }
            var interval = plan.ScheduledInterval ?? plan.Interval;
            var definition = await db.Plans.AsNoTracking().FirstAsync(p => p.Code == target, ct);
            var payment = new Payment
            {
                OrganizationId = plan.OrganizationId,
                Provider = PaymentProviderKind.Sandbox,
                Purpose = PaymentPurpose.Renewal,
                PlanCode = target,
                Interval = interval,
                AmountCents = interval == BillingInterval.Yearly ? definition.YearlyPriceCents : definition.MonthlyPriceCents,
                Description = $"{definition.Name} plan renewal ({interval.ToString().ToLowerInvariant()})",
                Status = PaymentStatus.Pending,
                IdempotencyKey = $"renewal:{plan.OrganizationId}:{plan.CurrentPeriodEndUtc:yyyyMMddHHmmss}",
                PeriodStartUtc = plan.CurrentPeriodEndUtc,
                CreatedUtc = now,
            };
            var existing = await db.Payments.AsNoTracking().Where(p => p.IdempotencyKey == payment.IdempotencyKey).Select(p => (Guid?)p.Id).FirstOrDefaultAsync(ct);
            if (existing is null)
            {
                db.Payments.Add(payment);
                await db.SaveChangesAsync(ct);
            }
            // Test mode: the sandbox's saved card always pays. Stripe renewals arrive as invoice.paid instead.
            await fulfilment.SucceedAsync(existing ?? payment.Id, null, SandboxPaymentProvider.SucceedingCard[^4..], ct);
        }
    }

    async Task GrantMonthlyCreditsAsync(IServiceProvider services, CancellationToken ct)
    {
        var db = services.GetRequiredService<AppDbContext>();
        var grants = services.GetRequiredService<CreditGrants>();
        var now = clock.GetUtcNow().UtcDateTime;
        // Yearly plans are billed once but credited every month of the year.
        var due = await db.OrganizationPlans
            .Where(p => p.Interval == BillingInterval.Yearly && p.CreditPeriodStartUtc != null && p.CurrentPeriodEndUtc > now)
            .ToListAsync(ct);
        foreach (var plan in due.Where(p => p.CreditPeriodStartUtc!.Value.AddMonths(1) <= now))
        {
            var definition = await db.Plans.AsNoTracking().FirstAsync(p => p.Code == plan.PlanCode, ct);
            while (plan.CreditPeriodStartUtc!.Value.AddMonths(1) <= now && plan.CreditPeriodStartUtc.Value.AddMonths(1) < plan.CurrentPeriodEndUtc)
            {
                plan.CreditPeriodStartUtc = plan.CreditPeriodStartUtc.Value.AddMonths(1);
                await grants.GrantMonthlyAsync(plan.OrganizationId, definition, CreditGrants.LaterMonth(plan.CreditPeriodStartUtc.Value), ct);
            }
            await db.SaveChangesAsync(ct);
        }
    }
}
