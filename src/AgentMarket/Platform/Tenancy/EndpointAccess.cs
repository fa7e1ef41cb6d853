namespace AgentMarket.Platform.Tenancy;

/// <summary>Who may call an endpoint. Every <c>/api</c> endpoint declares one; a test fails for any that does not.</summary>
public enum AccessKind
{
    /// <summary>Anyone, signed in or not (catalog browsing, sign-up, health).</summary>
    Anonymous,

    /// <summary>Any signed-in user, acting for themselves rather than an organization (profile, tokens).</summary>
    User,

    /// <summary>A member of the organization named by <c>X-Organization</c> (or the route), with a minimum role.</summary>
    Organization,

    /// <summary>Platform operators only; everyone else gets 404.</summary>
    Operator,
}

/// <param name="AcceptsAgentKeys">Organization endpoints only: an agent key (bound to one subscription) may call it too.</param>
public sealed record EndpointAccessMetadata(AccessKind Kind, Identity.MembershipRole MinimumRole = Identity.MembershipRole.Member,
    string? OrganizationRouteParameter = null, bool AcceptsAgentKeys = false);
