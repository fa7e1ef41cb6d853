using AgentMarket.Providers.Economics;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<EconomicsDay> EconomicsDays => Set<EconomicsDay>();
    public DbSet<EconomicsLatency> EconomicsLatencies => Set<EconomicsLatency>();
}
