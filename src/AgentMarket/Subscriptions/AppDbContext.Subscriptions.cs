using AgentMarket.Subscriptions;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<CustomerAgentConfig> CustomerAgentConfigs => Set<CustomerAgentConfig>();
    public DbSet<Order> Orders => Set<Order>();
}
