using System.Security.Cryptography;
using System.Text;

namespace AgentMarket.Credits.Ledger;

/// <summary>An account by what it is for: (kind, owner).</summary>
public readonly record struct AccountKey(AccountKind Kind, Guid Owner)
{
    public static AccountKey Platform(AccountKind kind) => new(kind, LedgerAccount.PlatformOwner);
}

/// <summary>
/// A request to the ledger. Each command names the accounts it may touch (locked before it runs), a fingerprint of its
/// parameters (to tell a replay from a conflicting reuse of the key) and how it changes the accounts.
/// </summary>
abstract record LedgerCommand(string IdempotencyKey)
{
    public abstract OperationKind Kind { get; }
    public abstract IEnumerable<AccountKey> Accounts();
    protected abstract string Parameters();

    /// <summary>Reservations a settle or void resolves, loaded before <see cref="Apply"/>.</summary>
    public virtual Guid? ReservationId => null;

    public string RequestHash() =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{Kind}|{Parameters()}")))[..32];

    public abstract LedgerResult Apply(LedgerBatch batch);

    protected static IEnumerable<AccountKey> Wallets(Guid organization) =>
        [new(AccountKind.WalletGranted, organization), new(AccountKind.WalletPaid, organization)];
}

/// <summary>Free credits from the platform (starter, daily, monthly, trial).</summary>
sealed record GrantCommand(string IdempotencyKey, Guid Organization, long Amount, string Code, string Description) : LedgerCommand(IdempotencyKey)
{
    public override OperationKind Kind => OperationKind.Grant;
    public override IEnumerable<AccountKey> Accounts() => [AccountKey.Platform(AccountKind.Grants), .. Wallets(Organization)];
    protected override string Parameters() => $"{Organization}|{Amount}|{Code}";

    public override LedgerResult Apply(LedgerBatch batch)
    {
        if (Amount <= 0)
        {
            return LedgerResult.Rejected(LedgerStatus.InvalidAmount);
        }
        var operation = batch.BeginOperation(this, Organization, null, Code, Description);
        batch.Post(operation, AccountKey.Platform(AccountKind.Grants), new(AccountKind.WalletGranted, Organization), Amount, Code);
        return batch.Complete(operation, Amount);
    }
}

/// <summary>
/// Takes back granted credits that came with a payment now refunded (a plan's monthly credits): as many of
/// <see cref="Amount"/> as the wallet still has granted; what was already spent stays spent, as the plan's own.
/// </summary>
sealed record GrantRevocationCommand(string IdempotencyKey, Guid Organization, long Amount, string Description, string ReferenceType, string ReferenceId) : LedgerCommand(IdempotencyKey)
{
    public override OperationKind Kind => OperationKind.GrantRevocation;
    public override IEnumerable<AccountKey> Accounts() => [AccountKey.Platform(AccountKind.Grants), .. Wallets(Organization)];
    protected override string Parameters() => $"{Organization}|{Amount}|{ReferenceType}|{ReferenceId}";

    public override LedgerResult Apply(LedgerBatch batch)
    {
        if (Amount <= 0)
        {
            return LedgerResult.Rejected(LedgerStatus.InvalidAmount);
        }
        var granted = batch.Account(new(AccountKind.WalletGranted, Organization));
        var taken = Math.Min(Amount, Math.Max(granted.Available, 0));
        var operation = batch.BeginOperation(this, Organization, null, "refund", Description, ReferenceType, ReferenceId);
        if (taken > 0)
        {
            batch.Post(operation, granted.Key, AccountKey.Platform(AccountKind.Grants), taken, "refund");
        }
        return batch.Complete(operation, -taken);
    }
}

/// <summary>Paid credits after a payment; an outstanding debt from an earlier refund is repaid first.</summary>
sealed record PurchaseCommand(string IdempotencyKey, Guid Organization, long Amount, string Description, string ReferenceType, string ReferenceId) : LedgerCommand(IdempotencyKey)
{
    public override OperationKind Kind => OperationKind.Purchase;
    public override IEnumerable<AccountKey> Accounts() =>
        [AccountKey.Platform(AccountKind.Payments), .. Wallets(Organization), new(AccountKind.WalletDebt, Organization)];
    protected override string Parameters() => $"{Organization}|{Amount}|{ReferenceType}|{ReferenceId}";

    public override LedgerResult Apply(LedgerBatch batch)
    {
        if (Amount <= 0)
        {
            return LedgerResult.Rejected(LedgerStatus.InvalidAmount);
        }
        var debt = batch.Account(new(AccountKind.WalletDebt, Organization));
        var repay = Math.Min(Amount, Math.Max(0, debt.DebitsPosted - debt.CreditsPosted));
        var operation = batch.BeginOperation(this, Organization, null, "purchase", Description, ReferenceType, ReferenceId);
        if (repay > 0)
        {
            batch.Post(operation, AccountKey.Platform(AccountKind.Payments), debt.Key, repay, "purchase");
        }
        if (Amount - repay > 0)
        {
            batch.Post(operation, AccountKey.Platform(AccountKind.Payments), new(AccountKind.WalletPaid, Organization), Amount - repay, "purchase");
        }
        return batch.Complete(operation, Amount - repay);
    }
}

/// <summary>Holds a run's maximum price: granted credits first, then paid; both or neither.</summary>
sealed record ReserveCommand(string IdempotencyKey, Guid Organization, long Amount, DateTime ExpiresUtc, string ReferenceType, string ReferenceId) : LedgerCommand(IdempotencyKey)
{
    public override OperationKind Kind => OperationKind.Reserve;
    public override IEnumerable<AccountKey> Accounts() => [.. Wallets(Organization), new(AccountKind.RunHolding, Organization)];
    protected override string Parameters() => $"{Organization}|{Amount}|{ReferenceType}|{ReferenceId}";

    public override LedgerResult Apply(LedgerBatch batch)
    {
        if (Amount <= 0)
        {
            return LedgerResult.Rejected(LedgerStatus.InvalidAmount);
        }
        var granted = batch.Account(new(AccountKind.WalletGranted, Organization));
        var paid = batch.Account(new(AccountKind.WalletPaid, Organization));
        var available = granted.Available + paid.Available;
        if (Amount > available)
        {
            return LedgerResult.Rejected(LedgerStatus.InsufficientCredits) with { Required = Amount, Available = available };
        }
        var fromGranted = Math.Min(Amount, granted.Available);
        var operation = batch.BeginOperation(this, Organization, null, "reserve", null, ReferenceType, ReferenceId, reserved: Amount, expiresUtc: ExpiresUtc);
        var holding = new AccountKey(AccountKind.RunHolding, Organization);
        if (fromGranted > 0)
        {
            batch.Pending(operation, granted.Key, holding, fromGranted);
        }
        if (Amount - fromGranted > 0)
        {
            batch.Pending(operation, paid.Key, holding, Amount - fromGranted);
        }
        return batch.Complete(operation, 0) with { Required = Amount };
    }
}

/// <summary>How runs paid with granted credits pay providers (operator setting).</summary>
public sealed record RevenueSplit(int CommissionBasisPoints, int GrantedPayoutPercent)
{
    /// <summary>The platform's fee on <paramref name="credits"/>, rounded half up; the provider gets the rest.</summary>
    public long Fee(long credits) => (credits * CommissionBasisPoints + 5_000) / 10_000;

    /// <summary>What the promotions account pays a provider for <paramref name="granted"/> credits spent on their agent.</summary>
    public long GrantedPayout(long granted) => (granted - Fee(granted)) * GrantedPayoutPercent / 100;
}

/// <summary>
/// Posts a run's actual price (≤ reserved; granted credits first), releases the rest, and splits it: paid credits to the
/// provider minus the platform fee; granted credits return to the grants source while the promotions account pays the
/// provider as the operator's setting says.
/// </summary>
sealed record SettleCommand(string IdempotencyKey, Guid Organization, Guid Reservation, long Actual, Guid? Provider, RevenueSplit Split, string Description) : LedgerCommand(IdempotencyKey)
{
    public override OperationKind Kind => OperationKind.Settle;
    public override Guid? ReservationId => Reservation;

    public override IEnumerable<AccountKey> Accounts()
    {
        IEnumerable<AccountKey> accounts =
        [
            .. Wallets(Organization), new(AccountKind.RunHolding, Organization),
            AccountKey.Platform(AccountKind.PlatformFees), AccountKey.Platform(AccountKind.Grants), AccountKey.Platform(AccountKind.PlatformPromotions),
        ];
        return Provider is { } provider ? accounts.Append(new(AccountKind.ProviderEarnings, provider)) : accounts;
    }

    protected override string Parameters() => $"{Organization}|{Reservation}|{Actual}|{Provider}|{Split.CommissionBasisPoints}|{Split.GrantedPayoutPercent}";

    public override LedgerResult Apply(LedgerBatch batch)
    {
        if (batch.Reservation(Reservation) is not { } reservation || reservation.Organization != Organization)
        {
            return LedgerResult.Rejected(LedgerStatus.ReservationNotFound);
        }
        if (reservation.Resolved)
        {
            return LedgerResult.Rejected(LedgerStatus.ReservationResolved);
        }
        if (Actual < 0 || Actual > reservation.Amount)
        {
            return LedgerResult.Rejected(LedgerStatus.ExceedsReservation) with { Required = Actual, Available = reservation.Amount };
        }
        var granted = Math.Min(Actual, reservation.GrantedPending?.Amount ?? 0);
        var paid = Actual - granted;
        var operation = batch.BeginOperation(this, Organization, Provider, "spend", Description, "reservation", Reservation.ToString());
        batch.Resolve(operation, reservation.GrantedPending, granted);
        batch.Resolve(operation, reservation.PaidPending, paid);
        batch.MarkResolved(reservation);

        var holding = new AccountKey(AccountKind.RunHolding, Organization);
        var fees = AccountKey.Platform(AccountKind.PlatformFees);
        if (paid > 0)
        {
            var fee = Provider is null ? paid : Split.Fee(paid);
            if (Provider is { } provider && paid - fee > 0)
            {
                batch.Post(operation, holding, new(AccountKind.ProviderEarnings, provider), paid - fee, "earning");
            }
            if (fee > 0)
            {
                batch.Post(operation, holding, fees, fee, "fee");
            }
        }
        if (granted > 0)
        {
            batch.Post(operation, holding, AccountKey.Platform(AccountKind.Grants), granted, "spend");
            var payout = Provider is null ? 0 : Split.GrantedPayout(granted);
            if (payout > 0)
            {
                batch.Post(operation, AccountKey.Platform(AccountKind.PlatformPromotions), new(AccountKind.ProviderEarnings, Provider!.Value), payout, "earning");
            }
        }
        return batch.Complete(operation, -Actual);
    }
}

/// <summary>
/// Spends <see cref="Amount"/> at once, without a reservation (a subscription's month): granted credits first, then paid;
/// all or nothing. Splits like <see cref="SettleCommand"/>, so one operation both takes the credits and pays the provider;
/// a reserve and a settle would be two, and the first could be voided before the second.
/// </summary>
sealed record ChargeCommand(string IdempotencyKey, Guid Organization, long Amount, Guid? Provider, RevenueSplit Split, string Description, string ReferenceType, string ReferenceId)
    : LedgerCommand(IdempotencyKey)
{
    public override OperationKind Kind => OperationKind.Charge;

    public override IEnumerable<AccountKey> Accounts()
    {
        IEnumerable<AccountKey> accounts =
        [
            .. Wallets(Organization), AccountKey.Platform(AccountKind.PlatformFees), AccountKey.Platform(AccountKind.Grants), AccountKey.Platform(AccountKind.PlatformPromotions),
        ];
        return Provider is { } provider ? accounts.Append(new(AccountKind.ProviderEarnings, provider)) : accounts;
    }

    protected override string Parameters() => $"{Organization}|{Amount}|{Provider}|{Split.CommissionBasisPoints}|{Split.GrantedPayoutPercent}|{ReferenceType}|{ReferenceId}";

    public override LedgerResult Apply(LedgerBatch batch)
    {
        if (Amount <= 0)
        {
            return LedgerResult.Rejected(LedgerStatus.InvalidAmount);
        }
        var granted = batch.Account(new(AccountKind.WalletGranted, Organization));
        var wallet = batch.Account(new(AccountKind.WalletPaid, Organization));
        var available = granted.Available + wallet.Available;
        if (Amount > available)
        {
            return LedgerResult.Rejected(LedgerStatus.InsufficientCredits) with { Required = Amount, Available = available };
        }
        var fromGranted = Math.Min(Amount, granted.Available);
        var paid = Amount - fromGranted;
        var operation = batch.BeginOperation(this, Organization, Provider, "spend", Description, ReferenceType, ReferenceId);
        if (paid > 0)
        {
            var fee = Provider is null ? paid : Split.Fee(paid);
            if (Provider is { } provider && paid - fee > 0)
            {
                batch.Post(operation, wallet.Key, new(AccountKind.ProviderEarnings, provider), paid - fee, "earning");
            }
            if (fee > 0)
            {
                batch.Post(operation, wallet.Key, AccountKey.Platform(AccountKind.PlatformFees), fee, "fee");
            }
        }
        if (fromGranted > 0)
        {
            batch.Post(operation, granted.Key, AccountKey.Platform(AccountKind.Grants), fromGranted, "spend");
            var payout = Provider is null ? 0 : Split.GrantedPayout(fromGranted);
            if (payout > 0)
            {
                batch.Post(operation, AccountKey.Platform(AccountKind.PlatformPromotions), new(AccountKind.ProviderEarnings, Provider!.Value), payout, "earning");
            }
        }
        return batch.Complete(operation, -Amount);
    }
}

/// <summary>Releases a reservation entirely: a failed run costs nothing.</summary>
sealed record VoidCommand(string IdempotencyKey, Guid Organization, Guid Reservation) : LedgerCommand(IdempotencyKey)
{
    public override OperationKind Kind => OperationKind.Void;
    public override Guid? ReservationId => Reservation;
    public override IEnumerable<AccountKey> Accounts() => [.. Wallets(Organization), new(AccountKind.RunHolding, Organization)];
    protected override string Parameters() => $"{Organization}|{Reservation}";

    public override LedgerResult Apply(LedgerBatch batch)
    {
        if (batch.Reservation(Reservation) is not { } reservation || reservation.Organization != Organization)
        {
            return LedgerResult.Rejected(LedgerStatus.ReservationNotFound);
        }
        if (reservation.Resolved)
        {
            return LedgerResult.Rejected(LedgerStatus.ReservationResolved);
        }
        var operation = batch.BeginOperation(this, Organization, null, "release", null, "reservation", Reservation.ToString());
        batch.Resolve(operation, reservation.GrantedPending, 0);
        batch.Resolve(operation, reservation.PaidPending, 0);
        batch.MarkResolved(reservation);
        return batch.Complete(operation, 0);
    }
}

/// <summary>A refunded payment: the unspent part of its credits is clawed back, the rest becomes debt on the wallet.</summary>
sealed record RefundCommand(string IdempotencyKey, Guid Organization, long Amount, string Description, string ReferenceType, string ReferenceId) : LedgerCommand(IdempotencyKey)
{
    public override OperationKind Kind => OperationKind.Refund;
    public override IEnumerable<AccountKey> Accounts() =>
        [AccountKey.Platform(AccountKind.Payments), .. Wallets(Organization), new(AccountKind.WalletDebt, Organization)];
    protected override string Parameters() => $"{Organization}|{Amount}|{ReferenceType}|{ReferenceId}";

    public override LedgerResult Apply(LedgerBatch batch)
    {
        if (Amount <= 0)
        {
            return LedgerResult.Rejected(LedgerStatus.InvalidAmount);
        }
        var paid = batch.Account(new(AccountKind.WalletPaid, Organization));
        var clawBack = Math.Min(Amount, paid.Available);
        var operation = batch.BeginOperation(this, Organization, null, "refund", Description, ReferenceType, ReferenceId);
        if (clawBack > 0)
        {
            batch.Post(operation, paid.Key, AccountKey.Platform(AccountKind.Payments), clawBack, "refund");
        }
        if (Amount - clawBack > 0)
        {
            batch.Post(operation, new(AccountKind.WalletDebt, Organization), AccountKey.Platform(AccountKind.Payments), Amount - clawBack, "refund");
        }
        return batch.Complete(operation, -clawBack);
    }
}

/// <summary>An operator's manual correction of an organization's paid credits, with a reason.</summary>
sealed record AdjustmentCommand(string IdempotencyKey, Guid Organization, long Amount, string Reason) : LedgerCommand(IdempotencyKey)
{
    public override OperationKind Kind => OperationKind.Adjustment;
    public override IEnumerable<AccountKey> Accounts() => [AccountKey.Platform(AccountKind.Adjustments), .. Wallets(Organization)];
    protected override string Parameters() => $"{Organization}|{Amount}|{Reason}";

    public override LedgerResult Apply(LedgerBatch batch)
    {
        if (Amount == 0)
        {
            return LedgerResult.Rejected(LedgerStatus.InvalidAmount);
        }
        var paid = batch.Account(new(AccountKind.WalletPaid, Organization));
        if (Amount < 0 && -Amount > paid.Available)
        {
            return LedgerResult.Rejected(LedgerStatus.InsufficientCredits) with { Required = -Amount, Available = paid.Available };
        }
        var operation = batch.BeginOperation(this, Organization, null, "adjustment", Reason);
        var adjustments = AccountKey.Platform(AccountKind.Adjustments);
        if (Amount > 0)
        {
            batch.Post(operation, adjustments, paid.Key, Amount, "adjustment");
        }
        else
        {
            batch.Post(operation, paid.Key, adjustments, -Amount, "adjustment");
        }
        return batch.Complete(operation, Amount);
    }
}

/// <summary>A visitor's trial run of a paid agent: the platform's promotions account pays the provider as a buyer would.</summary>
sealed record TrialCommand(string IdempotencyKey, Guid Provider, long Amount, RevenueSplit Split, string Description, string RunId) : LedgerCommand(IdempotencyKey)
{
    public override OperationKind Kind => OperationKind.Trial;
    public override IEnumerable<AccountKey> Accounts() =>
        [AccountKey.Platform(AccountKind.PlatformPromotions), AccountKey.Platform(AccountKind.PlatformFees), new(AccountKind.ProviderEarnings, Provider)];
    protected override string Parameters() => $"{Provider}|{Amount}|{Split.CommissionBasisPoints}|{RunId}";

    public override LedgerResult Apply(LedgerBatch batch)
    {
        if (Amount <= 0)
        {
            return LedgerResult.Rejected(LedgerStatus.InvalidAmount);
        }
        var fee = Split.Fee(Amount);
        var operation = batch.BeginOperation(this, null, Provider, "trial", Description, "run", RunId);
        if (Amount - fee > 0)
        {
            batch.Post(operation, AccountKey.Platform(AccountKind.PlatformPromotions), new(AccountKind.ProviderEarnings, Provider), Amount - fee, "trial");
        }
        if (fee > 0)
        {
            batch.Post(operation, AccountKey.Platform(AccountKind.PlatformPromotions), AccountKey.Platform(AccountKind.PlatformFees), fee, "fee");
        }
        return batch.Complete(operation, 0);
    }
}

/// <summary>Moves a provider's available earnings out to a payout.</summary>
/// <summary>
/// Stripe reversed (part of) a payout's transfer: the money is back with the platform, so the credits go back to the
/// provider's earnings, where the next payout run finds them.
/// </summary>
sealed record PayoutReversalCommand(string IdempotencyKey, Guid Provider, long Amount, string Description, string ReferenceId) : LedgerCommand(IdempotencyKey)
{
    public override OperationKind Kind => OperationKind.PayoutReversal;
    public override IEnumerable<AccountKey> Accounts() => [AccountKey.Platform(AccountKind.Payouts), new(AccountKind.ProviderEarnings, Provider)];
    protected override string Parameters() => $"{Provider}|{Amount}|{ReferenceId}";

    public override LedgerResult Apply(LedgerBatch batch)
    {
        if (Amount <= 0)
        {
            return LedgerResult.Rejected(LedgerStatus.InvalidAmount);
        }
        var operation = batch.BeginOperation(this, null, Provider, "payout_reversal", Description, "payout", ReferenceId);
        batch.Post(operation, AccountKey.Platform(AccountKind.Payouts), new(AccountKind.ProviderEarnings, Provider), Amount, "payout_reversal");
        return batch.Complete(operation, 0);
    }
}

sealed record PayoutCommand(string IdempotencyKey, Guid Provider, long Amount, string Description, string ReferenceId) : LedgerCommand(IdempotencyKey)
{
    public override OperationKind Kind => OperationKind.Payout;
    public override IEnumerable<AccountKey> Accounts() => [new(AccountKind.ProviderEarnings, Provider), AccountKey.Platform(AccountKind.Payouts)];
    protected override string Parameters() => $"{Provider}|{Amount}|{ReferenceId}";

    public override LedgerResult Apply(LedgerBatch batch)
    {
        var earnings = batch.Account(new(AccountKind.ProviderEarnings, Provider));
        var available = earnings.CreditsPosted - earnings.DebitsPosted - earnings.DebitsPending;
        if (Amount <= 0)
        {
            return LedgerResult.Rejected(LedgerStatus.InvalidAmount);
        }
        if (Amount > available)
        {
            return LedgerResult.Rejected(LedgerStatus.InsufficientCredits) with { Required = Amount, Available = available };
        }
        var operation = batch.BeginOperation(this, null, Provider, "payout", Description, "payout", ReferenceId);
        batch.Post(operation, earnings.Key, AccountKey.Platform(AccountKind.Payouts), Amount, "payout");
        return batch.Complete(operation, 0);
    }
}
