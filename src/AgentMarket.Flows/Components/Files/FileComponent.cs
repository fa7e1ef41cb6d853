using System.Collections.Immutable;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Services;
using AgentMarket.Flows.Validation;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Components.Files;

/// <summary>
/// File (format §4.7): reads the documents named by <c>path</c> (its <c>file_path</c>, usually given per run by
/// a tweak) or by paths on the <c>file_path</c> edge, through the host's document reader, and returns their text
/// joined by <c>separator</c> (and a table of path and text).
/// </summary>
internal sealed class FileComponent : Component
{
    static readonly InputSpec Path = new("path", InputKind.Files);
    static readonly InputSpec FilePath = new("file_path", InputKind.Handle);
    static readonly InputSpec Separator = new("separator", InputKind.Text, "\n\n");
    static readonly InputSpec SilentErrors = new("silent_errors", InputKind.Bool, false);
    static readonly InputSpec AdvancedMode = new("advanced_mode", InputKind.Bool, false);
    static readonly OutputSpec Message = new("message", "Message");
    static readonly OutputSpec Table = new("dataframe", "DataFrame");

    public override ComponentSpec Spec { get; } = new(
        "File",
        typeNames: ["File"],
        classNames: ["FileComponent"],
        inputs: [Path, FilePath, Separator, SilentErrors, AdvancedMode],
        outputs: [Message, Table]);

    public override object? Prepare(NodeSetup node)
    {
        node.Require(Capabilities.Documents);
        if (node.Constant(Path) is null && !node.IsConnected(FilePath))
        {
            node.Report(ReportIssue.Warning(
                IssueCodes.DocumentRequired,
                $"\"{node.NodeId}\" has no document: it reads those its host offers (in the marketplace, the agent's knowledge base), else give one per run with the tweak {{\"{node.NodeId}\": {{\"path\": [\"<file>\"]}}}}, or runs fail.",
                node.NodeId,
                Path.Name));
        }

        if (node.ConstantBool(AdvancedMode))
        {
            node.Report(ReportIssue.Warning(IssueCodes.UnusedField, $"\"{node.NodeId}\": the advanced (Docling) parser is not available; plain text extraction is used.", node.NodeId, AdvancedMode.Name));
        }

        return null;
    }

    public override async ValueTask ExecuteAsync(NodeExecution node)
    {
        var paths = node.List(Path).Select(TextConversion.AsText)
            .Concat(node.List(FilePath).Select(value => value is Data data && data.TryGet("file_path", out var path) ? PythonText.Str(path) : TextConversion.AsText(value)))
            .Where(path => !string.IsNullOrWhiteSpace(path))
            .ToList();
        var reader = node.Services.Documents ?? throw new FlowComponentException(RunErrorCodes.DocumentError, "Documents cannot be read in this environment.");
        if (paths.Count == 0)
        {
            try
            {
                paths = [.. await reader.DefaultPathsAsync(node.Cancellation)];
            }
            catch (DocumentReadException exception)
            {
                throw new FlowComponentException(RunErrorCodes.DocumentError, exception.Message, exception);
            }
        }
        if (paths.Count == 0)
        {
            throw new FlowComponentException(
                RunErrorCodes.DocumentError,
                $"No files to process. Give the File node a document with the tweak {{\"{node.NodeId}\": {{\"path\": [\"<file>\"]}}}}.");
        }

        var rows = ImmutableArray.CreateBuilder<Data>();
        foreach (var path in paths)
        {
            try
            {
                rows.Add(Data.FromPairs([new("file_path", path), new("text", await reader.ReadTextAsync(path, node.Cancellation))]));
            }
            catch (DocumentReadException exception) when (!node.Bool(SilentErrors))
            {
                throw new FlowComponentException(RunErrorCodes.DocumentError, exception.Message, exception);
            }
            catch (DocumentReadException)
            {
                // silent_errors: an unreadable file is left out, as in Langflow.
            }
        }

        if (rows.Count == 0)
        {
            throw new FlowComponentException(RunErrorCodes.DocumentError, "Could not extract content from the provided file(s).");
        }

        var frame = new DataFrame(rows.ToImmutable());
        if (node.IsRequested(Message))
        {
            node.Set(Message, node.NewMessage(string.Join(node.Text(Separator) is { Length: > 0 } separator ? separator : "\n\n", frame.Rows.Select(row => row.Text))));
        }

        if (node.IsRequested(Table))
        {
            node.Set(Table, frame);
        }
    }
}
