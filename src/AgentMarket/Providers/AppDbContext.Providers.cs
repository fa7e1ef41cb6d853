using AgentMarket.Providers;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<Provider> Providers => Set<Provider>();
}
