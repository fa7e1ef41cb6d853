using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

/// <summary>
/// The one EF Core context. Each area declares its own <c>DbSet</c>s in a partial of this class next to its
/// entities, and its <c>IEntityTypeConfiguration</c>s are found by <see cref="ModelBuilder.ApplyConfigurationsFromAssembly"/>.
/// </summary>
public sealed partial class AppDbContext(DbContextOptions<AppDbContext> options, CurrentTenant tenant) : DbContext(options)
{
    /// <summary>Name of the query filter that confines tenant-owned rows to the caller's organization.</summary>
    public const string TenantFilter = "Tenant";

    // Read by the tenant query filter at query time (EF parameterizes context members), so one model serves every tenant.
    internal Guid CurrentOrganizationId => tenant.OrganizationIdOrEmpty;
    internal Guid CurrentUserId => tenant.UserIdOrEmpty;
    internal string CurrentUserEmail => tenant.UserEmailOrEmpty;
    internal bool BypassTenantFilter => tenant.IsSystem;

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(AppDbContext).Assembly);
        ApplyTenantFilters(modelBuilder);
        ApplyIdentityFilters(modelBuilder);
        ModelConventions.Apply(modelBuilder);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<NullableUtcDateTimeConverter>();
    }

    void ApplyTenantFilters(ModelBuilder modelBuilder)
    {
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            if (!typeof(ITenantOwned).IsAssignableFrom(entity.ClrType) || entity.BaseType is not null)
            {
                continue;
            }
            var method = typeof(AppDbContext).GetMethod(nameof(FilterTenant), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
                .MakeGenericMethod(entity.ClrType);
            method.Invoke(this, [modelBuilder]);
        }
    }

    void FilterTenant<T>(ModelBuilder modelBuilder) where T : class, ITenantOwned =>
        modelBuilder.Entity<T>().HasQueryFilter(TenantFilter, e => BypassTenantFilter || e.OrganizationId == CurrentOrganizationId);
}
