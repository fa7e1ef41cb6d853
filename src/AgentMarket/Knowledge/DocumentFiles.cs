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
