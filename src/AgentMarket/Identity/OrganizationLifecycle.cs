using AgentMarket.Platform.Data;

namespace AgentMarket.Identity;

/// <summary>
/// Lets other areas act when an organization is created (the credits area opens its wallet and grants starter credits).
/// Called inside the creating transaction, before it commits, so the organization never exists without them.
/// </summary>
public interface IOrganizationCreated
{
    Task OnCreatedAsync(AppDbContext db, Organization organization, CancellationToken cancellationToken);

    /// <summary>After the creating transaction committed (work that has its own transaction, such as ledger grants).</summary>
    Task OnCommittedAsync(Organization organization, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Creates organizations with their default project and owner, the one way every path (sign-up, API, SSO) does it.</summary>
public sealed class OrganizationFactory(IEnumerable<IOrganizationCreated> handlers, TimeProvider clock)
{
    /// <summary>Adds the organization, its "Default" project and the owner membership to the context; the caller saves.</summary>
    public async Task<(Organization Organization, Project Project)> CreateAsync(AppDbContext db, string name, Guid ownerUserId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var organization = new Organization { Name = name, CreatedUtc = now };
        var project = new Project { OrganizationId = organization.Id, Name = Project.DefaultName, IsDefault = true, CreatedUtc = now };
        db.Organizations.Add(organization);
        db.Projects.Add(project);
        db.Memberships.Add(new Membership { OrganizationId = organization.Id, UserId = ownerUserId, Role = MembershipRole.Owner, CreatedUtc = now });
        foreach (var handler in handlers)
        {
            await handler.OnCreatedAsync(db, organization, cancellationToken);
        }
        return (organization, project);
    }

    /// <summary>Callers of <see cref="CreateAsync"/> call this once their save committed.</summary>
    public async Task CommittedAsync(Organization organization, CancellationToken cancellationToken)
    {
        foreach (var handler in handlers)
        {
            await handler.OnCommittedAsync(organization, cancellationToken);
        }
    }
}
