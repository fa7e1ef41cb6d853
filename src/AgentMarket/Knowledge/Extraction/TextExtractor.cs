namespace AgentMarket.Knowledge.Extraction;

/// <summary>Turns a stored training file into text blocks, by the type detected at upload.</summary>
sealed class TextExtractor(PdfText pdf)
{
    /// <summary>
    /// Characters kept from one document (about 2,500 chunks). Beyond it the document is indexed in part and marked
    /// truncated; this also bounds what hostile input can make the processor hold in memory.
    /// </summary>
    public const int MaxCharacters = 2_500_000;

    public Task<ExtractedText> ExtractAsync(TrainingFileType type, string path, CancellationToken cancellationToken) => type switch
    {
        TrainingFileType.Pdf => pdf.ExtractAsync(path, MaxCharacters, cancellationToken),
        TrainingFileType.Docx => Task.FromResult(ReadDocx(path)),
        TrainingFileType.Csv => Task.FromResult(ReadCsv(path)),
        TrainingFileType.Html => ReadHtmlAsync(path, cancellationToken),
        TrainingFileType.Markdown => ReadMarkdownAsync(path, cancellationToken),
        TrainingFileType.Text => ReadPlainTextAsync(path, cancellationToken),
    };

    static ExtractedText ReadDocx(string path)
    {
        using var stream = File.OpenRead(path);
        return DocxText.Extract(stream, MaxCharacters);
    }

    static ExtractedText ReadCsv(string path)
    {
        using var reader = OpenText(path);
        return CsvText.Extract(reader, MaxCharacters);
    }

    static async Task<ExtractedText> ReadHtmlAsync(string path, CancellationToken cancellationToken) =>
        await HtmlText.ExtractAsync(await ReadTextAsync(path, cancellationToken), MaxCharacters, cancellationToken);

    static async Task<ExtractedText> ReadMarkdownAsync(string path, CancellationToken cancellationToken) =>
        await MarkdownText.ExtractAsync(await ReadTextAsync(path, cancellationToken), MaxCharacters, cancellationToken);

    static async Task<ExtractedText> ReadPlainTextAsync(string path, CancellationToken cancellationToken)
    {
        var text = new TextCollector(MaxCharacters);
        text.AddParagraphs(await ReadTextAsync(path, cancellationToken));
        return text.Result();
    }

    /// <summary>Text documents are at most the upload cap (20 MB by default), so reading one whole is bounded.</summary>
    static async Task<string> ReadTextAsync(string path, CancellationToken cancellationToken)
    {
        using var reader = OpenText(path);
        return (await reader.ReadToEndAsync(cancellationToken)).ReplaceLineEndings("\n");
    }

    static StreamReader OpenText(string path) => new(path, TextDecoding.Detect(path), detectEncodingFromByteOrderMarks: true);
}
