using AgentMarket.Platform.Data;
using Microsoft.Extensions.Options;

namespace AgentMarket.Knowledge;

/// <summary>
/// Where uploaded training files live: <c>{Storage:DataDirectory}/knowledge/{organization}/{document}</c>. Paths are
/// built from ids only, never from the uploader's file name.
/// </summary>
sealed class DocumentFiles(IOptions<StorageOptions> storage)
{
    readonly string _root = Path.Combine(Path.GetFullPath(storage.Value.DataDirectory), "knowledge");

    public string PathOf(Guid organizationId, Guid documentId) =>
        Path.Combine(_root, organizationId.ToString("N"), documentId.ToString("N"));

    /// <summary>
    /// The text extracted from the file when it was processed. A flow's File node reads it instead of extracting the file
    /// again on every run (a large PDF would start pdftotext per run).
    /// </summary>
    public string TextPathOf(Guid organizationId, Guid documentId) => PathOf(organizationId, documentId) + ".txt";

    /// <summary>Writes a document's extracted text through a temporary file, so a run never reads half of it.</summary>
    public async Task WriteTextAsync(Guid organizationId, Guid documentId, string text, CancellationToken cancellationToken)
    {
        var path = TextPathOf(organizationId, documentId);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            await File.WriteAllTextAsync(temporary, text, cancellationToken);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            DeleteIfPresent(temporary);
        }
    }

    /// <summary>
    /// Up to <paramref name="maxCharacters"/> of a document's extracted text, or null when it has none stored (a document
    /// processed before the text was kept).
    /// </summary>
    public async Task<string?> ReadTextAsync(Guid organizationId, Guid documentId, int maxCharacters, CancellationToken cancellationToken)
    {
        StreamReader reader;
        try
        {
            reader = new StreamReader(TextPathOf(organizationId, documentId));
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        using (reader)
        {
            var buffer = new char[maxCharacters];
            var read = await reader.ReadBlockAsync(buffer.AsMemory(), cancellationToken);
            return new string(buffer, 0, read);
        }
    }

    /// <summary>
    /// Where a file being received is written (its folder created): it is moved to <see cref="PathOf"/> only in the
    /// transaction that records its row.
    /// </summary>
    public string PrepareIncomingPath(Guid organizationId, Guid documentId)
    {
        var path = PathOf(organizationId, documentId) + ".incoming";
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }

    public static void DeleteIfPresent(string path)
    {
        try
        {
            File.Delete(path); // no exception when the file does not exist
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
