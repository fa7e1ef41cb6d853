using AgentMarket.Gateway;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<AgentRun> AgentRuns => Set<AgentRun>();
    public DbSet<TrialUsage> TrialUsages => Set<TrialUsage>();
    public DbSet<TrialPromotion> TrialPromotions => Set<TrialPromotion>();
    public DbSet<UnprojectedRun> UnprojectedRuns => Set<UnprojectedRun>();
}
