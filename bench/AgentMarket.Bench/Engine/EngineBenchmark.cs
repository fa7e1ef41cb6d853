using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using AgentMarket.Flows;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Services;
using AgentMarket.Flows.Values;
using Microsoft.Extensions.AI;

namespace AgentMarket.Bench.Engine;

/// <summary>
/// Engine overhead per run, in process: a 1-node and a 5-node flow without a model, and Basic Prompting against a
/// zero-delay model. Warm-up, then timed iterations one at a time (p50/p99/max) with the bytes each run allocates,
/// then the 5-node flow at concurrency 64. A bounded harness, not a test: see docs/benchmarks.md.
/// </summary>
public static class EngineBenchmark
{
    const int WarmUp = 2_000;

    public static async Task RunAsync(string[] args)
    {
        var iterations = args is [var count, ..] && int.TryParse(count, CultureInfo.InvariantCulture, out var parsed) ? parsed : 10_000;
        var basicPrompting = LangflowExamples.PathOf("Basic Prompting.json");
        Console.WriteLine($"Engine benchmark: {iterations} iterations after {WarmUp} warm-up, .NET {Environment.Version}, {Environment.ProcessorCount} cores, server GC: {System.Runtime.GCSettings.IsServerGC}");
        Console.WriteLine();
        Console.WriteLine("| Scenario | p50 (µs) | p99 (µs) | max (µs) | mean (µs) | allocated per run |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        await MeasureAsync("1 node (Text Output)", Compile(OneNode()), new RunRequest { OutputType = "any" }, Services(model: null), iterations);
        await MeasureAsync("5 nodes (Chat Input → Prompt → Combine Text → Type Convert → Chat Output)", Compile(FiveNodes()), new RunRequest { InputValue = "hello" }, Services(model: null), iterations);
        await MeasureAsync("Basic Prompting, zero-delay model", Compile(File.ReadAllText(basicPrompting)), new RunRequest { InputValue = "hello" }, Services(new InstantChatClient()), iterations);
        await MeasureConcurrentAsync("5 nodes at concurrency 64", Compile(FiveNodes()), new RunRequest { InputValue = "hello" }, Services(model: null), iterations, concurrency: 64);
    }

    static async Task MeasureAsync(string name, ExecutionPlan plan, RunRequest request, FlowServices services, int iterations)
    {
        for (var index = 0; index < WarmUp; index++)
        {
            await Check(FlowEngine.Default.RunAsync(plan, request, services));
        }

        var samples = new double[iterations];
        long allocated = 0;
        for (var index = 0; index < iterations; index++)
        {
            var bytesBefore = GC.GetAllocatedBytesForCurrentThread();
            var started = Stopwatch.GetTimestamp();
            var run = FlowEngine.Default.RunAsync(plan, request, services);
            var completedSynchronously = run.IsCompleted;
            await Check(run);
            samples[index] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            if (!completedSynchronously)
            {
                throw new InvalidOperationException($"{name}: a run went asynchronous, so per-thread allocation counts would be wrong.");
            }

            allocated += GC.GetAllocatedBytesForCurrentThread() - bytesBefore;
        }

        Report(name, samples, allocated / iterations);
    }

    static async Task MeasureConcurrentAsync(string name, ExecutionPlan plan, RunRequest request, FlowServices services, int iterations, int concurrency)
    {
        var samples = new double[iterations];
        var next = -1;
        var totalBefore = GC.GetTotalAllocatedBytes(precise: true);
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < iterations)
            {
                var started = Stopwatch.GetTimestamp();
                await Check(FlowEngine.Default.RunAsync(plan, request, services));
                samples[index] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            }
        })));
        var seconds = wall.Elapsed.TotalSeconds;
        Report($"{name} ({iterations / seconds:N0} runs/s)", samples, (GC.GetTotalAllocatedBytes(precise: true) - totalBefore) / iterations);
    }

    static async Task Check(Task<RunResult> run)
    {
        var result = await run;
        if (result.Status != RunStatus.Succeeded)
        {
            throw new InvalidOperationException($"The benchmark flow failed: {result.Error}");
        }
    }

    static void Report(string name, double[] samples, long bytesPerRun)
    {
        Array.Sort(samples);
        double Percentile(double p) => samples[Math.Min(samples.Length - 1, (int)Math.Ceiling(p * samples.Length) - 1)];
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {name} | {Percentile(0.50):F1} | {Percentile(0.99):F1} | {samples[^1]:F1} | {samples.Average():F1} | {bytesPerRun:N0} B |"));
    }

    static ExecutionPlan Compile(string json)
    {
        var compiled = FlowEngine.Default.Compile(json);
        return compiled.Plan ?? throw new InvalidOperationException(compiled.Report.ToText());
    }

    static FlowServices Services(IChatClient? model) => new()
    {
        Models = new SingleModelResolver(model),
        Messages = new DiscardingMessageStore(),
    };

    static string OneNode() => Flow(
        [Node("TextOutput-1", "TextOutput", "text", Field("input_value", "hello"))],
        []);

    static string FiveNodes() => Flow(
        [
            Node("ChatInput-1", "ChatInput", "message", Field("input_value", ""), Field("session_id", "")),
            Node("Prompt-1", "Prompt", "prompt", Field("template", "Question: {question}", "prompt"), Field("question", "")),
            Node("CombineText-1", "CombineText", "combined_text", Field("text1", ""), Field("text2", "Answer briefly."), Field("delimiter", "\n")),
            Node("TypeConverterComponent-1", "TypeConverterComponent", "message_output", Field("input_data", "", "other"), Field("output_type", "Message", "tab")),
            Node("ChatOutput-1", "ChatOutput", "message", Field("input_value", "", "other"), Field("session_id", "")),
        ],
        [
            ("ChatInput-1", "message", "Prompt-1", "question"),
            ("Prompt-1", "prompt", "CombineText-1", "text1"),
            ("CombineText-1", "combined_text", "TypeConverterComponent-1", "input_data"),
            ("TypeConverterComponent-1", "message_output", "ChatOutput-1", "input_value"),
        ]);

    static JsonObject Field(string name, string value, string type = "str") => new()
    {
        ["name"] = name,
        ["type"] = type,
        ["value"] = value,
        ["show"] = true,
        ["input_types"] = new JsonArray("Message", "Data", "DataFrame"),
    };

    static JsonObject Node(string id, string type, string output, params JsonObject[] fields)
    {
        var template = new JsonObject();
        foreach (var field in fields)
        {
            template[(string)field["name"]!] = field;
        }

        return new JsonObject
        {
            ["id"] = id,
            ["data"] = new JsonObject
            {
                ["type"] = type,
                ["node"] = new JsonObject
                {
                    ["display_name"] = type,
                    ["template"] = template,
                    ["outputs"] = new JsonArray(new JsonObject { ["name"] = output, ["types"] = new JsonArray("Message") }),
                },
            },
        };
    }

    static string Flow(JsonObject[] nodes, (string Source, string Output, string Target, string Field)[] edges) => new JsonObject
    {
        ["name"] = "bench",
        ["data"] = new JsonObject
        {
            ["nodes"] = new JsonArray([.. nodes]),
            ["edges"] = new JsonArray([.. edges.Select(edge => (JsonNode)new JsonObject
            {
                ["source"] = edge.Source,
                ["target"] = edge.Target,
                ["data"] = new JsonObject
                {
                    ["sourceHandle"] = new JsonObject { ["id"] = edge.Source, ["name"] = edge.Output, ["output_types"] = new JsonArray("Message") },
                    ["targetHandle"] = new JsonObject { ["id"] = edge.Target, ["fieldName"] = edge.Field, ["inputTypes"] = new JsonArray("Message", "Data", "DataFrame") },
                },
            })]),
        },
    }.ToJsonString();

    /// <summary>Memory that keeps nothing: the benchmark measures the engine, not a store that grows over 10,000 runs.</summary>
    sealed class DiscardingMessageStore : IMessageStore
    {
        public ValueTask<Message> SaveAsync(Message message, string runId, CancellationToken cancellationToken) =>
            ValueTask.FromResult(message.Id is null ? message with { Id = "m" } : message);

        public ValueTask<IReadOnlyList<Message>> GetAsync(MessageQuery query, CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlyList<Message>>([]);
    }

    /// <summary>A model that answers at once, with usage, so only the engine's own cost is measured.</summary>
    sealed class InstantChatClient : IChatClient
    {
        static readonly UsageDetails Usage = new() { InputTokenCount = 20, OutputTokenCount = 5, TotalTokenCount = 25 };

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Hello! Let's build something.")) { ModelId = "instant", Usage = Usage });

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The benchmark does not stream.");

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
