using AgentMarket.Subscriptions;
using AgentMarket.Subscriptions.Pages;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Buyer;

/// <summary>The app as it will be once an area contributes the Configure page's Training tab.</summary>
public sealed class AppWithTrainingTab : AgentMarketApp
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton(new TrainingTab(typeof(KnowledgeBaseStandIn))));
    }

    /// <summary>Renders what the Configure page hands a Training tab.</summary>
    public sealed class KnowledgeBaseStandIn : ComponentBase
    {
        [Parameter] public ConfigResponse Config { get; set; } = default!;
        [Parameter] public bool CanManage { get; set; }

        protected override void BuildRenderTree(RenderTreeBuilder builder)
        {
            builder.OpenElement(0, "p");
            builder.AddAttribute(1, "data-training");
            builder.AddContent(2, $"Training {Config.Name}, manage: {CanManage}");
            builder.CloseElement();
        }
    }
}

public class TrainingTabTests(AppWithTrainingTab app) : IClassFixture<AppWithTrainingTab>
{
    [Fact]
    public async Task AContributedTrainingTab_IsOffered_AndRendersWithTheSubscription()
    {
        var agent = await app.PublishedAgentAsync();
        var buyer = await app.SignUpAsync();
        var config = await buyer.SubscribeAsync(agent);

        var overview = await buyer.Client.HtmlAsync($"/my-agents/{config}/configure");
        Assert.Contains($"href=\"/my-agents/{config}/configure/training\">Training</a>", overview, StringComparison.Ordinal);
        var training = await buyer.Client.HtmlAsync($"/my-agents/{config}/configure/training");
        Assert.Equal($"Training {agent.Name}, manage: True", PageForms.Marked(training, "data-training"));
    }
}
