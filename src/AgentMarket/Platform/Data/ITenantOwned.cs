namespace AgentMarket.Platform.Data;

/// <summary>
/// A row that belongs to one organization. The context filters every query on such rows to the current
/// organization, so a forgotten <c>Where</c> cannot leak another tenant's data.
/// </summary>
public interface ITenantOwned
{
    Guid OrganizationId { get; }
}
