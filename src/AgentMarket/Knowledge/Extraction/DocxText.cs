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
/// The document part is read with the SDK's forward-only <see cref="OpenXmlReader"/>, never loaded as a tree: the
/// SDK builds trees recursively, and a few thousand nested content controls would overflow the stack and take the
/// whole process down with it.
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

    public static ExtractedText Extract(Stream stream, int maxCharacters)
    {
        if (!CheckPackage(stream))
        {
            throw new UnreadableDocumentException("The file is a zip archive but not a Word document (.docx).");
        }
        stream.Position = 0;
        var text = new TextCollector(maxCharacters);
        try
        {
            using var document = WordprocessingDocument.Open(stream, isEditable: false, new OpenSettings { MaxCharactersInPart = MaxEntryBytes });
            var main = document.MainDocumentPart ?? throw new UnreadableDocumentException("The DOCX file has no document body.");
            using var reader = OpenXmlReader.Create(main, readMiscNodes: false);
            ReadBlocks(reader, text);
        }
        catch (Exception exception) when (exception is OpenXmlPackageException or InvalidDataException or FileFormatException or XmlException or InvalidOperationException)
        {
            throw new UnreadableDocumentException("The DOCX file is damaged or is not a Word document.");
        }
        return text.Result();
    }
    /// <summary>
    /// Refuses packages that would expand beyond the caps, reading only the zip's directories; cheap enough to run at
    /// upload (so the uploader hears at once) and again before processing.
    /// </summary>
    /// <returns>Whether the zip is a Word document (has <c>word/document.xml</c>) rather than some other archive.</returns>
    public static bool CheckPackage(Stream stream)
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
            return hasDocument;
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

    /// <summary>
    /// Paragraphs in document order (headings marked by their style), table rows as "cell | cell" (a nested table's
    /// rows inside their cell), content controls and other wrappers read through.
    /// </summary>
    static void ReadBlocks(OpenXmlReader reader, TextCollector text)
    {
        var paragraph = new StringBuilder();
        var heading = false;
        var rows = new Stack<Row>();
        var cells = new Stack<StringBuilder>();

        // A block is built whole before the collector caps it, so each one is bounded by what the collector still takes:
        // one huge w:t (up to the 64 MB part) would otherwise be copied into a builder, then again and again. What does
        // not fit ends the text, cut short, with the part of the block that fits.
        void Append(StringBuilder block, string value, bool isHeading = false)
        {
            var room = Math.Max(text.Remaining - block.Length, 0);
            if (value.Length <= room)
            {
                block.Append(value);
                return;
            }
            block.Append(value, 0, room);
            text.Add(block.ToString(), isHeading);
            text.Cut();
        }

        while (reader.Read() && !text.IsFull)
        {
            var type = reader.ElementType;
            if (reader.IsStartElement)
            {
                if (type == typeof(Paragraph))
                {
                    paragraph.Clear();
                    heading = false;
                }
                else if (type == typeof(ParagraphStyleId))
                {
                    heading = IsHeadingStyle(reader.Attributes.FirstOrDefault(a => a.LocalName == "val").Value);
                }
                else if (type == typeof(Text))
                {
                    Append(paragraph, reader.GetText(), heading);
                }
                else if (type == typeof(TabChar))
                {
                    Append(paragraph, "\t", heading);
                }
                else if (type == typeof(Break) || type == typeof(CarriageReturn))
                {
                    Append(paragraph, "\n", heading);
                }
                else if (type == typeof(TableRow))
                {
                    rows.Push(new Row());
                }
                else if (type == typeof(TableCell))
                {
                    cells.Push(new StringBuilder());
                }
            }
            else if (reader.IsEndElement)
            {
                if (type == typeof(Paragraph))
                {
                    if (cells.TryPeek(out var cell))
                    {
                        Append(cell, cell.Length > 0 ? $" {paragraph}" : paragraph.ToString());
                    }
                    else
                    {
                        text.Add(paragraph.ToString(), heading);
                    }
                }
                else if (type == typeof(TableCell) && cells.TryPop(out var ended) && rows.TryPeek(out var row))
                {
                    Append(row.Text, row.Cells++ > 0 ? $" | {ended}" : ended.ToString());
                }
                else if (type == typeof(TableRow) && rows.TryPop(out var endedRow))
                {
                    var line = endedRow.Text.ToString();
                    if (cells.TryPeek(out var outer))
                    {
                        Append(outer, outer.Length > 0 ? $" {line}" : line);
                    }
                    else
                    {
                        text.Add(line);
                    }
                }
            }
        }
    }

    /// <summary>A table row being read: its cells so far, joined by " | ".</summary>
    sealed class Row
    {
        public StringBuilder Text { get; } = new();
        public int Cells { get; set; }
    }

    static bool IsHeadingStyle(string? style) =>
        style is not null && (style.StartsWith("Heading", StringComparison.OrdinalIgnoreCase) || style.Equals("Title", StringComparison.OrdinalIgnoreCase));
}
