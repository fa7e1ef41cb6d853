using System.ComponentModel.DataAnnotations;
using System.Linq.Expressions;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgentMarket.Identity;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Knowledge;

/// <summary>
/// A Q&amp;A pair or a topic, sent as JSON. Unknown members are refused rather than ignored, so a misspelt field
/// ("anwser") is an error instead of a silently empty document.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CreateTextDocumentRequest(
    [property: Required] Guid? KnowledgeBase,
    [property: Required] TrainingDocumentKind? Kind,
    [property: MaxLength(1_000)] string? Question,
    [property: MaxLength(20_000)] string? Answer,
    [property: MaxLength(300)] string? Title,
    [property: MaxLength(200_000)] string? Text) : IValidatableObject
{
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        switch (Kind)
        {
            case TrainingDocumentKind.File:
                yield return new ValidationResult("Upload files as multipart/form-data with the fields knowledge_base and file.", [nameof(Kind)]);
                break;
            case TrainingDocumentKind.Qa:
                if (string.IsNullOrWhiteSpace(Question))
                {
                    yield return new ValidationResult("A Q&A pair needs a question.", [nameof(Question)]);
                }
                if (string.IsNullOrWhiteSpace(Answer))
                {
                    yield return new ValidationResult("A Q&A pair needs an answer.", [nameof(Answer)]);
                }
                break;
            case TrainingDocumentKind.Topic:
                if (string.IsNullOrWhiteSpace(Title))
                {
                    yield return new ValidationResult("A topic needs a title.", [nameof(Title)]);
                }
                if (string.IsNullOrWhiteSpace(Text))
                {
                    yield return new ValidationResult("A topic needs a text.", [nameof(Text)]);
                }
                break;
        }
    }
}

/// <summary>
/// A training document. Kind-specific fields are null for other kinds: <c>file_name</c>, <c>content_type</c> and
/// <c>file_type</c> for files, <c>question</c> and <c>answer</c> for Q&amp;A pairs, <c>title</c> and <c>text</c> for
/// topics (<c>text</c> only when one document is requested: lists leave it out).
/// </summary>
public sealed record TrainingDocumentResponse(
    Guid Uuid, Guid KnowledgeBase, TrainingDocumentKind Kind, TrainingDocumentState State, string? FailureReason,
    string? FileName, string? ContentType, TrainingFileType? FileType, string? Question, string? Answer, string? Title, string? Text,
    long SizeBytes, int ChunkCount, bool Truncated, DateTime Created, DateTime? Processed);

/// <summary>
/// <c>/api/training-documents/</c>: upload files (multipart) or add Q&amp;A pairs and topics (JSON) to a knowledge base,
/// list and read them with their processing state, process one again, delete one with its chunks.
/// </summary>
static class TrainingDocumentEndpoints
{
    /// <summary>JSON documents (the longest is a 200,000-character topic) stay far below this.</summary>
    const int MaxJsonBytes = 2 * 1024 * 1024;

    public static void MapTrainingDocuments(this IEndpointRouteBuilder routes)
    {
        // Members read; adding, removing and reprocessing documents changes agents' answers, so managers do it (as on the Training tab).
        var documents = routes.MapGroup("/api/training-documents").WithTags("Knowledge");
        documents.MapPost("/", CreateAsync).WithName("CreateTrainingDocument").RequireOrganization(MembershipRole.Manager)
            .Accepts<CreateTextDocumentRequest>("application/json", "multipart/form-data")
            .WithSummary("Upload a file (multipart/form-data: knowledge_base, file) or add a Q&A pair or topic (JSON)")
            .WithUploadLimit(Platform.Ui.UploadKind.Document);
        documents.MapGet("/", ListAsync).WithName("ListTrainingDocuments").RequireOrganization();
        documents.MapGet("/{uuid:guid}", GetAsync).WithName("GetTrainingDocument").RequireOrganization();
        documents.MapDelete("/{uuid:guid}", DeleteAsync).WithName("DeleteTrainingDocument").RequireOrganization(MembershipRole.Manager);
        documents.MapPost("/{uuid:guid}/process", ProcessAsync).WithName("ProcessTrainingDocument").RequireOrganization(MembershipRole.Manager);
    }

    static async Task<IResult> CreateAsync(HttpRequest request, CurrentTenant tenant, TrainingDocumentIntake intake, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken ct)
    {
        var organization = tenant.RequiredOrganizationId;
        if (request.HasFormContentType)
        {
            return await CreateFromFormAsync(request, organization, intake, ct);
        }
        if (request.HasJsonContentType())
        {
            return await CreateFromJsonAsync(request, organization, intake, json.Value.SerializerOptions, ct);
        }
        return ApiProblem.Create(StatusCodes.Status415UnsupportedMediaType, ProblemCodes.UnsupportedMediaType,
            "Send a file as multipart/form-data (fields knowledge_base and file), or a Q&A pair or topic as JSON.");
    }

    static async Task<IResult> CreateFromFormAsync(HttpRequest request, Guid organization, TrainingDocumentIntake intake, CancellationToken ct)
    {
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(ct);
        }
        catch (InvalidDataException)
        {
            return ApiProblem.BadRequest(ProblemCodes.BadRequest, "The multipart body is malformed.");
        }
        if (!Guid.TryParse(form["knowledge_base"], out var knowledgeBase))
        {
            return ApiProblem.Invalid("knowledge_base", "Give the uuid of the knowledge base to add the file to.");
        }
        if (form.Files.Count != 1 || form.Files.GetFile("file") is not { } file)
        {
            return ApiProblem.Invalid("file", "Attach exactly one document, as the field named file.");
        }
        var (document, failure) = await intake.AddFileAsync(organization, knowledgeBase, file, ct);
        return failure is not null ? failure.ToProblem() : Created(document!);
    }

    static async Task<IResult> CreateFromJsonAsync(HttpRequest request, Guid organization, TrainingDocumentIntake intake, JsonSerializerOptions json, CancellationToken ct)
    {
        var (body, problem) = await ReadJsonAsync(request, json, ct);
        if (problem is not null)
        {
            return problem;
        }
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(body!, new ValidationContext(body!), results, validateAllProperties: true))
        {
            return TypedResults.ValidationProblem(results
                .SelectMany(r => r.MemberNames.DefaultIfEmpty("").Select(member => (Member: member, Message: r.ErrorMessage ?? "Invalid.")))
                .GroupBy(e => e.Member)
                .ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray()));
        }
        var (title, text) = body!.Kind == TrainingDocumentKind.Qa ? (body.Question!.Trim(), body.Answer!.Trim()) : (body.Title!.Trim(), body.Text!.Trim());
        var (document, failure) = await intake.AddTextAsync(organization, body.KnowledgeBase!.Value, body.Kind!.Value, title, text, reuseIdentical: false, ct);
        return failure is not null ? failure.ToProblem() : Created(document!);
    }

    /// <summary>
    /// Reads the JSON body itself (the endpoint also takes multipart uploads, so it cannot bind a body parameter) with
    /// the same answers the framework gives elsewhere: 413 past the cap, 400 <c>malformed_json</c> for what does not parse.
    /// </summary>
    static async Task<(CreateTextDocumentRequest? Body, IResult? Problem)> ReadJsonAsync(HttpRequest request, JsonSerializerOptions json, CancellationToken ct)
    {
        var tooLarge = ApiProblem.Create(StatusCodes.Status413PayloadTooLarge, ProblemCodes.PayloadTooLarge, "The request body is too large.");
        if (request.ContentLength > MaxJsonBytes)
        {
            return (null, tooLarge);
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxJsonBytes)
            {
                return (null, tooLarge);
            }
            buffer.Write(chunk, 0, read);
        }
        buffer.Position = 0;
        try
        {
            return JsonSerializer.Deserialize<CreateTextDocumentRequest>(buffer, json) is { } body
                ? (body, null)
                : (null, ApiProblem.BadRequest(ProblemCodes.MalformedJson, "The request body must be a JSON object."));
        }
        catch (JsonException exception)
        {
            var where = exception.Path is { Length: > 0 } path ? $" at '{path}'" : "";
            return (null, ApiProblem.BadRequest(ProblemCodes.MalformedJson, $"The request body is not valid JSON, or has an unknown or wrongly typed member{where}."));
        }
    }

    static async Task<IResult> ListAsync([FromQuery(Name = "knowledge_base")] Guid? knowledgeBase, string? state, int? limit, int? offset, AppDbContext db, CancellationToken ct)
    {
        TrainingDocumentState? stateFilter = null;
        if (state is not null)
        {
            if (!EnumNames<TrainingDocumentState>.TryParse(state, out var parsed))
            {
                return ApiProblem.Invalid("state", "Use one of: queued, processing, ready, failed.");
            }
            stateFilter = parsed;
        }
        var query = db.TrainingDocuments.AsNoTracking()
            .Where(d => knowledgeBase == null || d.KnowledgeBaseId == knowledgeBase)
            .Where(d => stateFilter == null || d.State == stateFilter)
            .OrderByDescending(d => d.CreatedUtc).ThenByDescending(d => d.Id)
            .Select(ToResponse(withTopicText: false));
        return TypedResults.Ok(await PageRequest.From(limit, offset).ToPageAsync(query, ct));
    }

    static async Task<IResult> GetAsync(Guid uuid, AppDbContext db, CancellationToken ct) =>
        await FindAsync(db, uuid, ct) is { } document ? TypedResults.Ok(document) : ApiProblem.NotFound("training document");

    static async Task<IResult> DeleteAsync(Guid uuid, TrainingDocuments documents, CancellationToken ct) =>
        await documents.DeleteAsync(uuid, ct) ? TypedResults.NoContent() : ApiProblem.NotFound("training document");

    /// <summary>Queues the document again (a retry after a failure, or a re-process); 409 while a processor holds it.</summary>
    static async Task<IResult> ProcessAsync(Guid uuid, TrainingDocuments documents, AppDbContext db, CancellationToken ct) =>
        await documents.ProcessAgainAsync(uuid, ct) switch
        {
            TrainingDocuments.Requeue.Queued => TypedResults.Accepted($"/api/training-documents/{uuid}", await FindAsync(db, uuid, ct)),
            TrainingDocuments.Requeue.BeingProcessed => ApiProblem.Conflict(KnowledgeProblems.DocumentProcessing, "The document is being processed; try again once it is ready or failed."),
            _ => ApiProblem.NotFound("training document"),
        };

    static Task<TrainingDocumentResponse?> FindAsync(AppDbContext db, Guid uuid, CancellationToken ct) =>
        db.TrainingDocuments.AsNoTracking().Where(d => d.Id == uuid).Select(ToResponse(withTopicText: true)).FirstOrDefaultAsync(ct);

    static readonly Func<TrainingDocument, TrainingDocumentResponse> ResponseOf = ToResponse(withTopicText: true).Compile();

    static Created<TrainingDocumentResponse> Created(TrainingDocument document) =>
        TypedResults.Created($"/api/training-documents/{document.Id}", ResponseOf(document));

    static Expression<Func<TrainingDocument, TrainingDocumentResponse>> ToResponse(bool withTopicText) => d => new TrainingDocumentResponse(
        d.Id, d.KnowledgeBaseId, d.Kind, d.State, d.FailureReason,
        d.Kind == TrainingDocumentKind.File ? d.Title : null,
        d.ContentType,
        d.FileType,
        d.Kind == TrainingDocumentKind.Qa ? d.Title : null,
        d.Kind == TrainingDocumentKind.Qa ? d.Body : null,
        d.Kind == TrainingDocumentKind.Topic ? d.Title : null,
        withTopicText && d.Kind == TrainingDocumentKind.Topic ? d.Body : null,
        d.SizeBytes, d.ChunkCount, d.Truncated, d.CreatedUtc, d.ProcessedUtc);
}
