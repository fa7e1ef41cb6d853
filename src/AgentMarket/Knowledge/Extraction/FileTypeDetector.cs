using System.Text;

namespace AgentMarket.Knowledge.Extraction;

/// <summary>
/// Decides what an uploaded file is from its first bytes. PDF and DOCX are recognised by their signatures whatever the
/// file is called; anything else must be text (no NUL bytes, almost no control characters), and only then do the
/// extension and the declared content type choose between plain text, Markdown, HTML and CSV. A file named .pdf or
/// .docx that is not one, and binary content under any name, is unsupported.
/// </summary>
static class FileTypeDetector
{
    /// <summary>How many leading bytes <see cref="Detect"/> needs.</summary>
    public const int SniffBytes = 8192;

    static readonly byte[] PdfSignature = "%PDF-"u8.ToArray();
    static readonly byte[] ZipSignature = [0x50, 0x4B, 0x03, 0x04];

    public static TrainingFileType? Detect(ReadOnlySpan<byte> head, string fileName, string? contentType)
    {
        var extension = Path.GetExtension(fileName).ToLowerInvariant();
        var mediaType = (contentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        if (head.StartsWith(PdfSignature))
        {
            return TrainingFileType.Pdf;
        }
        if (head.StartsWith(ZipSignature))
        {
            // Whether the zip is a Word document (rather than XLSX or a plain archive) is decided by DocxText.CheckPackage.
            return TrainingFileType.Docx;
        }
        if (extension is ".pdf" or ".docx" || !LooksLikeText(head))
        {
            return null;
        }
        return extension switch
        {
            ".txt" or ".text" => TrainingFileType.Text,
            ".md" or ".markdown" => TrainingFileType.Markdown,
            ".html" or ".htm" or ".xhtml" => TrainingFileType.Html,
            ".csv" => TrainingFileType.Csv,
            "" => mediaType switch
            {
                "text/markdown" => TrainingFileType.Markdown,
                "text/html" or "application/xhtml+xml" => TrainingFileType.Html,
                "text/csv" => TrainingFileType.Csv,
                _ when StartsLikeHtml(head) => TrainingFileType.Html,
                "text/plain" => TrainingFileType.Text,
                _ => null,
            },
            _ => null,
        };
    }

    /// <summary>Text has a Unicode byte-order mark, or no NUL bytes and under 1% other control bytes.</summary>
    static bool LooksLikeText(ReadOnlySpan<byte> head)
    {
        if (TextDecoding.HasUnicodeBom(head))
        {
            return true;
        }
        var controls = 0;
        foreach (var b in head)
        {
            if (b == 0)
            {
                return false;
            }
            if (b < 0x20 && b is not ((byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0C))
            {
                controls++;
            }
        }
        return controls * 100 <= head.Length;
    }

    static bool StartsLikeHtml(ReadOnlySpan<byte> head)
    {
        var start = Encoding.UTF8.GetString(head[..Math.Min(head.Length, 512)]).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        return start.StartsWith("<!doctype html", StringComparison.OrdinalIgnoreCase) || start.StartsWith("<html", StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>
/// Reads text files in the encoding they most likely use: the byte-order mark's, else UTF-8 when the bytes are valid
/// UTF-8, else Windows-1252 (what spreadsheet programs on Windows export).
/// </summary>
static class TextDecoding
{
    static readonly Encoding StrictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    static readonly Encoding Windows1252 = CodePagesEncodingProvider.Instance.GetEncoding(1252)!;

    public static bool HasUnicodeBom(ReadOnlySpan<byte> head) =>
        head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) || head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]);

    /// <summary>The encoding of the file at <paramref name="path"/>; the caller's reader honours a BOM on its own.</summary>
    public static Encoding Detect(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> bom = stackalloc byte[3];
        var read = stream.ReadAtLeast(bom, 3, throwOnEndOfStream: false);
        if (HasUnicodeBom(bom[..read]))
        {
            return Encoding.UTF8; // StreamReader switches to the BOM's encoding
        }
        stream.Position = 0;
        try
        {
            using var reader = new StreamReader(stream, StrictUtf8, detectEncodingFromByteOrderMarks: false);
            var buffer = new char[64 * 1024];
            while (reader.Read(buffer, 0, buffer.Length) > 0)
            {
            }
            return Encoding.UTF8;
        }
        catch (DecoderFallbackException)
        {
            return Windows1252;
        }
    }
}
