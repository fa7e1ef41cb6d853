using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Identity.Sso;

/// <summary>
/// An OpenID Connect identity provider an operator configured (Keycloak realm, Entra ID, Okta, Google Workspace…).
/// Platform-wide, not tenant-owned: anyone may see the "Sign in with {Name}" button; only operators read the rest.
/// </summary>
public sealed class IdentityProvider
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required string Name { get; set; }

    /// <summary>The issuer identifier exactly as the provider's discovery document and id_tokens state it.</summary>
    public required string Issuer { get; set; }
    public required string ClientId { get; set; }

    /// <summary>The client secret, encrypted by <see cref="ClientSecrets"/>; never returned.</summary>
    public required string ClientSecretProtected { get; set; }

    /// <summary>Space-separated, as OAuth sends them; always contains <c>openid</c>.</summary>
    public required string Scopes { get; set; }

    /// <summary>Space-separated lower-case email domains allowed to sign in; empty allows any verified email.</summary>
    public string AllowedEmailDomains { get; set; } = "";

    /// <summary>The role a first-time user gets in the organization mapped to their email domain.</summary>
    public MembershipRole DefaultRole { get; set; } = MembershipRole.Member;
    public bool Enabled { get; set; } = true;
    public DateTime CreatedUtc { get; init; }
    public DateTime UpdatedUtc { get; set; }

    public IEnumerable<string> AllowedDomains() => AllowedEmailDomains.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>First sign-ins through <see cref="ProviderId"/> with an email at <see cref="Domain"/> join <see cref="OrganizationId"/>.</summary>
public sealed class IdentityProviderDomain
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid ProviderId { get; init; }
    public required string Domain { get; init; }
    public Guid OrganizationId { get; init; }
}

/// <summary>A user's account at an identity provider (<c>iss</c> + <c>sub</c>), linked to our user on first sign-in.</summary>
public sealed class ExternalLogin
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid ProviderId { get; init; }

    /// <summary>The provider's stable <c>sub</c> claim: emails can change or be reassigned, subjects do not.</summary>
    public required string Subject { get; init; }
    public Guid UserId { get; init; }
    public DateTime CreatedUtc { get; init; }
    public DateTime? LastSignInUtc { get; set; }
}

sealed class IdentityProviderConfiguration : IEntityTypeConfiguration<IdentityProvider>
{
    public void Configure(EntityTypeBuilder<IdentityProvider> e)
    {
        e.ToTable("identity_providers");
        e.Property(x => x.Name).HasMaxLength(100);
        e.Property(x => x.Issuer).HasMaxLength(500);
        e.Property(x => x.ClientId).HasMaxLength(200);
        e.Property(x => x.ClientSecretProtected).HasMaxLength(2000);
        e.Property(x => x.Scopes).HasMaxLength(500);
        e.Property(x => x.AllowedEmailDomains).HasMaxLength(2000);
    }
}

sealed class IdentityProviderDomainConfiguration : IEntityTypeConfiguration<IdentityProviderDomain>
{
    public void Configure(EntityTypeBuilder<IdentityProviderDomain> e)
    {
        e.ToTable("identity_provider_domains");
        e.Property(x => x.Domain).HasMaxLength(253);
        e.HasOne<IdentityProvider>().WithMany().HasForeignKey(x => x.ProviderId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<Organization>().WithMany().HasForeignKey(x => x.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.ProviderId, x.Domain }).IsUnique();
        e.HasIndex(x => x.OrganizationId);
    }
}

sealed class ExternalLoginConfiguration : IEntityTypeConfiguration<ExternalLogin>
{
    public void Configure(EntityTypeBuilder<ExternalLogin> e)
    {
        e.ToTable("external_logins");
        e.Property(x => x.Subject).HasMaxLength(255);
        e.HasOne<IdentityProvider>().WithMany().HasForeignKey(x => x.ProviderId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.ProviderId, x.Subject }).IsUnique();
        e.HasIndex(x => x.UserId);
    }
}
