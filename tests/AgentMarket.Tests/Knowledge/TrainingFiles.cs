using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;

namespace AgentMarket.Tests.Knowledge;

/// <summary>Real training files made in the test: Word documents, PDFs, CSVs, and hostile variants of them.</summary>
public static class TrainingFiles
{
    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>A .docx written with the Open XML SDK; a paragraph given a style ("Heading1") is a heading.</summary>
    public static byte[] Docx(params (string Text, string? Style)[] paragraphs)
    {
        using var stream = new MemoryStream();
        using (var document = WordprocessingDocument.Create(stream, DocumentFormat.OpenXml.WordprocessingDocumentType.Document))
        {
            var main = document.AddMainDocumentPart();
            main.Document = new Document(new Body(paragraphs.Select(p =>
            {
                var paragraph = new Paragraph(new Run(new Text(p.Text)));
                if (p.Style is not null)
                {
                    paragraph.PrependChild(new ParagraphProperties(new ParagraphStyleId { Val = p.Style }));
                }
                return paragraph;
            })));
        }
        return stream.ToArray();
    }

    /// <summary>
    /// A one-page PDF written by hand (catalog, page, Helvetica, one content stream, cross-reference table), each line
    /// drawn below the previous one, so pdftotext has real text to extract.
    /// </summary>
    public static byte[] Pdf(params string[] lines)
    {
        var content = new StringBuilder("BT /F1 12 Tf 72 720 Td 16 TL\n");
        foreach (var line in lines)
        {
            var escaped = line.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("(", "\\(", StringComparison.Ordinal).Replace(")", "\\)", StringComparison.Ordinal);
            content.Append(CultureInfo.InvariantCulture, $"({escaped}) Tj T*\n");
        }
        content.Append("ET");
        string[] objects =
        [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            $"<< /Length {Encoding.ASCII.GetByteCount(content.ToString())} >>\nstream\n{content}\nendstream",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ];
        var pdf = new StringBuilder("%PDF-1.4\n");
        var offsets = new List<int>();
        for (var i = 0; i < objects.Length; i++)
        {
            offsets.Add(Encoding.ASCII.GetByteCount(pdf.ToString()));
            pdf.Append(CultureInfo.InvariantCulture, $"{i + 1} 0 obj\n{objects[i]}\nendobj\n");
        }
        var xref = Encoding.ASCII.GetByteCount(pdf.ToString());
        pdf.Append(CultureInfo.InvariantCulture, $"xref\n0 {objects.Length + 1}\n0000000000 65535 f \n");
        foreach (var offset in offsets)
        {
            pdf.Append(CultureInfo.InvariantCulture, $"{offset:D10} 00000 n \n");
        }
        pdf.Append(CultureInfo.InvariantCulture, $"trailer\n<< /Size {objects.Length + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n");
        return Encoding.ASCII.GetBytes(pdf.ToString());
    }

    /// <summary>A minimal Word package written zip entry by zip entry, its body given as WordprocessingML.</summary>
    public static byte[] DocxWithBody(string bodyXml)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            WritePackageParts(zip);
            Write(zip, "word/document.xml", $"""<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{bodyXml}</w:body></w:document>""");
        }
        return stream.ToArray();
    }

    /// <summary>
    /// A zip bomb dressed as a Word document: a valid package whose word/document.xml inflates from a few hundred KB to
    /// 200 MB of whitespace. Built once per test run.
    /// </summary>
    public static byte[] ZipBombDocx => Bomb.Value;

    static readonly Lazy<byte[]> Bomb = new(() =>
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            WritePackageParts(zip);
            var entry = zip.CreateEntry("word/document.xml", CompressionLevel.SmallestSize);
            using var document = entry.Open();
            document.Write("""<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>"""u8);
            var spaces = new byte[1024 * 1024];
            Array.Fill(spaces, (byte)' ');
            for (var i = 0; i < 200; i++)
            {
                document.Write(spaces);
            }
            document.Write("</w:t></w:r></w:p></w:body></w:document>"u8);
        }
        return stream.ToArray();
    });

    /// <summary>
    /// <see cref="ZipBombDocx"/> with its zip headers lying: every entry claims to be 1,000 bytes, so the directory
    /// checks pass and only the reader's own limits stand between the processor and 200 MB.
    /// </summary>
    public static byte[] LyingZipBombDocx()
    {
        var zip = ZipBombDocx.ToArray();
        for (var i = 0; i + 4 <= zip.Length; i++)
        {
            var signature = BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(i));
            var sizeOffset = signature switch
            {
                0x04034B50 => 22, // local file header: uncompressed size
                0x02014B50 => 24, // central directory header: uncompressed size
                _ => -1,
            };
            if (sizeOffset > 0 && i + sizeOffset + 4 <= zip.Length && BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(i + sizeOffset)) > 1_000)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(i + sizeOffset), 1_000);
            }
        }
        return zip;
    }

    /// <summary>A plain zip archive (not a Word package) named as one would name a document.</summary>
    public static byte[] PlainZip()
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            Write(zip, "notes.txt", "not a word document");
        }
        return stream.ToArray();
    }

    public static byte[] Csv(string header, IEnumerable<string> rows) => Utf8(header + "\n" + string.Join("\n", rows) + "\n");

    /// <summary>The first bytes of a PNG image, and a few more.</summary>
    public static byte[] Png() => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01];

    static void WritePackageParts(ZipArchive zip)
    {
        Write(zip, "[Content_Types].xml", """<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>""");
        Write(zip, "_rels/.rels", """<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="R1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>""");
    }

    static void Write(ZipArchive zip, string name, string text)
    {
        using var writer = new StreamWriter(zip.CreateEntry(name).Open());
        writer.Write(text);
    }
}
