using System.Net;
using AgentMarket.Knowledge.Jobs;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Knowledge;

/// <summary>
/// The processor with more than one instance and with crashes: claims are exclusive, a dead processor's document is
/// taken over after its lease, a document that keeps killing processors fails for good, and a late processor can
/// neither resurrect a deleted document nor overwrite a newer result.
/// </summary>
public class DocumentProcessingTests(KnowledgeApp app) : IClassFixture<KnowledgeApp>
{
    /// <summary>What a processor that dies right after claiming leaves behind: the document, claimed, never finished.</summary>
    Task<Guid?> ClaimAndDieAsync(Guid document) =>
        app.InScopeAsync(null, services => services.GetRequiredService<DocumentProcessor>().ClaimAsync(document, CancellationToken.None));

    async Task FinishLateAsync(Guid document, Guid claim)
    {
        await using var scope = app.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<AgentMarket.Platform.Tenancy.CurrentTenant>().EnterSystemScope();
        await scope.ServiceProvider.GetRequiredService<DocumentProcessor>().ProcessAsync(document, claim, CancellationToken.None);
    }

    Task<int> AttemptsAsync(Guid document) =>
        app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().TrainingDocuments.Where(d => d.Id == document).Select(d => d.Attempts).SingleAsync());

    [Fact]
    public async Task TwoProcessorsAtOnce_ProcessEveryDocumentExactlyOnce()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var documents = new List<Guid>();
        for (var i = 0; i < 12; i++)
        {
            documents.Add((await buyer.AddTopicAsync(knowledgeBase, $"Topic {i}", $"Paragraph about subject{i}.")).Uuid());
        }
        var job = app.Services.GetRequiredService<DocumentProcessingJob>();

        var claimed = await Task.WhenAll(job.RunOnceAsync(CancellationToken.None), job.RunOnceAsync(CancellationToken.None), job.RunOnceAsync(CancellationToken.None));

        Assert.Equal(12, claimed.Sum());
        foreach (var document in documents)
        {
            Assert.Equal("ready", (await buyer.DocumentAsync(document)).State());
            Assert.Equal(1, await AttemptsAsync(document));
            Assert.Equal(1, await KnowledgeDatabase.ChunkCountAsync(app, document));
        }
    }

    [Fact]
    public async Task ADocumentWhoseProcessorDied_IsTakenOverAfterTheLease()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var document = (await buyer.AddQaAsync(knowledgeBase, "Opening hours?", "Nine to five.")).Uuid();
        Assert.NotNull(await ClaimAndDieAsync(document));

        Assert.Equal("processing", (await buyer.DocumentAsync(document)).State());
        Assert.Equal(0, await app.ProcessDocumentsAsync());
        await Http.AssertProblemAsync(await buyer.Client.PostAsync($"/api/training-documents/{document}/process/", null), HttpStatusCode.Conflict, "document_processing");

        app.Clock.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(1, await app.ProcessDocumentsAsync());
        Assert.Equal("ready", (await buyer.DocumentAsync(document)).State());
        Assert.Equal(2, await AttemptsAsync(document));
    }

    [Fact]
    public async Task ADocumentThatKeepsKillingItsProcessor_FailsAfterTheMaximumAttempts()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var document = (await buyer.AddQaAsync(knowledgeBase, "Poison?", "Pretend this crashes the processor.")).Uuid();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            Assert.NotNull(await ClaimAndDieAsync(document));
            app.Clock.Advance(TimeSpan.FromMinutes(11));
        }

        await app.ProcessDocumentsAsync();

        var failed = await buyer.DocumentAsync(document);
        Assert.Equal(("failed", "Processing did not finish after 3 attempts."), (failed.State(), failed.GetProperty("failure_reason").GetString()));
        Assert.Equal(0, await KnowledgeDatabase.ChunkCountAsync(app, document));

        // A retry starts the count again.
        await Http.AssertStatusAsync(await buyer.Client.PostAsync($"/api/training-documents/{document}/process/", null), HttpStatusCode.Accepted);
        await app.ProcessDocumentsAsync();
        Assert.Equal("ready", (await buyer.DocumentAsync(document)).State());
    }

    [Fact]
    public async Task ALateProcessor_CannotOverwriteTheNewerResult()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var document = (await buyer.AddTopicAsync(knowledgeBase, "Parking", "Parking is free on Sundays.")).Uuid();
        var stale = (await ClaimAndDieAsync(document))!.Value;
        app.Clock.Advance(TimeSpan.FromMinutes(11));
        await app.ProcessDocumentsAsync();

        await FinishLateAsync(document, stale);

        Assert.Equal("ready", (await buyer.DocumentAsync(document)).State());
        Assert.Equal(1, await KnowledgeDatabase.ChunkCountAsync(app, document));
        Assert.Equal(2, await AttemptsAsync(document));
    }

    [Fact]
    public async Task ADocumentDeletedWhileProcessing_GetsNoChunks()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var document = (await buyer.UploadDocumentAsync(knowledgeBase, "gone.txt", TrainingFiles.Utf8("Soon deleted."), "text/plain")).Uuid();
        var claim = (await ClaimAndDieAsync(document))!.Value;

        await Http.AssertStatusAsync(await buyer.Client.DeleteAsync($"/api/training-documents/{document}"), HttpStatusCode.NoContent);
        await FinishLateAsync(document, claim);

        Assert.Equal(0, await KnowledgeDatabase.ChunkCountAsync(app, document));
        Assert.Equal(0, await KnowledgeDatabase.FullTextMatchesAsync(app, "deleted"));
    }

    [Fact]
    public async Task AFailedIndexing_LeavesNothingBehind_ForTheNextDocumentOfTheBatch()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var broken = (await buyer.AddTopicAsync(knowledgeBase, "Broken", "Indexing this one fails.")).Uuid();
        var next = (await buyer.AddTopicAsync(knowledgeBase, "Parking", "Parking is free on Sundays.")).Uuid();
        await using var scope = app.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<AgentMarket.Platform.Tenancy.CurrentTenant>().EnterSystemScope();
        var processor = scope.ServiceProvider.GetRequiredService<DocumentProcessor>();
        var indexer = scope.ServiceProvider.GetRequiredService<AgentMarket.Knowledge.Indexing.DocumentIndexer>();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var brokenClaim = (await processor.ClaimAsync(broken, CancellationToken.None))!.Value;
        var nextClaim = (await processor.ClaimAsync(next, CancellationToken.None))!.Value;

        // A chunk the database refuses (no text) makes the save fail, as an outage or a refused value would.
        await Assert.ThrowsAsync<DbUpdateException>(async () => await indexer.ReplaceChunksAsync(
            await db.TrainingDocuments.AsNoTracking().SingleAsync(d => d.Id == broken), brokenClaim, [new(null!, null)], false, CancellationToken.None));
        Assert.True(await indexer.ReplaceChunksAsync(
            await db.TrainingDocuments.AsNoTracking().SingleAsync(d => d.Id == next), nextClaim, [new("Parking is free on Sundays.", "Parking")], false, CancellationToken.None));

        Assert.Equal("ready", (await buyer.DocumentAsync(next)).State());
        Assert.Equal(1, await KnowledgeDatabase.ChunkCountAsync(app, next));
        Assert.Equal(0, await KnowledgeDatabase.ChunkCountAsync(app, broken));
    }
}

/// <summary>A server without poppler-utils: PDFs fail with a reason that says so, everything else works.</summary>
public sealed class NoPdfToolApp : KnowledgeApp
{
    protected override IEnumerable<KeyValuePair<string, string?>> KnowledgeSettings() => [new("Knowledge:PdfToTextPath", "/nonexistent/bin/pdftotext")];
}

public class MissingPdfToolTests(NoPdfToolApp app) : IClassFixture<NoPdfToolApp>
{
    [Fact]
    public async Task WithoutPdftotext_PdfsFailWithAClearReason_AndTextStillWorks()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var pdf = await buyer.UploadDocumentAsync(knowledgeBase, "manual.pdf", TrainingFiles.Pdf("Unreachable text."), "application/pdf");
        var text = await buyer.UploadDocumentAsync(knowledgeBase, "notes.txt", TrainingFiles.Utf8("Reachable text."), "text/plain");

        await app.ProcessDocumentsAsync();

        var failed = await buyer.DocumentAsync(pdf.Uuid());
        Assert.Equal(("failed", "PDF text extraction is not available on this server (pdftotext from poppler-utils is not installed)."),
            (failed.State(), failed.GetProperty("failure_reason").GetString()));
        Assert.Equal("ready", (await buyer.DocumentAsync(text.Uuid())).State());
    }
}
