using System.Net;
using System.Net.Http.Json;
using AgentMarket.Knowledge;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Knowledge;

/// <summary>Small limits, so they can be reached in a test: 64 KB files, 3 documents on Free and 5 on Plus.</summary>
public sealed class LimitedKnowledgeApp : KnowledgeApp
{
    public const int MaxFileBytes = 64 * 1024;

    protected override IEnumerable<KeyValuePair<string, string?>> KnowledgeSettings() =>
    [
        new("Knowledge:MaxFileBytes", MaxFileBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Knowledge:MaxDocumentsPerPlan:free", "3"),
        new("Knowledge:MaxDocumentsPerPlan:plus", "5"),
    ];
}

/// <summary>The plan's limits and the upload's type and size checks; a refused upload leaves no row and no file.</summary>
public class KnowledgeLimitsTests(LimitedKnowledgeApp app) : IClassFixture<LimitedKnowledgeApp>
{
    [Fact]
    public async Task FileOverTheSizeCap_Returns413_AndStoresNothing()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();

        var justOver = await Http.AssertProblemAsync(
            await buyer.UploadAsync(knowledgeBase, "big.txt", TrainingFiles.Utf8(new string('a', LimitedKnowledgeApp.MaxFileBytes + 1)), "text/plain"),
            HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        Assert.Equal(LimitedKnowledgeApp.MaxFileBytes, justOver.GetProperty("max_bytes").GetInt64());
        Assert.Equal("Training files can be at most 64 KB.", justOver.GetProperty("detail").GetString());
        await Http.AssertProblemAsync(
            await buyer.UploadAsync(knowledgeBase, "huge.txt", TrainingFiles.Utf8(new string('a', 4 * 1024 * 1024)), "text/plain"),
            HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        await Http.AssertStatusAsync(
            await buyer.UploadAsync(knowledgeBase, "exact.txt", TrainingFiles.Utf8(new string('a', LimitedKnowledgeApp.MaxFileBytes)), "text/plain"),
            HttpStatusCode.Created);

        Assert.Equal(1, (await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/training-documents/"))).GetProperty("total").GetInt32());
        Assert.Single(KnowledgeDatabase.StoredFiles(app, buyer.OrganizationId));
    }

    public static TheoryData<string, byte[], string> WrongTypes => new()
    {
        { "photo.png", TrainingFiles.Png(), "image/png" },
        { "photo.txt", TrainingFiles.Png(), "text/plain" },
        { "report.pdf", TrainingFiles.Utf8("I am text pretending to be a PDF."), "application/pdf" },
        { "letter.docx", TrainingFiles.Utf8("I am text pretending to be a Word document."), "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
        { "archive.docx", TrainingFiles.PlainZip(), "application/zip" },
        { "data.json", TrainingFiles.Utf8("{\"a\": 1}"), "application/json" },
        { "table.csv", [.. TrainingFiles.Utf8("a,b\n1,2\n"), 0, 0, 0, 0], "text/csv" },
        { "noextension", TrainingFiles.Utf8("plain words"), "application/octet-stream" },
    };

    [Theory]
    [MemberData(nameof(WrongTypes))]
    public async Task WrongType_JudgedByContent_Returns415_AndStoresNothing(string fileName, byte[] content, string contentType)
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();

        await Http.AssertProblemAsync(await buyer.UploadAsync(knowledgeBase, fileName, content, contentType), HttpStatusCode.UnsupportedMediaType, "unsupported_document_type");

        Assert.Equal(0, (await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/training-documents/"))).GetProperty("total").GetInt32());
        Assert.Empty(KnowledgeDatabase.StoredFiles(app, buyer.OrganizationId));
    }

    [Fact]
    public async Task DocumentCount_IsLimitedByThePlan_AndDeletingFreesASlot()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var first = await buyer.AddQaAsync(knowledgeBase, "Q1?", "A1.");
        await buyer.AddTopicAsync(knowledgeBase, "T2", "Text 2.");
        await buyer.UploadDocumentAsync(knowledgeBase, "three.txt", TrainingFiles.Utf8("Three."), "text/plain");

        var refused = await Http.AssertProblemAsync(await buyer.UploadAsync(knowledgeBase, "four.txt", TrainingFiles.Utf8("Four."), "text/plain"), HttpStatusCode.Forbidden, "document_limit_reached");
        Assert.Equal((3, 3), (refused.GetProperty("limit").GetInt32(), refused.GetProperty("used").GetInt32()));
        await Http.AssertProblemAsync(await buyer.Client.PostAsJsonAsync("/api/training-documents/", new { knowledge_base = knowledgeBase, kind = "qa", question = "Q4?", answer = "A4." }),
            HttpStatusCode.Forbidden, "document_limit_reached");
        Assert.Single(KnowledgeDatabase.StoredFiles(app, buyer.OrganizationId));

        await Http.AssertStatusAsync(await buyer.Client.DeleteAsync($"/api/training-documents/{first.Uuid()}"), HttpStatusCode.NoContent);
        await buyer.AddQaAsync(knowledgeBase, "Q4?", "A4.");

        await buyer.UpgradeAsync("plus");
        await buyer.AddQaAsync(knowledgeBase, "Q5?", "A5.");
        await buyer.AddQaAsync(knowledgeBase, "Q6?", "A6.");
        await Http.AssertProblemAsync(await buyer.Client.PostAsJsonAsync("/api/training-documents/", new { knowledge_base = knowledgeBase, kind = "qa", question = "Q7?", answer = "A7." }),
            HttpStatusCode.Forbidden, "document_limit_reached");
    }

    [Fact]
    public async Task ConcurrentUploads_NeverExceedTheLimit()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => i % 2 == 0
            ? buyer.UploadAsync(knowledgeBase, $"file{i}.txt", TrainingFiles.Utf8($"File number {i}."), "text/plain")
            : buyer.Client.PostAsJsonAsync("/api/training-documents/", new { knowledge_base = knowledgeBase, kind = "qa", question = $"Q{i}?", answer = $"A{i}." })));

        Assert.Equal(3, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(9, responses.Count(r => r.StatusCode == HttpStatusCode.Forbidden));
        var documents = await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/training-documents/"));
        Assert.Equal(3, documents.GetProperty("total").GetInt32());
        var files = documents.GetProperty("items").EnumerateArray().Count(d => d.GetProperty("kind").GetString() == "file");
        Assert.Equal(files, KnowledgeDatabase.StoredFiles(app, buyer.OrganizationId).Count);
    }

    [Fact]
    public void StorageRule_AllowsExactlyThePlansBytes()
    {
        var usage = new KnowledgeQuota.Usage(Documents: 1, Bytes: 900, MaxDocuments: 10, MaxBytes: 1_000);
        Assert.Null(KnowledgeQuota.Refusal(usage, 100));
        Assert.Equal(KnowledgeProblems.StorageLimitReached, KnowledgeQuota.Refusal(usage, 101)?.Code);
        Assert.Equal(KnowledgeProblems.DocumentLimitReached, KnowledgeQuota.Refusal(usage with { Documents = 10 }, 1)?.Code);
    }
}

/// <summary>Storage by plan: an operator gives the Free plan no storage, and uploads stop until the plan is upgraded.</summary>
public class KnowledgeStorageTests(KnowledgeApp app) : IClassFixture<KnowledgeApp>
{
    [Fact]
    public async Task Storage_IsLimitedByThePlansStorage()
    {
        await app.InScopeAsync(null, async services =>
            await services.GetRequiredService<AppDbContext>().Plans.Where(p => p.Code == "free").ExecuteUpdateAsync(s => s.SetProperty(p => p.StorageGb, 0)));
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();

        var refused = await Http.AssertProblemAsync(await buyer.UploadAsync(knowledgeBase, "notes.txt", TrainingFiles.Utf8("Twelve bytes"), "text/plain"), HttpStatusCode.Forbidden, "storage_limit_reached");
        Assert.Equal((0, 0, 12), (refused.GetProperty("limit_bytes").GetInt64(), refused.GetProperty("used_bytes").GetInt64(), refused.GetProperty("document_bytes").GetInt64()));
        await Http.AssertProblemAsync(await buyer.Client.PostAsJsonAsync("/api/training-documents/", new { knowledge_base = knowledgeBase, kind = "topic", title = "T", text = "x" }),
            HttpStatusCode.Forbidden, "storage_limit_reached");
        Assert.Empty(KnowledgeDatabase.StoredFiles(app, buyer.OrganizationId));

        await buyer.UpgradeAsync("plus");
        await buyer.UploadDocumentAsync(knowledgeBase, "notes.txt", TrainingFiles.Utf8("Twelve bytes"), "text/plain");
    }
}
