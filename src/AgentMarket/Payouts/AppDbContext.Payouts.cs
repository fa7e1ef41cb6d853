using AgentMarket.Payouts;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<PayoutSettings> PayoutSettings => Set<PayoutSettings>();
    public DbSet<Payout> Payouts => Set<Payout>();
    public DbSet<PayoutLine> PayoutLines => Set<PayoutLine>();
}
