using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Credits.Pages;

/// <summary>
/// Where the pages send a buyer who wants more credits: to the packages when the organization's plan can buy them, else
/// to the plans, since the Free plan cannot top up (a "Buy credits" link there led to a page with nothing to buy).
/// </summary>
/// <param name="Label">For a link in a sentence ("Buy credits").</param>
/// <param name="ShortLabel">For the header's balance ("Buy more").</param>
public sealed record BuyCredits(string Href, string Label, string ShortLabel)
{
    public static readonly BuyCredits Packages = new("/credits#buy", "Buy credits", "Buy more");
    public static readonly BuyCredits Upgrade = new("/pricing", "Upgrade your plan for more credits", "Upgrade");

    /// <summary>
    /// The way to more credits for the organization in scope, read once per request: the header and the page (My Agents,
    /// the chat, the agent page) both show it.
    /// </summary>
    public static async Task<BuyCredits> ForAsync(HttpContext http, Guid organization)
    {
        var key = (typeof(BuyCredits), organization);
        if (http.Items[key] is BuyCredits known)
        {
            return known;
        }
        var db = http.RequestServices.GetRequiredService<AppDbContext>();
        var more = await db.OrganizationPlans.AsNoTracking()
            .Where(p => p.OrganizationId == organization)
            .Join(db.Plans, current => current.PlanCode, plan => plan.Code, (_, plan) => plan.CanTopUp)
            .FirstOrDefaultAsync(http.RequestAborted) ? Packages : Upgrade;
        http.Items[key] = more;
        return more;
    }
}
