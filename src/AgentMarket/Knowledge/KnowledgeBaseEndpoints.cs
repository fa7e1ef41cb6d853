using System.ComponentModel.DataAnnotations;
using AgentMarket.Identity;
using AgentMarket.Knowledge.Search;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Knowledge;

public sealed record KnowledgeBaseResponse(Guid Uuid, string Name, int Documents, int ReadyDocuments, int FailedDocuments, long StorageBytes, DateTime Created);
public sealed record CreateKnowledgeBaseRequest([property: Required, MinLength(1), MaxLength(200)] string Name);
public sealed record RenameKnowledgeBaseRequest([property: Required, MinLength(1), MaxLength(200)] string Name);
public sealed record KnowledgeSearchResult(string Text, double Score, string? Title, string Source, Guid Document, int Chunk);
public sealed record KnowledgeSearchResponse(IReadOnlyList<KnowledgeSearchResult> Items);

/// <summary>
/// <c>/api/knowledge-bases/</c>: create, list, rename and delete an organization's knowledge bases (subscriptions and
/// provider agents point to one by its uuid), and try a question against one, as the runtime would search it.
/// </summary>
static class KnowledgeBaseEndpoints
{
    const int MaxQuestionLength = 1_000;

    public static void MapKnowledgeBases(this IEndpointRouteBuilder routes)
    {
        // Reading and trying a base is for every member; changing what agents answer from is for managers, as on the Training tab.
        var bases = routes.MapGroup("/api/knowledge-bases").WithTags("Knowledge");
        bases.MapPost("/", CreateAsync).WithName("CreateKnowledgeBase").RequireOrganization(MembershipRole.Manager);
        bases.MapGet("/", ListAsync).WithName("ListKnowledgeBases").RequireOrganization();
        bases.MapGet("/{uuid:guid}", GetAsync).WithName("GetKnowledgeBase").RequireOrganization();
        bases.MapGet("/{uuid:guid}/search", SearchAsync).WithName("SearchKnowledgeBase").RequireOrganization();
        bases.MapPatch("/{uuid:guid}", RenameAsync).WithName("RenameKnowledgeBase").RequireOrganization(MembershipRole.Manager);
        bases.MapDelete("/{uuid:guid}", DeleteAsync).WithName("DeleteKnowledgeBase").RequireOrganization(MembershipRole.Manager);
    }

    static async Task<IResult> RenameAsync(Guid uuid, RenameKnowledgeBaseRequest request, KnowledgeBases bases, AppDbContext db, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.Name) || StoredText.HasNul(request.Name))
        {
            return ApiProblem.Invalid("name", "Give the knowledge base a name, without the NUL character (U+0000).");
        }
        var (_, failure) = await bases.RenameAsync(uuid, request.Name, ct);
        return failure is not null ? Problem(failure) : TypedResults.Ok(await Responses(db, db.KnowledgeBases.Where(k => k.Id == uuid)).FirstAsync(ct));
    }

    /// <summary>Deletes the base, its documents and their files; 409 <c>knowledge_base_in_use</c> while agents answer from it.</summary>
    static async Task<IResult> DeleteAsync(Guid uuid, KnowledgeBases bases, CancellationToken ct) =>
        await bases.DeleteAsync(uuid, ct) is { } failure ? Problem(failure) : TypedResults.NoContent();

    static ProblemHttpResult Problem(KnowledgeBases.Failure failure) =>
        ApiProblem.Create(failure.Status, failure.Code, failure.Message, failure.UsedBy is { } usedBy ? new Dictionary<string, object?> { ["used_by"] = usedBy } : null);

    static async Task<Results<Created<KnowledgeBaseResponse>, ProblemHttpResult>> CreateAsync(CreateKnowledgeBaseRequest request, CurrentTenant tenant, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        if (StoredText.HasNul(request.Name))
        {
            return ApiProblem.Invalid("name", "Remove the NUL character (U+0000): it cannot be stored.");
        }
        var knowledgeBase = new KnowledgeBase { OrganizationId = tenant.RequiredOrganizationId, Name = request.Name.Trim(), CreatedUtc = clock.GetUtcNow().UtcDateTime };
        db.KnowledgeBases.Add(knowledgeBase);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/knowledge-bases/{knowledgeBase.Id}",
            new KnowledgeBaseResponse(knowledgeBase.Id, knowledgeBase.Name, 0, 0, 0, 0, knowledgeBase.CreatedUtc));
    }

    static async Task<Ok<Page<KnowledgeBaseResponse>>> ListAsync(int? limit, int? offset, AppDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await PageRequest.From(limit, offset).ToPageAsync(Responses(db, db.KnowledgeBases.OrderByDescending(k => k.CreatedUtc).ThenBy(k => k.Id)), ct));

    static async Task<IResult> GetAsync(Guid uuid, AppDbContext db, CancellationToken ct) =>
        await Responses(db, db.KnowledgeBases.Where(k => k.Id == uuid)).FirstOrDefaultAsync(ct) is { } response ? TypedResults.Ok(response) : ApiProblem.NotFound("knowledge base");

    static async Task<IResult> SearchAsync(Guid uuid, [FromQuery(Name = "q")] string? question, [FromQuery(Name = "top_k")] int? topK,
        CurrentTenant tenant, AppDbContext db, KnowledgeSearch search, CancellationToken ct)
    {
        var organization = tenant.RequiredOrganizationId;
        if (!await db.KnowledgeBases.AnyAsync(k => k.Id == uuid && k.OrganizationId == organization, ct))
        {
            return ApiProblem.NotFound("knowledge base");
        }
        if (string.IsNullOrWhiteSpace(question) || question.Length > MaxQuestionLength)
        {
            return ApiProblem.Invalid("q", $"Ask a question of 1 to {MaxQuestionLength} characters.");
        }
        if (topK is < 1 or > KnowledgeSearch.MaxTopK)
        {
            return ApiProblem.Invalid("top_k", $"Use 1 to {KnowledgeSearch.MaxTopK}.");
        }
        var hits = await search.SearchAsync([new KnowledgeSource(organization, uuid)], question, topK ?? 5, ct);
        return TypedResults.Ok(new KnowledgeSearchResponse(hits.Select(h => new KnowledgeSearchResult(h.Text, h.Score, h.Title, h.Source, h.DocumentId, h.Ordinal)).ToList()));
    }

    static IQueryable<KnowledgeBaseResponse> Responses(AppDbContext db, IQueryable<KnowledgeBase> knowledgeBases) =>
        knowledgeBases.AsNoTracking().Select(k => new KnowledgeBaseResponse(
            k.Id,
            k.Name,
            db.TrainingDocuments.Count(d => d.KnowledgeBaseId == k.Id),
            db.TrainingDocuments.Count(d => d.KnowledgeBaseId == k.Id && d.State == TrainingDocumentState.Ready),
            db.TrainingDocuments.Count(d => d.KnowledgeBaseId == k.Id && d.State == TrainingDocumentState.Failed),
            db.TrainingDocuments.Where(d => d.KnowledgeBaseId == k.Id).Sum(d => d.SizeBytes),
            k.CreatedUtc));
}
