using AgentMarket.Platform.Data;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Knowledge;

/// <summary>
/// Looks behind the API where a test must prove something the API cannot show: files on disk, chunk rows, and the
/// full-text index itself (an FTS5 entry could outlive its row if a trigger were missing).
/// </summary>
public static class KnowledgeDatabase
{
    public static string StoredFile(AgentMarketApp app, Guid organization, Guid document) =>
        Path.Combine(app.Database.Directory, "knowledge", organization.ToString("N"), document.ToString("N"));

    public static IReadOnlyList<string> StoredFiles(AgentMarketApp app, Guid organization)
    {
        var folder = Path.Combine(app.Database.Directory, "knowledge", organization.ToString("N"));
        return Directory.Exists(folder) ? Directory.GetFiles(folder) : [];
    }

    public static Task<int> ChunkCountAsync(AgentMarketApp app, Guid document) =>
        app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().KnowledgeChunks.CountAsync(c => c.DocumentId == document));

    /// <summary>Entries of the full-text index (not of the chunk table) matching one word, across every tenant.</summary>
    public static Task<int> FullTextMatchesAsync(AgentMarketApp app, string word) =>
        app.InScopeAsync(null, services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            return db.Database.IsNpgsql()
                ? db.Database.SqlQuery<int>($"SELECT count(*)::int AS \"Value\" FROM knowledge_chunks WHERE search_vector @@ plainto_tsquery('english', {word})").SingleAsync()
                : db.Database.SqlQuery<int>($"SELECT count(*) AS \"Value\" FROM knowledge_chunks_fts WHERE knowledge_chunks_fts MATCH {word}").SingleAsync();
        });
}
