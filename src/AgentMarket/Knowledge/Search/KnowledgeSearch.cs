using System.Linq.Expressions;
using AgentMarket.Knowledge.Indexing;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Knowledge.Search;

/// <summary>A knowledge base together with the organization that must own it: every search names both.</summary>
public sealed record KnowledgeSource(Guid OrganizationId, Guid KnowledgeBaseId);

/// <summary>A chunk found by a search.</summary>
/// <param name="Score">Reciprocal-rank score, higher is better; comparable only within one search.</param>
public sealed record KnowledgeHit(long ChunkId, Guid DocumentId, Guid KnowledgeBaseId, int Ordinal, string Text, string? Title, string Source, double Score);

/// <summary>
/// Top-k search over the chunks of the given knowledge bases, and of no others: every query carries the
/// (knowledge base, organization) pairs as a filter, whatever tenant scope the caller runs in. Full text (SQLite FTS5 /
/// PostgreSQL tsvector) ranks candidates; when embeddings are configured, the nearest chunks by cosine similarity are
/// ranked too and both lists are merged by reciprocal-rank fusion. Scores are derived from ranks only, so raw
/// full-text statistics (on SQLite computed over the whole index) are never handed out.
/// </summary>
sealed class KnowledgeSearch(AppDbContext db, Embedder embedder, ILogger<KnowledgeSearch> logger)
{
    public const int MaxTopK = 50;

    /// <summary>Candidates taken from each ranking before fusion.</summary>
    const int CandidatesPerRanking = 50;

    /// <summary>Reciprocal-rank fusion's damping constant (the value its authors found robust).</summary>
    const int RankConstant = 60;

    /// <summary>Chunks compared by vector per search; past this the nearest-neighbour scan stops (no vector index here).</summary>
    const int MaxVectorScan = 50_000;

    public async Task<IReadOnlyList<KnowledgeHit>> SearchAsync(IReadOnlyList<KnowledgeSource> sources, string question, int topK, CancellationToken cancellationToken)
    {
        if (sources.Count == 0 || topK <= 0)
        {
            return [];
        }
        topK = Math.Min(topK, MaxTopK);
        var query = FullTextQuery.From(question);
        var rankings = new List<IReadOnlyList<long>>();
        if (!query.IsEmpty)
        {
            rankings.Add(await FullTextAsync(sources, query, cancellationToken));
        }
        if (await QueryVectorAsync(question, cancellationToken) is { } vector)
        {
            rankings.Add(await NearestAsync(sources, vector, cancellationToken));
        }
        var ranked = Fuse(rankings).Take(topK).ToList();
        if (ranked.Count == 0)
        {
            return [];
        }
        var ids = ranked.Select(r => r.Id).ToList();
        var chunks = await Within(sources).AsNoTracking().Where(c => ids.Contains(c.Id))
            .Select(c => new { c.Id, c.DocumentId, c.KnowledgeBaseId, c.Ordinal, c.Text, c.Title, c.Source })
            .ToDictionaryAsync(c => c.Id, cancellationToken);
        var hits = new List<KnowledgeHit>(ranked.Count);
        foreach (var (id, score) in ranked)
        {
            if (chunks.TryGetValue(id, out var c))
            {
                hits.Add(new KnowledgeHit(c.Id, c.DocumentId, c.KnowledgeBaseId, c.Ordinal, c.Text, c.Title, c.Source, score));
            }
        }
        return hits;
    }

    /// <summary>Chunk ids by full-text relevance, best first.</summary>
    async Task<IReadOnlyList<long>> FullTextAsync(IReadOnlyList<KnowledgeSource> sources, FullTextQuery query, CancellationToken cancellationToken)
    {
        IQueryable<FullTextMatch> matches;
        if (db.Database.IsNpgsql())
        {
            var tsQuery = query.ToPostgresTsQuery();
            matches = db.Database.SqlQuery<FullTextMatch>($"""
                SELECT id AS "Id", ts_rank_cd(search_vector, to_tsquery('english', {tsQuery}))::float8 AS "Relevance"
                FROM knowledge_chunks WHERE search_vector @@ to_tsquery('english', {tsQuery})
                """);
        }
        else
        {
            // bm25 is lower-is-better; the title column weighs twice the text.
            var match = query.ToSqliteMatch();
            matches = db.Database.SqlQuery<FullTextMatch>($"""
                SELECT rowid AS "Id", -bm25(knowledge_chunks_fts, 2.0, 1.0) AS "Relevance"
                FROM knowledge_chunks_fts WHERE knowledge_chunks_fts MATCH {match}
                """);
        }
        return await (from m in matches
                      join c in Within(sources) on m.Id equals c.Id
                      orderby m.Relevance descending, c.Id
                      select c.Id)
            .Take(CandidatesPerRanking)
            .ToListAsync(cancellationToken);
    }

    /// <summary>Chunk ids by cosine similarity to the question, best first.</summary>
    async Task<IReadOnlyList<long>> NearestAsync(IReadOnlyList<KnowledgeSource> sources, float[] vector, CancellationToken cancellationToken)
    {
        var nearest = new PriorityQueue<long, float>(); // a min-heap of the best so far: the worst of them is dequeued first
        var stored = Within(sources).AsNoTracking().Where(c => c.Embedding != null).OrderBy(c => c.Id).Take(MaxVectorScan)
            .Select(c => new { c.Id, c.Embedding }).AsAsyncEnumerable();
        await foreach (var chunk in stored.WithCancellation(cancellationToken))
        {
            var similarity = Vectors.Similarity(chunk.Embedding!, vector);
            if (nearest.Count < CandidatesPerRanking)
            {
                nearest.Enqueue(chunk.Id, similarity);
            }
            else if (nearest.TryPeek(out _, out var worst) && similarity > worst)
            {
                nearest.DequeueEnqueue(chunk.Id, similarity);
            }
        }
        var ranked = new List<(long Id, float Similarity)>(nearest.Count);
        while (nearest.TryDequeue(out var id, out var similarity))
        {
            ranked.Add((id, similarity));
        }
        return ranked.OrderByDescending(r => r.Similarity).ThenBy(r => r.Id).Select(r => r.Id).ToList();
    }

    /// <summary>The question's embedding, or null without embeddings; an unavailable endpoint degrades to full text.</summary>
    async Task<float[]?> QueryVectorAsync(string question, CancellationToken cancellationToken)
    {
        if (!embedder.IsEnabled || string.IsNullOrWhiteSpace(question))
        {
            return null;
        }
        try
        {
            return (await embedder.EmbedAsync([question], cancellationToken))[0];
        }
        catch (EmbeddingUnavailableException exception)
        {
            logger.LogWarning(exception, "Embedding a search query failed; searching by full text only");
            return null;
        }
    }

    /// <summary>Reciprocal-rank fusion: Σ 1 / (k + rank) over the rankings a chunk appears in.</summary>
    static IEnumerable<(long Id, double Score)> Fuse(List<IReadOnlyList<long>> rankings)
    {
        var scores = new Dictionary<long, double>();
        foreach (var ranking in rankings)
        {
            for (var rank = 0; rank < ranking.Count; rank++)
            {
                scores[ranking[rank]] = scores.GetValueOrDefault(ranking[rank]) + (1.0 / (RankConstant + rank + 1));
            }
        }
        return scores.OrderByDescending(s => s.Value).ThenBy(s => s.Key).Select(s => (s.Key, Math.Round(s.Value, 6)));
    }

    /// <summary>Chunks of the sources only: (knowledge base A and its organization) or (B and its organization)…</summary>
    IQueryable<KnowledgeChunk> Within(IReadOnlyList<KnowledgeSource> sources)
    {
        var chunk = Expression.Parameter(typeof(KnowledgeChunk), "c");
        Expression? any = null;
        foreach (var source in sources)
        {
            Expression<Func<KnowledgeChunk, bool>> one = c => c.KnowledgeBaseId == source.KnowledgeBaseId && c.OrganizationId == source.OrganizationId;
            var body = new ParameterReplacer(one.Parameters[0], chunk).Visit(one.Body);
            any = any is null ? body : Expression.OrElse(any, body);
        }
        return db.KnowledgeChunks.Where(Expression.Lambda<Func<KnowledgeChunk, bool>>(any!, chunk));
    }

    sealed class ParameterReplacer(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : node;
    }
}

/// <summary>A full-text match as the raw SQL returns it.</summary>
sealed class FullTextMatch
{
    public long Id { get; init; }
    public double Relevance { get; init; }
}
