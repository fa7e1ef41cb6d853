using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Knowledge;

/// <summary>A knowledge base is renamed and deleted with everything in it, unless an agent still answers from it.</summary>
public class KnowledgeBaseTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task AKnowledgeBase_IsRenamed_ThenDeletedWithItsDocumentsChunksAndFiles()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync("Draft answers");
        var topic = await buyer.AddTopicAsync(knowledgeBase, "Opening hours", "The axolotl shop opens at nine.");
        var file = await buyer.UploadDocumentAsync(knowledgeBase, "axolotl.txt", TrainingFiles.Utf8("Axolotls need cold water."), "text/plain");
        await app.ProcessDocumentsAsync();
        var stored = KnowledgeDatabase.StoredFile(app, buyer.OrganizationId, file.Uuid());
        Assert.True(File.Exists(stored));

        var renamed = await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync($"/api/knowledge-bases/{knowledgeBase}", new { name = "  Shop answers " }));
        Assert.Equal(("Shop answers", 2), (renamed.GetProperty("name").GetString(), renamed.GetProperty("documents").GetInt32()));

        await Http.AssertStatusAsync(await buyer.Client.DeleteAsync($"/api/knowledge-bases/{knowledgeBase}"), HttpStatusCode.NoContent);

        await Http.AssertProblemAsync(await buyer.Client.GetAsync($"/api/knowledge-bases/{knowledgeBase}"), HttpStatusCode.NotFound, "not_found");
        foreach (var document in new[] { topic.Uuid(), file.Uuid() })
        {
            await Http.AssertProblemAsync(await buyer.Client.GetAsync($"/api/training-documents/{document}"), HttpStatusCode.NotFound, "not_found");
            Assert.Equal(0, await KnowledgeDatabase.ChunkCountAsync(app, document));
        }
        Assert.Equal(0, await KnowledgeDatabase.FullTextMatchesAsync(app, "axolotl"));
        Assert.False(File.Exists(stored));
        await Http.AssertProblemAsync(await buyer.Client.DeleteAsync($"/api/knowledge-bases/{knowledgeBase}"), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task TheKnowledgeBaseOfAnActiveSubscription_IsKept_UntilTheSubscriptionEnds()
    {
        var subscribed = await app.SubscribedAsync();
        var client = subscribed.Buyer.Client;
        var knowledgeBase = (await Http.ReadJsonAsync(await client.GetAsync($"/api/customer-agent-configs/{subscribed.Config}"))).GetProperty("knowledge_base").GetGuid();
        await subscribed.Buyer.AddTopicAsync(knowledgeBase, "Opening hours", "The shop opens at nine.");

        var refused = await Http.AssertProblemAsync(await client.DeleteAsync($"/api/knowledge-bases/{knowledgeBase}"), HttpStatusCode.Conflict, "knowledge_base_in_use");
        Assert.Single(refused.GetProperty("used_by").EnumerateArray());
        Assert.Equal(1, (await Http.ReadJsonAsync(await client.GetAsync($"/api/knowledge-bases/{knowledgeBase}"))).GetProperty("documents").GetInt32());

        await Http.AssertStatusAsync(await client.DeleteAsync($"/api/customer-agent-configs/{subscribed.Config}"), HttpStatusCode.NoContent);
        await Http.AssertStatusAsync(await client.DeleteAsync($"/api/knowledge-bases/{knowledgeBase}"), HttpStatusCode.NoContent);
        var config = await Http.ReadJsonAsync(await client.GetAsync($"/api/customer-agent-configs/{subscribed.Config}"));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, config.GetProperty("knowledge_base").ValueKind);
    }

    [Fact]
    public async Task AMember_ReadsAndSearchesKnowledge_ButOnlyAManagerChangesIt()
    {
        var owner = await app.SignUpAsync();
        var knowledgeBase = await owner.CreateKnowledgeBaseAsync("Shop answers");
        var document = (await owner.AddTopicAsync(knowledgeBase, "Opening hours", "The shop opens at nine.")).Uuid();
        var member = await app.JoinAsync(owner, "member");
        var manager = await app.JoinAsync(owner, "manager");

        await Http.AssertStatusAsync(await member.Client.GetAsync($"/api/knowledge-bases/{knowledgeBase}"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await member.Client.GetAsync($"/api/knowledge-bases/{knowledgeBase}/search?q=hours"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await member.Client.GetAsync($"/api/training-documents/{document}"), HttpStatusCode.OK);
        HttpRequestMessage[] changes(Guid knowledge, Guid doc) =>
        [
            Http.Request(HttpMethod.Post, "/api/knowledge-bases/", json: new { name = "Another base" }),
            Http.Request(HttpMethod.Patch, $"/api/knowledge-bases/{knowledge}", json: new { name = "Renamed" }),
            Http.Request(HttpMethod.Post, "/api/training-documents/", json: new { knowledge_base = knowledge, kind = "qa", question = "When?", answer = "At nine." }),
            Http.Request(HttpMethod.Post, $"/api/training-documents/{doc}/process"),
            Http.Request(HttpMethod.Delete, $"/api/training-documents/{doc}"),
            Http.Request(HttpMethod.Delete, $"/api/knowledge-bases/{knowledge}"),
        ];
        foreach (var change in changes(knowledgeBase, document))
        {
            await Http.AssertProblemAsync(await member.Client.SendAsync(change), HttpStatusCode.Forbidden, "insufficient_role");
        }
        var kept = await Http.ReadJsonAsync(await owner.Client.GetAsync($"/api/knowledge-bases/{knowledgeBase}"));
        Assert.Equal(("Shop answers", 1), (kept.GetProperty("name").GetString(), kept.GetProperty("documents").GetInt32()));

        await app.ProcessDocumentsAsync(); // reprocessing needs a document that is no longer queued
        foreach (var change in changes(knowledgeBase, document))
        {
            var response = await manager.Client.SendAsync(change);
            Assert.True(response.IsSuccessStatusCode, $"{change.Method} {change.RequestUri}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        await Http.AssertProblemAsync(await owner.Client.GetAsync($"/api/knowledge-bases/{knowledgeBase}"), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task AnotherOrganizationsKnowledgeBase_CannotBeRenamedOrDeleted()
    {
        var owner = await app.SignUpAsync();
        var knowledgeBase = await owner.CreateKnowledgeBaseAsync("Private answers");
        await owner.AddTopicAsync(knowledgeBase, "Secret", "The vault code is in the manager's office.");
        var stranger = await app.SignUpAsync();

        await Http.AssertProblemAsync(await stranger.Client.PatchAsJsonAsync($"/api/knowledge-bases/{knowledgeBase}", new { name = "Mine now" }), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await stranger.Client.DeleteAsync($"/api/knowledge-bases/{knowledgeBase}"), HttpStatusCode.NotFound, "not_found");

        var kept = await Http.ReadJsonAsync(await owner.Client.GetAsync($"/api/knowledge-bases/{knowledgeBase}"));
        Assert.Equal(("Private answers", 1), (kept.GetProperty("name").GetString(), kept.GetProperty("documents").GetInt32()));
    }

    [Theory]
    [InlineData("{\"name\": \"\"}", "validation_failed")]
    [InlineData("{\"name\": \"   \"}", "validation_failed")]
    [InlineData("{\"name\": 42}", "malformed_json")]
    public async Task ABadName_IsRefused(string body, string code)
    {
        var owner = await app.SignUpAsync();
        var knowledgeBase = await owner.CreateKnowledgeBaseAsync("Answers");
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        await Http.AssertProblemAsync(await owner.Client.PatchAsync($"/api/knowledge-bases/{knowledgeBase}", content), HttpStatusCode.BadRequest, code);
    }
}
