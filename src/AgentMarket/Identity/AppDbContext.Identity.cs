using AgentMarket.Identity;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<User> Users => Set<User>();
    public DbSet<Organization> Organizations => Set<Organization>();
    public DbSet<Project> Projects => Set<Project>();
    public DbSet<Membership> Memberships => Set<Membership>();
    public DbSet<Invitation> Invitations => Set<Invitation>();
    public DbSet<PersonalAccessToken> PersonalAccessTokens => Set<PersonalAccessToken>();
    public DbSet<PasswordResetToken> PasswordResetTokens => Set<PasswordResetToken>();
    public DbSet<UserSession> UserSessions => Set<UserSession>();
    public DbSet<EmailChangeToken> EmailChangeTokens => Set<EmailChangeToken>();
    public DbSet<EmailRevertToken> EmailRevertTokens => Set<EmailRevertToken>();

    // Memberships and invitations join users to tenants, so their rule is wider than ITenantOwned's: a user sees every
    // membership of the current organization plus their own (to list and switch organizations), and invitations
    // addressed to their email (to accept them).
    void ApplyIdentityFilters(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Membership>().HasQueryFilter(TenantFilter,
            m => BypassTenantFilter || m.OrganizationId == CurrentOrganizationId || m.UserId == CurrentUserId);
        modelBuilder.Entity<Invitation>().HasQueryFilter(TenantFilter,
            i => BypassTenantFilter || i.OrganizationId == CurrentOrganizationId || i.Email == CurrentUserEmail);
    }
}
