using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Options;

namespace AgentMarket.Knowledge.Extraction;

/// <summary>
/// PDF text through poppler's <c>pdftotext -layout - -</c> as a child process: the PDF on its stdin, text on its stdout,
/// with a wall-time limit and an output cap (the process is killed at either). The executable is located once, at
/// start-up; without it PDFs fail with a reason saying so, and everything else keeps working.
/// </summary>
sealed class PdfText
{
    readonly KnowledgeOptions _options;

    public PdfText(IOptions<KnowledgeOptions> options, ILogger<PdfText> logger)
    {
        _options = options.Value;
        ExecutablePath = Locate(_options.PdfToTextPath);
        if (ExecutablePath is null)
        {
            logger.LogWarning("pdftotext was not found ({Configured}); PDF training documents will fail until poppler-utils is installed",
                string.IsNullOrWhiteSpace(_options.PdfToTextPath) ? "not on PATH" : "Knowledge:PdfToTextPath does not exist");
        }
    }

    public string? ExecutablePath { get; }

    public async Task<ExtractedText> ExtractAsync(string path, int maxCharacters, CancellationToken cancellationToken)
    {
        if (ExecutablePath is null)
        {
            throw new UnreadableDocumentException("PDF text extraction is not available on this server (pdftotext from poppler-utils is not installed).");
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.PdfTimeoutSeconds));
        var start = new ProcessStartInfo(ExecutablePath)
        {
            ArgumentList = { "-layout", "-enc", "UTF-8", "-q", "-", "-" },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        using var process = Start(start);
        try
        {
            var feed = FeedAsync(process, path, timeout.Token);
            var drainErrors = process.StandardError.BaseStream.CopyToAsync(Stream.Null, timeout.Token);
            var (output, capped) = await ReadCappedAsync(process.StandardOutput, maxCharacters, timeout.Token);
            if (capped)
            {
                process.Kill(entireProcessTree: true);
            }
            await Task.WhenAll(feed, drainErrors);
            await process.WaitForExitAsync(timeout.Token);
            if (!capped && process.ExitCode != 0)
            {
                throw new UnreadableDocumentException("The PDF could not be read; it may be damaged or password-protected.");
            }
            var text = new TextCollector(maxCharacters);
            // pdftotext ends each page with a form feed; a page break also ends a paragraph.
            text.AddParagraphs(output.Replace("\f", "\n\n", StringComparison.Ordinal));
            var result = text.Result();
            return capped ? result with { Truncated = true } : result;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UnreadableDocumentException($"Reading the PDF took longer than {_options.PdfTimeoutSeconds} seconds.");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    static Process Start(ProcessStartInfo start)
    {
        try
        {
            return Process.Start(start) ?? throw new UnreadableDocumentException("PDF text extraction could not be started.");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new UnreadableDocumentException("PDF text extraction could not be started (pdftotext is not executable).");
        }
    }

    static async Task FeedAsync(Process process, string path, CancellationToken cancellationToken)
    {
        try
        {
            await using var input = File.OpenRead(path);
            await input.CopyToAsync(process.StandardInput.BaseStream, cancellationToken);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // pdftotext stopped reading (a damaged file, or it was killed at the output cap): its exit code says which.
        }
    }

    static async Task<(string Text, bool Capped)> ReadCappedAsync(StreamReader output, int maxCharacters, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        var buffer = new char[16 * 1024];
        int read;
        while ((read = await output.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (text.Length + read > maxCharacters)
            {
                text.Append(buffer, 0, maxCharacters - text.Length);
                return (text.ToString(), true);
            }
            text.Append(buffer, 0, read);
        }
        return (text.ToString(), false);
    }

    static string? Locate(string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return File.Exists(configured) ? Path.GetFullPath(configured) : null;
        }
        var name = OperatingSystem.IsWindows() ? "pdftotext.exe" : "pdftotext";
        return (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
    }
}
