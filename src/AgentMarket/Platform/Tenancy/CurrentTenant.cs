using AgentMarket.Identity;

namespace AgentMarket.Platform.Tenancy;

/// <summary>
/// The organization a request acts for, once <see cref="OrganizationScope"/> has checked the caller's membership.
/// Scoped per request; the data layer's tenant filter reads it. Background work that must see every tenant
/// (jobs, start-up seeding) opts in with <see cref="EnterSystemScope"/>.
/// </summary>
public sealed class CurrentTenant
{
    /// <summary>The signed-in user (or the user behind a token), set for every authenticated request.</summary>
    public Guid? UserId { get; private set; }
    public string? UserEmail { get; private set; }

    public Guid? OrganizationId { get; private set; }
    public MembershipRole? Role { get; private set; }
    public bool IsSystem { get; private set; }

    internal Guid OrganizationIdOrEmpty => OrganizationId ?? Guid.Empty;
    internal Guid UserIdOrEmpty => UserId ?? Guid.Empty;
    internal string UserEmailOrEmpty => UserEmail ?? "";

    /// <summary>The organization, for code that runs only after <see cref="OrganizationScope"/> resolved it.</summary>
    public Guid RequiredOrganizationId =>
        OrganizationId ?? throw new InvalidOperationException("No organization was resolved for this request; is the endpoint organization-scoped?");

    internal void SetUser(Guid userId, string email)
    {
        UserId = userId;
        UserEmail = email;
    }

    internal void Set(Guid organizationId, MembershipRole role)
    {
        OrganizationId = organizationId;
        Role = role;
    }

    /// <summary>Lets this scope read and write rows of every organization. Only for jobs and start-up work, never for requests.</summary>
    public void EnterSystemScope() => IsSystem = true;

    public bool HasRole(MembershipRole atLeast) => Role is { } role && role <= atLeast;
}
