using System.Net;
using System.Net.Http.Json;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Gateway;

/// <summary>A provider's rollback is its emergency brake: every subscriber, on a patch it withdrew or new, runs the served version at once.</summary>
public class VersionRollbackTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task ARollback_ReachesSubscribersOnTheWithdrawnPatch_AndNewSubscribers()
    {
        var agent = await app.PublishedAgentAsync(); // 1.0.0: the prompt flow, which the model answers
        var subscribed = await app.SubscribedAsync(agent);
        var question = $"Which version answers {CatalogIntents.UniqueWord()}?";
        app.Model.When(question, FakeReply.Say("Version 1.0.0 answers."));
        var seller = agent.Seller.Client;

        // 1.0.1, an echo flow, applies to the subscriber without asking, as patches do.
        await agent.Seller.ImportExampleAsync(agent.AgentId, "simple_chat_no_llm.json", version: "1.0.1");
        Assert.Equal(question, await AnswerAsync(subscribed.KeyClient, subscribed.Config, question));

        await Http.AssertStatusAsync(await seller.PostAsJsonAsync($"/api/provider-agents/{agent.AgentId}/rollback/", new { version = "1.0.0" }), HttpStatusCode.OK);

        Assert.Equal("Version 1.0.0 answers.", await AnswerAsync(subscribed.KeyClient, subscribed.Config, question));
        var version = (await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/customer-agent-configs/{subscribed.Config}/"))).GetProperty("version");
        Assert.Equal(("1.0.0", "1.0.0", false), (version.GetProperty("effective").GetString(), version.GetProperty("latest").GetString(), version.GetProperty("upgrade_available").GetBoolean()));
        var newcomer = await app.SubscribedAsync(agent);
        Assert.Equal("Version 1.0.0 answers.", await AnswerAsync(newcomer.KeyClient, newcomer.Config, question));

        // A subscriber who upgraded to a newer minor the rollback withdrew runs the served version too.
        await agent.Seller.ImportExampleAsync(agent.AgentId, "simple_chat_no_llm.json", version: "1.1.0");
        await Http.AssertStatusAsync(await subscribed.Buyer.Client.PostAsync($"/api/customer-agent-configs/{subscribed.Config}/upgrade/", null), HttpStatusCode.OK);
        Assert.Equal(question, await AnswerAsync(subscribed.KeyClient, subscribed.Config, question));
        await Http.AssertStatusAsync(await seller.PostAsJsonAsync($"/api/provider-agents/{agent.AgentId}/rollback/", new { version = "1.0.0" }), HttpStatusCode.OK);
        Assert.Equal("Version 1.0.0 answers.", await AnswerAsync(subscribed.KeyClient, subscribed.Config, question));
    }

    static async Task<string?> AnswerAsync(HttpClient client, Guid config, string input) =>
        (await Http.ReadJsonAsync(await client.RunAsync(config, input))).GetProperty("output").GetString();
}
