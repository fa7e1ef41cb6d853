using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Credits.Ledger;

/// <summary>
/// An organization's credits as users see them: <c>balance = granted + paid</c> (posted), <c>available = balance −
/// reserved</c>; debt is what a refund of already-spent credits left owing.
/// </summary>
public sealed record WalletBalance(long Balance, long Available, long Reserved, long Granted, long Paid, long Debt);

/// <summary>
/// The credit ledger (SPEC §3): every movement of credits is a double-entry transfer made through here, with an
/// idempotency key. Writes go through the single <see cref="LedgerWriter"/>; balance reads are one indexed query on the
/// account rows. See Credits/README.md for the invariants.
/// </summary>
sealed class CreditLedger(LedgerWriter writer, AppDbContext db)
{
    public Task<LedgerResult> GrantAsync(string idempotencyKey, Guid organization, long credits, string code, string description, CancellationToken ct) =>
        writer.SubmitAsync(new GrantCommand(idempotencyKey, organization, credits, code, description), ct);

    public Task<LedgerResult> PurchaseAsync(string idempotencyKey, Guid organization, long credits, string description, string referenceType, string referenceId, CancellationToken ct) =>
        writer.SubmitAsync(new PurchaseCommand(idempotencyKey, organization, credits, description, referenceType, referenceId), ct);

    /// <summary>Holds <paramref name="credits"/> until settled or voided; expires at <paramref name="expiresUtc"/> (a job voids it).</summary>
    public Task<LedgerResult> ReserveAsync(string idempotencyKey, Guid organization, long credits, DateTime expiresUtc, string referenceType, string referenceId, CancellationToken ct) =>
        writer.SubmitAsync(new ReserveCommand(idempotencyKey, organization, credits, expiresUtc, referenceType, referenceId), ct);

    public Task<LedgerResult> SettleAsync(string idempotencyKey, Guid organization, Guid reservation, long actual, Guid? provider, RevenueSplit split, string description, CancellationToken ct) =>
        writer.SubmitAsync(new SettleCommand(idempotencyKey, organization, reservation, actual, provider, split, description), ct);

    public Task<LedgerResult> VoidAsync(string idempotencyKey, Guid organization, Guid reservation, CancellationToken ct) =>
        writer.SubmitAsync(new VoidCommand(idempotencyKey, organization, reservation), ct);

    public Task<LedgerResult> RefundAsync(string idempotencyKey, Guid organization, long credits, string description, string referenceType, string referenceId, CancellationToken ct) =>
        writer.SubmitAsync(new RefundCommand(idempotencyKey, organization, credits, description, referenceType, referenceId), ct);

    public Task<LedgerResult> RevokeGrantAsync(string idempotencyKey, Guid organization, long credits, string description, string referenceType, string referenceId, CancellationToken ct) =>
        writer.SubmitAsync(new GrantRevocationCommand(idempotencyKey, organization, credits, description, referenceType, referenceId), ct);

    public Task<LedgerResult> AdjustAsync(string idempotencyKey, Guid organization, long credits, string reason, CancellationToken ct) =>
        writer.SubmitAsync(new AdjustmentCommand(idempotencyKey, organization, credits, reason), ct);

    /// <summary>A visitor's trial run: the platform's promotions account pays the provider <paramref name="credits"/> as a buyer would.</summary>
    public Task<LedgerResult> TrialAsync(string idempotencyKey, Guid provider, long credits, RevenueSplit split, string description, string runId, CancellationToken ct) =>
        writer.SubmitAsync(new TrialCommand(idempotencyKey, provider, credits, split, description, runId), ct);

    public Task<LedgerResult> PayoutAsync(string idempotencyKey, Guid provider, long credits, string description, string payoutId, CancellationToken ct) =>
        writer.SubmitAsync(new PayoutCommand(idempotencyKey, provider, credits, description, payoutId), ct);

    /// <summary>Returns <paramref name="credits"/> of a reversed payout to the provider's earnings.</summary>
    public Task<LedgerResult> PayoutReversalAsync(string idempotencyKey, Guid provider, long credits, string description, string payoutId, CancellationToken ct) =>
        writer.SubmitAsync(new PayoutReversalCommand(idempotencyKey, provider, credits, description, payoutId), ct);

    public async Task<WalletBalance> BalanceAsync(Guid organization, CancellationToken ct)
    {
        var accounts = await db.LedgerAccounts.AsNoTracking()
            .Where(a => a.OwnerId == organization && (a.Kind == AccountKind.WalletGranted || a.Kind == AccountKind.WalletPaid || a.Kind == AccountKind.WalletDebt))
            .ToListAsync(ct);
        var granted = accounts.FirstOrDefault(a => a.Kind == AccountKind.WalletGranted);
        var paid = accounts.FirstOrDefault(a => a.Kind == AccountKind.WalletPaid);
        var debt = accounts.FirstOrDefault(a => a.Kind == AccountKind.WalletDebt);
        long Posted(LedgerAccount? a) => a is null ? 0 : a.CreditsPosted - a.DebitsPosted;
        long Pending(LedgerAccount? a) => a?.DebitsPending ?? 0;
        var balance = Posted(granted) + Posted(paid);
        var reserved = Pending(granted) + Pending(paid);
        return new WalletBalance(balance, balance - reserved, reserved, Posted(granted), Posted(paid), debt is null ? 0 : debt.DebitsPosted - debt.CreditsPosted);
    }
}
