using AgentMarket.Platform.Security;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
}
