using AgentMarket.Providers;
using AgentMarket.Providers.Agents;
using AgentMarket.Providers.Configuration;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<Provider> Providers => Set<Provider>();
    public DbSet<ProviderProfileChange> ProviderProfileChanges => Set<ProviderProfileChange>();
    public DbSet<ProviderAgent> ProviderAgents => Set<ProviderAgent>();
    public DbSet<AgentVersion> AgentVersions => Set<AgentVersion>();
    public DbSet<ConfigurableField> ConfigurableFields => Set<ConfigurableField>();
}
