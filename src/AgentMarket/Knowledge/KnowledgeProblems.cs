using AgentMarket.Platform.Errors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentMarket.Knowledge;

/// <summary>The knowledge base's stable problem codes (SPEC §10); clients switch on them.</summary>
public static class KnowledgeProblems
{
    /// <summary>415: the file is not TXT, Markdown, HTML, PDF, DOCX or CSV, judged by its content.</summary>
    public const string UnsupportedDocumentType = "unsupported_document_type";

    /// <summary>422: the file is of a supported type but cannot be read safely (damaged, or a zip bomb).</summary>
    public const string UnreadableDocument = "unreadable_document";

    /// <summary>403: the organization's plan allows no more training documents.</summary>
    public const string DocumentLimitReached = "document_limit_reached";

    /// <summary>403: the organization's plan has no storage left for this document.</summary>
    public const string StorageLimitReached = "storage_limit_reached";

    /// <summary>409: the document is being processed; retry once it is ready or failed.</summary>
    public const string DocumentProcessing = "document_processing";

    /// <summary>409: agents answer from the knowledge base (<c>used_by</c> names them); it is not deleted.</summary>
    public const string KnowledgeBaseInUse = "knowledge_base_in_use";
}

/// <summary>An expected refusal of a knowledge-base operation, mapped to a problem response by the endpoint.</summary>
sealed record KnowledgeFailure(int Status, string Code, string Message, IDictionary<string, object?>? Extensions = null)
{
    public ProblemHttpResult ToProblem() => ApiProblem.Create(Status, Code, Message, Extensions);

    public static KnowledgeFailure KnowledgeBaseNotFound { get; } = new(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The knowledge base was not found.");
}
