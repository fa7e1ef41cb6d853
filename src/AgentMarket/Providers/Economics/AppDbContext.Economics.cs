using AgentMarket.Providers.Economics;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<EconomicsDay> EconomicsDays => Set<EconomicsDay>();
    public DbSet<EconomicsListingDay> EconomicsListingDays => Set<EconomicsListingDay>();
    public DbSet<EconomicsCustomerMonth> EconomicsCustomerMonths => Set<EconomicsCustomerMonth>();
    public DbSet<EconomicsLatency> EconomicsLatencies => Set<EconomicsLatency>();
}
