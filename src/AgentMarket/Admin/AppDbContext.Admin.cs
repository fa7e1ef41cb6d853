using AgentMarket.Admin.PlatformMetrics;
using AgentMarket.Admin.Settings;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<PlatformSetting> PlatformSettings => Set<PlatformSetting>();
    public DbSet<PlatformDay> PlatformDays => Set<PlatformDay>();
    public DbSet<PlatformListingDay> PlatformListingDays => Set<PlatformListingDay>();
    public DbSet<PlatformOrganizationDay> PlatformOrganizationDays => Set<PlatformOrganizationDay>();
}
