using AgentMarket.Identity;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers.Agents;
using Microsoft.AspNetCore.Components;

namespace AgentMarket.Providers.Pages;

/// <summary>
/// The base of the seller's per-agent pages: resolves the organization (as the API's organization scope does), then
/// loads the agent through the tenant filter, so another organization's agent id is simply not found.
/// </summary>
public abstract class SellerPage : ComponentBase
{
    [CascadingParameter] public HttpContext HttpContext { get; set; } = default!;
    [Parameter] public Guid Id { get; set; }
    [Inject] protected ProviderAgents Agents { get; set; } = default!;
    [Inject] protected NavigationManager Navigation { get; set; } = default!;

    protected ProviderAgentResponse? Agent { get; private set; }

    /// <summary>Owners and managers change agents; members only look.</summary>
    protected bool CanEdit { get; private set; }

    protected CancellationToken Aborted => HttpContext.RequestAborted;

    /// <summary>Loads the agent; sets a 404 status when this organization has no such agent.</summary>
    protected async Task<bool> LoadAgentAsync()
    {
        if (await OrganizationScope.ResolveAsync(HttpContext, null, Aborted) is null)
        {
            HttpContext.Response.StatusCode = StatusCodes.Status404NotFound;
            return false;
        }
        CanEdit = HttpContext.RequestServices.GetRequiredService<CurrentTenant>().HasRole(MembershipRole.Manager);
        Agent = await Agents.ResponseAsync(Id, Aborted);
        if (Agent is null)
        {
            HttpContext.Response.StatusCode = StatusCodes.Status404NotFound;
            return false;
        }
        return true;
    }

    protected bool Editable => CanEdit && Agent?.State == ProviderAgentState.Active;
}
