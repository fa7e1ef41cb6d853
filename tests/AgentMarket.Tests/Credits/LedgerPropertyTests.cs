using AgentMarket.Credits.Ledger;
using AgentMarket.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;

namespace AgentMarket.Tests.Credits;

/// <summary>
/// Model-based property test: random sequences of grants, purchases, reserves, settles, voids, refunds and replays over
/// several wallets run against the real ledger and a few-dozen-line model of its rules. Every result and every balance
/// must agree, and the ledger check (Σ = 0, balances = entries, no negative available) must hold. FsCheck shrinks a
/// failure to the shortest sequence that shows it.
/// </summary>
public class LedgerPropertyTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    const int Wallets = 3;

    public sealed record Step(int Kind, int Wallet, int Amount, int Index)
    {
        public override string ToString() => $"{(Kind)Kind}(wallet {Wallet}, {Amount}, #{Index})";
    }

    enum Kind
    {
        Grant,
        Purchase,
        Reserve,
        Settle,
        Void,
        Refund,
        Replay,
    }

    // FsCheck's runner is synchronous, so each generated case blocks on the asynchronous ledger; Task.Run keeps the
    // blocking off any synchronization context, so it cannot deadlock.
#pragma warning disable xUnit1031
    [Fact]
    public void RandomOperationSequences_AgreeWithTheModel_AndKeepEveryInvariant()
    {
        var step = from kind in Gen.Choose(0, 6)
                   from wallet in Gen.Choose(0, Wallets - 1)
                   from amount in Gen.Choose(1, 120)
                   from index in Gen.Choose(0, 40)
                   select new Step(kind, wallet, amount, index);
        var cases = 0;
        Prop.ForAll(Arb.From(Gen.ListOf(step).Select(s => s.ToArray())), steps =>
        {
            var ok = Task.Run(() => RunAsync(steps)).GetAwaiter().GetResult();
            if (++cases % 250 == 0)
            {
                var check = Task.Run(() => new LedgerDriver(app).CheckAsync()).GetAwaiter().GetResult();
                Assert.True(check.Ok, string.Join("; ", check.Mismatches));
            }
            return ok;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(1_000).WithEndSize(25));

        Assert.True(cases >= 1_000);
        var final = Task.Run(() => new LedgerDriver(app).CheckAsync()).GetAwaiter().GetResult();
        Assert.True(final.Ok, string.Join("; ", final.Mismatches));
    }
#pragma warning restore xUnit1031

    async Task<bool> RunAsync(Step[] steps)
    {
        var ledger = new LedgerDriver(app);
        var model = new Model();
        var orgs = Enumerable.Range(0, Wallets).Select(_ => Guid.CreateVersion7()).ToArray();
        var provider = Guid.CreateVersion7();
        var done = new List<(Func<Task<LedgerResult>> Again, Guid Operation)>();
        var prefix = Guid.NewGuid().ToString("N");

        for (var i = 0; i < steps.Length; i++)
        {
            var s = steps[i];
            var org = orgs[s.Wallet];
            var key = $"{prefix}:{i}";
            Func<Task<LedgerResult>>? call = null;
            LedgerStatus expected;
            switch ((Kind)s.Kind)
            {
                case Kind.Grant:
                    expected = model.Grant(s.Wallet, s.Amount);
                    call = () => ledger.GrantAsync(org, s.Amount, key);
                    break;
                case Kind.Purchase:
                    expected = model.Purchase(s.Wallet, s.Amount);
                    call = () => ledger.PurchaseAsync(org, s.Amount, key);
                    break;
                case Kind.Reserve:
                    expected = model.Reserve(s.Wallet, s.Amount, i);
                    call = () => ledger.ReserveAsync(org, s.Amount, key);
                    break;
                case Kind.Settle or Kind.Void when model.Reservations.Count > 0:
                    var reservation = model.Reservations[s.Index % model.Reservations.Count];
                    var actual = s.Amount % (reservation.Amount + 1);
                    var settle = (Kind)s.Kind == Kind.Settle;
                    expected = settle ? model.Settle(reservation, actual) : Model.Void(reservation);
                    var reservationOrg = orgs[reservation.Wallet];
                    call = settle
                        ? () => ledger.SettleAsync(reservationOrg, reservation.Id, actual, provider, key)
                        : () => ledger.VoidAsync(reservationOrg, reservation.Id, key);
                    break;
                case Kind.Refund:
                    expected = model.Refund(s.Wallet, s.Amount);
                    call = () => ledger.RefundAsync(org, s.Amount, key);
                    break;
                case Kind.Replay when done.Count > 0:
                    var (again, operation) = done[s.Index % done.Count];
                    var replay = await again();
                    if (!replay.Replayed || replay.OperationId != operation)
                    {
                        return Fail($"step {i} {s}: replay returned {replay}");
                    }
                    continue;
                default:
                    continue;
            }
            var result = await call!();
            if (result.Status != expected)
            {
                return Fail($"step {i} {s}: ledger said {result.Status}, model said {expected}");
            }
            if (result.Succeeded)
            {
                done.Add((call, result.OperationId));
                if ((Kind)s.Kind == Kind.Reserve)
                {
                    model.Reservations[^1].Id = result.OperationId;
                }
            }
        }

        for (var w = 0; w < Wallets; w++)
        {
            var real = await ledger.BalanceAsync(orgs[w]);
            var expected = model.Balance(w);
            if (real != expected)
            {
                return Fail($"wallet {w}: ledger {real}, model {expected}");
            }
        }
        var earnings = await ledger.EarningsAsync(provider);
        return earnings == model.Earnings || Fail($"provider earnings: ledger {earnings}, model {model.Earnings}");
    }

    static bool Fail(string why)
    {
        TestContext.Current.TestOutputHelper?.WriteLine(why);
        return false;
    }

    /// <summary>The ledger's rules in a few lines: what each wallet holds, and what each reservation holds back.</summary>
    sealed class Model
    {
        sealed record Wallet
        {
            public long Granted { get; set; }
            public long Paid { get; set; }
            public long Debt { get; set; }
        }

        public sealed class Reservation(int wallet, long fromGranted, long fromPaid)
        {
            public int Wallet { get; } = wallet;
            public long FromGranted { get; } = fromGranted;
            public long FromPaid { get; } = fromPaid;
            public long Amount => FromGranted + FromPaid;
            public bool Resolved { get; set; }
            public Guid Id { get; set; }
        }

        readonly Wallet[] _wallets = Enumerable.Range(0, Wallets).Select(_ => new Wallet()).ToArray();
        public List<Reservation> Reservations { get; } = [];
        public long Earnings { get; private set; }

        long HeldGranted(int w) => Reservations.Where(r => r.Wallet == w && !r.Resolved).Sum(r => r.FromGranted);
        long HeldPaid(int w) => Reservations.Where(r => r.Wallet == w && !r.Resolved).Sum(r => r.FromPaid);

        public LedgerStatus Grant(int w, long amount)
        {
            _wallets[w].Granted += amount;
            return LedgerStatus.Ok;
        }

        public LedgerStatus Purchase(int w, long amount)
        {
            var repay = Math.Min(amount, _wallets[w].Debt);
            _wallets[w].Debt -= repay;
            _wallets[w].Paid += amount - repay;
            return LedgerStatus.Ok;
        }

        public LedgerStatus Reserve(int w, long amount, int step)
        {
            var granted = _wallets[w].Granted - HeldGranted(w);
            var paid = _wallets[w].Paid - HeldPaid(w);
            if (amount > granted + paid)
            {
                return LedgerStatus.InsufficientCredits;
            }
            var fromGranted = Math.Min(amount, granted);
            Reservations.Add(new Reservation(w, fromGranted, amount - fromGranted));
            return LedgerStatus.Ok;
        }

        public LedgerStatus Settle(Reservation r, long actual)
        {
            if (r.Resolved)
            {
                return LedgerStatus.ReservationResolved;
            }
            r.Resolved = true;
            var granted = Math.Min(actual, r.FromGranted);
            var paid = actual - granted;
            _wallets[r.Wallet].Granted -= granted;
            _wallets[r.Wallet].Paid -= paid;
            Earnings += paid - LedgerDriver.DefaultSplit.Fee(paid) + LedgerDriver.DefaultSplit.GrantedPayout(granted);
            return LedgerStatus.Ok;
        }

        public static LedgerStatus Void(Reservation r)
        {
            if (r.Resolved)
            {
                return LedgerStatus.ReservationResolved;
            }
            r.Resolved = true;
            return LedgerStatus.Ok;
        }

        public LedgerStatus Refund(int w, long amount)
        {
            var clawBack = Math.Min(amount, _wallets[w].Paid - HeldPaid(w));
            _wallets[w].Paid -= clawBack;
            _wallets[w].Debt += amount - clawBack;
            return LedgerStatus.Ok;
        }

        public WalletBalance Balance(int w)
        {
            var wallet = _wallets[w];
            var reserved = HeldGranted(w) + HeldPaid(w);
            return new WalletBalance(wallet.Granted + wallet.Paid, wallet.Granted + wallet.Paid - reserved, reserved, wallet.Granted, wallet.Paid, wallet.Debt);
        }
    }
}
