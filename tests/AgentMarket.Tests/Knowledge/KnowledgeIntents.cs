using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Knowledge.Jobs;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Knowledge;

/// <summary>
/// The app for knowledge tests: the background processor waits an hour between ticks, so documents stay queued until
/// a test runs a tick itself (<see cref="KnowledgeIntents.ProcessDocumentsAsync"/>) and states can be asserted.
/// </summary>
public class KnowledgeApp : AgentMarketApp
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [new("Knowledge:ProcessingIntervalSeconds", "3600"), .. KnowledgeSettings()];

    protected virtual IEnumerable<KeyValuePair<string, string?>> KnowledgeSettings() => [];
}

/// <summary>What a buyer does with a knowledge base, over HTTP.</summary>
public static class KnowledgeIntents
{
    public static async Task<Guid> CreateKnowledgeBaseAsync(this TestUser user, string name = "Support answers")
    {
        var created = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/knowledge-bases/", new { name }), HttpStatusCode.Created);
        return created.GetProperty("uuid").GetGuid();
    }

    public static async Task<HttpResponseMessage> UploadAsync(this TestUser user, Guid knowledgeBase, string fileName, byte[] content, string? contentType = null)
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent(knowledgeBase.ToString()), "knowledge_base" },
        };
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType ?? "application/octet-stream");
        form.Add(file, "file", fileName);
        return await user.Client.PostAsync("/api/training-documents/", form);
    }

    /// <summary>Uploads a file that must be accepted; returns the queued document.</summary>
    public static async Task<JsonElement> UploadDocumentAsync(this TestUser user, Guid knowledgeBase, string fileName, byte[] content, string? contentType = null) =>
        await Http.ReadJsonAsync(await user.UploadAsync(knowledgeBase, fileName, content, contentType), HttpStatusCode.Created);

    public static async Task<JsonElement> AddQaAsync(this TestUser user, Guid knowledgeBase, string question, string answer) =>
        await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/training-documents/", new { knowledge_base = knowledgeBase, kind = "qa", question, answer }), HttpStatusCode.Created);

    public static async Task<JsonElement> AddTopicAsync(this TestUser user, Guid knowledgeBase, string title, string text) =>
        await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/training-documents/", new { knowledge_base = knowledgeBase, kind = "topic", title, text }), HttpStatusCode.Created);

    public static async Task<JsonElement> DocumentAsync(this TestUser user, Guid document) =>
        await Http.ReadJsonAsync(await user.Client.GetAsync($"/api/training-documents/{document}"));

    /// <summary>The knowledge base's search, as the Training tab's "try a question" calls it; returns the hits.</summary>
    public static async Task<List<JsonElement>> SearchAsync(this TestUser user, Guid knowledgeBase, string question, int topK = 5)
    {
        var found = await Http.ReadJsonAsync(await user.Client.GetAsync($"/api/knowledge-bases/{knowledgeBase}/search?q={Uri.EscapeDataString(question)}&top_k={topK}"));
        return [.. found.GetProperty("items").EnumerateArray()];
    }

    public static Guid Uuid(this JsonElement json) => json.GetProperty("uuid").GetGuid();

    public static string State(this JsonElement document) => document.GetProperty("state").GetString()!;

    /// <summary>Runs the processor's ticks until nothing is due, as the background job would; returns the documents claimed.</summary>
    public static async Task<int> ProcessDocumentsAsync(this AgentMarketApp app)
    {
        var job = app.Services.GetRequiredService<DocumentProcessingJob>();
        var total = 0;
        int claimed;
        while ((claimed = await job.RunOnceAsync(CancellationToken.None)) > 0)
        {
            total += claimed;
        }
        return total;
    }
}
