using AgentMarket.Identity;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Components;

namespace AgentMarket.Subscriptions.Pages;

/// <summary>
/// The base of one subscription's pages (Configure, API Keys, Chat): resolves the organization as the API's organization
/// scope does, then loads the subscription through the tenant filter, so another organization's id, or an agent removed
/// from My Agents, is simply not found (404).
/// </summary>
public abstract class BuyerAgentPage : ComponentBase
{
    [CascadingParameter] public HttpContext HttpContext { get; set; } = default!;
    [Parameter] public Guid Uuid { get; set; }
    [Inject] private protected SubscriptionViews Views { get; set; } = default!;
    [Inject] protected NavigationManager Navigation { get; set; } = default!;

    /// <summary>Owners and managers change a subscription and its keys; members chat and look.</summary>
    protected bool CanManage { get; private set; }

    /// <summary>The organization the page acts for; links to the API name it, as the UI's own organization choice may differ from a default.</summary>
    protected Guid OrganizationId { get; private set; }

    protected CancellationToken Aborted => HttpContext.RequestAborted;

    /// <summary>The active subscription, or null (with a 404 status) when this organization has none with this id.</summary>
    protected async Task<ConfigResponse?> LoadSubscriptionAsync()
    {
        if (await OrganizationScope.ResolveAsync(HttpContext, null, Aborted) is not { } organization)
        {
            Navigation.NotFound();
            return null;
        }
        OrganizationId = organization;
        CanManage = HttpContext.RequestServices.GetRequiredService<CurrentTenant>().HasRole(MembershipRole.Manager);
        var config = await Views.GetAsync(Uuid, Aborted);
        if (config is not { State: SubscriptionState.Active })
        {
            Navigation.NotFound();
            return null;
        }
        return config;
    }

}
