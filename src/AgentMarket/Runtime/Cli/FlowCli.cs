using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentMarket.Flows;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Langflow;
using AgentMarket.Flows.Values;

namespace AgentMarket.Runtime.Cli;

/// <summary>
/// <c>dotnet run --project src/AgentMarket -- flow validate|run …</c>: validate a Langflow export or run it,
/// with no database and no web server. The model endpoint comes from the host's keys (<c>Llm:BaseUrl</c>,
/// <c>Llm:ApiKey</c>, <c>Llm:Model</c>, e.g. <c>Llm__BaseUrl</c>). Exit code 0 when runnable / succeeded,
/// 1 when not runnable / failed, 2 for usage or file errors.
/// </summary>
public static class FlowCli
{
    const string Usage = """
        Usage:
          flow validate FILE [--json]
              Prints the compatibility report (JSON with --json). Exit code 0 when the flow is runnable.
          flow run FILE [MESSAGE] [options]
              Runs the flow and prints the answer on standard output; reports, errors and the model's tokens (reported
              by the endpoint, or estimated when it reports none) go to standard error.
              --tweaks JSON|@FILE      per-run overrides, Langflow's "tweaks" object
              --session ID             session id (memory); default: the flow id
              --stream                 stream tokens as they arrive
              --json                   print the run (Langflow response, run record with tokens and usage_source) as JSON;
                                       with --stream, Langflow's event stream
              --input-type TYPE        chat (default), text or any
              --output-type TYPE       chat (default), text, any or debug
              --output-component ID    return this node (id or display name)
              --docs DIR               folder File nodes read from (default: the current folder)
              --knowledge PATH         text file or folder loaded into an in-memory knowledge base (repeatable)
              --model NAME             use this model for every model node
        Configuration (appsettings.json or environment): Llm:BaseUrl, Llm:ApiKey, Llm:Model, Llm:TimeoutSeconds,
        Flows:OutboundAllowList (hosts or CIDRs), Flows:Secrets:<NAME>; unknown secrets fall back to environment variables.
        """;

    static readonly JsonSerializerOptions JsonOutput = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Runs the command; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        CliArguments arguments;
        try
        {
            arguments = CliArguments.Parse(args);
        }
        catch (FormatException exception)
        {
            await stderr.WriteLineAsync(exception.Message + Environment.NewLine + Environment.NewLine + Usage);
            return 2;
        }

        byte[] flow;
        try
        {
            flow = await File.ReadAllBytesAsync(arguments.File, cancellationToken);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"Cannot read {arguments.File}: {exception.Message}");
            return 2;
        }

        var compiled = FlowEngine.Default.Compile(flow);
        if (arguments.Command == "validate")
        {
            await stdout.WriteAsync(arguments.Json ? compiled.Report.ToJson() + Environment.NewLine : compiled.Report.ToText());
            return compiled.Report.Runnable ? 0 : 1;
        }

        if (compiled.Plan is not { } plan)
        {
            await stderr.WriteAsync(compiled.Report.ToText());
            return 1;
        }

        using var console = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            console.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            await using var services = await CliServices.CreateAsync(arguments, stderr, console.Token);
            var request = new RunRequest
            {
                InputValue = arguments.Message,
                InputType = arguments.InputType,
                OutputType = arguments.OutputType,
                OutputComponent = arguments.OutputComponent,
                SessionId = arguments.Session,
                Tweaks = arguments.Tweaks,
            };
            var result = arguments.Stream
                ? await StreamAsync(plan, request, services, arguments.Json, stdout, console.Token)
                : await FlowEngine.Default.RunAsync(plan, request, services.Flow, console.Token);
            if (arguments.Json && !arguments.Stream)
            {
                await stdout.WriteLineAsync(RunJson(result).ToJsonString(JsonOutput));
            }
            else if (!arguments.Stream && result.Status == RunStatus.Succeeded)
            {
                await stdout.WriteLineAsync(result.OutputText ?? "");
            }

            if (!arguments.Json && result.Nodes.Any(node => node.ModelCalls > 0))
            {
                await stderr.WriteLineAsync(Tokens(result));
            }

            if (result.Error is { } error && !arguments.Json)
            {
                await stderr.WriteLineAsync($"Run {Status(result)}: [{error.Code}] {error.LangflowMessage}");
            }

            return result.Status == RunStatus.Succeeded ? 0 : 1;
        }
        catch (CliConfigurationException exception)
        {
            await stderr.WriteLineAsync(exception.Message);
            return 2;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    static async Task<RunResult> StreamAsync(Flows.Compilation.ExecutionPlan plan, RunRequest request, CliServices services, bool json, TextWriter stdout, CancellationToken cancellationToken)
    {
        RunResult? result = null;
        var printedAnswer = false;
        await foreach (var runEvent in FlowEngine.Default.StreamAsync(plan, request, services.Flow, cancellationToken))
        {
            if (json)
            {
                if (LangflowStreamEvents.ToChunk(runEvent) is { } chunk)
                {
                    await stdout.WriteAsync(chunk);
                    await stdout.FlushAsync(cancellationToken);
                }
            }
            else
            {
                switch (runEvent)
                {
                    case MessageAdded { Message: { Sender: MessageSenders.Machine, Properties.State: "partial" } first }:
                        await stdout.WriteAsync(first.Text);
                        printedAnswer = true;
                        break;
                    case TokenEmitted token:
                        await stdout.WriteAsync(token.Chunk);
                        await stdout.FlushAsync(cancellationToken);
                        break;
                }
            }

            result = runEvent switch
            {
                RunCompleted completed => completed.Result,
                RunFailed failed => failed.Result,
                _ => result,
            };
        }

        if (!json && result is { Status: RunStatus.Succeeded })
        {
            // A flow whose model does not stream (or has no model) still prints its answer once.
            await stdout.WriteLineAsync(printedAnswer ? "" : result.OutputText ?? "");
        }

        return result ?? throw new InvalidOperationException("The stream ended without a final event.");
    }

    /// <summary>The status as its JSON name (<c>limit_exceeded</c>).</summary>
    static string Status(RunResult result) => JsonSerializer.SerializeToNode(result.Status)!.GetValue<string>();

    /// <summary>The run's tokens and where they come from, as the platform records them for a run (ADR-172).</summary>
    static string Tokens(RunResult result) => string.Create(CultureInfo.InvariantCulture, $"Tokens: {result.InputTokens} input, {result.OutputTokens} output, ") + result.UsageSource switch
    {
        UsageSource.Reported => "as the model endpoint reported them.",
        UsageSource.Bounded => "bounded: the model endpoint's figures were held to what the text can hold.",
        UsageSource.Estimated => "estimated from the text: the model endpoint reported none.",
        _ => throw new ArgumentOutOfRangeException(nameof(result), result.UsageSource, null),
    };

    static JsonObject RunJson(RunResult result) => new()
    {
        ["status"] = Status(result),
        ["error"] = result.Error is { } error
            ? new JsonObject { ["code"] = error.Code, ["message"] = error.Message, ["node_id"] = error.NodeId, ["langflow_message"] = error.LangflowMessage }
            : null,
        ["run_id"] = result.RunId,
        ["session_id"] = result.SessionId,
        ["output_text"] = result.OutputText,
        ["duration_ms"] = Math.Round(result.Duration.TotalMilliseconds, 3),
        ["input_tokens"] = result.InputTokens,
        ["output_tokens"] = result.OutputTokens,
        ["usage_source"] = JsonSerializer.SerializeToNode(result.UsageSource),
        ["nodes"] = new JsonArray([.. result.Nodes.Select(node => (JsonNode)new JsonObject
        {
            ["node_id"] = node.NodeId,
            ["type"] = node.Type,
            ["status"] = JsonSerializer.SerializeToNode(node.Status),
            ["as_tool"] = node.AsTool,
            ["duration_ms"] = Math.Round(node.Duration.TotalMilliseconds, 3),
            ["model"] = node.Model,
            ["model_calls"] = node.ModelCalls,
            ["input_tokens"] = node.InputTokens,
            ["output_tokens"] = node.OutputTokens,
            ["usage_source"] = JsonSerializer.SerializeToNode(node.UsageSource),
            ["error_code"] = node.ErrorCode,
            ["error"] = node.Error,
        })]),
        ["response"] = result.Status == RunStatus.Succeeded ? LangflowRunResponse.Build(result) : LangflowRunResponse.Error(result.Error!),
    };
}
