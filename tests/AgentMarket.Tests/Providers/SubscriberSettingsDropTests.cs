using System.Net;
using System.Net.Http.Json;
using AgentMarket.Audit;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Providers;

/// <summary>Replacing configurable fields that subscribers set asks the seller to confirm dropping their values (ADR-158).</summary>
public class SubscriberSettingsDropTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    static readonly string[] OtherName = ["Max"];

    static object Persona(string kind = "long_text") =>
        new { key = "persona", node_id = "Prompt-xvuxC", field_name = "template", label = "Persona", kind };

    static object BotName(string kind = "text", string label = "Bot name", string[]? options = null) =>
        new { key = "bot_name", node_id = "ChatOutput-hJNhd", field_name = "sender_name", label, kind, options };

    async Task<PublishedAgent> AgentWithSubscribersAsync()
    {
        var agent = await app.PublishedAgentAsync();
        await Http.AssertStatusAsync(await agent.Seller.Client.PutAsJsonAsync($"/api/provider-agents/{agent.AgentId}/configurable_fields/",
            new { fields = new[] { Persona(), BotName() } }), HttpStatusCode.OK);
        var setter = await app.SignUpAsync();
        var config = await setter.SubscribeAsync(agent);
        await Http.AssertStatusAsync(await setter.Client.PatchAsJsonAsync($"/api/customer-agent-configs/{config}/",
            new { settings = new Dictionary<string, object> { ["bot_name"] = "Rex" } }), HttpStatusCode.OK);
        // A subscriber who saved nothing loses nothing.
        await (await app.SignUpAsync()).SubscribeAsync(agent);
        return agent;
    }

    [Fact]
    public async Task RemovingOrRetypingAFieldASubscriberSet_IsRefusedWithTheCount_UntilConfirmed_ThenAudited()
    {
        var agent = await AgentWithSubscribersAsync();
        var url = $"/api/provider-agents/{agent.AgentId}/configurable_fields/";

        foreach (var fields in new[] { new[] { Persona() }, new[] { Persona(), BotName(kind: "choice", options: OtherName) } })
        {
            var refused = await Http.AssertProblemAsync(await agent.Seller.Client.PutAsJsonAsync(url, new { fields }), HttpStatusCode.Conflict, "subscriber_settings_affected");
            Assert.Equal(1, refused.GetProperty("subscriptions").GetInt32());
            Assert.Equal(["bot_name"], refused.GetProperty("fields").EnumerateArray().Select(f => f.GetString()));
        }
        Assert.Equal(["persona", "bot_name"], (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync(url))).EnumerateArray().Select(f => f.GetProperty("key").GetString()));

        // Relabelling, or removing a field nobody set, needs no confirmation; a choice the saved value is among neither.
        await Http.AssertStatusAsync(await agent.Seller.Client.PutAsJsonAsync(url, new { fields = new[] { BotName(label: "Name it") } }), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await agent.Seller.Client.PutAsJsonAsync(url, new { fields = new[] { BotName(kind: "choice", options: ["Rex", "Max"]) } }), HttpStatusCode.OK);

        var dropped = await Http.ReadJsonAsync(await agent.Seller.Client.PutAsJsonAsync(url, new { fields = Array.Empty<object>(), drop_subscriber_settings = true }));
        Assert.Equal(0, dropped.GetArrayLength());
        var operatorClient = await app.OperatorAsync();
        var entry = Assert.Single((await Http.ReadJsonAsync(await operatorClient.GetAsync(
            $"/api/admin/audit/?action={AuditActions.SubscriberSettingsDropped}&organization={agent.Seller.OrganizationId}"))).GetProperty("items").EnumerateArray());
        Assert.Equal(agent.AgentId.ToString(), entry.GetProperty("target").GetProperty("id").GetString());
        Assert.Equal(1, entry.GetProperty("after").GetProperty("subscriptions").GetInt32());
    }

    [Fact]
    public async Task TheFieldsPage_WarnsWithTheCount_AndSavesWhenTheSellerConfirms()
    {
        var agent = await AgentWithSubscribersAsync();
        var url = $"/provider/agents/{agent.AgentId}/fields";
        var page = await agent.Seller.Client.HtmlAsync(url);
        string Row(string code) => System.Text.RegularExpressions.Regex.Match(
            page.Split("<tr>").Single(r => r.Contains($"<code>{code}</code>", StringComparison.Ordinal)), "name=\"on-(\\d+)\"").Groups[1].Value;
        var persona = Row("Prompt-xvuxC / template");
        // Only the persona stays checked: the bot name, which one subscriber set, would go.
        var form = new Dictionary<string, string>
        {
            [$"on-{persona}"] = "true",
            [$"key-{persona}"] = "persona",
            [$"label-{persona}"] = "Persona",
            [$"kind-{persona}"] = "long_text",
        };

        var warned = await (await agent.Seller.Client.SubmitAsync(url, "configurable-fields", form)).HtmlAsync();
        Assert.Contains("1 subscription has a saved value for bot_name", warned, StringComparison.Ordinal);
        Assert.Contains("name=\"drop_subscriber_settings\"", warned, StringComparison.Ordinal);
        Assert.Equal(2, (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync($"/api/provider-agents/{agent.AgentId}/configurable_fields/"))).GetArrayLength());

        form["drop_subscriber_settings"] = "true";
        PageForms.AssertRedirect(await agent.Seller.Client.SubmitAsync(url, "configurable-fields", form), $"{url}?saved");
        Assert.Equal(["persona"], (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync($"/api/provider-agents/{agent.AgentId}/configurable_fields/")))
            .EnumerateArray().Select(f => f.GetProperty("key").GetString()));
    }
}
