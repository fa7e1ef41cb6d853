using AgentMarket.Keys;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
}
