using System.Net;
using System.Net.Http.Json;
using AgentMarket.Flows.Services;
using AgentMarket.Knowledge.Retrieval;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Knowledge;

/// <summary>
/// Another organization's knowledge bases and documents answer 404 on every knowledge route, cannot be written to,
/// searched or listed, and the runtime's retriever refuses a knowledge base its configuration does not own.
/// </summary>
public class KnowledgeIsolationTests(KnowledgeApp app) : IClassFixture<KnowledgeApp>
{
    sealed record Victim(TestUser Owner, Guid KnowledgeBase, Guid File, Guid Qa);

    async Task<Victim> VictimAsync()
    {
        var owner = await app.SignUpAsync("Victim");
        var knowledgeBase = await owner.CreateKnowledgeBaseAsync("Secret recipes");
        var file = await owner.UploadDocumentAsync(knowledgeBase, "recipes.txt", TrainingFiles.Utf8("The secret sauce uses smoked paprika."), "text/plain");
        var qa = await owner.AddQaAsync(knowledgeBase, "What is in the secret sauce?", "Smoked paprika.");
        await app.ProcessDocumentsAsync();
        return new Victim(owner, knowledgeBase, file.Uuid(), qa.Uuid());
    }

    [Fact]
    public async Task AnotherTenant_GetsNotFound_OnEveryKnowledgeRoute_AndChangesNothing()
    {
        var victim = await VictimAsync();
        var attacker = await app.SignUpAsync("Mallory");
        await attacker.CreateKnowledgeBaseAsync();
        var routes = ApiRoute.All(app.Services)
            .Where(r => r.Pattern.StartsWith("/api/knowledge-bases", StringComparison.Ordinal) || r.Pattern.StartsWith("/api/training-documents", StringComparison.Ordinal))
            .Where(r => r.Parameters.Count > 0)
            .ToList();
        Assert.Equal(7, routes.Count);

        var leaks = new List<string>();
        foreach (var route in routes)
        {
            foreach (var id in new[] { victim.KnowledgeBase, victim.File, victim.Qa })
            {
                foreach (var organization in new Guid?[] { null, victim.Owner.OrganizationId })
                {
                    using var request = Http.Request(new HttpMethod(route.Method), route.Url(_ => id.ToString()) + "?q=sauce", organization);
                    if (route.Method == "PATCH")
                    {
                        request.Content = JsonContent.Create(new { name = "Hijacked" }); // a valid body, so only ownership can refuse it
                    }
                    using var response = await attacker.Client.SendAsync(request);
                    if (response.StatusCode != HttpStatusCode.NotFound)
                    {
                        leaks.Add($"{route} {id} (X-Organization: {organization?.ToString() ?? "own"}) → {(int)response.StatusCode}");
                    }
                }
            }
        }
        Assert.Empty(leaks);

        Assert.Equal("ready", (await victim.Owner.DocumentAsync(victim.File)).State());
        Assert.Equal("ready", (await victim.Owner.DocumentAsync(victim.Qa)).State());
        Assert.Equal(2, (await victim.Owner.SearchAsync(victim.KnowledgeBase, "secret sauce")).Count);
        Assert.Equal("Secret recipes", (await Http.ReadJsonAsync(await victim.Owner.Client.GetAsync($"/api/knowledge-bases/{victim.KnowledgeBase}"))).GetProperty("name").GetString());
    }

    [Fact]
    public async Task AnotherTenant_CannotAddToListOrSearch_TheVictimsKnowledgeBase()
    {
        var victim = await VictimAsync();
        var attacker = await app.SignUpAsync("Mallory");
        await attacker.CreateKnowledgeBaseAsync();

        await Http.AssertProblemAsync(await attacker.UploadAsync(victim.KnowledgeBase, "x.txt", TrainingFiles.Utf8("planted")), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await attacker.Client.PostAsJsonAsync("/api/training-documents/", new { knowledge_base = victim.KnowledgeBase, kind = "qa", question = "Q?", answer = "planted" }),
            HttpStatusCode.NotFound, "not_found");
        var listed = await Http.ReadJsonAsync(await attacker.Client.GetAsync($"/api/training-documents/?knowledge_base={victim.KnowledgeBase}"));
        Assert.Equal(0, listed.GetProperty("total").GetInt32());
        Assert.Equal(1, (await Http.ReadJsonAsync(await attacker.Client.GetAsync("/api/knowledge-bases/"))).GetProperty("total").GetInt32());

        // The attacker's own knowledge base never returns the victim's chunks, however well they match.
        var own = await attacker.CreateKnowledgeBaseAsync("Mine");
        await attacker.AddTopicAsync(own, "Sauce", "My sauce is plain.");
        await app.ProcessDocumentsAsync();
        var hits = await attacker.SearchAsync(own, "secret sauce smoked paprika");
        Assert.Equal(["Sauce\n\nMy sauce is plain."], hits.Select(h => h.GetProperty("text").GetString()));
        Assert.Equal(2, (await Http.ReadJsonAsync(await victim.Owner.Client.GetAsync("/api/training-documents/"))).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task RetrieverFactory_RefusesAKnowledgeBaseItsOrganizationDoesNotOwn()
    {
        var victim = await VictimAsync();
        var buyer = await app.SignUpAsync("Buyer");
        var buyerBase = await buyer.CreateKnowledgeBaseAsync();
        var provider = await app.SignUpAsync("Provider");
        var providerBase = await provider.CreateKnowledgeBaseAsync();
        var retrievers = app.Services.GetRequiredService<KnowledgeRetrievers>();

        await Assert.ThrowsAsync<KnowledgeBaseAccessException>(() => retrievers.ForAsync(buyer.OrganizationId, victim.KnowledgeBase, null, null, CancellationToken.None));
        await Assert.ThrowsAsync<KnowledgeBaseAccessException>(() => retrievers.ForAsync(buyer.OrganizationId, buyerBase, provider.OrganizationId, victim.KnowledgeBase, CancellationToken.None));
        await Assert.ThrowsAsync<KnowledgeBaseAccessException>(() => retrievers.ForAsync(buyer.OrganizationId, providerBase, provider.OrganizationId, buyerBase, CancellationToken.None));
        await Assert.ThrowsAsync<KnowledgeBaseAccessException>(() => retrievers.ForAsync(buyer.OrganizationId, Guid.CreateVersion7(), null, null, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => retrievers.ForAsync(buyer.OrganizationId, null, null, providerBase, CancellationToken.None));
        Assert.Null(await retrievers.ForAsync(buyer.OrganizationId, null, provider.OrganizationId, null, CancellationToken.None));

        var retriever = await retrievers.ForAsync(buyer.OrganizationId, buyerBase, provider.OrganizationId, providerBase, CancellationToken.None);
        Assert.NotNull(retriever);
        Assert.Empty(await retriever.SearchAsync(new KnowledgeQuery("secret sauce smoked paprika", 10, KnowledgeBase: victim.KnowledgeBase.ToString()), CancellationToken.None));
    }
}
