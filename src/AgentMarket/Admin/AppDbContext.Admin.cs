using AgentMarket.Admin.Settings;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<PlatformSetting> PlatformSettings => Set<PlatformSetting>();
}
