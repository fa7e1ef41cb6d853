using AgentMarket.Credits.Ledger;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<LedgerAccount> LedgerAccounts => Set<LedgerAccount>();
    public DbSet<LedgerTransfer> LedgerTransfers => Set<LedgerTransfer>();
    public DbSet<LedgerOperation> LedgerOperations => Set<LedgerOperation>();
    public DbSet<AgentMarket.Credits.Plans.Plan> Plans => Set<AgentMarket.Credits.Plans.Plan>();
    public DbSet<AgentMarket.Credits.Plans.OrganizationPlan> OrganizationPlans => Set<AgentMarket.Credits.Plans.OrganizationPlan>();
    public DbSet<AgentMarket.Credits.Plans.CreditPackage> CreditPackages => Set<AgentMarket.Credits.Plans.CreditPackage>();
}
