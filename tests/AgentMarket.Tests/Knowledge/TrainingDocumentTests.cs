using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Knowledge;

/// <summary>A buyer trains a knowledge base: every supported file type, Q&amp;A pairs and topics, states, retries, deletes.</summary>
public class TrainingDocumentTests(KnowledgeApp app) : IClassFixture<KnowledgeApp>
{
    public static TheoryData<string, string, string> TextFiles => new()
    {
        { "returns.txt", "text/plain", "Returns\n\nUnworn shoes can be returned within thirty days for a full refund." },
        { "returns.md", "text/markdown", "# Returns\n\nUnworn **shoes** can be returned within *thirty days* for a full refund.\n\n- keep the box" },
        { "returns.html", "text/html", "<html><body><h1>Returns</h1><p>Unworn shoes can be returned within thirty days for a full refund.</p></body></html>" },
        { "returns.csv", "text/csv", "item,policy\nshoes,Unworn shoes can be returned within thirty days for a full refund.\n" },
        { "returns", "text/plain", "Unworn shoes can be returned within thirty days for a full refund." },
    };

    [Theory]
    [MemberData(nameof(TextFiles))]
    public async Task UploadTextFormats_AreQueued_ThenReadyAndSearchable(string fileName, string contentType, string content)
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();

        var uploaded = await buyer.UploadDocumentAsync(knowledgeBase, fileName, TrainingFiles.Utf8(content), contentType);
        Assert.Equal("queued", uploaded.State());
        Assert.Equal("file", uploaded.GetProperty("kind").GetString());
        Assert.Equal(fileName, uploaded.GetProperty("file_name").GetString());

        await app.ProcessDocumentsAsync();
        var ready = await buyer.DocumentAsync(uploaded.Uuid());
        Assert.Equal("ready", ready.State());
        Assert.True(ready.GetProperty("chunk_count").GetInt32() >= 1);
        var hit = Assert.Single(await buyer.SearchAsync(knowledgeBase, "Can I return shoes?"));
        Assert.Contains("thirty days", hit.GetProperty("text").GetString());
        Assert.Equal(fileName, hit.GetProperty("source").GetString());
    }

    [Fact]
    public async Task UploadCsv_IndexesRowsAsHeaderValueLines()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        await buyer.UploadDocumentAsync(knowledgeBase, "stores.csv", TrainingFiles.Csv("city;opening hours;phone", ["Lisbon;9-18;+351 555", "Porto;10-19;+351 777"]), "text/csv");
        await app.ProcessDocumentsAsync();

        var text = (await buyer.SearchAsync(knowledgeBase, "Porto opening hours"))[0].GetProperty("text").GetString()!;
        Assert.Contains("city: Porto\nopening hours: 10-19\nphone: +351 777", text);
    }

    [Fact]
    public async Task UploadDocx_ExtractsParagraphsAndHeadings()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var docx = TrainingFiles.Docx(("Warranty", "Heading1"), ("Every kettle has a two-year warranty covering the heating element.", null));
        var uploaded = await buyer.UploadDocumentAsync(knowledgeBase, "warranty.docx", docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
        Assert.Equal("docx", uploaded.GetProperty("file_type").GetString());

        await app.ProcessDocumentsAsync();
        var hit = (await buyer.SearchAsync(knowledgeBase, "kettle warranty"))[0];
        Assert.Equal("Warranty\n\nEvery kettle has a two-year warranty covering the heating element.", hit.GetProperty("text").GetString());
        Assert.Equal("Warranty", hit.GetProperty("title").GetString());
    }

    [Fact]
    public async Task UploadPdf_IsReadByPdftotext()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var uploaded = await buyer.UploadDocumentAsync(knowledgeBase, "manual.pdf", TrainingFiles.Pdf("Descaling the espresso machine", "Run the descaling program once a month with citric acid."), "application/pdf");
        Assert.Equal("pdf", uploaded.GetProperty("file_type").GetString());

        await app.ProcessDocumentsAsync();
        Assert.Equal("ready", (await buyer.DocumentAsync(uploaded.Uuid())).State());
        var text = (await buyer.SearchAsync(knowledgeBase, "how often should I descale?"))[0].GetProperty("text").GetString()!;
        Assert.Contains("Run the descaling program once a month with citric acid.", text);
    }

    [Fact]
    public async Task TypeIsDecidedByContent_APdfNamedTxtIsReadAsPdf()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var uploaded = await buyer.UploadDocumentAsync(knowledgeBase, "renamed.txt", TrainingFiles.Pdf("Gift cards never expire."), "text/plain");
        Assert.Equal("pdf", uploaded.GetProperty("file_type").GetString());
    }

    [Fact]
    public async Task QaPairsAndTopics_AreStoredAndSearchable()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var qa = await buyer.AddQaAsync(knowledgeBase, "Do you ship to Canada?", "Yes, orders to Canada arrive within five business days.");
        var topic = await buyer.AddTopicAsync(knowledgeBase, "Loyalty programme", "Members earn one point per euro.\n\nPoints expire after two years.");
        Assert.Equal(("qa", "Do you ship to Canada?", "Yes, orders to Canada arrive within five business days."),
            (qa.GetProperty("kind").GetString(), qa.GetProperty("question").GetString(), qa.GetProperty("answer").GetString()));
        Assert.Equal(("topic", "Loyalty programme"), (topic.GetProperty("kind").GetString(), topic.GetProperty("title").GetString()));

        await app.ProcessDocumentsAsync();
        var shipping = (await buyer.SearchAsync(knowledgeBase, "shipping to canada"))[0];
        Assert.Equal("Question: Do you ship to Canada?\nAnswer: Yes, orders to Canada arrive within five business days.", shipping.GetProperty("text").GetString());
        Assert.Equal("Do you ship to Canada?", shipping.GetProperty("title").GetString());
        var points = (await buyer.SearchAsync(knowledgeBase, "when do points expire"))[0];
        Assert.Equal("Loyalty programme", points.GetProperty("title").GetString());
        Assert.Contains("Points expire after two years.", points.GetProperty("text").GetString());

        var detail = await buyer.DocumentAsync(topic.Uuid());
        Assert.Equal("Members earn one point per euro.\n\nPoints expire after two years.", detail.GetProperty("text").GetString());
    }

    [Fact]
    public async Task List_FiltersByKnowledgeBaseAndState_AndPaginates_WithoutTopicTexts()
    {
        var buyer = await app.SignUpAsync();
        var first = await buyer.CreateKnowledgeBaseAsync("First");
        var second = await buyer.CreateKnowledgeBaseAsync("Second");
        for (var i = 0; i < 3; i++)
        {
            await buyer.AddTopicAsync(first, $"Topic {i}", $"Text number {i}.");
        }
        await buyer.AddQaAsync(second, "Other?", "Elsewhere.");

        var page = await Http.ReadJsonAsync(await buyer.Client.GetAsync($"/api/training-documents/?knowledge_base={first}&limit=2"));
        Assert.Equal(3, page.GetProperty("total").GetInt32());
        Assert.Equal(["Topic 2", "Topic 1"], page.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("title").GetString()));
        Assert.All(page.GetProperty("items").EnumerateArray(), d => Assert.Equal(JsonValueKind.Null, d.GetProperty("text").ValueKind));
        var rest = await Http.ReadJsonAsync(await buyer.Client.GetAsync($"/api/training-documents/?knowledge_base={first}&limit=2&offset=2"));
        Assert.Equal("Topic 0", rest.GetProperty("items")[0].GetProperty("title").GetString());

        Assert.Equal(4, (await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/training-documents/?state=queued"))).GetProperty("total").GetInt32());
        await app.ProcessDocumentsAsync();
        Assert.Equal(0, (await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/training-documents/?state=queued"))).GetProperty("total").GetInt32());
        Assert.Equal(4, (await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/training-documents/?state=ready"))).GetProperty("total").GetInt32());
        await Http.AssertProblemAsync(await buyer.Client.GetAsync("/api/training-documents/?state=done"), HttpStatusCode.BadRequest, "validation_failed");

        var knowledgeBase = await Http.ReadJsonAsync(await buyer.Client.GetAsync($"/api/knowledge-bases/{first}"));
        Assert.Equal((3, 3, 0), (knowledgeBase.GetProperty("documents").GetInt32(), knowledgeBase.GetProperty("ready_documents").GetInt32(), knowledgeBase.GetProperty("failed_documents").GetInt32()));
        var bases = await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/knowledge-bases/"));
        Assert.Equal(["Second", "First"], bases.GetProperty("items").EnumerateArray().Select(k => k.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Delete_RemovesTheDocumentItsFileAndItsChunksAtOnce()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var kept = await buyer.AddTopicAsync(knowledgeBase, "Opening hours", "The zebrafish shop opens at nine.");
        var deleted = await buyer.UploadDocumentAsync(knowledgeBase, "aquarium.txt", TrainingFiles.Utf8("Zebrafish need water at twenty-six degrees."), "text/plain");
        await app.ProcessDocumentsAsync();
        Assert.Equal(2, (await buyer.SearchAsync(knowledgeBase, "zebrafish")).Count);
        var file = KnowledgeDatabase.StoredFile(app, buyer.OrganizationId, deleted.Uuid());
        Assert.True(File.Exists(file));

        await Http.AssertStatusAsync(await buyer.Client.DeleteAsync($"/api/training-documents/{deleted.Uuid()}"), HttpStatusCode.NoContent);

        await Http.AssertProblemAsync(await buyer.Client.GetAsync($"/api/training-documents/{deleted.Uuid()}"), HttpStatusCode.NotFound, "not_found");
        Assert.Equal([kept.Uuid()], (await buyer.SearchAsync(knowledgeBase, "zebrafish")).Select(h => h.GetProperty("document").GetGuid()));
        Assert.Equal(0, await KnowledgeDatabase.ChunkCountAsync(app, deleted.Uuid()));
        Assert.Equal(1, await KnowledgeDatabase.FullTextMatchesAsync(app, "zebrafish"));
        Assert.False(File.Exists(file));
        await Http.AssertProblemAsync(await buyer.Client.DeleteAsync($"/api/training-documents/{deleted.Uuid()}"), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task FailedDocument_ShowsItsReason_AndProcessRetriesIt()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var empty = await buyer.UploadDocumentAsync(knowledgeBase, "blank.txt", TrainingFiles.Utf8(" \n\n \t \n"), "text/plain");
        await app.ProcessDocumentsAsync();
        var failed = await buyer.DocumentAsync(empty.Uuid());
        Assert.Equal(("failed", "The document contains no text."), (failed.State(), failed.GetProperty("failure_reason").GetString()));

        // The file was fixed on disk (as a newer processor version would read it better): a retry picks it up.
        await File.WriteAllTextAsync(KnowledgeDatabase.StoredFile(app, buyer.OrganizationId, empty.Uuid()), "Now the file has text about lighthouses.");
        var retried = await Http.ReadJsonAsync(await buyer.Client.PostAsync($"/api/training-documents/{empty.Uuid()}/process/", null), HttpStatusCode.Accepted);
        Assert.Equal("queued", retried.State());
        Assert.Equal(JsonValueKind.Null, retried.GetProperty("failure_reason").ValueKind);
        await app.ProcessDocumentsAsync();
        Assert.Equal("ready", (await buyer.DocumentAsync(empty.Uuid())).State());
        Assert.Single(await buyer.SearchAsync(knowledgeBase, "lighthouses"));
    }

    [Fact]
    public async Task Reprocessing_AReadyDocument_ReplacesItsChunks()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var document = await buyer.UploadDocumentAsync(knowledgeBase, "menu.txt", TrainingFiles.Utf8("Soup of the day: tomato."), "text/plain");
        await app.ProcessDocumentsAsync();
        await File.WriteAllTextAsync(KnowledgeDatabase.StoredFile(app, buyer.OrganizationId, document.Uuid()), "Soup of the day: pumpkin.");

        await Http.AssertStatusAsync(await buyer.Client.PostAsync($"/api/training-documents/{document.Uuid()}/process/", null), HttpStatusCode.Accepted);
        // Until the processor runs, the old chunks keep answering.
        Assert.Single(await buyer.SearchAsync(knowledgeBase, "tomato"));
        await app.ProcessDocumentsAsync();

        Assert.Empty(await buyer.SearchAsync(knowledgeBase, "tomato"));
        Assert.Single(await buyer.SearchAsync(knowledgeBase, "pumpkin"));
        Assert.Equal(1, await KnowledgeDatabase.ChunkCountAsync(app, document.Uuid()));
    }

    [Fact]
    public async Task BadRequests_AreProblemsWithCodes()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var client = buyer.Client;

        var missingAnswer = await Http.AssertProblemAsync(await client.PostAsJsonAsync("/api/training-documents/", new { knowledge_base = knowledgeBase, kind = "qa", question = "Why?" }), HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(missingAnswer.GetProperty("errors").TryGetProperty("answer", out _));
        var fileAsJson = await Http.AssertProblemAsync(await client.PostAsJsonAsync("/api/training-documents/", new { knowledge_base = knowledgeBase, kind = "file" }), HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(fileAsJson.GetProperty("errors").TryGetProperty("kind", out _));
        await Http.AssertProblemAsync(await client.PostAsJsonAsync("/api/training-documents/", new { knowledge_base = knowledgeBase, kind = "topic", title = "T", text = "x", anwser = "typo" }), HttpStatusCode.BadRequest, "malformed_json");
        await Http.AssertProblemAsync(await client.PostAsJsonAsync("/api/training-documents/", new { knowledge_base = knowledgeBase, kind = "topic", title = "T", text = new string('x', 200_001) }), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await client.PostAsJsonAsync("/api/training-documents/", new { knowledge_base = Guid.CreateVersion7(), kind = "qa", question = "Q?", answer = "A." }), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await client.PostAsync("/api/training-documents/", new StringContent("just text")), HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");

        using (var noFile = new MultipartFormDataContent { { new StringContent(knowledgeBase.ToString()), "knowledge_base" } })
        {
            var problem = await Http.AssertProblemAsync(await client.PostAsync("/api/training-documents/", noFile), HttpStatusCode.BadRequest, "validation_failed");
            Assert.True(problem.GetProperty("errors").TryGetProperty("file", out _));
        }
        var noKnowledgeBase = await Http.AssertProblemAsync(await buyer.UploadAsync(Guid.Empty, "a.txt", TrainingFiles.Utf8("text")), HttpStatusCode.NotFound, "not_found");
        Assert.Equal("The knowledge base was not found.", noKnowledgeBase.GetProperty("detail").GetString());
        await Http.AssertProblemAsync(await buyer.UploadAsync(knowledgeBase, "empty.txt", []), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await client.GetAsync($"/api/knowledge-bases/{knowledgeBase}/search?q="), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await client.GetAsync($"/api/knowledge-bases/{knowledgeBase}/search?q=x&top_k=500"), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await client.PostAsJsonAsync("/api/knowledge-bases/", new { name = "" }), HttpStatusCode.BadRequest, "validation_failed");

        var documents = await Http.ReadJsonAsync(await client.GetAsync("/api/training-documents/"));
        Assert.Equal(0, documents.GetProperty("total").GetInt32());
        Assert.Empty(KnowledgeDatabase.StoredFiles(app, buyer.OrganizationId));
    }

    [Fact]
    public async Task TextWithNul_IsRefused_AndNothingIsStored()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var client = buyer.Client;

        var question = await Http.AssertProblemAsync(await client.PostAsJsonAsync("/api/training-documents/", new { knowledge_base = knowledgeBase, kind = "qa", question = "Why\0?", answer = "Because." }),
            HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(question.GetProperty("errors").TryGetProperty("question", out _));
        var text = await Http.AssertProblemAsync(await client.PostAsJsonAsync("/api/training-documents/", new { knowledge_base = knowledgeBase, kind = "topic", title = "Hours", text = "Nine\0 to five." }),
            HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(text.GetProperty("errors").TryGetProperty("text", out _));
        await Http.AssertProblemAsync(await client.PostAsJsonAsync("/api/knowledge-bases/", new { name = "Answers\0" }), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await client.PatchAsJsonAsync($"/api/knowledge-bases/{knowledgeBase}", new { name = "Answers\0" }), HttpStatusCode.BadRequest, "validation_failed");

        var documents = await Http.ReadJsonAsync(await client.GetAsync("/api/training-documents/"));
        Assert.Equal(0, documents.GetProperty("total").GetInt32());
        var bases = await Http.ReadJsonAsync(await client.GetAsync("/api/knowledge-bases/"));
        Assert.Equal([knowledgeBase], bases.GetProperty("items").EnumerateArray().Select(b => b.GetProperty("uuid").GetGuid()));
        Assert.DoesNotContain('\0', (await Http.ReadJsonAsync(await client.GetAsync($"/api/knowledge-bases/{knowledgeBase}"))).GetProperty("name").GetString()!);
    }
}
