using System.Collections.Immutable;
using System.Text.Json;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Components.Processing;

/// <summary>
/// Split Text (format §4.7): LangChain's CharacterTextSplitter. Text is split on the literal separator, then the
/// pieces are merged into chunks of at most <c>chunk_size</c> characters that overlap by up to
/// <c>chunk_overlap</c>; a single piece longer than the size stays whole. Each chunk keeps its document's metadata.
/// </summary>
internal sealed class SplitTextComponent : Component
{
    static readonly InputSpec DataInputs = new("data_inputs", InputKind.Handle);
    static readonly InputSpec ChunkOverlap = new("chunk_overlap", InputKind.Int, 200L);
    static readonly InputSpec ChunkSize = new("chunk_size", InputKind.Int, 1000L);
    static readonly InputSpec Separator = new("separator", InputKind.Text, "\n");
    static readonly InputSpec TextKey = new("text_key", InputKind.Text, "text");
    static readonly InputSpec KeepSeparator = new("keep_separator", InputKind.Text, "False");
    static readonly OutputSpec Chunks = new("dataframe", "DataFrame");

    public override ComponentSpec Spec { get; } = new(
        "SplitText",
        typeNames: ["SplitText"],
        classNames: ["SplitTextComponent"],
        inputs: [DataInputs, ChunkOverlap, ChunkSize, Separator, TextKey, KeepSeparator],
        outputs: [Chunks]);

    public override ValueTask ExecuteAsync(NodeExecution node)
    {
        var size = (int)Math.Clamp(node.Int(ChunkSize), 1, int.MaxValue);
        var overlap = (int)Math.Clamp(node.Int(ChunkOverlap), 0, int.MaxValue);
        if (overlap > size)
        {
            throw new FlowComponentException(RunErrorCodes.ComponentError, $"Got a larger chunk overlap ({overlap}) than chunk size ({size}), should be smaller.");
        }

        var separator = node.Text(Separator) switch
        {
            "/n" => "\n",
            "/t" => "\t",
            var text => text.Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\t", "\t", StringComparison.Ordinal),
        };
        var keep = node.Text(KeepSeparator).ToLowerInvariant() switch
        {
            "true" or "start" => KeepMode.Start,
            "end" => KeepMode.End,
            _ => KeepMode.None,
        };
        var textKey = node.Text(TextKey);
        var rows = ImmutableArray.CreateBuilder<Data>();
        foreach (var (text, metadata) in Documents(node.Value(DataInputs), textKey))
        {
            foreach (var chunk in Split(text, separator, keep, size, overlap, node.Cancellation))
            {
                rows.Add(new Data(JsonValues.Object([.. metadata, new("text", JsonValues.String(chunk))])));
            }
        }

        node.Set(Chunks, new DataFrame(rows.ToImmutable()));
        return ValueTask.CompletedTask;
    }

    static IEnumerable<(string Text, List<KeyValuePair<string, JsonElement>> Metadata)> Documents(object? input, string textKey)
    {
        switch (input)
        {
            case DataFrame { Rows.IsEmpty: true }:
                throw new FlowComponentException(RunErrorCodes.ComponentError, "DataFrame is empty");
            case DataFrame frame:
                return frame.Rows.Select(row => Document(row, textKey));
            case Message message:
                return [(message.Text, [])];
            case Data data:
                return [Document(data, textKey)];
            case IReadOnlyList<object?> items when items.Any(item => item is Data or Message):
                return items.SelectMany(item => Documents(item, textKey));
            case string text:
                return [(text, [])];
            default:
                throw new FlowComponentException(RunErrorCodes.ComponentError, "No data inputs provided");
        }
    }

    static (string, List<KeyValuePair<string, JsonElement>>) Document(Data data, string textKey)
    {
        if (!data.TryGet(textKey, out var text))
        {
            throw new FlowComponentException(RunErrorCodes.ComponentError, $"The input has no \"{textKey}\" key to split (text_key).");
        }

        var metadata = data.Value.EnumerateObject()
            .Where(property => property.Name != textKey && property.Name != "text")
            .Select(property => new KeyValuePair<string, JsonElement>(property.Name, property.Value))
            .ToList();
        return (PythonText.Str(text), metadata);
    }

    internal enum KeepMode
    {
        None,
        Start,
        End,
    }

    /// <summary>
    /// Splits one document. A large one takes a while (a piece per character without a separator), so the loops look at
    /// <paramref name="cancellation"/>: a run canceled or out of time stops here instead of keeping a core busy (ADR-164).
    /// </summary>
    internal static List<string> Split(string text, string separator, KeepMode keep, int size, int overlap, CancellationToken cancellation)
    {
        var pieces = Pieces(text, separator, keep, cancellation);
        return Merge(pieces, keep == KeepMode.None ? separator : "", size, overlap, cancellation);
    }

    static List<string> Pieces(string text, string separator, KeepMode keep, CancellationToken cancellation)
    {
        if (separator.Length == 0)
        {
            var characters = new List<string>(text.Length);
            foreach (var character in text)
            {
                cancellation.ThrowIfCancellationRequested();
                characters.Add(character.ToString());
            }

            return characters;
        }

        var parts = text.Split(separator);
        var pieces = new List<string>(parts.Length);
        switch (keep)
        {
            case KeepMode.None:
                pieces.AddRange(parts);
                break;
            case KeepMode.Start:
                pieces.Add(parts[0]);
                pieces.AddRange(parts.Skip(1).Select(part => separator + part));
                break;
            case KeepMode.End:
                pieces.AddRange(parts.Take(parts.Length - 1).Select(part => part + separator));
                pieces.Add(parts[^1]);
                break;
        }

        pieces.RemoveAll(piece => piece.Length == 0);
        return pieces;
    }

    /// <summary>LangChain's <c>_merge_splits</c>, step for step; the current chunk is a queue, since its pieces leave from the front.</summary>
    static List<string> Merge(List<string> pieces, string separator, int size, int overlap, CancellationToken cancellation)
    {
        var chunks = new List<string>();
        var current = new Queue<string>();
        var total = 0;
        foreach (var piece in pieces)
        {
            cancellation.ThrowIfCancellationRequested();
            var joinLength = current.Count > 0 ? separator.Length : 0;
            if (total + piece.Length + joinLength > size)
            {
                if (current.Count > 0)
                {
                    AddChunk(chunks, current, separator);
                    while (total > overlap || (total + piece.Length + (current.Count > 0 ? separator.Length : 0) > size && total > 0))
                    {
                        total -= current.Dequeue().Length + (current.Count > 0 ? separator.Length : 0);
                    }
                }
            }

            current.Enqueue(piece);
            total += piece.Length + (current.Count > 1 ? separator.Length : 0);
        }

        AddChunk(chunks, current, separator);
        return chunks;
    }

    static void AddChunk(List<string> chunks, Queue<string> current, string separator)
    {
        var chunk = string.Join(separator, current).Trim();
        if (chunk.Length > 0)
        {
            chunks.Add(chunk);
        }
    }
}
