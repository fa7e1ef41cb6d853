using System.Security.Cryptography;
using System.Text;
using AgentMarket.Knowledge.Extraction;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Knowledge;

/// <summary>
/// Adds training documents: checks the knowledge base, the type and the plan's limits, stores the file and records the
/// row queued for the processor. All or nothing: a refused or failed upload leaves neither a row nor a file.
/// </summary>
sealed class TrainingDocumentIntake(AppDbContext db, KnowledgeQuota quota, DocumentFiles files, TimeProvider clock, Platform.Ui.UploadLimits uploads)
{
    const int MaxFileNameLength = 255;

    static readonly KnowledgeFailure UnsupportedType = new(StatusCodes.Status415UnsupportedMediaType, KnowledgeProblems.UnsupportedDocumentType,
        "Upload a TXT, Markdown, HTML, PDF, DOCX or CSV file; this file's content is none of them.");

    public async Task<(TrainingDocument? Document, KnowledgeFailure? Failure)> AddFileAsync(Guid organizationId, Guid knowledgeBaseId, IFormFile file, CancellationToken cancellationToken)
    {
        if (!await KnowledgeBaseExistsAsync(organizationId, knowledgeBaseId, cancellationToken))
        {
            return (null, KnowledgeFailure.KnowledgeBaseNotFound);
        }
        var limit = uploads.For(Platform.Ui.UploadKind.Document);
        if (file.Length > limit.MaxBytes)
        {
            return (null, new KnowledgeFailure(StatusCodes.Status413PayloadTooLarge, ProblemCodes.PayloadTooLarge,
                limit.TooLarge, new Dictionary<string, object?> { ["max_bytes"] = limit.MaxBytes }));
        }
        if (file.Length == 0)
        {
            return (null, Invalid("file", "The file is empty."));
        }
        var name = CleanFileName(file.FileName);
        await using var upload = file.OpenReadStream();
        var head = new byte[FileTypeDetector.SniffBytes];
        var headLength = await upload.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
        if (FileTypeDetector.Detect(head.AsSpan(0, headLength), name, file.ContentType) is not { } type)
        {
            return (null, UnsupportedType);
        }

        var documentId = Guid.CreateVersion7();
        var incoming = files.PrepareIncomingPath(organizationId, documentId);
        try
        {
            string hash;
            await using (var stored = new FileStream(incoming, FileMode.CreateNew, FileAccess.ReadWrite))
            {
                using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                sha.AppendData(head, 0, headLength);
                await stored.WriteAsync(head.AsMemory(0, headLength), cancellationToken);
                var buffer = new byte[81920];
                int read;
                while ((read = await upload.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    sha.AppendData(buffer, 0, read);
                    await stored.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
                hash = Convert.ToHexStringLower(sha.GetHashAndReset());
                if (type == TrainingFileType.Docx && CheckWordPackage(stored) is { } refusal)
                {
                    return (null, refusal);
                }
            }
            var document = new TrainingDocument
            {
                Id = documentId,
                OrganizationId = organizationId,
                KnowledgeBaseId = knowledgeBaseId,
                Kind = TrainingDocumentKind.File,
                Title = name,
                ContentType = file.ContentType is { Length: > 0 and <= 200 } contentType ? contentType : null,
                FileType = type,
                SizeBytes = file.Length,
                ContentHash = hash,
                State = TrainingDocumentState.Queued,
                CreatedUtc = clock.GetUtcNow().UtcDateTime,
            };
            return await RecordAsync(document, incoming, reuseIdentical: false, cancellationToken);
        }
        finally
        {
            DocumentFiles.DeleteIfPresent(incoming);
        }
    }

    /// <summary>Adds a Q&amp;A pair or a topic; with <paramref name="reuseIdentical"/>, an identical one already in the knowledge base is returned instead.</summary>
    public async Task<(TrainingDocument? Document, KnowledgeFailure? Failure)> AddTextAsync(
        Guid organizationId, Guid knowledgeBaseId, TrainingDocumentKind kind, string title, string body, bool reuseIdentical, CancellationToken cancellationToken)
    {
        // Every caller (the API, the Training tab, a flow's ingestion) stores these as text, which PostgreSQL refuses with U+0000.
        if (StoredText.HasNul(title) || StoredText.HasNul(body))
        {
            var field = (kind, StoredText.HasNul(title)) switch
            {
                (TrainingDocumentKind.Qa, true) => "question",
                (TrainingDocumentKind.Qa, false) => "answer",
                (_, true) => "title",
                _ => "text",
            };
            return (null, Invalid(field, "Remove the NUL character (U+0000): it cannot be stored."));
        }
        if (!await KnowledgeBaseExistsAsync(organizationId, knowledgeBaseId, cancellationToken))
        {
            return (null, KnowledgeFailure.KnowledgeBaseNotFound);
        }
        var document = new TrainingDocument
        {
            OrganizationId = organizationId,
            KnowledgeBaseId = knowledgeBaseId,
            Kind = kind,
            Title = title,
            Body = body,
            SizeBytes = Encoding.UTF8.GetByteCount(title) + Encoding.UTF8.GetByteCount(body),
            ContentHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{kind}\n{title}\n{body}"))),
            State = TrainingDocumentState.Queued,
            CreatedUtc = clock.GetUtcNow().UtcDateTime,
        };
        return await RecordAsync(document, incomingFile: null, reuseIdentical, cancellationToken);
    }

    /// <summary>Under the organization's quota lock: check the plan, insert the row, put the file in place, commit.</summary>
    async Task<(TrainingDocument? Document, KnowledgeFailure? Failure)> RecordAsync(TrainingDocument document, string? incomingFile, bool reuseIdentical, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await quota.LockAsync(document.OrganizationId, cancellationToken);
        if (reuseIdentical && await db.TrainingDocuments.AsNoTracking()
                .FirstOrDefaultAsync(d => d.KnowledgeBaseId == document.KnowledgeBaseId && d.ContentHash == document.ContentHash && d.Kind == document.Kind, cancellationToken) is { } identical)
        {
            return (identical, null);
        }
        if (KnowledgeQuota.Refusal(await quota.UsageAsync(document.OrganizationId, cancellationToken), document.SizeBytes) is { } refusal)
        {
            return (null, refusal);
        }
        db.TrainingDocuments.Add(document);
        await db.SaveChangesAsync(cancellationToken);
        var storedFile = files.PathOf(document.OrganizationId, document.Id);
        try
        {
            if (incomingFile is not null)
            {
                File.Move(incomingFile, storedFile);
            }
            await transaction.CommitAsync(cancellationToken);
        }
        catch
        {
            if (incomingFile is not null)
            {
                DocumentFiles.DeleteIfPresent(storedFile);
            }
            throw;
        }
        return (document, null);
    }

    /// <summary>Zip bombs and zips that are not Word documents are refused from the zip's directory, before anything inflates them.</summary>
    static KnowledgeFailure? CheckWordPackage(Stream zip)
    {
        try
        {
            return DocxText.CheckPackage(zip) ? null : UnsupportedType;
        }
        catch (UnreadableDocumentException unreadable)
        {
            return new KnowledgeFailure(StatusCodes.Status422UnprocessableEntity, KnowledgeProblems.UnreadableDocument, unreadable.Message);
        }
    }

    Task<bool> KnowledgeBaseExistsAsync(Guid organizationId, Guid knowledgeBaseId, CancellationToken cancellationToken) =>
        db.KnowledgeBases.AnyAsync(k => k.Id == knowledgeBaseId && k.OrganizationId == organizationId, cancellationToken);

    /// <summary>The name without any path the client sent, without control characters, at most 255 characters.</summary>
    static string CleanFileName(string fileName)
    {
        var name = new string(Path.GetFileName(fileName.Replace('\\', '/')).Where(c => !char.IsControl(c)).ToArray()).Trim();
        name = name.Length > MaxFileNameLength ? name[..MaxFileNameLength] : name;
        return name.Length > 0 ? name : "document";
    }

    static KnowledgeFailure Invalid(string field, string message) =>
        new(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "One or more fields are invalid.",
            new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field] = [message] } });
}
