using AgentMarket.Identity.Sso;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<IdentityProvider> IdentityProviders => Set<IdentityProvider>();
    public DbSet<IdentityProviderDomain> IdentityProviderDomains => Set<IdentityProviderDomain>();
    public DbSet<ExternalLogin> ExternalLogins => Set<ExternalLogin>();
}
