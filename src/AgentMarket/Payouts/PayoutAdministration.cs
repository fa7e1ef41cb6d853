using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Payouts;

/// <summary>A payout with the provider it pays, as the operator's console lists it.</summary>
public sealed record OperatorPayout(Payout Payout, string ProviderName, string ProviderHandle);

/// <summary>
/// What operators do with payouts, for the API (<c>/api/admin/payouts/</c>) and the console (<c>/admin/payouts</c>):
/// run a month's payouts, list them, and record that a manual payout's money went out. Runs in the system scope, since
/// payouts belong to every provider's organization; callers check that the user is an operator.
/// </summary>
sealed class PayoutAdministration(AppDbContext db, CurrentTenant tenant, PayoutRunner runner, PayoutEvents events, TimeProvider clock)
{
    public const string PeriodNotEnded = "period_not_ended";
    public const string NotPending = "payout_not_pending";

    public sealed record Failure(int Status, string Code, string Message, string? Field = null);

    /// <summary>What a payout run did: payouts created, already made earlier, and providers below their minimum.</summary>
    public sealed record RunSummary(string Period, int Created, int AlreadyExisting, int BelowMinimum, IReadOnlyList<Payout> Payouts);

    /// <summary>Pays out the month <paramref name="period"/> (<c>yyyy-MM</c>), which must have ended.</summary>
    public async Task<(RunSummary? Summary, Failure? Failure)> RunAsync(string? period, CancellationToken ct)
    {
        if (PayoutRunner.ParsePeriod(period) is not { } first)
        {
            return (null, new(StatusCodes.Status400BadRequest, Platform.Errors.ProblemCodes.ValidationFailed, "Use a month like 2026-10.", "period"));
        }
        if (first.AddMonths(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) > clock.GetUtcNow().UtcDateTime)
        {
            return (null, new(StatusCodes.Status409Conflict, PeriodNotEnded, "A month is paid out once it has ended."));
        }
        tenant.EnterSystemScope(); // the run reads every provider's earnings
        var items = await runner.RunAsync(first, ct);
        return (new RunSummary(PayoutRunner.PeriodOf(first), items.Count(i => i.Outcome == PayoutOutcome.Created),
            items.Count(i => i.Outcome == PayoutOutcome.AlreadyExists), items.Count(i => i.Outcome == PayoutOutcome.BelowMinimum),
            [.. items.Where(i => i.Payout is not null).Select(i => i.Payout!)]), null);
    }

    /// <summary>The newest payouts first, optionally of one status and one period, with their providers.</summary>
    public async Task<List<OperatorPayout>> ListAsync(PayoutStatus? status, string? period, int limit, CancellationToken ct)
    {
        tenant.EnterSystemScope();
        var payouts = db.Payouts.AsNoTracking();
        if (status is { } wanted)
        {
            payouts = payouts.Where(p => p.Status == wanted);
        }
        if (!string.IsNullOrEmpty(period))
        {
            payouts = payouts.Where(p => p.Period == period);
        }
        return await payouts.OrderByDescending(p => p.CreatedUtc).Take(limit)
            .Join(db.Providers, p => p.ProviderId, provider => provider.Id, (p, provider) => new OperatorPayout(p, provider.Name, provider.Handle))
            .ToListAsync(ct);
    }

    /// <summary>
    /// A manual payout's money has gone out: records the operator's payment reference, audits it and tells the provider.
    /// Repeating it with the same reference changes nothing.
    /// </summary>
    public async Task<(Payout? Payout, Failure? Failure)> MarkPaidAsync(Guid payoutId, string reference, CancellationToken ct)
    {
        tenant.EnterSystemScope();
        var payout = await db.Payouts.Include(p => p.Lines).FirstOrDefaultAsync(p => p.Id == payoutId, ct);
        if (payout is null)
        {
            return (null, new(StatusCodes.Status404NotFound, Platform.Errors.ProblemCodes.NotFound, "The payout was not found."));
        }
        reference = reference.Trim();
        if (payout.Status == PayoutStatus.Paid && payout.Reference == reference)
        {
            return (payout, null);
        }
        if (payout.Status != PayoutStatus.Pending)
        {
            return (null, new(StatusCodes.Status409Conflict, NotPending,
                $"This payout is {EnumNames<PayoutStatus>.ToName(payout.Status)}; only a pending payout can be marked paid."));
        }
        payout.Status = PayoutStatus.Paid;
        payout.Reference = reference;
        payout.PaidUtc = clock.GetUtcNow().UtcDateTime;
        payout.Note = null;
        await events.PaidAsync(payout, ct);
        await db.SaveChangesAsync(ct);
        return (payout, null);
    }
}
