using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Packaging;
using System.Text;
using System.Xml;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;

namespace AgentMarket.Knowledge.Extraction;

/// <summary>
/// Text of a Word document, read with the Open XML SDK only after <see cref="CheckPackage"/> has bounded what the zip
/// can expand to. The checks use the zip's own directory: .NET's zip reader stops inflating an entry at its declared
/// size, so a directory that understates sizes yields truncated (unreadable) XML, never more bytes than declared.
/// </summary>
static class DocxText
{
    /// <summary>Entries in a package; real documents have a few dozen (parts, media, relationships).</summary>
    const int MaxEntries = 1_000;

    /// <summary>Uncompressed bytes of all entries together (images included).</summary>
    const long MaxUncompressedBytes = 200L * 1024 * 1024;

    /// <summary>Uncompressed bytes of one entry.</summary>
    const long MaxEntryBytes = 64L * 1024 * 1024;

    /// <summary>Expansion ratio above which a large entry is a bomb rather than a document; WordprocessingML compresses ~10×.</summary>
    const long MaxCompressionRatio = 100;
    const long RatioCheckedAboveBytes = 1024 * 1024;

    /// <summary>Content controls nested deeper than this are skipped: real documents nest a few levels, hostile ones thousands.</summary>
    const int MaxNesting = 16;

    public static ExtractedText Extract(Stream stream, int maxCharacters)
    {
        CheckPackage(stream);
        stream.Position = 0;
        var text = new TextCollector(maxCharacters);
        try
        {
            // MaxCharactersInPart bounds the XML the SDK parses, in case a part's real size and its header disagree.
            using var document = WordprocessingDocument.Open(stream, isEditable: false, new OpenSettings { MaxCharactersInPart = MaxEntryBytes });
            var body = document.MainDocumentPart?.Document?.Body ?? throw new UnreadableDocumentException("The DOCX file has no document body.");
            AddBlocks(body, text, depth: 0);
        }
        catch (Exception exception) when (exception is OpenXmlPackageException or InvalidDataException or FileFormatException or XmlException or InvalidOperationException)
        {
            throw new UnreadableDocumentException("The DOCX file is damaged or is not a Word document.");
        }
        return text.Result();
    }

    /// <summary>
    /// Refuses packages that are not Word documents or that would expand beyond the caps, reading only the zip's
    /// directories. Cheap enough to run at upload (so the uploader hears at once) and again before processing.
    /// </summary>
    public static void CheckPackage(Stream stream)
    {
        if (DeclaredEntryCount(stream) is not { } declared || declared > MaxEntries)
        {
            throw new UnreadableDocumentException($"The DOCX file is not a valid Word package (more than {MaxEntries} parts, or a damaged zip).");
        }
        stream.Position = 0;
        try
        {
            using var archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            var total = 0L;
            var hasDocument = false;
            foreach (var entry in archive.Entries)
            {
                total += entry.Length;
                var expands = entry.Length > RatioCheckedAboveBytes && entry.Length > entry.CompressedLength * MaxCompressionRatio;
                if (entry.Length > MaxEntryBytes || total > MaxUncompressedBytes || expands)
                {
                    throw new UnreadableDocumentException("The DOCX file expands to far more data than a document holds (a zip bomb?); it was not opened.");
                }
                hasDocument |= entry.FullName == "word/document.xml";
            }
            if (!hasDocument)
            {
                throw new UnreadableDocumentException("The file is a zip archive but not a Word document (.docx).");
            }
        }
        catch (InvalidDataException)
        {
            throw new UnreadableDocumentException("The DOCX file is damaged or is not a Word document.");
        }
    }

    /// <summary>
    /// The entry count from the end-of-central-directory record, read before <see cref="ZipArchive"/> materialises
    /// every entry: a small file can declare hundreds of thousands. Null when the record is missing or is ZIP64 (which
    /// no document needs).
    /// </summary>
    static int? DeclaredEntryCount(Stream stream)
    {
        const int recordLength = 22;
        const int maxCommentLength = ushort.MaxValue;
        var tailLength = (int)Math.Min(stream.Length, recordLength + maxCommentLength);
        var tail = new byte[tailLength];
        stream.Position = stream.Length - tailLength;
        stream.ReadExactly(tail);
        for (var i = tailLength - recordLength; i >= 0; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == 0x06054B50)
            {
                var entries = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(i + 10));
                return entries == ushort.MaxValue ? null : entries;
            }
        }
        return null;
    }

    /// <summary>Paragraphs (headings marked by their style), table rows as "cell | cell", content controls unwrapped.</summary>
    static void AddBlocks(OpenXmlElement container, TextCollector text, int depth)
    {
        foreach (var element in container.ChildElements)
        {
            var more = element switch
            {
                Paragraph paragraph => text.Add(ParagraphText(paragraph), IsHeading(paragraph)),
                Table table => table.Elements<TableRow>().All(row =>
                    text.Add(string.Join(" | ", row.Elements<TableCell>().Select(cell => string.Join(" ", cell.Elements<Paragraph>().Select(ParagraphText)))))),
                SdtBlock or SdtContentBlock or CustomXmlBlock when depth < MaxNesting => AddNested(element, text, depth + 1),
                _ => true,
            };
            if (!more)
            {
                return;
            }
        }
    }

    static bool AddNested(OpenXmlElement element, TextCollector text, int depth)
    {
        AddBlocks(element, text, depth);
        return !text.IsFull;
    }

    static string ParagraphText(Paragraph paragraph)
    {
        var builder = new StringBuilder();
        foreach (var node in paragraph.Descendants())
        {
            switch (node)
            {
                case Text run:
                    builder.Append(run.Text);
                    break;
                case TabChar:
                    builder.Append('\t');
                    break;
                case Break or CarriageReturn:
                    builder.Append('\n');
                    break;
            }
        }
        return builder.ToString();
    }

    static bool IsHeading(Paragraph paragraph) =>
        paragraph.ParagraphProperties?.ParagraphStyleId?.Val?.Value is { } style
        && (style.StartsWith("Heading", StringComparison.OrdinalIgnoreCase) || style.Equals("Title", StringComparison.OrdinalIgnoreCase));
}
