using System.Globalization;
using System.Net;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Economics;

/// <summary>
/// The economics app on a server whose culture is each request's Accept-Language, as on a host whose machine culture
/// is German: the page must still write numbers the way the rest of the site does.
/// </summary>
public sealed class RequestCultureApp : EconomicsApp
{
    // An input price off the round numbers, so that a run's model cost has decimals a culture writes its own way.
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [.. base.ExtraSettings(), new("Economics:ModelPrices:operator-default-model:Input", "257777")];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddTransient<IStartupFilter, RequestCultureFilter>());
    }

    sealed class RequestCultureFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, following) =>
            {
                if (context.Request.Headers.AcceptLanguage.ToString() is { Length: > 0 } language)
                {
                    CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo(language);
                }
                return following(context);
            });
            next(app);
        };
    }
}

public class EarningsPageCultureTests(RequestCultureApp app) : IClassFixture<RequestCultureApp>
{
    /// <summary>How the rest of the site writes a fractional number of credits.</summary>
    static string Site(decimal credits) => credits.ToString("#,0.####", CultureInfo.InvariantCulture);

    [Fact]
    public async Task EarningsPage_InAGermanCulture_WritesTheModelCostAsTheRestOfTheSite()
    {
        var agent = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 1 });
        var subscribed = await app.SubscribedAsync(agent);
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "costly"), HttpStatusCode.OK);
        var seller = subscribed.Agent.Seller.Client;
        var report = await Http.ReadJsonAsync(await seller.GetAsync("/api/providers/mine/economics/"));
        var cost = report.GetProperty("totals").GetProperty("cost_per_run_credits").GetDecimal();
        var german = CultureInfo.GetCultureInfo("de-DE");
        Assert.NotEqual(cost.ToString("#,0.####", german), cost.ToString("#,0.####", CultureInfo.InvariantCulture)); // else this test proves nothing

        using var request = new HttpRequestMessage(HttpMethod.Get, "/provider/earnings");
        request.Headers.AcceptLanguage.ParseAdd("de-DE");
        var html = await (await seller.SendAsync(request)).HtmlAsync();

        var expected = Site(cost);
        Assert.Contains($"<div class=\"value\">{expected}</div><div class=\"label\">Model cost per run", html, StringComparison.Ordinal);
        var row = (await Http.ReadJsonAsync(await seller.GetAsync("/api/providers/mine/economics/?group_by=agent"))).GetProperty("rows")[0];
        var perRun = row.GetProperty("model_cost_credits").GetDecimal() / row.GetProperty("runs").GetInt64();
        Assert.Contains($"<td class=\"num\">{Site(perRun)}</td>", html, StringComparison.Ordinal); // the per-agent table
        Assert.Contains($"its model costs {expected} credits on average", html, StringComparison.Ordinal); // the pricing hint
        Assert.DoesNotContain($">{cost.ToString("0.####", german)}<", html, StringComparison.Ordinal);
    }
}
